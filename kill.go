package main

import (
	"github.com/urfave/cli/v2"

	"github.com/wrunc/wrunc/bridge"
)

var killCommand = &cli.Command{
	Name:      "kill",
	Usage:     "send a signal to a container's init process",
	ArgsUsage: "<container-id> [signal]",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "send the signal to every process of the container"},
	},
	Action: runtimeAction(1, 2, func(ctx *cli.Context, rt *bridge.Runtime) error {
		name := ctx.Args().Get(1)
		if name == "" {
			name = "TERM"
		}
		sig, err := bridge.ParseSignal(name)
		if err != nil {
			return err
		}
		return rt.Kill(ctx.Args().First(), sig, ctx.Bool("all"))
	}),
}
