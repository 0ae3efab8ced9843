package bridge

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/utils"
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"

	"github.com/wrunc/wrunc/handler"
)

// ExecOptions are the flags of `exec`, with the process already built.
type ExecOptions struct {
	ID            string
	Process       *specs.Process
	Detach        bool
	PidFile       string
	ConsoleSocket string
	PidfdSocket   string
	PreserveFDs   int
	SubCgroups    map[string]string // --cgroup: controller (or "" on v2) to sub-cgroup
	IgnorePaused  bool
}

// ReadProcess reads a process spec from a file, as `exec --process` gives it.
func ReadProcess(path string) (*specs.Process, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read process: %w", err)
	}
	var p specs.Process
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("parse process %s: %w", path, err)
	}
	return &p, nil
}

// BundleProcess returns the process of the container's config.json, which
// `exec` without --process starts from.
func (r *Runtime) BundleProcess(id string) (*specs.Process, error) {
	c, err := r.Load(id)
	if err != nil {
		return nil, err
	}
	bundle, ok := utils.SearchLabels(c.Config().Labels, "bundle")
	if !ok {
		return nil, fmt.Errorf("container %s: bundle not recorded", id)
	}
	spec, err := LoadSpec(bundle)
	if err != nil {
		return nil, err
	}
	return spec.Process, nil
}

// Exec runs an extra process in a running container. In a wasm container a
// wasm entrypoint runs through the runner, anything else as in runc.
func (r *Runtime) Exec(opts ExecOptions) (int, error) {
	signals := foregroundSignals(opts.Detach)
	c, err := r.Load(opts.ID)
	if err != nil {
		return -1, err
	}
	status, err := c.Status()
	if err != nil {
		return -1, fmt.Errorf("status of %s: %w", opts.ID, err)
	}
	switch {
	case status == libcontainer.Stopped:
		return -1, errors.New("cannot exec in a stopped container")
	case status == libcontainer.Paused && !opts.IgnorePaused:
		return -1, errors.New("cannot exec in a paused container (use --ignore-paused to override)")
	}
	if err := ValidateProcess(opts.Process); err != nil {
		return -1, err
	}
	process, err := NewProcess(opts.Process)
	if err != nil {
		return -1, err
	}
	if process.ExtraFiles, err = PreservedFiles(opts.PreserveFDs); err != nil {
		return -1, err
	}
	process.SubCgroupPaths = opts.SubCgroups
	l := launch{
		process:       process,
		terminal:      opts.Process.Terminal,
		detach:        opts.Detach,
		consoleSocket: opts.ConsoleSocket,
		pidfdSocket:   opts.PidfdSocket,
		pidFile:       opts.PidFile,
		signals:       signals,
		start:         c.Run,
	}
	if HandlerOf(c) == handler.Wasm {
		ep, err := execEntrypoint(c, opts.Process)
		if err != nil {
			return -1, err
		}
		if ep != nil {
			// The limit as it is now, after any update.
			artifact, err := r.useRunner(process, ep, c.Config().Cgroups.Resources.Memory)
			if err != nil {
				return -1, err
			}
			defer artifact.close()
			l.start = artifact.start(l.start)
		}
	}
	return l.run()
}

// execEntrypoint returns the wasm module an exec'd process names, or nil when
// it is not wasm and so runs natively. It looks through the init process's
// root, the container's own view of its files, volumes included.
func execEntrypoint(c *libcontainer.Container, p *specs.Process) (*handler.Entrypoint, error) {
	st, err := c.State()
	if err != nil {
		return nil, fmt.Errorf("state of %s: %w", c.ID(), err)
	}
	root := filepath.Join("/proc", strconv.Itoa(st.InitProcessPid), "root")
	ep, err := handler.ResolveEntrypoint(root, p.Args[0], p.Cwd, p.Env)
	if err != nil {
		// Not there: libcontainer reports it as runc would.
		logrus.Debugf("exec in wasm container %s: %v", c.ID(), err)
		return nil, nil
	}
	if ep.Format == handler.NotWasm {
		return nil, nil
	}
	return ep, nil
}
