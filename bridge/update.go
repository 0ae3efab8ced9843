package bridge

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/intelrdt"
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
)

// UpdateOptions are what `update` changes: the cgroup resources given, and
// the Intel RDT schemata when set.
type UpdateOptions struct {
	Resources     *specs.LinuxResources
	L3CacheSchema string
	MemBwSchema   string
}

// ReadResources decodes the resources `update --resources` names: a file,
// or "-" for stdin, as containerd sends them.
func ReadResources(path string, stdin io.Reader) (*specs.LinuxResources, error) {
	in, name := stdin, "stdin"
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("read resources: %w", err)
		}
		defer f.Close()
		in, name = f, path
	}
	var r specs.LinuxResources
	if err := json.NewDecoder(in).Decode(&r); err != nil {
		return nil, fmt.Errorf("parse resources from %s: %w", name, err)
	}
	return &r, nil
}

// Update changes the resources of a running or paused container: what
// opts gives replaces the recorded value, the rest stays as it is.
func (r *Runtime) Update(id string, opts UpdateOptions) error {
	c, err := r.Load(id)
	if err != nil {
		return err
	}
	// Copies, for libcontainer's own config is what Set rolls back to when
	// the kernel refuses part of the update.
	config := c.Config()
	cg, res := *config.Cgroups, *config.Cgroups.Resources
	cg.Resources, config.Cgroups = &res, &cg
	mergeResources(&res, opts.Resources)
	if opts.L3CacheSchema != "" || opts.MemBwSchema != "" {
		switch {
		case opts.L3CacheSchema != "" && !intelrdt.IsCATEnabled():
			return errors.New("Intel RDT/CAT: l3 cache schema is not enabled")
		case opts.MemBwSchema != "" && !intelrdt.IsMBAEnabled():
			return errors.New("Intel RDT/MBA: memory bandwidth schema is not enabled")
		case config.IntelRdt == nil:
			// Without RDT at create, the container has no RDT group to update.
			return errors.New("updating a non-existent Intel RDT configuration is not supported")
		}
		rdt := *config.IntelRdt
		config.IntelRdt = &rdt
		if opts.L3CacheSchema != "" {
			rdt.L3CacheSchema = opts.L3CacheSchema
		}
		if opts.MemBwSchema != "" {
			rdt.MemBwSchema = opts.MemBwSchema
		}
	}
	// Device rules cannot change after create; rewriting them would also undo
	// what device plugins added on top of libcontainer's.
	config.Cgroups.SkipDevices = true
	if err := c.Set(config); err != nil {
		if errors.Is(err, libcontainer.ErrNotRunning) {
			return errors.New("container not running")
		}
		return fmt.Errorf("update %s: %w", id, err)
	}
	return nil
}

// mergeResources applies the parts of u that runc's update applies onto
// the container's recorded resources.
func mergeResources(res *cgroups.Resources, u *specs.LinuxResources) {
	if u == nil {
		return
	}
	if m := u.Memory; m != nil {
		set(&res.Memory, m.Limit)
		set(&res.MemoryReservation, m.Reservation)
		set(&res.MemorySwap, m.Swap)
		set(&res.MemoryCheckBeforeUpdate, m.CheckBeforeUpdate)
		// Zero has the cgroup manager lift the swap limit along with the
		// memory limit; the recorded one would stay and be refused.
		if m.Limit != nil && *m.Limit == -1 && m.Swap == nil {
			res.MemorySwap = 0
		}
		if m.Kernel != nil || m.KernelTCP != nil { //nolint:staticcheck // read only to warn
			logrus.Warn("Kernel memory settings are ignored and will be removed")
		}
	}
	if u.CPU != nil {
		mergeCPU(res, u.CPU)
	}
	if b := u.BlockIO; b != nil {
		set(&res.BlkioWeight, b.Weight)
		set(&res.BlkioLeafWeight, b.LeafWeight)
		for _, wd := range b.WeightDevice {
			res.BlkioWeightDevice = upsertWeightDevice(res.BlkioWeightDevice, wd)
		}
		for _, t := range []struct {
			dst *[]*cgroups.ThrottleDevice
			src []specs.LinuxThrottleDevice
		}{
			{&res.BlkioThrottleReadBpsDevice, b.ThrottleReadBpsDevice},
			{&res.BlkioThrottleWriteBpsDevice, b.ThrottleWriteBpsDevice},
			{&res.BlkioThrottleReadIOPSDevice, b.ThrottleReadIOPSDevice},
			{&res.BlkioThrottleWriteIOPSDevice, b.ThrottleWriteIOPSDevice},
		} {
			for _, td := range t.src {
				*t.dst = upsertThrottleDevice(*t.dst, td)
			}
		}
	}
	if u.Pids != nil && u.Pids.Limit != nil {
		res.PidsLimit = u.Pids.Limit
	}
	if len(u.Unified) > 0 {
		res.Unified = maps.Clone(res.Unified)
		if res.Unified == nil {
			res.Unified = map[string]string{}
		}
		maps.Copy(res.Unified, u.Unified)
	}
}

func mergeCPU(res *cgroups.Resources, c *specs.LinuxCPU) {
	// Zero means "not given" for the CFS pair, so that a quota or period
	// given alone keeps the other's current value.
	if c.Period != nil && *c.Period != 0 {
		res.CpuPeriod = *c.Period
	}
	if c.Quota != nil && *c.Quota != 0 {
		res.CpuQuota = *c.Quota
	}
	if c.Shares != nil {
		res.CpuShares = *c.Shares
		res.CpuWeight = cgroups.ConvertCPUSharesToCgroupV2Value(*c.Shares)
	} else if c.Idle != nil {
		// cgroup v2 refuses a weight next to cpu.idle; zero leaves it alone.
		res.CpuShares, res.CpuWeight = 0, 0
	}
	if c.Burst != nil {
		res.CpuBurst = c.Burst
	}
	if c.Idle != nil {
		res.CPUIdle = c.Idle
	}
	set(&res.CpuRtPeriod, c.RealtimePeriod)
	set(&res.CpuRtRuntime, c.RealtimeRuntime)
	if c.Cpus != "" {
		res.CpusetCpus = c.Cpus
	}
	if c.Mems != "" {
		res.CpusetMems = c.Mems
	}
}

// set overwrites *dst with *v when v is given.
func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// upsertWeightDevice returns devs with wd's device updated, or added. The
// last entry for a device is the one the kernel keeps.
func upsertWeightDevice(devs []*cgroups.WeightDevice, wd specs.LinuxWeightDevice) []*cgroups.WeightDevice {
	for i := len(devs) - 1; i >= 0; i-- {
		if d := *devs[i]; d.Major == wd.Major && d.Minor == wd.Minor {
			set(&d.Weight, wd.Weight)
			set(&d.LeafWeight, wd.LeafWeight)
			devs = slices.Clone(devs)
			devs[i] = &d
			return devs
		}
	}
	var w, leaf uint16
	set(&w, wd.Weight)
	set(&leaf, wd.LeafWeight)
	return append(slices.Clip(devs), cgroups.NewWeightDevice(wd.Major, wd.Minor, w, leaf))
}

// upsertThrottleDevice returns devs with td's device's rate updated, or
// td added.
func upsertThrottleDevice(devs []*cgroups.ThrottleDevice, td specs.LinuxThrottleDevice) []*cgroups.ThrottleDevice {
	for i := len(devs) - 1; i >= 0; i-- {
		if d := *devs[i]; d.Major == td.Major && d.Minor == td.Minor {
			d.Rate = td.Rate
			devs = slices.Clone(devs)
			devs[i] = &d
			return devs
		}
	}
	return append(slices.Clip(devs), cgroups.NewThrottleDevice(td.Major, td.Minor, td.Rate))
}
