package main

import (
	"fmt"
	"math"
	"text/tabwriter"
	"time"

	units "github.com/docker/go-units"
	"github.com/urfave/cli/v2"

	"github.com/wrunc/wrunc/bridge"
)

var cacheCommand = &cli.Command{
	Name:  "cache",
	Usage: "inspect and prune the cache of precompiled wasm modules",
	Subcommands: []*cli.Command{
		{
			Name:  "ls",
			Usage: "list cached modules, least recently used first",
			Action: runtimeAction(0, 0, func(ctx *cli.Context, rt *bridge.Runtime) error {
				entries, err := rt.Cache.Entries()
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(ctx.App.Writer, 8, 1, 3, ' ', 0)
				fmt.Fprint(tw, "KEY\tSIZE\tLAST USED\n")
				for _, e := range entries {
					fmt.Fprintf(tw, "%s\t%s\t%s\n", e.Key, units.BytesSize(float64(e.Size)), e.LastUsed.Format(time.RFC3339))
				}
				return tw.Flush()
			}),
		},
		{
			Name:  "prune",
			Usage: "evict least recently used modules down to --cache-size (or everything with --all)",
			Flags: []cli.Flag{
				&cli.BoolFlag{Name: "all", Usage: "evict every module not in use by a create"},
			},
			Action: runtimeAction(0, 0, func(ctx *cli.Context, rt *bridge.Runtime) error {
				bound := rt.Cache.MaxSize
				switch {
				case ctx.Bool("all"):
					bound = 0
				case bound == 0: // unbounded: only leftovers of crashed creates go
					bound = math.MaxInt64
				}
				removed, err := rt.Cache.Prune(bound)
				for _, e := range removed {
					fmt.Fprintf(ctx.App.Writer, "evicted %s (%s)\n", e.Key, units.BytesSize(float64(e.Size)))
				}
				return err
			}),
		},
	},
}
