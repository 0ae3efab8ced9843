package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/docker/go-units"
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v2"

	"github.com/wrunc/wrunc/bridge"
)

var updateCommand = &cli.Command{
	Name:      "update",
	Usage:     "update container resource constraints",
	ArgsUsage: "<container-id>",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "resources", Aliases: []string{"r"}, Usage: "file with the resources (a linux.resources JSON), or - for stdin; the other flags are then ignored"},
		&cli.IntFlag{Name: "blkio-weight", Usage: "block IO weight, 10 to 1000"},
		&cli.StringFlag{Name: "cpu-period", Usage: "CPU CFS period (µs); 0 for the system default"},
		&cli.StringFlag{Name: "cpu-quota", Usage: "CPU CFS quota (µs) per period"},
		&cli.StringFlag{Name: "cpu-burst", Usage: "CPU CFS burst (µs) per period"},
		&cli.StringFlag{Name: "cpu-share", Aliases: []string{"cpu-shares"}, Usage: "CPU shares (weight relative to other containers)"},
		&cli.StringFlag{Name: "cpu-rt-period", Usage: "CPU realtime period (µs)"},
		&cli.StringFlag{Name: "cpu-rt-runtime", Usage: "CPU realtime runtime (µs) per period"},
		&cli.StringFlag{Name: "cpu-idle", Usage: "1 for SCHED_IDLE, 0 for the default"},
		&cli.StringFlag{Name: "cpuset-cpus", Usage: "CPUs to use"},
		&cli.StringFlag{Name: "cpuset-mems", Usage: "memory nodes to use"},
		&cli.StringFlag{Name: "memory", Usage: "memory limit (bytes, or with a unit: 256m, 1g)"},
		&cli.StringFlag{Name: "memory-reservation", Usage: "memory soft limit"},
		&cli.StringFlag{Name: "memory-swap", Usage: "memory plus swap limit; -1 for unlimited swap"},
		&cli.StringFlag{Name: "kernel-memory", Hidden: true, Usage: "ignored, as in runc"},
		&cli.StringFlag{Name: "kernel-memory-tcp", Hidden: true, Usage: "ignored, as in runc"},
		&cli.IntFlag{Name: "pids-limit", Usage: "maximum number of pids in the container"},
		&cli.StringFlag{Name: "l3-cache-schema", Usage: "Intel RDT/CAT L3 cache schema"},
		&cli.StringFlag{Name: "mem-bw-schema", Usage: "Intel RDT/MBA memory bandwidth schema"},
	},
	Action: runtimeAction(1, 1, func(ctx *cli.Context, rt *bridge.Runtime) error {
		var (
			res *specs.LinuxResources
			err error
		)
		if path := ctx.String("resources"); path != "" {
			res, err = bridge.ReadResources(path, os.Stdin)
		} else {
			res, err = resourceFlags(ctx)
		}
		if err != nil {
			return err
		}
		return rt.Update(ctx.Args().First(), bridge.UpdateOptions{
			Resources:     res,
			L3CacheSchema: ctx.String("l3-cache-schema"),
			MemBwSchema:   ctx.String("mem-bw-schema"),
		})
	}),
}

// resourceFlags collects the resources given as individual flags.
func resourceFlags(ctx *cli.Context) (*specs.LinuxResources, error) {
	r := &specs.LinuxResources{Memory: &specs.LinuxMemory{}, CPU: &specs.LinuxCPU{}, BlockIO: &specs.LinuxBlockIO{}}
	if v := ctx.Int("blkio-weight"); v != 0 {
		w := uint16(v)
		r.BlockIO.Weight = &w
	}
	r.CPU.Cpus, r.CPU.Mems = ctx.String("cpuset-cpus"), ctx.String("cpuset-mems")
	parseUint := func(s string) (uint64, error) { return strconv.ParseUint(s, 10, 64) }
	for _, f := range []struct {
		name string
		dst  **uint64
	}{
		{"cpu-period", &r.CPU.Period},
		{"cpu-burst", &r.CPU.Burst},
		{"cpu-share", &r.CPU.Shares},
		{"cpu-rt-period", &r.CPU.RealtimePeriod},
	} {
		if err := parseFlag(ctx, f.name, f.dst, parseUint); err != nil {
			return nil, err
		}
	}
	parseInt := func(s string) (int64, error) { return strconv.ParseInt(s, 10, 64) }
	// -1 is "unlimited" to the kernel, and no size to go-units.
	parseBytes := func(s string) (int64, error) {
		if s == "-1" {
			return -1, nil
		}
		return units.RAMInBytes(s)
	}
	for _, f := range []struct {
		name  string
		dst   **int64
		parse func(string) (int64, error)
	}{
		{"cpu-quota", &r.CPU.Quota, parseInt},
		{"cpu-rt-runtime", &r.CPU.RealtimeRuntime, parseInt},
		{"cpu-idle", &r.CPU.Idle, parseInt},
		{"memory", &r.Memory.Limit, parseBytes},
		{"memory-reservation", &r.Memory.Reservation, parseBytes},
		{"memory-swap", &r.Memory.Swap, parseBytes},
		{"kernel-memory", &r.Memory.Kernel, parseBytes}, //nolint:staticcheck // accepted to warn, as runc does
		{"kernel-memory-tcp", &r.Memory.KernelTCP, parseBytes},
	} {
		if err := parseFlag(ctx, f.name, f.dst, f.parse); err != nil {
			return nil, err
		}
	}
	if ctx.IsSet("pids-limit") {
		n := int64(ctx.Int("pids-limit"))
		r.Pids = &specs.LinuxPids{Limit: &n}
	}
	return r, nil
}

// parseFlag sets *dst from the string flag name when it is given.
func parseFlag[T any](ctx *cli.Context, name string, dst **T, parse func(string) (T, error)) error {
	s := ctx.String(name)
	if s == "" {
		return nil
	}
	v, err := parse(s)
	if err != nil {
		return fmt.Errorf("invalid value for %s: %w", name, err)
	}
	*dst = &v
	return nil
}
