package main

import (
	"github.com/urfave/cli/v2"

	"github.com/wrunc/wrunc/bridge"
)

var startCommand = &cli.Command{
	Name:      "start",
	Usage:     "start the user process of a created container",
	ArgsUsage: "<container-id>",
	Action: runtimeAction(1, 1, func(ctx *cli.Context, rt *bridge.Runtime) error {
		return rt.Start(ctx.Args().First())
	}),
}
