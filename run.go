package main

import (
	"github.com/urfave/cli/v2"

	"github.com/wrunc/wrunc/bridge"
)

var runCommand = &cli.Command{
	Name:      "run",
	Usage:     "create and start a container; in the foreground, exit with its status",
	ArgsUsage: "<container-id>",
	Flags: append([]cli.Flag{
		detachFlag, noSubreaperFlag,
		&cli.BoolFlag{Name: "keep", Usage: "keep the container's state after it exits"},
	}, createFlags...),
	Action: runtimeAction(1, 1, func(ctx *cli.Context, rt *bridge.Runtime) error {
		status, err := createOrRun(ctx, rt, true)
		if err != nil {
			return err
		}
		return cli.Exit("", status)
	}),
}
