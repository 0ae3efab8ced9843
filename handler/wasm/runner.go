package wasm

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/bytecodealliance/wasmtime-go/v39"
	"golang.org/x/sys/unix"
)

// stopGrace is how long a stop signal waits for the guest to trap before the
// runner exits anyway: epoch interruption only reaches running wasm code, not
// a guest blocked in a host call such as poll_oneoff.
const stopGrace = 200 * time.Millisecond

// trapStatus is what a shell reports for SIGABRT, as the wasmtime CLI exits on a trap.
const trapStatus = 128 + int(syscall.SIGABRT)

var stopSignals = []os.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT}

// Memory the runner keeps for itself out of the container's limit: its Go
// runtime and wasmtime's structures (a few MiB), the guest's stacks, and the
// page cache of files the guest writes, which the kernel charges to the
// container too. See GuestMemory.
const (
	runnerBaseMemory    = 16 << 20
	runnerShareOfMemory = 16 // plus 1/16 of the limit
)

// GuestMemory returns the most linear memory a guest may have in a container
// limited to limit bytes: the limit less 16 MiB and less 1/16 of it, which
// is 44 MiB of 64 MiB, 224 MiB of 256 MiB, 944 MiB of 1 GiB.
func GuestMemory(limit int64) (int64, error) {
	guest := limit - runnerBaseMemory - limit/runnerShareOfMemory
	if guest < 1<<20 {
		return 0, fmt.Errorf("memory limit %d bytes leaves no room for a wasm guest: the runner needs %d", limit, limit-guest)
	}
	return guest, nil
}

// RunnerArgs builds the container process args:
// ["/proc/self/exe", RunnerMarker, <options...>, "--", guestArgs...].
// artifactFD is the fd number the artifact will have inside the container;
// modulePath is the module's path as the container sees it (for messages);
// memoryLimit is the container's memory limit in bytes (0 for none), which
// bounds the guest's linear memory (see GuestMemory).
func RunnerArgs(artifactFD int, modulePath string, memoryLimit int64, guestArgs []string) []string {
	return append([]string{
		"/proc/self/exe", RunnerMarker,
		"--artifact-fd=" + strconv.Itoa(artifactFD),
		"--module=" + modulePath,
		"--memory-limit=" + strconv.FormatInt(memoryLimit, 10),
		"--",
	}, guestArgs...)
}

type runnerOptions struct {
	artifactFD  int
	module      string
	memoryLimit int64
	guestArgs   []string
}

func parseRunnerArgs(args []string) (runnerOptions, error) {
	var o runnerOptions
	if len(args) < 2 || args[1] != RunnerMarker {
		return o, fmt.Errorf("argv[1] is not %s", RunnerMarker)
	}
	fs := flag.NewFlagSet(RunnerMarker, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.IntVar(&o.artifactFD, "artifact-fd", -1, "")
	fs.Int64Var(&o.memoryLimit, "memory-limit", 0, "")
	fs.StringVar(&o.module, "module", "", "")
	if err := fs.Parse(args[2:]); err != nil {
		return o, fmt.Errorf("parse runner args: %w", err)
	}
	if o.artifactFD < 0 {
		return o, errors.New("parse runner args: no --artifact-fd")
	}
	o.guestArgs = fs.Args()
	return o, nil
}

// RunnerMain is the in-container entry point; returns the exit status. args is os.Args.
func RunnerMain(args []string) int {
	// First of all: until we subscribe, a stop signal ends the runner with
	// the Go runtime's status 2 instead of 128+signal.
	stops := make(chan os.Signal, 1)
	signal.Notify(stops, stopSignals...)
	// Other processes of the container (exec'd ones) must not reach our fds
	// or mappings through /proc/1: they lead to the host's cached artifact.
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		fmt.Fprintf(os.Stderr, "wrunc: wasm runner: set non-dumpable: %v\n", err)
		return 1
	}
	o, err := parseRunnerArgs(args)
	if err != nil {
		fmt.Fprintf(os.Stderr, "wrunc: wasm runner: %v\n", err)
		return 1
	}
	engine := NewEngine()
	stoppedBy := handleStopSignals(engine, stops)
	err = run(engine, o)
	if sig := stoppedBy.Load(); sig != 0 {
		return 128 + int(sig)
	}
	return exitStatus(o.module, err)
}

// handleStopSignals makes stop signals end the guest. The runner is pid 1 of
// its pid namespace, so the kernel drops signals it has no handler for.
func handleStopSignals(engine *wasmtime.Engine, stops <-chan os.Signal) *atomic.Int32 {
	var stoppedBy atomic.Int32
	go func() {
		sig := (<-stops).(syscall.Signal)
		stoppedBy.Store(int32(sig))
		engine.IncrementEpoch()
		time.Sleep(stopGrace)
		os.Exit(128 + int(sig))
	}()
	return &stoppedBy
}

func run(engine *wasmtime.Engine, o runnerOptions) error {
	module, err := loadArtifact(engine, o.artifactFD)
	if err != nil {
		return err
	}
	wasi, err := wasiConfig(o)
	if err != nil {
		return err
	}
	// The environment is the guest's now; left in ours it would steer the
	// engine too (RUST_BACKTRACE alone doubles the cost of a guest's exit).
	os.Clearenv()
	store := wasmtime.NewStore(engine)
	store.SetWasi(wasi)
	// One epoch tick, sent by a stop signal, traps the running guest.
	store.SetEpochDeadline(1)
	if o.memoryLimit > 0 {
		guest, err := GuestMemory(o.memoryLimit)
		if err != nil {
			return err
		}
		// A guest past the bound sees memory.grow fail, as wasm specifies,
		// instead of the kernel OOM-killing the whole container.
		store.Limiter(guest, -1, -1, -1, -1)
	}
	linker := wasmtime.NewLinker(engine)
	if err := linker.DefineWasi(); err != nil {
		return fmt.Errorf("define WASI: %w", err)
	}
	instance, err := linker.Instantiate(store, module)
	if err != nil {
		return fmt.Errorf("instantiate: %w", err)
	}
	start := instance.GetFunc(store, "_start")
	if start == nil {
		return errors.New("no _start function")
	}
	_, err = start.Call(store)
	return err
}

// loadArtifact maps the precompiled module and closes the inherited fd.
// wasmtime keeps a read-only fd of its own on the artifact for its memory
// images while the guest runs; the runner is non-dumpable (RunnerMain), so
// no other process of the container can reach it through /proc/1.
func loadArtifact(engine *wasmtime.Engine, fd int) (*wasmtime.Module, error) {
	f := os.NewFile(uintptr(fd), "wasm artifact")
	defer f.Close()
	module, err := wasmtime.NewModuleDeserializeFile(engine, "/proc/self/fd/"+strconv.Itoa(fd))
	if err != nil {
		return nil, fmt.Errorf("load precompiled module from fd %d: %w", fd, err)
	}
	return module, nil
}

func wasiConfig(o runnerOptions) (*wasmtime.WasiConfig, error) {
	cfg := wasmtime.NewWasiConfig()
	cfg.SetArgv(o.guestArgs)
	var keys, values []string
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		keys, values = append(keys, k), append(values, v)
	}
	cfg.SetEnv(keys, values)
	cfg.InheritStdin()
	cfg.InheritStdout()
	cfg.InheritStderr()

	// Full WASI rights: the mount flags libcontainer set (a read-only root,
	// writable volumes under it) are what the guest may write, as for any
	// process of the container.
	dirPerms, filePerms := wasmtime.DIR_READ|wasmtime.DIR_WRITE, wasmtime.FILE_READ|wasmtime.FILE_WRITE
	cwd, err := os.Getwd()
	if err != nil {
		return nil, fmt.Errorf("get working directory: %w", err)
	}
	// WASI has no working directory. Go's wasip1 runtime (when PWD is unset)
	// and Zig take the first preopen as theirs, and wasi-libc and Go resolve
	// absolute paths by the longest preopen prefix, so preopening the cwd
	// before / gives guests the process cwd without adding to their env.
	dirs := []string{"/"}
	if cwd != "/" {
		dirs = []string{cwd, "/"}
	}
	for _, dir := range dirs {
		if err := cfg.PreopenDir(dir, dir, dirPerms, filePerms); err != nil {
			return nil, fmt.Errorf("preopen %s: %w", dir, err)
		}
	}
	return cfg, nil
}

// exitStatus follows the wasmtime CLI: the guest's proc_exit status, 134 on a
// trap, 1 when the module could not be started.
func exitStatus(module string, err error) int {
	if err == nil {
		return 0
	}
	var exit *wasmtime.Error
	if errors.As(err, &exit) {
		if status, ok := exit.ExitStatus(); ok {
			return int(status)
		}
	}
	// wasmtime's trap message carries the wasm backtrace already.
	fmt.Fprintf(os.Stderr, "wrunc: %s: %v\n", module, err)
	var trap *wasmtime.Trap
	if errors.As(err, &trap) {
		return trapStatus
	}
	return 1
}
