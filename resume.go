package main

import "github.com/urfave/cli/v2"

var resumeCommand = &cli.Command{
	Name:      "resume",
	Usage:     "thaw a paused container",
	ArgsUsage: "<container-id>",
	Action: func(ctx *cli.Context) error {
		if err := checkArgs(ctx, 1, 1); err != nil {
			return err
		}
		rt, err := runtimeOf(ctx)
		if err != nil {
			return err
		}
		return rt.Resume(ctx.Args().First())
	},
}
