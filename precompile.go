package main

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

var precompileCommand = &cli.Command{
	Name:      "precompile",
	Usage:     "compile wasm modules into the cache ahead of their first container",
	ArgsUsage: "<file.wasm|file.wat|bundle>...",
	Action: func(ctx *cli.Context) error {
		if err := checkArgs(ctx, 1, -1); err != nil {
			return err
		}
		rt, err := runtimeOf(ctx)
		if err != nil {
			return err
		}
		for _, path := range ctx.Args().Slice() {
			module, err := rt.Precompile(path)
			if err != nil {
				return err
			}
			fmt.Fprintf(ctx.App.Writer, "precompiled %s\n", module)
		}
		return nil
	},
}
