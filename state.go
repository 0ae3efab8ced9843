package main

import (
	"encoding/json"

	"github.com/urfave/cli/v2"

	"github.com/wrunc/wrunc/bridge"
)

var stateCommand = &cli.Command{
	Name:      "state",
	Usage:     "print the state of a container as JSON",
	ArgsUsage: "<container-id>",
	Action: runtimeAction(1, 1, func(ctx *cli.Context, rt *bridge.Runtime) error {
		st, err := rt.State(ctx.Args().First())
		if err != nil {
			return err
		}
		return printJSON(ctx, st)
	}),
}

func printJSON(ctx *cli.Context, v any) error {
	enc := json.NewEncoder(ctx.App.Writer)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
