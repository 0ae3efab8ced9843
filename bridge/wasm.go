package bridge

import (
	"strings"
	"sync"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/sirupsen/logrus"

	"github.com/wrunc/wrunc/handler"
	"github.com/wrunc/wrunc/handler/wasm"
	"github.com/wrunc/wrunc/handler/wasm/runner"
)

// useRunner makes p run the wasm module at ep through wrunc's runner: the
// module is compiled here, on the host, and the runner inside the container
// only maps the artifact. The cache lookup (or compile) runs while the
// caller starts the process; start it with the returned artifact's start,
// and close the artifact when done.
func (r *Runtime) useRunner(p *libcontainer.Process, ep *handler.Entrypoint, memoryLimit int64) (*pendingArtifact, error) {
	var guestMemory int64
	if memoryLimit > 0 {
		var err error
		if guestMemory, err = runner.GuestMemory(memoryLimit); err != nil {
			return nil, err
		}
	}
	module, err := ep.Open()
	if err != nil {
		return nil, err
	}
	handoff, err := runner.NewHandoff()
	if err != nil {
		module.Close()
		return nil, err
	}
	// After any preserved fds, so that those keep the numbers the caller expects.
	p.ExtraFiles = append(p.ExtraFiles, handoff.ContainerEnd())
	p.Args = runner.Invocation{
		HandoffFD:   2 + len(p.ExtraFiles),
		Module:      ep.ContainerPath,
		GuestMemory: guestMemory,
		HideHome:    !hasEnv(p.Env, "HOME"),
	}.Args(p.Args)
	a := &pendingArtifact{handoff: handoff, done: make(chan struct{})}
	go func() {
		defer close(a.done)
		defer module.Close()
		a.file, a.err = r.Cache.Artifact(module, ep.ContainerPath, ep.Format)
	}()
	return a, nil
}

// pendingArtifact is a runner's artifact being looked up or compiled.
type pendingArtifact struct {
	handoff *runner.Handoff
	done    chan struct{}
	file    *wasm.Artifact // once done, if err is nil
	err     error
	commit  sync.Once // of a new cache entry, once the runner has its artifact
}

// start wraps a function that starts the runner's process: once the process
// is started, it waits for the artifact and hands it over, or kills the
// process if there is none (a module that does not compile, say).
func (a *pendingArtifact) start(start func(*libcontainer.Process) error) func(*libcontainer.Process) error {
	return func(p *libcontainer.Process) error {
		if err := start(p); err != nil {
			return err
		}
		<-a.done
		err := a.err
		if err == nil {
			err = a.handoff.Send(a.file.File, a.file.Facts)
			// Syncing a new entry to disk is no business of the
			// container's, which starts meanwhile.
			go a.commitEntry()
		}
		if err != nil {
			killProcess(p)
		}
		return err
	}
}

// commitEntry commits a new cache entry. The artifact was good: a failure
// only means that the next container of the module compiles it again.
func (a *pendingArtifact) commitEntry() {
	a.commit.Do(func() {
		if err := a.file.Commit(); err != nil {
			logrus.Warnf("wasm cache: %v", err)
		}
	})
}

// close waits for the lookup and the commit of a new entry, so that no
// cache write is cut short, and releases the artifact and the host's
// handoff ends.
func (a *pendingArtifact) close() {
	<-a.done
	if a.file != nil {
		a.commitEntry()
		a.file.Close()
	}
	a.handoff.Close()
}

// hasEnv tells whether env sets name.
func hasEnv(env []string, name string) bool {
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k == name {
			return true
		}
	}
	return false
}
