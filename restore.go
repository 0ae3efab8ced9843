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
		&cli.StringFlag{Name: "bundle", Aliases: []string{"b"}, Value: ".", Usage: "path to the bundle directory"},
		&cli.StringFlag{Name: "console-socket", Usage: "unix socket that receives the pty master of a terminal container"},
		&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "detach from the container's process"},
		&cli.StringFlag{Name: "pid-file", Usage: "file to write the container's init pid to"},
		&cli.BoolFlag{Name: "no-subreaper", Usage: "accepted for runc compatibility"},
		&cli.BoolFlag{Name: "no-pivot", Usage: "do not use pivot_root to enter the rootfs"},
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
