package tests

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/wrunc/wrunc/tests/nodecheck"
)

func TestRunExitStatusAndStdio(t *testing.T) {
	e := newEnv(t)
	id, bundle := e.newID(), e.bundle(withArgs("sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 7"))
	r := e.run("run", "--bundle", bundle, id)
	if r.code != 7 {
		t.Errorf("run: %s\nwant exit 7", r)
	}
	if r.stdout != "to-stdout\n" {
		t.Errorf("stdout %q, want the container's %q", r.stdout, "to-stdout\n")
	}
	if !strings.Contains(r.stderr, "to-stderr\n") {
		t.Errorf("stderr %q lacks the container's output", r.stderr)
	}
	// Foreground run deletes the container when it exits.
	e.assertGone(id)
}

func TestRunKilledBySignal(t *testing.T) {
	t.Run("external KILL", func(t *testing.T) {
		e := newEnv(t)
		id, bundle := e.newID(), e.bundle(withArgs("sleep", "100"))
		run := e.background("run", "--bundle", bundle, id)
		poll(t, "the container to run", func() bool {
			r := e.run("state", id)
			return r.code == 0 && strings.Contains(r.stdout, `"running"`)
		})
		e.mustRun("kill", id, "KILL")
		if r := run.wait(); r.code != 128+9 {
			t.Errorf("run of a KILLed container: %s\nwant exit 137", r)
		}
	})
	t.Run("self KILL without pid namespace", func(t *testing.T) {
		// In its own pid namespace the shell would be init, which can't
		// be killed from inside; without one, `kill -9 $$` takes it down.
		e := newEnv(t)
		id, bundle := e.newID(), e.bundle(
			withArgs("sh", "-c", "kill -9 $$; exit 3"),
			withoutNamespace(specs.PIDNamespace))
		if r := e.run("run", "--bundle", bundle, id); r.code != 128+9 {
			t.Errorf("run: %s\nwant exit 137", r)
		}
	})
	t.Run("init ignores self KILL in pid namespace", func(t *testing.T) {
		e := newEnv(t)
		id, bundle := e.newID(), e.bundle(withArgs("sh", "-c", "kill -9 $$; exit 3"))
		if r := e.run("run", "--bundle", bundle, id); r.code != 3 {
			t.Errorf("run: %s\nwant exit 3", r)
		}
	})
}

// As runc does, a foreground run or exec relays the signals it gets to its
// process, also those that come while the container is still being set up.
func TestForegroundForwardsSignals(t *testing.T) {
	// The process reports through a bind mount once its trap is set.
	trapping := []string{"sh", "-c", "trap 'exit 42' USR1; touch /signal/trapped; sleep 100 & wait"}
	signalDir := func(dir string) specOpt {
		return withMounts(specs.Mount{Destination: "/signal", Type: "bind", Source: dir, Options: []string{"rbind", "rw"}})
	}
	exists := func(path string) func() bool {
		return func() bool { _, err := os.Stat(path); return err == nil }
	}
	relay := func(t *testing.T, b *bg, dir string) {
		t.Helper()
		poll(t, "the trap to be set", exists(filepath.Join(dir, "trapped")))
		if err := b.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
			t.Fatal(err)
		}
		if r := b.wait(); r.code != 42 {
			t.Errorf("%v after USR1: %s\nwant the trap's exit 42", b.args, r)
		}
	}
	t.Run("run", func(t *testing.T) {
		e := newEnv(t)
		dir := t.TempDir()
		id, bundle := e.newID(), e.bundle(withArgs(trapping...), signalDir(dir))
		relay(t, e.background("run", "--bundle", bundle, id), dir)
	})
	t.Run("exec", func(t *testing.T) {
		e := newEnv(t)
		dir := t.TempDir()
		id, _ := e.startSleeper(signalDir(dir))
		relay(t, e.background(append([]string{"exec", id}, trapping...)...), dir)
	})
	t.Run("during set-up", func(t *testing.T) {
		// A createRuntime hook holds the set-up until the test has sent
		// TERM. Without a pid namespace the process, whether still
		// libcontainer's init or already sleep, dies of it.
		e := newEnv(t)
		dir := t.TempDir()
		mkfifo(t, filepath.Join(dir, "go"))
		hook := specs.Hook{Path: "/bin/busybox", Args: []string{"busybox", "sh", "-c",
			"touch " + dir + "/hooked; read line < " + dir + "/go"}}
		id, bundle := e.newID(), e.bundle(withArgs("sleep", "100"),
			withHooks(&specs.Hooks{CreateRuntime: []specs.Hook{hook}}),
			withoutNamespace(specs.PIDNamespace))
		run := e.background("run", "--bundle", bundle, id)
		poll(t, "the hook to run", exists(filepath.Join(dir, "hooked")))
		if err := run.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "go"), []byte("go\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if r := run.wait(); r.code != 128+15 {
			t.Errorf("run sent TERM during set-up: %s\nwant its process killed by TERM, exit 143", r)
		}
		e.assertGone(id)
	})
}

func TestRunDetached(t *testing.T) {
	e := newEnv(t)
	id, bundle := e.newID(), e.bundle(withArgs("sleep", "100"))
	pidFile := filepath.Join(t.TempDir(), "pid")
	start := time.Now()
	r := e.mustRun("run", "--detach", "--bundle", bundle, "--pid-file", pidFile, id)
	if time.Since(start) > 20*time.Second || r.stdout != "" {
		t.Errorf("run -d took %v and printed %q", time.Since(start), r.stdout)
	}
	st := e.state(id)
	if st.Status != specs.StateRunning {
		t.Errorf("status %q after run -d, want running", st.Status)
	}
	if got := nodecheck.ReadFile(t, pidFile); got != strconv.Itoa(st.Pid) {
		t.Errorf("pid file %q, state pid %d", got, st.Pid)
	}

	// -d is the short form.
	id2 := e.newID()
	e.mustRun("run", "-d", "-b", bundle, id2)
	e.waitStatus(id2, specs.StateRunning)
}

// A foreground run of a terminal container without a console socket
// attaches the container's pty to the caller's terminal, which script(1)
// provides here, as an interactive `wrunc run` from a shell would.
func TestRunTerminalForeground(t *testing.T) {
	e := newEnv(t)
	id, bundle := e.newID(), e.bundle(withTerminal(), withArgs("sh", "-c", "tty; echo hi-$((6*7)); exit 3"))
	cmd := exec.Command("script", "-qec", strings.Join([]string{wruncBin, "--root", e.root, "run", "--bundle", bundle, id}, " "), "/dev/null")
	out, err := cmd.Output()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("run under a terminal: %v, want exit 3; output %q", err, out)
	}
	if !strings.Contains(string(out), "/dev/pts/") || !strings.Contains(string(out), "hi-42\r\n") {
		t.Errorf("output %q: want the container on a pty printing hi-42", out)
	}
	// Both our terminal and the container's pty translating newlines.
	if strings.Contains(string(out), "\r\r\n") {
		t.Errorf("output %q has doubly translated newlines", out)
	}
}
