package tests

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/wrunc/wrunc/tests/nodecheck"
	"golang.org/x/sys/unix"
)

// TestPidfdSocket checks --pidfd-socket as runc has it since 1.2: create,
// run and exec send a pidfd of the process they start over the socket, and
// the engine that receives it signals the process through it, whichever
// handler runs the container.
func TestPidfdSocket(t *testing.T) {
	for _, c := range []struct {
		name    string
		bundle  func(*env) string
		sleeper func(*env) (id string, pid int)
		exec    []string
	}{
		{
			name:    "native",
			bundle:  func(e *env) string { return e.bundle(withArgs("sleep", "100")) },
			sleeper: func(e *env) (string, int) { id, _ := e.startSleeper(); return id, e.state(id).Pid },
			exec:    []string{"sleep", "100"},
		},
		{
			name:    "wasm",
			bundle:  func(e *env) string { return e.wasmBundle([]string{"probe.wasm", "sleep", "100"}) },
			sleeper: func(e *env) (string, int) { return e.startWasmSleeper() },
			exec:    []string{"/probe.wasm", "sleep", "100"},
		},
	} {
		t.Run(c.name+"/create", func(t *testing.T) {
			e := newEnv(t)
			sock, receive := pidfdSocket(t)
			id := e.newID()
			e.mustRun("create", "--pidfd-socket", sock, "--bundle", c.bundle(e), id)
			killByPidfd(t, receive(), e.state(id).Pid)
			e.waitStatus(id, specs.StateStopped)
		})
		t.Run(c.name+"/run", func(t *testing.T) {
			e := newEnv(t)
			sock, receive := pidfdSocket(t)
			id := e.newID()
			e.mustRun("run", "-d", "--pidfd-socket", sock, "--bundle", c.bundle(e), id)
			killByPidfd(t, receive(), e.waitStatus(id, specs.StateRunning).Pid)
			e.waitStatus(id, specs.StateStopped)
		})
		t.Run(c.name+"/exec", func(t *testing.T) {
			e := newEnv(t)
			id, _ := c.sleeper(e)
			sock, receive := pidfdSocket(t)
			pidFile := filepath.Join(t.TempDir(), "pid")
			e.mustRun(append([]string{"exec", "-d", "--pid-file", pidFile, "--pidfd-socket", sock, id}, c.exec...)...)
			pid, err := strconv.Atoi(strings.TrimSpace(nodecheck.ReadFile(t, pidFile)))
			if err != nil {
				t.Fatal(err)
			}
			killByPidfd(t, receive(), pid)
			waitProcessGone(t, pid)
			if st := e.state(id); st.Status != specs.StateRunning {
				t.Errorf("container %s after its exec'd process was killed: %q, want running", id, st.Status)
			}
		})
	}
	t.Run("no listener", func(t *testing.T) {
		e := newEnv(t)
		id := e.newID()
		missing := filepath.Join(t.TempDir(), "missing.sock")
		e.mustFailOneLine([]string{"pidfd socket " + missing}, "create", "--pidfd-socket", missing, "--bundle", e.bundle(), id)
		e.assertClean(id)
	})
}

// pidfdSocket listens, as an engine does, on a new unix socket for the pidfd
// of the process a runtime starts; receive returns it once sent.
func pidfdSocket(t *testing.T) (path string, receive func() int) {
	t.Helper()
	path, ln := listenUnix(t, "pidfd.sock")
	return path, func() int {
		t.Helper()
		fd := receiveFD(t, ln)
		t.Cleanup(func() { unix.Close(fd) })
		return fd
	}
}

// killByPidfd checks that pidfd is a pidfd of pid, and kills it through it.
func killByPidfd(t *testing.T, pidfd, pid int) {
	t.Helper()
	info := nodecheck.ReadFile(t, fmt.Sprintf("/proc/self/fdinfo/%d", pidfd))
	if !strings.Contains(info, fmt.Sprintf("\nPid:\t%d\n", pid)) {
		t.Fatalf("the fd received is no pidfd of %d: fdinfo %q", pid, info)
	}
	if err := unix.PidfdSendSignal(pidfd, unix.SIGKILL, nil, 0); err != nil {
		t.Fatalf("pidfd_send_signal to %d: %v", pid, err)
	}
}
