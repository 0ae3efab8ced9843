package main

import (
	"github.com/urfave/cli/v2"

	"github.com/wrunc/wrunc/bridge"
)

var resumeCommand = &cli.Command{
	Name:      "resume",
	Usage:     "thaw a paused container",
	ArgsUsage: "<container-id>",
	Action: runtimeAction(1, 1, func(ctx *cli.Context, rt *bridge.Runtime) error {
		return rt.Resume(ctx.Args().First())
	}),
}
