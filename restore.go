package main

import (
	"github.com/urfave/cli/v2"

	"github.com/wrunc/wrunc/bridge"
)

var restoreCommand = &cli.Command{
	Name:      "restore",
	Usage:     "restore a container from a previous checkpoint; in the foreground, exit with its status",
	ArgsUsage: "<container-id>",
	Flags: append([]cli.Flag{
		bundleFlag, consoleSocketFlag, detachFlag, pidFileFlag, noSubreaperFlag, noPivotFlag,
		&cli.StringFlag{Name: "lsm-profile", Usage: "LSM profile of the restored process, as TYPE:NAME"},
		&cli.StringFlag{Name: "lsm-mount-context", Usage: "LSM mount context of the restored container"},
	}, criuFlags...),
	Action: runtimeAction(1, 1, func(ctx *cli.Context, rt *bridge.Runtime) error {
		status, err := rt.Restore(bridge.CreateOptions{
			ID:            ctx.Args().First(),
			Bundle:        ctx.String("bundle"),
			PidFile:       ctx.String("pid-file"),
			ConsoleSocket: ctx.String("console-socket"),
			NoPivot:       ctx.Bool("no-pivot"),
			Detach:        ctx.Bool("detach"),
		}, criuOptions(ctx))
		if err != nil {
			return err
		}
		return cli.Exit("", status)
	}),
}
