package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/wrunc/wrunc/bridge"
)

// The flags create, run and restore have in common, as in runc.
var (
	bundleFlag        = &cli.StringFlag{Name: "bundle", Aliases: []string{"b"}, Value: ".", Usage: "path to the bundle directory"}
	consoleSocketFlag = &cli.StringFlag{Name: "console-socket", Usage: "unix socket that receives the pty master of a terminal container"}
	pidFileFlag       = &cli.StringFlag{Name: "pid-file", Usage: "file to write the container's init pid to"}
	pidfdSocketFlag   = &cli.StringFlag{Name: "pidfd-socket", Usage: "unix socket that receives a pidfd of the process"}
	noPivotFlag       = &cli.BoolFlag{Name: "no-pivot", Usage: "do not use pivot_root to enter the rootfs"}
	detachFlag        = &cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "detach from the container's process"}
	noSubreaperFlag   = &cli.BoolFlag{Name: "no-subreaper", Usage: "accepted for runc compatibility"}
)

// createFlags are shared by `create` and `run`.
var createFlags = []cli.Flag{
	bundleFlag, consoleSocketFlag, pidfdSocketFlag, pidFileFlag, noPivotFlag,
	&cli.BoolFlag{Name: "no-new-keyring", Usage: "do not create a new session keyring"},
	&cli.IntFlag{Name: "preserve-fds", Usage: "pass this many extra fds (from 3 on) to the container"},
}

var createCommand = &cli.Command{
	Name:      "create",
	Usage:     "create a container",
	ArgsUsage: "<container-id>",
	Flags:     createFlags,
	Action: runtimeAction(1, 1, func(ctx *cli.Context, rt *bridge.Runtime) error {
		_, err := createOrRun(ctx, rt, false)
		return err
	}),
}

// createOrRun is `create` (start=false) and `run`, which differ only in
// whether the process is started and whether wrunc stays in the foreground.
// A failure is said as runc says it (`runc run failed: ...`), which tools
// and scripts match on.
func createOrRun(ctx *cli.Context, rt *bridge.Runtime, start bool) (int, error) {
	status, err := rt.Create(bridge.CreateOptions{
		ID:            ctx.Args().First(),
		Bundle:        ctx.String("bundle"),
		PidFile:       ctx.String("pid-file"),
		ConsoleSocket: ctx.String("console-socket"),
		PidfdSocket:   ctx.String("pidfd-socket"),
		NoPivot:       ctx.Bool("no-pivot"),
		NoNewKeyring:  ctx.Bool("no-new-keyring"),
		PreserveFDs:   ctx.Int("preserve-fds"),
		Detach:        !start || ctx.Bool("detach"),
		Start:         start,
		Keep:          ctx.Bool("keep"),
	})
	if err != nil {
		return status, fmt.Errorf("%s %s failed: %w", ctx.App.Name, ctx.Command.Name, err)
	}
	return status, nil
}
