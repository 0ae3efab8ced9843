package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v2"

	"github.com/wrunc/wrunc/bridge"
)

var execCommand = &cli.Command{
	Name:      "exec",
	Usage:     "run a new process inside a container",
	ArgsUsage: "<container-id> <command> [args...]",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "console-socket", Usage: "unix socket that receives the pty master"},
		pidfdSocketFlag,
		&cli.StringFlag{Name: "cwd", Usage: "working directory in the container"},
		&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, KeepSpace: true, Usage: "add an environment variable (repeat for more)"},
		&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "allocate a pseudo-TTY"},
		&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "uid[:gid]"},
		&cli.Int64SliceFlag{Name: "additional-gids", Aliases: []string{"g"}, Usage: "an additional gid (repeat for more)"},
		&cli.StringFlag{Name: "process", Aliases: []string{"p"}, Usage: "path to a process.json"},
		&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "detach from the process"},
		&cli.StringFlag{Name: "pid-file", Usage: "file to write the process's pid to"},
		&cli.StringFlag{Name: "process-label", Usage: "SELinux label of the process"},
		&cli.StringFlag{Name: "apparmor", Usage: "AppArmor profile of the process"},
		&cli.BoolFlag{Name: "no-new-privs", Usage: "set no_new_privs"},
		&cli.StringSliceFlag{Name: "cap", Aliases: []string{"c"}, Usage: "add a capability (repeat for more)"},
		&cli.IntFlag{Name: "preserve-fds", Usage: "pass this many extra fds (from 3 on) to the process"},
		&cli.StringSliceFlag{Name: "cgroup", Usage: "run in a sub-cgroup: [controller[,controller]:]path (repeat for more)"},
		&cli.BoolFlag{Name: "ignore-paused", Usage: "allow exec in a paused container"},
	},
	Action: func(ctx *cli.Context) error {
		if err := checkArgs(ctx, 1, -1); err != nil {
			return err
		}
		status, err := execProcess(ctx)
		if err != nil {
			// runc's exit status for an exec that never ran, so callers can
			// tell it from the process's own failure.
			return cli.Exit(fmt.Sprintf("exec failed: %v", err), 255)
		}
		return cli.Exit("", status)
	},
}

func execProcess(ctx *cli.Context) (int, error) {
	rt, err := runtimeOf(ctx)
	if err != nil {
		return -1, err
	}
	id := ctx.Args().First()
	p, err := execSpec(ctx, rt, id)
	if err != nil {
		return -1, err
	}
	subCgroups, err := parseSubCgroups(ctx.StringSlice("cgroup"))
	if err != nil {
		return -1, err
	}
	return rt.Exec(bridge.ExecOptions{
		ID:            id,
		Process:       p,
		Detach:        ctx.Bool("detach"),
		PidFile:       ctx.String("pid-file"),
		ConsoleSocket: ctx.String("console-socket"),
		PidfdSocket:   ctx.String("pidfd-socket"),
		PreserveFDs:   ctx.Int("preserve-fds"),
		SubCgroups:    subCgroups,
		IgnorePaused:  ctx.Bool("ignore-paused"),
	})
}

// execSpec is the --process file as given, or the container's own process
// with the command line's args and flags applied.
func execSpec(ctx *cli.Context, rt *bridge.Runtime, id string) (*specs.Process, error) {
	if path := ctx.String("process"); path != "" {
		return bridge.ReadProcess(path)
	}
	if ctx.NArg() < 2 {
		return nil, errors.New("exec args cannot be empty")
	}
	p, err := rt.BundleProcess(id)
	if err != nil {
		return nil, err
	}
	p.Args = ctx.Args().Slice()[1:]
	p.Terminal = ctx.Bool("tty")
	p.Env = append(p.Env, ctx.StringSlice("env")...)
	if cwd := ctx.String("cwd"); cwd != "" {
		p.Cwd = cwd
	}
	if v := ctx.String("apparmor"); v != "" {
		p.ApparmorProfile = v
	}
	if v := ctx.String("process-label"); v != "" {
		p.SelinuxLabel = v
	}
	if ctx.IsSet("no-new-privs") {
		p.NoNewPrivileges = ctx.Bool("no-new-privs")
	}
	if caps := ctx.StringSlice("cap"); len(caps) > 0 {
		if p.Capabilities == nil {
			p.Capabilities = &specs.LinuxCapabilities{}
		}
		c := p.Capabilities
		c.Bounding = append(c.Bounding, caps...)
		c.Effective = append(c.Effective, caps...)
		c.Permitted = append(c.Permitted, caps...)
		if c.Inheritable != nil {
			c.Ambient = append(c.Ambient, caps...)
		}
	}
	if user := ctx.String("user"); user != "" {
		uid, gid, hasGID := strings.Cut(user, ":")
		n, err := strconv.ParseUint(uid, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("bad uid %q", uid)
		}
		p.User.UID = uint32(n)
		if hasGID {
			n, err := strconv.ParseUint(gid, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("bad gid %q", gid)
			}
			p.User.GID = uint32(n)
		}
	}
	for _, g := range ctx.Int64Slice("additional-gids") {
		if g < 0 || g > 1<<32-1 {
			return nil, fmt.Errorf("invalid additional gid %d", g)
		}
		p.User.AdditionalGids = append(p.User.AdditionalGids, uint32(g))
	}
	return p, nil
}

// parseSubCgroups reads --cgroup values: "path" alone (cgroup v2), or
// "ctrl[,ctrl]:path" per controller.
func parseSubCgroups(args []string) (map[string]string, error) {
	if len(args) == 0 {
		return nil, nil
	}
	paths := map[string]string{}
	for _, a := range args {
		ctrls, path, ok := strings.Cut(a, ":")
		if !ok {
			if len(args) != 1 {
				return nil, fmt.Errorf("invalid --cgroup %q: missing <controller>: prefix", a)
			}
			paths[""] = a
			continue
		}
		for _, ctrl := range strings.Split(ctrls, ",") {
			if ctrl == "" {
				return nil, fmt.Errorf("invalid --cgroup %q: empty controller", a)
			}
			if _, dup := paths[ctrl]; dup {
				return nil, fmt.Errorf("invalid --cgroup: controller %s given twice", ctrl)
			}
			paths[ctrl] = path
		}
	}
	return paths, nil
}
