package bridge

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	_ "github.com/opencontainers/cgroups/devices" // lets libcontainer's cgroup managers program device rules
	devconfig "github.com/opencontainers/cgroups/devices/config"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/specconv"
	"github.com/opencontainers/runtime-spec/specs-go"
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
	Cache         *wasm.Cache // precompiled wasm modules
}

// CreateOptions are the flags of `create` and `run`.
type CreateOptions struct {
	ID            string
	Bundle        string
	PidFile       string
	ConsoleSocket string
	PidfdSocket   string
	NoPivot       bool
	NoNewKeyring  bool
	PreserveFDs   int
	Detach        bool // `create`, or `run -d`
	Start         bool // `run`: start right after creating
	Keep          bool // `run --keep`: keep the stopped container's state

	// restore, set by Restore, brings the process back from a checkpoint
	// instead of starting it.
	restore func(*libcontainer.Container, *libcontainer.Process) error
}

// Create creates (and with opts.Start, starts) a container. In the
// foreground it waits for the container and returns its exit status.
// On any error nothing of the container is left behind.
func (r *Runtime) Create(opts CreateOptions) (status int, err error) {
	signals := foregroundSignals(opts.Detach)
	lock, err := r.lockID(opts.ID) // which validates the id first
	if err != nil {
		return -1, err
	}
	defer func() {
		if err != nil {
			lock.releaseGone()
		}
		lock.release()
	}()
	bundle, err := filepath.Abs(opts.Bundle)
	if err != nil {
		return -1, fmt.Errorf("bundle %s: %w", opts.Bundle, err)
	}
	// Relative to where we were called from, not to the bundle.
	if opts.PidFile != "" {
		if opts.PidFile, err = filepath.Abs(opts.PidFile); err != nil {
			return -1, fmt.Errorf("pid file: %w", err)
		}
	}
	// libcontainer resolves relative paths in the spec, and records the
	// bundle, from the working directory.
	if err := os.Chdir(bundle); err != nil {
		return -1, fmt.Errorf("bundle: %w", err)
	}
	// As libcontainer sees it: the kernel's path, free of symlinks.
	if bundle, err = unix.Getwd(); err != nil {
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
	process.ExtraFiles = preserved
	var artifact *pendingArtifact
	// A restored runner comes back with its module loaded.
	if decision.Kind == handler.Wasm && opts.restore == nil {
		artifact, err = r.useRunner(process, decision.Entrypoint, specMemoryLimit(spec))
		if err != nil {
			return -1, err
		}
		defer artifact.close()
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
		return -1, err
	}
	config.Labels = append(config.Labels, handlerLabel+string(decision.Kind))
	relaxConfig(config)

	container, err := libcontainer.Create(r.Root, opts.ID, config)
	if err != nil {
		return -1, r.createError(opts.ID, err)
	}
	if err := r.recordPending(container); err != nil {
		return -1, errors.Join(err, container.Destroy())
	}
	defer r.dropPending(opts.ID)
	l := launch{
		process:       process,
		terminal:      spec.Process.Terminal,
		detach:        opts.Detach,
		consoleSocket: opts.ConsoleSocket,
		pidfdSocket:   opts.PidfdSocket,
		pidFile:       opts.PidFile,
		signals:       signals,
		start:         container.Start,
		// Once started the container's state is saved, and a foreground
		// run must not keep kill and delete waiting while it lasts.
		started: func() {
			r.dropPending(opts.ID)
			lock.release()
		},
	}
	switch {
	case opts.restore != nil:
		l.start = func(p *libcontainer.Process) error { return opts.restore(container, p) }
	case opts.Start:
		l.exec = container.Exec
	}
	if artifact != nil {
		l.start = artifact.start(l.start)
	}
	status, err = l.run()
	if (err != nil || !opts.Detach) && !opts.Keep {
		if lock.f == nil {
			relock, lerr := r.lockID(opts.ID)
			if lerr != nil {
				return status, errors.Join(err, lerr)
			}
			lock = relock
		}
		if derr := r.destroy(container, lock); derr != nil {
			logrus.Warnf("cleanup of %s: %v", opts.ID, derr)
		}
	}
	return status, err
}

// relaxConfig accepts what runc did before libcontainer grew stricter, where
// the stricter check refuses configs the OCI spec allows.
func relaxConfig(config *configs.Config) {
	for _, m := range config.Mounts {
		// The kernel ignores filesystem options on a bind mount; refusing
		// the mount, as libcontainer now does, breaks configs that work
		// with runc 1.1.
		if m.IsBind() && m.Data != "" {
			logrus.Warnf("mount %s: ignoring filesystem options %q, which a bind mount cannot have", m.Destination, m.Data)
			m.Data = ""
		}
	}
	for _, d := range config.Devices {
		// A FIFO has no device number, whatever the config says; libcontainer
		// would compare the new node's 0:0 with it and fail.
		if d.Type == devconfig.FifoDevice {
			d.Major, d.Minor = 0, 0
		}
	}
}

func specMemoryLimit(spec *specs.Spec) int64 {
	if r := spec.Linux.Resources; r != nil && r.Memory != nil && r.Memory.Limit != nil {
		return *r.Memory.Limit
	}
	return 0
}

// validID is libcontainer's own rule, checked before anything touches the
// state directory with the id.
var validID = regexp.MustCompile(`^[\w+.-]+$`)

// ValidateID refuses ids that libcontainer would, and ids it would accept but
// that name no directory of their own under the root.
func ValidateID(id string) error {
	if !validID.MatchString(id) || id == "." || id == ".." || len(id) > 1024 {
		return fmt.Errorf("%w: %q", libcontainer.ErrInvalidID, id)
	}
	return nil
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
	}
	return err
}
