package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/wrunc/wrunc/tests/nodecheck"
)

// What `state` and `list` say of a container whose create was killed before
// it finished.
const createInterrupted = "create-interrupted"

// TestCreateKilledBeforeHandoff kills a wasm create after libcontainer saved
// the container's state and before the runner got its artifact: a container
// that `state` calls created must start, and this one cannot. The test holds
// the lock of the module's cache entry, as a create compiling the module
// would, so that the create waits in that window until it is killed.
func TestCreateKilledBeforeHandoff(t *testing.T) {
	e := newEnv(t)
	rootfs := e.guestRootfs(false, "probe.wasm")
	cache := t.TempDir()
	unlock := lockCacheEntry(t, e, filepath.Join(rootfs, "probe.wasm"), cache)
	defer unlock()
	id := e.newID()
	bundle := e.bundle(withRootfs(rootfs), wasmHandler, withArgs("/probe.wasm", "sleep", "100"))
	create := e.background("--cache-dir", cache, "create", "--bundle", bundle, id)
	poll(t, "the create to save the container's state", func() bool {
		_, err := os.Stat(filepath.Join(e.root, id, "state.json"))
		return err == nil
	})
	if st := e.state(id); st.Status != specs.StateCreated {
		t.Fatalf("while its create runs, container %s is %q, want created", id, st.Status)
	}
	create.cmd.Process.Signal(syscall.SIGKILL)
	if r := create.wait(); r.code != -int(syscall.SIGKILL) {
		t.Fatalf("create ended before it was killed: %s", r)
	}
	unlock()

	st := e.state(id)
	if st.Status != createInterrupted || st.Pid <= 0 || st.Handler != "wasm" {
		t.Fatalf("after its create was killed, state says %+v: want status %s, the init's pid, handler wasm", st, createInterrupted)
	}
	if nodecheck.Gone(st.Pid) {
		t.Fatalf("the init %d of the interrupted container is gone", st.Pid)
	}
	e.mustFailOneLine([]string{"cannot start container " + id, "interrupted"}, "start", id)
	if got := e.state(id).Status; got != createInterrupted {
		t.Errorf("after a refused start, state says %q, want %s", got, createInterrupted)
	}
	assertListed(t, e, id, createInterrupted)
	e.mustRun("delete", id)
	e.assertClean(id)
	waitProcessGone(t, st.Pid)
	e.mustRun("--cache-dir", cache, "cache", "prune")
	if left := cacheLeftovers(t, cache); len(left) > 0 {
		t.Errorf("wasm cache leftovers: %v", left)
	}
}

// lockCacheEntry takes the lock of module's entry in the wasm cache at dir,
// as a create compiling it holds it, and returns its release. The entry's
// name is learnt from a precompile into a cache of its own.
func lockCacheEntry(t *testing.T, e *env, module, dir string) (unlock func()) {
	t.Helper()
	scratch := t.TempDir()
	e.mustRun("--cache-dir", scratch, "precompile", module)
	artifacts, err := filepath.Glob(filepath.Join(scratch, "*.cwasm"))
	if err != nil || len(artifacts) != 1 {
		t.Fatalf("precompile made artifacts %v (%v), want one", artifacts, err)
	}
	lock := filepath.Join(dir, strings.TrimSuffix(filepath.Base(artifacts[0]), ".cwasm")+".lock")
	f, err := os.OpenFile(lock, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	return func() { f.Close() }
}

// TestStartKilledAfterFifo does what a start killed at its worst moment
// did: it opened the exec fifo, which lets the init run the container's
// program, and died before it removed the fifo, which libcontainer reads as
// "still created". The container runs: `state` must say so, and a second
// start must fail at once instead of waiting for an init that is gone.
func TestStartKilledAfterFifo(t *testing.T) {
	cases := []struct {
		name   string
		bundle func(e *env) string
	}{
		{"native", func(e *env) string { return e.bundle(withArgs("sleep", "100")) }},
		{"wasm", func(e *env) string {
			return e.bundle(withRootfs(e.guestRootfs(false, "probe.wasm")), wasmHandler, withArgs("/probe.wasm", "sleep", "100"))
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			id := e.newID()
			e.mustRun("create", "--bundle", c.bundle(e), id)
			pid := e.state(id).Pid
			// Non-blocking, and kept open until the init has run its
			// program: the init's write to a fifo without a reader
			// would fail.
			fifo, err := os.OpenFile(filepath.Join(e.root, id, "exec.fifo"), os.O_RDONLY|syscall.O_NONBLOCK, 0)
			if err != nil {
				t.Fatal(err)
			}
			poll(t, fmt.Sprintf("init %d to run the container's program", pid), func() bool {
				// libcontainer's init runs as "<wrunc> init".
				cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
				args := strings.Split(string(cmdline), "\x00")
				return err == nil && len(args) > 1 && args[1] != "init"
			})
			fifo.Close()

			if st := e.state(id); st.Status != specs.StateRunning || st.Pid != pid {
				t.Fatalf("state after the init ran its program: %+v, want running with pid %d", st, pid)
			}
			assertListed(t, e, id, string(specs.StateRunning))
			e.mustFailOneLine([]string{"cannot start an already running container"}, "start", id)
			if st := e.state(id); st.Status != specs.StateRunning {
				t.Errorf("state after a second start: %q, want running", st.Status)
			}
			e.mustFail([]string{"not stopped"}, "delete", id)
			e.mustRun("kill", id, "KILL")
			e.waitStatus(id, specs.StateStopped)
			e.mustRun("delete", id)
			e.assertClean(id)
			waitProcessGone(t, pid)
		})
	}
}

// TestCreateKilledBeforeState kills a create after libcontainer made the
// container's cgroups and before it saved its state, in a createRuntime hook
// that waits for the test: what it leaves must be listed, refused by
// start, and removed by delete, forced or not.
func TestCreateKilledBeforeState(t *testing.T) {
	for _, deleteArgs := range [][]string{{"delete"}, {"delete", "--force"}} {
		t.Run(strings.Join(deleteArgs, " "), func(t *testing.T) {
			e := newEnv(t)
			dir := t.TempDir()
			ready, release := filepath.Join(dir, "ready"), filepath.Join(dir, "release")
			mkfifo(t, release)
			hook := specs.Hook{
				Path: "/bin/busybox",
				Args: []string{"busybox", "sh", "-c", "touch " + ready + "; read line < " + release},
			}
			id := e.newID()
			bundle := e.bundle(withArgs("sleep", "100"), withHooks(&specs.Hooks{CreateRuntime: []specs.Hook{hook}}))
			create := e.background("create", "--bundle", bundle, id)
			poll(t, "the createRuntime hook to run", func() bool {
				_, err := os.Stat(ready)
				return err == nil
			})
			cgroups := cgroupsNamed(t, id)
			if len(cgroups) == 0 {
				t.Fatal("no cgroup of the container while its createRuntime hook runs")
			}
			create.cmd.Process.Signal(syscall.SIGKILL)
			if r := create.wait(); r.code != -int(syscall.SIGKILL) {
				t.Fatalf("create ended before it was killed: %s", r)
			}
			writeFifo(t, release) // the orphaned hook ends

			assertListed(t, e, id, createInterrupted)
			if st := e.state(id); st.Status != createInterrupted || st.Bundle != bundle {
				t.Errorf("state of the leftover: %+v, want status %s, bundle %s", st, createInterrupted, bundle)
			}
			e.mustFailOneLine([]string{"cannot start container " + id, "interrupted"}, "start", id)
			e.mustRun(append(deleteArgs, id)...)
			e.assertClean(id)
			for _, d := range cgroups {
				if _, err := os.Stat(d); err == nil {
					t.Errorf("cgroup %s left", d)
				}
			}
			if r := e.mustRun("list", "-q"); r.stdout != "" {
				t.Errorf("list after delete: %q", r.stdout)
			}
		})
	}
}

// assertListed wants id in `list --format json` with status.
func assertListed(t *testing.T, e *env, id, status string) {
	t.Helper()
	r := e.mustRun("list", "--format", "json")
	var states []containerState
	if err := json.Unmarshal([]byte(r.stdout), &states); err != nil {
		t.Fatalf("list --format json: %v: %q", err, r.stdout)
	}
	for _, st := range states {
		if st.ID == id {
			if string(st.Status) != status {
				t.Errorf("list says %s is %q, want %q", id, st.Status, status)
			}
			return
		}
	}
	t.Errorf("list does not show %s: %s", id, r.stdout)
}
