package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
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
// as a create compiling it holds it, and returns its release (which the
// test's end calls too). The entry's name is learnt from a precompile into
// a cache of its own.
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
	unlock = sync.OnceFunc(func() { f.Close() })
	t.Cleanup(unlock)
	return unlock
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
			hook := newBlockingHook(t)
			id := e.newID()
			bundle := e.bundle(withArgs("sleep", "100"), withHooks(&specs.Hooks{CreateRuntime: []specs.Hook{hook.Hook}}))
			create := e.background("create", "--bundle", bundle, id)
			hook.waitRunning(t)
			cgroups := cgroupsNamed(t, id)
			if len(cgroups) == 0 {
				t.Fatal("no cgroup of the container while its createRuntime hook runs")
			}
			create.cmd.Process.Signal(syscall.SIGKILL)
			if r := create.wait(); r.code != -int(syscall.SIGKILL) {
				t.Fatalf("create ended before it was killed: %s", r)
			}
			hook.release(t) // the orphaned hook ends

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

// TestKillPausedSharedPID kills a paused container that shares its pid
// namespace: libcontainer kills each of its processes (the kernel would not
// take them with the init), which on cgroup v1 cannot die while frozen.
// Neither `kill KILL` nor `delete --force` may leave them frozen for good,
// and with them any command waiting for them to end.
func TestKillPausedSharedPID(t *testing.T) {
	for _, kill := range [][]string{{"kill"}, {"kill", "--all"}, {"delete", "--force"}} {
		t.Run(strings.Join(kill, " "), func(t *testing.T) {
			e := newEnv(t)
			id, _ := e.startSleeper(withoutNamespace(specs.PIDNamespace), withArgs("sh", "-c", "sleep 100 & exec sleep 100"))
			var pids []int
			poll(t, "the container's two processes", func() bool {
				r := e.mustRun("ps", "--format", "json", id)
				return json.Unmarshal([]byte(r.stdout), &pids) == nil && len(pids) == 2
			})
			cgroups := containerCgroups(t, pids[0])
			e.mustRun("pause", id)
			args := append(kill, id)
			if kill[0] == "kill" {
				args = append(args, "KILL")
			}
			e.mustRun(args...)
			for _, pid := range pids {
				waitProcessGone(t, pid)
			}
			if kill[0] == "kill" {
				e.waitStatus(id, specs.StateStopped)
				e.mustRun("delete", id)
			}
			e.assertClean(id)
			assertCgroupsGone(t, cgroups)
		})
	}
}

// TestPauseDuringRun pauses a container while `run -d` waits in a
// poststart hook, with the state saved and the init not yet let go: an init
// frozen there would keep the run waiting for it for good, holding the id's
// lock and with it any delete. The pause must wait for the run instead,
// then freeze a running container.
func TestPauseDuringRun(t *testing.T) {
	e := newEnv(t)
	hook := newBlockingHook(t)
	id := e.newID()
	bundle := e.bundle(withArgs("sleep", "100"), withHooks(&specs.Hooks{Poststart: []specs.Hook{hook.Hook}}))
	run := e.background("run", "-d", "--bundle", bundle, id)
	hook.waitRunning(t)
	pause := e.background("pause", id)
	lock := filepath.Join(e.root, "@wrunc", "locks", id)
	poll(t, "the pause to end or to wait for the run's lock", func() bool {
		select {
		case <-pause.done:
			return true
		default:
			return lockWaiter(t, lock, pause.cmd.Process.Pid)
		}
	})
	hook.release(t)
	if r := run.wait(); r.code != 0 {
		t.Fatalf("run -d: %s", r)
	}
	if r := pause.wait(); r.code != 0 {
		t.Fatalf("pause: %s", r)
	}
	if st := e.state(id); st.Status != "paused" {
		t.Errorf("after the pause, state says %q, want paused", st.Status)
	}
	e.mustRun("delete", "--force", id)
	e.assertClean(id)
}

// lockWaiter reports whether pid waits for an flock on path (in /proc/locks,
// a waiter's line has "->" and the file's inode).
func lockWaiter(t *testing.T, path string, pid int) bool {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return false
	}
	for _, l := range strings.Split(nodecheck.ReadFile(t, "/proc/locks"), "\n") {
		f := strings.Fields(l)
		// "1: -> FLOCK ADVISORY WRITE <pid> <maj>:<min>:<inode> 0 EOF"
		if len(f) >= 7 && f[1] == "->" && f[5] == fmt.Sprint(pid) && strings.HasSuffix(f[6], fmt.Sprintf(":%d", st.Ino)) {
			return true
		}
	}
	return false
}

// blockingHook is a hook that says it runs, then waits for the test: it
// stops a command at the step that runs it.
type blockingHook struct {
	specs.Hook
	ready, fifo string
}

func newBlockingHook(t *testing.T) *blockingHook {
	dir := t.TempDir()
	h := &blockingHook{ready: filepath.Join(dir, "ready"), fifo: filepath.Join(dir, "release")}
	mkfifo(t, h.fifo)
	h.Hook = specs.Hook{
		Path: "/bin/busybox",
		Args: []string{"busybox", "sh", "-c", "touch " + h.ready + "; read line < " + h.fifo},
	}
	return h
}

func (h *blockingHook) waitRunning(t *testing.T) {
	t.Helper()
	poll(t, "the hook to run", func() bool {
		_, err := os.Stat(h.ready)
		return err == nil
	})
}

// release lets the hook end, whether or not the command that ran it lives.
func (h *blockingHook) release(t *testing.T) {
	t.Helper()
	writeFifo(t, h.fifo)
}
