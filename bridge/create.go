package bridge

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	_ "github.com/opencontainers/cgroups/devices" // lets libcontainer's cgroup managers program device rules
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/specconv"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/wrunc/wrunc/handler"
	"github.com/wrunc/wrunc/handler/wasm"
)

// Runtime holds the global options every command shares.
type Runtime struct {
	Root          string // state directory of all containers
	SystemdCgroup bool
	Rootless      bool
	CacheDir      string // precompiled wasm modules
}

// CreateOptions are the flags of `create` and `run`.
type CreateOptions struct {
	ID            string
	Bundle        string
	PidFile       string
	ConsoleSocket string
	NoPivot       bool
	NoNewKeyring  bool
	PreserveFDs   int
	Detach        bool // `create`, or `run -d`
	Start         bool // `run`: start right after creating
	Keep          bool // `run --keep`: keep the stopped container's state
}

// Create creates (and with opts.Start, starts) a container. In the
// foreground it waits for the container and returns its exit status.
// On any error nothing of the container is left behind.
func (r *Runtime) Create(opts CreateOptions) (status int, err error) {
	bundle, err := filepath.Abs(opts.Bundle)
	if err != nil {
		return -1, fmt.Errorf("bundle %s: %w", opts.Bundle, err)
	}
	// libcontainer resolves relative paths in the spec, and records the
	// bundle, from the working directory.
	if err := os.Chdir(bundle); err != nil {
		return -1, fmt.Errorf("bundle: %w", err)
	}
	spec, err := LoadSpec(bundle)
	if err != nil {
		return -1, err
	}
	if err := checkTerminal(spec.Process.Terminal, opts.Detach, opts.ConsoleSocket); err != nil {
		return -1, err
	}
	if err := r.checkNew(opts.ID); err != nil {
		return -1, err
	}
	preserved, err := PreservedFiles(opts.PreserveFDs)
	if err != nil {
		return -1, err
	}
	decision, err := handler.Select(spec, RootfsPath(spec, bundle))
	if err != nil {
		return -1, err
	}
	for _, w := range decision.Warnings {
		logrus.Warn(w)
	}
	logrus.Debugf("container %s: %s handler: %s", opts.ID, decision.Kind, decision.Reason)

	process, err := NewProcess(spec.Process)
	if err != nil {
		return -1, err
	}
	process.Init = true
	process.LogLevel = fmt.Sprint(int(logrus.GetLevel()))
	process.ExtraFiles = preserved
	if decision.Kind == handler.Wasm {
		artifact, err := (&wasm.Cache{Dir: r.CacheDir}).Artifact(decision.Entrypoint.HostPath, decision.Entrypoint.Format == handler.WatText)
		if err != nil {
			return -1, err
		}
		defer artifact.Close()
		// The artifact comes after the preserved fds, so those keep the
		// numbers the caller expects.
		process.ExtraFiles = append(process.ExtraFiles, artifact)
		process.Args = wasm.RunnerArgs(2+len(process.ExtraFiles), decision.Entrypoint.ContainerPath, spec.Root.Readonly, spec.Process.Args)
	}

	config, err := specconv.CreateLibcontainerConfig(&specconv.CreateOpts{
		CgroupName:       opts.ID,
		UseSystemdCgroup: r.SystemdCgroup,
		NoPivotRoot:      opts.NoPivot,
		NoNewKeyring:     opts.NoNewKeyring,
		Spec:             spec,
		RootlessEUID:     os.Geteuid() != 0,
		RootlessCgroups:  r.Rootless,
	})
	if err != nil {
		return -1, fmt.Errorf("create %s: %w", opts.ID, err)
	}
	config.Labels = append(config.Labels, handlerLabel+string(decision.Kind))

	container, err := libcontainer.Create(r.Root, opts.ID, config)
	if err != nil {
		return -1, r.createError(opts.ID, err)
	}
	destroy := !opts.Keep
	defer func() {
		if err != nil && destroy {
			if derr := container.Destroy(); derr != nil {
				logrus.Warnf("cleanup of %s: %v", opts.ID, derr)
			}
		}
	}()

	io, err := setupStdio(process, spec.Process.Terminal, opts.Detach, opts.ConsoleSocket)
	if err != nil {
		return -1, err
	}
	defer io.close()

	var signals chan os.Signal
	if !opts.Detach {
		// Subscribe before the process exists so no signal meant for it is lost.
		signals = make(chan os.Signal, 128)
		signal.Notify(signals)
		defer signal.Stop(signals)
	}
	if opts.Start {
		err = container.Run(process)
	} else {
		err = container.Start(process)
	}
	if err != nil {
		return -1, fmt.Errorf("create %s: %w", opts.ID, err)
	}
	if err = io.started(); err != nil {
		killProcess(process)
		return -1, err
	}
	if opts.PidFile != "" {
		pid, _ := process.Pid()
		if err = WritePidFile(opts.PidFile, pid); err != nil {
			killProcess(process)
			return -1, err
		}
	}
	if opts.Detach {
		return 0, nil
	}
	status, err = forward(process, signals, io)
	if err != nil {
		killProcess(process)
		return -1, err
	}
	if destroy {
		if err := container.Destroy(); err != nil {
			logrus.Warnf("cleanup of %s: %v", opts.ID, err)
		}
	}
	return status, nil
}

// checkNew refuses an id that is taken before any work is done for it;
// libcontainer.Create checks again atomically.
func (r *Runtime) checkNew(id string) error {
	if _, err := os.Lstat(filepath.Join(r.Root, id)); err == nil {
		return r.createError(id, libcontainer.ErrExist)
	}
	return nil
}

func (r *Runtime) createError(id string, err error) error {
	switch {
	case errors.Is(err, libcontainer.ErrExist):
		return fmt.Errorf("container with id exists: %s", id)
	case errors.Is(err, libcontainer.ErrInvalidID):
		return fmt.Errorf("invalid container id %q", id)
	}
	return fmt.Errorf("create %s: %w", id, err)
}

func killProcess(p *libcontainer.Process) {
	_ = p.Signal(unix.SIGKILL)
	_, _ = p.Wait()
}

// forward relays our signals to the container's process until it exits, and
// returns its exit status the way a shell reports it (128+n when killed).
func forward(p *libcontainer.Process, signals chan os.Signal, io *stdio) (int, error) {
	done := make(chan int, 1)
	go func() {
		st, err := p.Wait()
		if err != nil && st == nil {
			logrus.Warnf("wait: %v", err)
			done <- 255
			return
		}
		done <- exitStatus(st.Sys().(syscall.WaitStatus))
	}()
	for {
		select {
		case status := <-done:
			return status, nil
		case s := <-signals:
			switch s {
			case unix.SIGCHLD, unix.SIGURG, unix.SIGPIPE:
			case unix.SIGWINCH:
				io.resize()
			default:
				if err := p.Signal(s); err != nil {
					logrus.Debugf("forward %v: %v", s, err)
				}
			}
		}
	}
}

// exitStatus reports a wait status as a shell does: 128+n when killed by n.
func exitStatus(ws syscall.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}
