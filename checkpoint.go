package main

import (
	"github.com/urfave/cli/v2"

	"github.com/wrunc/wrunc/bridge"
)

// criuFlags are shared by `checkpoint` and `restore`, as in runc.
var criuFlags = []cli.Flag{
	&cli.StringFlag{Name: "image-path", Usage: "directory of the CRIU image files (default: ./checkpoint)"},
	&cli.StringFlag{Name: "work-path", Usage: "directory for CRIU's work files and logs (default: the image path)"},
	&cli.BoolFlag{Name: "tcp-established", Usage: "allow open tcp connections"},
	&cli.BoolFlag{Name: "ext-unix-sk", Usage: "allow external unix sockets"},
	&cli.BoolFlag{Name: "shell-job", Usage: "allow shell jobs"},
	&cli.BoolFlag{Name: "file-locks", Usage: "handle file locks, for safety"},
	&cli.StringFlag{Name: "manage-cgroups-mode", Usage: "cgroups mode: soft|full|strict|ignore (default: soft)"},
	&cli.StringSliceFlag{Name: "empty-ns", Usage: "create a namespace, but don't restore its properties"},
	&cli.BoolFlag{Name: "auto-dedup", Usage: "enable auto deduplication of memory images"},
	&cli.BoolFlag{Name: "lazy-pages", Usage: "use userfaultfd to lazily restore memory pages"},
}

var checkpointCommand = &cli.Command{
	Name:      "checkpoint",
	Usage:     "checkpoint a running container",
	ArgsUsage: "<container-id>",
	Flags: append([]cli.Flag{
		&cli.StringFlag{Name: "parent-path", Usage: "previous criu image files of a pre-dump, relative to --image-path"},
		&cli.BoolFlag{Name: "leave-running", Usage: "leave the process running after checkpointing"},
		&cli.BoolFlag{Name: "tcp-skip-in-flight", Usage: "skip in-flight tcp connections"},
		&cli.BoolFlag{Name: "link-remap", Usage: "allow one to link unlinked files back when possible"},
		&cli.IntFlag{Name: "status-fd", Value: -1, Usage: "criu writes \\0 to this FD once lazy-pages is ready"},
		&cli.StringFlag{Name: "page-server", Usage: "ADDRESS:PORT of the page server"},
		&cli.BoolFlag{Name: "pre-dump", Usage: "dump the container's memory only, and leave it running"},
	}, criuFlags...),
	Action: runtimeAction(1, 1, func(ctx *cli.Context, rt *bridge.Runtime) error {
		return rt.Checkpoint(ctx.Args().First(), criuOptions(ctx))
	}),
}

// criuOptions reads the CRIU flags; those a command lacks read as unset.
func criuOptions(ctx *cli.Context) bridge.CriuOptions {
	statusFD := -1
	if ctx.IsSet("status-fd") {
		statusFD = ctx.Int("status-fd")
	}
	return bridge.CriuOptions{
		Criu:              ctx.String("criu"),
		ImagePath:         ctx.String("image-path"),
		WorkPath:          ctx.String("work-path"),
		ParentPath:        ctx.String("parent-path"),
		LeaveRunning:      ctx.Bool("leave-running"),
		TCPEstablished:    ctx.Bool("tcp-established"),
		TCPSkipInFlight:   ctx.Bool("tcp-skip-in-flight"),
		LinkRemap:         ctx.Bool("link-remap"),
		ExtUnixSk:         ctx.Bool("ext-unix-sk"),
		ShellJob:          ctx.Bool("shell-job"),
		FileLocks:         ctx.Bool("file-locks"),
		PreDump:           ctx.Bool("pre-dump"),
		AutoDedup:         ctx.Bool("auto-dedup"),
		LazyPages:         ctx.Bool("lazy-pages"),
		StatusFD:          statusFD,
		PageServer:        ctx.String("page-server"),
		ManageCgroupsMode: ctx.String("manage-cgroups-mode"),
		EmptyNS:           ctx.StringSlice("empty-ns"),
		LsmProfile:        ctx.String("lsm-profile"),
		LsmMountContext:   ctx.String("lsm-mount-context"),
	}
}
