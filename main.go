// Command wrunc is an OCI low-level container runtime, a drop-in for runc,
// that runs WebAssembly entrypoints with wasmtime inside the same sandbox
// libcontainer builds for Linux containers.
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	units "github.com/docker/go-units"
	"github.com/opencontainers/cgroups/systemd"
	"github.com/opencontainers/runc/libcontainer"
	_ "github.com/opencontainers/runc/libcontainer/nsenter" // joins namespaces before the Go runtime starts in `init`
	"github.com/opencontainers/runc/libcontainer/seccomp"
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/wrunc/wrunc/bridge"
	"github.com/wrunc/wrunc/handler/wasm"
	_ "github.com/wrunc/wrunc/handler/wasm/runner" // runs a wasm container's module before the Go runtime starts
)

// Set by the Makefile.
var (
	version   = "0.1.0-dev"
	gitCommit = ""
)

const (
	defaultCacheDir = "/var/lib/wrunc/cache"
	// Room for a few hundred typical modules (an artifact is ~3x its module).
	defaultCacheSize = "2GiB"
)

func main() {
	// The container's init runs inside a container being set up: it must
	// come before any flag parsing or logging set-up meant for the CLI. (The
	// wasm runner, argv[1] runner.Marker, never gets here: it runs and exits
	// in a C constructor, before the Go runtime starts; nor does the wasm
	// compiler, argv[1] of its own, which package wasm's initialisation
	// runs and exits.)
	if len(os.Args) > 1 && os.Args[1] == "init" {
		libcontainer.Init()
	}
	app := newApp()
	if err := app.Run(reorderArgs(app, os.Args)); err != nil {
		fatal(err)
	}
}

func newApp() *cli.App {
	cli.VersionPrinter = printVersion
	return &cli.App{
		Name:                   "wrunc",
		Usage:                  "Open Container Initiative runtime that also runs WebAssembly",
		Version:                version,
		UseShortOptionHandling: true,
		// A list is given by repeating its flag, as in runc: a comma is part
		// of the value (`-e A=x,y`, `--cgroup cpu,cpuacct:sub`).
		DisableSliceFlagSeparator: true,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "debug", Usage: "enable debug logging"},
			&cli.StringFlag{Name: "log", Usage: "log file (default: stderr)"},
			&cli.StringFlag{Name: "log-format", Value: "text", Usage: "log format: text or json"},
			&cli.StringFlag{Name: "root", Value: "/run/wrunc", Usage: "directory for container state (should be on tmpfs)"},
			&cli.StringFlag{Name: "criu", Value: "criu", Usage: "path to the criu binary"},
			&cli.BoolFlag{Name: "systemd-cgroup", Usage: `use systemd to manage cgroups; cgroupsPath is "slice:prefix:name"`},
			&cli.StringFlag{Name: "rootless", Value: "auto", Usage: "ignore cgroup permission errors: true, false or auto"},
			&cli.StringFlag{Name: "cache-dir", Value: defaultCacheDir, EnvVars: []string{"WRUNC_CACHE_DIR"}, Usage: "directory of precompiled wasm modules"},
			&cli.StringFlag{Name: "cache-size", Value: defaultCacheSize, EnvVars: []string{"WRUNC_CACHE_SIZE"}, Usage: "bound of the wasm cache (least recently used modules are evicted), e.g. 2GiB; 0 for none"},
			&cli.StringFlag{Name: "max-module-size", Value: units.BytesSize(wasm.DefaultMaxModuleSize), EnvVars: []string{"WRUNC_MAX_MODULE_SIZE"}, Usage: "largest wasm module file wrunc reads, e.g. 128MiB; 0 for none"},
			&cli.StringFlag{Name: wasm.CompileTimeoutFlag, Value: wasm.DefaultCompileTimeout, EnvVars: []string{wasm.CompileTimeoutEnv}, Usage: "wall-clock time a wasm compile may take, e.g. 5m; 0 for none"},
			&cli.StringFlag{Name: wasm.CompileCPUFlag, Value: wasm.DefaultCompileCPU, EnvVars: []string{wasm.CompileCPUEnv}, Usage: "CPU time a wasm compile may use per MiB of module (at least one MiB's worth), e.g. 5s; 0 for none"},
			&cli.StringFlag{Name: wasm.CompileMemoryFlag, Value: wasm.DefaultCompileMemory, EnvVars: []string{wasm.CompileMemoryEnv}, Usage: "memory a wasm compile may use, e.g. 2GiB; 0 for none"},
		},
		Commands: []*cli.Command{
			cacheCommand,
			checkpointCommand,
			createCommand,
			deleteCommand,
			eventsCommand,
			execCommand,
			featuresCommand,
			killCommand,
			listCommand,
			pauseCommand,
			precompileCommand,
			psCommand,
			restoreCommand,
			resumeCommand,
			runCommand,
			specCommand,
			startCommand,
			stateCommand,
			updateCommand,
			versionCommand,
		},
		Before: configureLogging,
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return err
		},
		ExitErrHandler: func(*cli.Context, error) {},
	}
}

// fatal reports err once, in the log file when there is one (engines read
// the last error line there) and on stderr, and exits with the error's own
// status when it has one (exec's 255), else 1.
func fatal(err error) {
	status := 1
	var exit cli.ExitCoder
	if errors.As(err, &exit) {
		status = exit.ExitCode()
	}
	if msg := strings.TrimSpace(strings.ReplaceAll(err.Error(), "\n", " ")); msg != "" {
		logrus.Error(msg)
		if logrus.StandardLogger().Out != os.Stderr {
			fmt.Fprintln(os.Stderr, msg)
		}
	}
	os.Exit(status)
}

func configureLogging(ctx *cli.Context) error {
	logrus.SetOutput(os.Stderr)
	if ctx.Bool("debug") {
		logrus.SetLevel(logrus.DebugLevel)
	}
	switch f := ctx.String("log-format"); f {
	case "text", "":
	case "json":
		logrus.SetFormatter(new(logrus.JSONFormatter))
	default:
		return fmt.Errorf("invalid log-format %q: want text or json", f)
	}
	if path := ctx.String("log"); path != "" {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_SYNC|unix.O_CLOEXEC, 0o644)
		if err != nil {
			return fmt.Errorf("open log file: %w", err)
		}
		logrus.SetOutput(f)
	}
	return nil
}

// runtimeOf collects the global options every command needs.
func runtimeOf(ctx *cli.Context) (*bridge.Runtime, error) {
	rootless := false
	switch v := ctx.String("rootless"); v {
	case "true":
		rootless = true
	case "false":
	case "auto", "":
		rootless = os.Geteuid() != 0
	default:
		return nil, fmt.Errorf("invalid --rootless value %q: want true, false or auto", v)
	}
	if ctx.Bool("systemd-cgroup") && !systemd.IsRunningSystemd() {
		return nil, errors.New("--systemd-cgroup requires systemd as init, which is not running on this host")
	}
	cacheSize, err := units.RAMInBytes(ctx.String("cache-size"))
	if err != nil || cacheSize < 0 {
		return nil, fmt.Errorf("invalid --cache-size %q: want a size such as 2GiB, or 0", ctx.String("cache-size"))
	}
	maxModuleSize, err := units.RAMInBytes(ctx.String("max-module-size"))
	if err != nil || maxModuleSize < 0 {
		return nil, fmt.Errorf("invalid --max-module-size %q: want a size such as 128MiB, or 0", ctx.String("max-module-size"))
	}
	limits, err := wasm.ParseCompileLimits(ctx.String(wasm.CompileTimeoutFlag), ctx.String(wasm.CompileCPUFlag), ctx.String(wasm.CompileMemoryFlag))
	if err != nil {
		return nil, err
	}
	return &bridge.Runtime{
		Root:          ctx.String("root"),
		SystemdCgroup: ctx.Bool("systemd-cgroup"),
		Rootless:      rootless,
		Cache:         &wasm.Cache{Dir: ctx.String("cache-dir"), MaxSize: cacheSize, MaxModuleSize: maxModuleSize, Limits: limits},
	}, nil
}

func printVersion(ctx *cli.Context) {
	w := ctx.App.Writer
	fmt.Fprintf(w, "%s version %s\n", ctx.App.Name, ctx.App.Version)
	if gitCommit != "" {
		fmt.Fprintf(w, "commit: %s\n", gitCommit)
	}
	fmt.Fprintf(w, "spec: %s\n", specs.Version)
	fmt.Fprintf(w, "go: %s\n", runtime.Version())
	if major, minor, micro := seccomp.Version(); major+minor+micro > 0 {
		fmt.Fprintf(w, "libseccomp: %d.%d.%d\n", major, minor, micro)
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if strings.HasPrefix(dep.Path, "github.com/bytecodealliance/wasmtime-go") {
				fmt.Fprintf(w, "wasmtime: %s\n", strings.TrimPrefix(dep.Version, "v"))
			}
		}
	}
}

var versionCommand = &cli.Command{
	Name:  "version",
	Usage: "print the version",
	Action: func(ctx *cli.Context) error {
		printVersion(ctx)
		return nil
	},
}

// runtimeAction is the Action of a command that works on containers: its
// argument count checked in runc's words (max < 0: no upper bound), then fn
// with the runtime the global options describe.
func runtimeAction(min, max int, fn func(*cli.Context, *bridge.Runtime) error) cli.ActionFunc {
	return func(ctx *cli.Context) error {
		if err := checkArgs(ctx, min, max); err != nil {
			return err
		}
		rt, err := runtimeOf(ctx)
		if err != nil {
			return err
		}
		return fn(ctx, rt)
	}
}

// checkArgs enforces a command's positional argument count in runc's words;
// max < 0 means no upper bound.
func checkArgs(ctx *cli.Context, min, max int) error {
	n, name := ctx.NArg(), ctx.Command.Name
	switch {
	case min == max && n != min:
		return fmt.Errorf("%q requires exactly %d argument(s)", name, min)
	case n < min:
		return fmt.Errorf("%q requires a minimum of %d argument(s)", name, min)
	case max >= 0 && n > max:
		return fmt.Errorf("%q requires a maximum of %d argument(s)", name, max)
	}
	return nil
}
