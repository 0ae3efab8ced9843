package main

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/opencontainers/runc/types"
	"github.com/urfave/cli/v2"

	"github.com/wrunc/wrunc/bridge"
)

var eventsCommand = &cli.Command{
	Name:        "events",
	Usage:       "display container events such as OOM notifications, cpu, memory, and IO usage statistics",
	ArgsUsage:   "<container-id>",
	Description: "Prints one JSON event a line: the container's stats every --interval, and each OOM kill.",
	Flags: []cli.Flag{
		&cli.DurationFlag{Name: "interval", Value: 5 * time.Second, Usage: "stats collection interval"},
		&cli.BoolFlag{Name: "stats", Usage: "display the container's stats once, then exit"},
	},
	Action: runtimeAction(1, 1, func(ctx *cli.Context, rt *bridge.Runtime) error {
		interval := ctx.Duration("interval")
		if interval <= 0 {
			return errors.New("duration interval must be greater than 0")
		}
		enc := json.NewEncoder(ctx.App.Writer)
		id := ctx.Args().First()
		if ctx.Bool("stats") {
			ev, err := rt.Stats(id)
			if err != nil {
				return err
			}
			return enc.Encode(ev)
		}
		return rt.Events(id, interval, func(ev *types.Event) error { return enc.Encode(ev) })
	}),
}
