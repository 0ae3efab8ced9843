package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/wrunc/wrunc/bridge"
)

var precompileCommand = &cli.Command{
	Name:      "precompile",
	Usage:     "compile wasm modules and components into the cache ahead of their first container",
	ArgsUsage: "<file.wasm|file.wat|bundle>...",
	Action: runtimeAction(1, -1, func(ctx *cli.Context, rt *bridge.Runtime) error {
		for _, path := range ctx.Args().Slice() {
			module, err := rt.Precompile(path)
			if err != nil {
				return err
			}
			fmt.Fprintf(ctx.App.Writer, "precompiled %s\n", module)
		}
		return nil
	}),
}
