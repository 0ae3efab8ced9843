package main

import (
	"github.com/urfave/cli/v2"

	"github.com/wrunc/wrunc/bridge"
)

var deleteCommand = &cli.Command{
	Name:      "delete",
	Usage:     "delete a container and everything it holds",
	ArgsUsage: "<container-id>",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "kill the container first if it is still running"},
	},
	Action: runtimeAction(1, 1, func(ctx *cli.Context, rt *bridge.Runtime) error {
		return rt.Delete(ctx.Args().First(), ctx.Bool("force"))
	}),
}
