package main

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/wrunc/wrunc/bridge"
)

var psCommand = &cli.Command{
	Name:      "ps",
	Usage:     "list the processes of a container",
	ArgsUsage: "<container-id> [ps options]",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "table or json"},
	},
	Action: runtimeAction(1, -1, func(ctx *cli.Context, rt *bridge.Runtime) error {
		pids, err := rt.Processes(ctx.Args().First())
		if err != nil {
			return err
		}
		switch ctx.String("format") {
		case "json":
			if pids == nil {
				pids = []int{}
			}
			return json.NewEncoder(ctx.App.Writer).Encode(pids)
		case "table":
			return psTable(ctx, pids)
		}
		return fmt.Errorf("invalid format %q: want table or json", ctx.String("format"))
	}),
}

// psTable runs the host's ps with the caller's options and keeps the header
// and the container's processes, as runc does.
func psTable(ctx *cli.Context, pids []int) error {
	opts := ctx.Args().Slice()[1:]
	if len(opts) == 0 {
		opts = []string{"-ef"}
	}
	out, err := exec.Command("ps", opts...).Output()
	if err != nil {
		return fmt.Errorf("ps %s: %w", strings.Join(opts, " "), err)
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	pidCol := -1
	for i, h := range strings.Fields(lines[0]) {
		if h == "PID" {
			pidCol = i
		}
	}
	if pidCol < 0 {
		return fmt.Errorf("ps %s: no PID column", strings.Join(opts, " "))
	}
	in := map[string]bool{}
	for _, p := range pids {
		in[strconv.Itoa(p)] = true
	}
	fmt.Fprintln(ctx.App.Writer, lines[0])
	for _, l := range lines[1:] {
		if f := strings.Fields(l); len(f) > pidCol && in[f[pidCol]] {
			fmt.Fprintln(ctx.App.Writer, l)
		}
	}
	return nil
}
