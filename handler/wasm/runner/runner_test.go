package runner

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wrunc/wrunc/handler"
	"github.com/wrunc/wrunc/handler/wasm"
)

// guestCmd starts the runner on a test guest as wrunc starts a container's
// process: this binary as /proc/self/exe, the artifact handoff at fd 3, an environment
// of exactly env. / is the host's: guests write only under t.TempDir().
func guestCmd(t *testing.T, module string, env []string, args ...string) *exec.Cmd {
	t.Helper()
	// Shared by all tests, so that each guest is compiled once.
	cache := &wasm.Cache{Dir: filepath.Join(guests, "cache")}
	src, err := os.Open(filepath.Join(guests, module))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	kind := handler.CoreModule
	if strings.HasSuffix(module, ".component.wasm") {
		kind = handler.Component
	}
	artifact, err := cache.Artifact(src, "/"+module, kind)
	if err != nil {
		t.Fatal(err)
	}
	defer artifact.Close()
	handoff, err := NewHandoff()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { handoff.Close() })
	// Queued for the runner to receive once it starts.
	if err := handoff.Send(artifact.File, artifact.Facts); err != nil {
		t.Fatal(err)
	}
	return &exec.Cmd{
		Path:       "/proc/self/exe",
		Args:       Invocation{HandoffFD: 3, Module: "/" + module}.Args(append([]string{module}, args...)),
		Env:        append([]string{}, env...),
		ExtraFiles: []*os.File{handoff.ContainerEnd()},
	}
}

type outcome struct {
	status         int
	stdout, stderr string
}

func runGuest(t *testing.T, cmd *exec.Cmd) outcome {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	return outcome{cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()}
}

func TestRunHello(t *testing.T) {
	got := runGuest(t, guestCmd(t, "hello.wasm", nil))
	if want := (outcome{0, "hello from wasm\n", ""}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestRunArgsAndEnv(t *testing.T) {
	args := []string{"args", "two words", "", "--flag", "-x"}
	got := runGuest(t, guestCmd(t, "probe.wasm", nil, args...))
	want := outcome{0, strings.Join(append([]string{"probe.wasm"}, args...), "\n") + "\n", ""}
	if got != want {
		t.Errorf("args: got %+v, want %+v", got, want)
	}

	env := []string{"A=1", "B=x=y", "EMPTY=", "PATH=/bin"}
	got = runGuest(t, guestCmd(t, "probe.wasm", env, "env"))
	if want := (outcome{0, strings.Join(env, "\n") + "\n", ""}); got != want {
		t.Errorf("env: got %+v, want %+v", got, want)
	}
}

func TestRunFilesystem(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "in"), []byte("content"), 0o600); err != nil {
		t.Fatal(err)
	}
	inDir := func(cmd *exec.Cmd) *exec.Cmd { cmd.Dir = dir; return cmd }
	out := filepath.Join(dir, "out")
	for _, tc := range []struct {
		name     string
		cmd      *exec.Cmd
		want     outcome
		wantFail bool
	}{
		{"cwd", inDir(guestCmd(t, "probe.wasm", nil, "cwd")), outcome{0, dir + "\n", ""}, false},
		{"relative read", inDir(guestCmd(t, "probe.wasm", nil, "read", "in")), outcome{0, "content", ""}, false},
		{"absolute read", guestCmd(t, "probe.wasm", nil, "read", filepath.Join(dir, "in")), outcome{0, "content", ""}, false},
		{"ls", guestCmd(t, "probe.wasm", nil, "ls", dir), outcome{0, "in\n", ""}, false},
		{"write", guestCmd(t, "probe.wasm", nil, "write", out, "written"), outcome{0, "", ""}, false},
		{"relative write", inDir(guestCmd(t, "probe.wasm", nil, "write", "out2", "written")), outcome{0, "", ""}, false},
	} {
		got := runGuest(t, tc.cmd)
		if tc.wantFail {
			if got.status != 1 || !strings.Contains(got.stderr, "probe:") {
				t.Errorf("%s: got %+v, want a failure", tc.name, got)
			}
			if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s: %s exists (%v)", tc.name, out, err)
			}
		} else if got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
	for _, name := range []string{"out", "out2"} {
		if b, err := os.ReadFile(filepath.Join(dir, name)); err != nil || string(b) != "written" {
			t.Errorf("%s holds %q, %v; want \"written\"", name, b, err)
		}
	}
}

func TestRunExitStatus(t *testing.T) {
	// Also shows that output without a newline is flushed before the exit.
	if got, want := runGuest(t, guestCmd(t, "exit42.wasm", nil)), (outcome{42, "exiting", ""}); got != want {
		t.Errorf("exit42.wasm: got %+v, want %+v", got, want)
	}
	if got, want := runGuest(t, guestCmd(t, "probe.wasm", nil, "exit", "7")), (outcome{7, "", ""}); got != want {
		t.Errorf("probe exit 7: got %+v, want %+v", got, want)
	}
	if got, want := runGuest(t, guestCmd(t, "probe.wasm", nil, "grow", "64")), (outcome{0, "ok\n", ""}); got != want {
		t.Errorf("probe grow 64: got %+v, want %+v", got, want)
	}
	// WASI keeps 126 and up from guests (a trap's 134, a signal's 128+n).
	want := outcome{1, "", "wrunc: /probe.wasm: exit with invalid exit status outside of [0..126): 200\n"}
	if got := runGuest(t, guestCmd(t, "probe.wasm", nil, "exit", "200")); got != want {
		t.Errorf("probe exit 200: got %+v, want %+v", got, want)
	}
}

func TestRunTrap(t *testing.T) {
	got := runGuest(t, guestCmd(t, "trap.wasm", nil))
	if got.status != 134 || !strings.Contains(got.stderr, "/trap.wasm") ||
		!strings.Contains(got.stderr, "unreachable") || !strings.Contains(got.stderr, "backtrace") {
		t.Errorf("got %+v, want status 134 and the trap with a backtrace on stderr", got)
	}
	t.Logf("trap stderr:\n%s", got.stderr)
}

func TestRunStopSignals(t *testing.T) {
	for _, tc := range []struct {
		name        string
		cmd         *exec.Cmd
		sig         syscall.Signal
		printsReady bool
	}{
		{"wasm loop", guestCmd(t, "spin.wasm", nil), syscall.SIGTERM, false},
		{"Go loop", guestCmd(t, "probe.wasm", nil, "spin"), syscall.SIGTERM, true},
		{"Go sleep", guestCmd(t, "probe.wasm", nil, "sleep", "100"), syscall.SIGTERM, true},
		{"Go loop, SIGINT", guestCmd(t, "probe.wasm", nil, "spin"), syscall.SIGINT, true},
		// As a shell starts a background job: SIGINT ignored, which
		// survives exec.
		{"Go sleep, SIGINT inherited ignored", ignoring(t, "INT", guestCmd(t, "probe.wasm", nil, "sleep", "100")), syscall.SIGINT, true},
		{"Go loop, SIGTERM inherited ignored", ignoring(t, "TERM", guestCmd(t, "probe.wasm", nil, "spin")), syscall.SIGTERM, true},
		{"component wasm loop", guestCmd(t, "spin.component.wasm", nil), syscall.SIGTERM, false},
		{"component Go sleep", guestCmd(t, "probe.component.wasm", nil, "sleep", "100"), syscall.SIGTERM, true},
		{"component Go loop, SIGINT", guestCmd(t, "probe.component.wasm", nil, "spin"), syscall.SIGINT, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, err := tc.cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			tc.cmd.Stderr = &stderr
			if err := tc.cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer tc.cmd.Process.Kill()
			if !tc.printsReady {
				time.Sleep(300 * time.Millisecond)
			} else if line, err := bufio.NewReader(stdout).ReadString('\n'); line != "ready\n" {
				t.Fatalf("guest printed %q, %v; want ready", line, err)
			}
			assertNoArtifactFD(t, tc.cmd.Process.Pid)
			if err := tc.cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() { tc.cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(2 * time.Second):
				t.Fatal("guest still running 2s after the signal")
			}
			if status, want := tc.cmd.ProcessState.ExitCode(), 128+int(tc.sig); status != want || stderr.Len() != 0 {
				t.Errorf("exit status %d, stderr %q; want %d and nothing", status, stderr.String(), want)
			}
		})
	}
}

// ignoring makes cmd start with signal ignored (a disposition exec keeps), by
// way of a shell's trap.
func ignoring(t *testing.T, signal string, cmd *exec.Cmd) *exec.Cmd {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Args = append([]string{"sh", "-c", "trap '' " + signal + `; exec "$@"`, "sh", self}, cmd.Args[1:]...)
	cmd.Path = "/bin/sh"
	return cmd
}

// assertNoArtifactFD checks that a runner whose guest runs holds neither the
// handoff socket nor the artifact fd it received: only the one fd wasmtime
// keeps on the file it mapped (for memory images).
func assertNoArtifactFD(t *testing.T, pid int) {
	t.Helper()
	fds, err := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", pid))
	if err != nil || len(fds) == 0 {
		t.Fatalf("list fds of %d: %v %v", pid, fds, err)
	}
	var artifacts []string
	for _, fd := range fds {
		target, err := os.Readlink(fd)
		switch {
		case err != nil:
		case strings.HasSuffix(target, ".cwasm"):
			artifacts = append(artifacts, fd+" -> "+target)
		case strings.HasPrefix(target, "socket:"):
			t.Errorf("runner holds %s -> %s while the guest runs", fd, target)
		}
	}
	if len(artifacts) > 1 {
		t.Errorf("runner holds %d fds of the artifact while the guest runs, want wasmtime's one: %v", len(artifacts), artifacts)
	}
}

func TestGuestMemory(t *testing.T) {
	for _, c := range []struct{ limit, want int64 }{
		{64 << 20, 44 << 20},
		{256 << 20, 224 << 20},
		{1 << 30, 944 << 20},
	} {
		if got, err := GuestMemory(c.limit); err != nil || got != c.want {
			t.Errorf("GuestMemory(%d) = %d, %v; want %d", c.limit, got, err, c.want)
		}
	}
	if _, err := GuestMemory(16 << 20); err == nil {
		t.Error("GuestMemory(16 MiB) leaves the guest nothing, yet no error")
	}
}

// A guest growing past the container's limit sees memory.grow fail and goes
// on running (grow.wat exits with the MiB it got), rather than being killed.
func TestRunMemoryLimit(t *testing.T) {
	for _, c := range []struct {
		limit int64
		want  int
	}{
		// 44 MiB of linear memory: 1 initial page plus 43 whole MiB.
		{64 << 20, 43},
		{0, 125}, // unbounded: the guest stops asking at 125
	} {
		var guestMemory int64
		if c.limit > 0 {
			var err error
			if guestMemory, err = GuestMemory(c.limit); err != nil {
				t.Fatal(err)
			}
		}
		cmd := guestCmd(t, "grow.wasm", nil)
		cmd.Args = Invocation{HandoffFD: 3, Module: "/grow.wasm", GuestMemory: guestMemory}.Args([]string{"grow.wasm"})
		if got := runGuest(t, cmd); got.status != c.want {
			t.Errorf("limit %d: got %+v, want exit status %d", c.limit, got, c.want)
		}
	}
}

// A runner whose handoff closes without an artifact (wrunc failed to get
// one) says so and exits 1, rather than waiting or crashing.
func TestRunWithoutArtifact(t *testing.T) {
	handoff, err := NewHandoff()
	if err != nil {
		t.Fatal(err)
	}
	cmd := &exec.Cmd{
		Path:       "/proc/self/exe",
		Args:       Invocation{HandoffFD: 3, Module: "/hello.wasm"}.Args([]string{"hello.wasm"}),
		ExtraFiles: []*os.File{handoff.ContainerEnd()},
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	handoff.Close()
	err = cmd.Wait()
	if cmd.ProcessState.ExitCode() != 1 || !strings.Contains(stderr.String(), "closed the handoff without sending it") {
		t.Errorf("exit %v, stderr %q; want 1 and the reason", err, stderr.String())
	}
}

func TestRunBadArgs(t *testing.T) {
	for _, args := range [][]string{
		{"/proc/self/exe", Marker},
		{"/proc/self/exe", Marker, "--artifact-socket=x", "--"},
		{"/proc/self/exe", Marker, "--artifact-socket=3", "--bogus", "--"},
	} {
		cmd := &exec.Cmd{Path: "/proc/self/exe", Args: args}
		out, _ := cmd.CombinedOutput()
		if cmd.ProcessState.ExitCode() != 1 || !strings.HasPrefix(string(out), "wrunc: wasm runner: parse runner args: ") {
			t.Errorf("%q: exit %d, output %q; want 1 and a parse error", args[2:], cmd.ProcessState.ExitCode(), out)
		}
	}
}
