package engines

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/wrunc/wrunc/tests/nodecheck"
)

// workload is a kind of container that the lifecycle tests put through the
// same steps, whatever runs it.
type workload struct {
	name       string
	handler    string // what wrunc must choose
	image      string
	annotation string   // given at run time; the wasm image carries its own
	waiter     []string // prints "ready", then waits
	exec       []string // a command to exec in the running container...
	execOut    string   // ...and what it prints
	usr1Out    string   // what the waiter prints on SIGUSR1, if it handles it
	stopSignal string   // what stops it: a wasm guest obeys TERM, the native waiter ignores it
	stopCode   int      // its exit status then
}

// nativeWaiter ignores TERM, as a stubborn service does, so only KILL
// stops it; `sleep & wait` lets the USR1 trap run at once.
var nativeWaiter = []string{"sh", "-c", `trap '' TERM; trap 'echo usr1' USR1; echo ready; while :; do sleep 1 & wait $!; done`}

var (
	nativeWorkload = workload{
		name: "native", handler: "native", image: busyboxImage, waiter: nativeWaiter,
		exec: []string{"echo", "hi"}, execOut: "hi\n", usr1Out: "usr1",
		stopSignal: "SIGKILL", stopCode: 137,
	}
	wasmWorkload = workload{
		name: "wasm", handler: "wasm", image: wasmImage, waiter: []string{"/probe.wasm", "sleep", "600"},
		exec: []string{"/probe.wasm", "args", "x"}, execOut: "/probe.wasm\nargs\nx\n",
		stopSignal: "SIGTERM", stopCode: 143,
	}
	smartWasmWorkload = workload{
		name: "compat-smart wasm", handler: "wasm", image: mixedImage, annotation: variantAnnotation + "=compat-smart",
		waiter: wasmWorkload.waiter, exec: wasmWorkload.exec, execOut: wasmWorkload.execOut,
		stopSignal: "SIGTERM", stopCode: 143,
	}
	smartNativeWorkload = workload{
		name: "compat-smart native", handler: "native", image: mixedImage, annotation: variantAnnotation + "=compat-smart",
		waiter: nativeWaiter, exec: nativeWorkload.exec, execOut: nativeWorkload.execOut, usr1Out: "usr1",
		stopSignal: "SIGKILL", stopCode: 137,
	}
)

type podman struct {
	cli
	s *store
}

func newPodman(t *testing.T) *podman {
	t.Helper()
	requireTools(t, "podman", "conmon")
	s := containersStore(t)
	return &podman{cli: cli{name: "podman", env: s.env}, s: s}
}

// runArgs begins every `podman run`: all containers' cgroups go below the
// suite's own cgroup.
func runArgs(flags ...string) []string {
	return append([]string{"run", "--cgroup-parent", cgroupParent}, flags...)
}

// runDetached starts w's waiter with `podman run -d` and returns the
// container's id; the container is removed when t ends.
func (p *podman) runDetached(t *testing.T, name string, w workload) string {
	t.Helper()
	t.Cleanup(func() { p.exec("rm", "-f", "--time", "0", name) })
	args := runArgs("-d", "--name", name)
	if w.annotation != "" {
		args = append(args, "--annotation", w.annotation)
	}
	args = append(append(args, w.image), w.waiter...)
	id := strings.TrimSpace(p.must(t, args...).stdout)
	p.explainFailure(t, id)
	p.waitLog(t, name, "ready", 1)
	return id
}

// explainFailure logs, should t fail, every runtime call made for id.
func (p *podman) explainFailure(t *testing.T, id string) {
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(p.s.runtimeLog)
			t.Logf("runtime calls for %s:\n%s", id, lines(string(b), id))
		}
	})
}

// waitLog waits until the container's log holds n lines saying line.
func (p *podman) waitLog(t *testing.T, name, line string, n int) {
	t.Helper()
	var logs result
	eventually(t, "log line "+strconv.Quote(line)+" from "+name, func() bool {
		// Status first: once exited, the log read next is complete.
		exited := p.inspect(t, name, "{{.State.Status}}") == "exited"
		logs = p.run(t, "logs", name)
		return exited || strings.Count(logs.stdout, line+"\n") >= n
	})
	if strings.Count(logs.stdout, line+"\n") < n {
		t.Fatalf("container %s exited before printing %q %d times: %s", name, line, n, logs)
	}
}

func (p *podman) inspect(t *testing.T, name, format string) string {
	t.Helper()
	return strings.TrimSpace(p.must(t, "inspect", "--format", format, name).stdout)
}

// assertExit checks the exit status that `podman wait` and `podman inspect`
// report for a container that has exited.
func (p *podman) assertExit(t *testing.T, name string, want int) {
	t.Helper()
	if got := strings.TrimSpace(p.must(t, "wait", name).stdout); got != strconv.Itoa(want) {
		t.Errorf("podman wait %s: exit status %s, want %d", name, got, want)
	}
	if got := p.inspect(t, name, "{{.State.ExitCode}}"); got != strconv.Itoa(want) {
		t.Errorf("podman inspect %s: ExitCode %s, want %d", name, got, want)
	}
}

func (p *podman) assertStatus(t *testing.T, name, want string) {
	t.Helper()
	if got := p.inspect(t, name, "{{.State.Status}}"); got != want {
		t.Errorf("container %s is %s, want %s", name, got, want)
	}
}

func TestPodmanRun(t *testing.T) {
	sh := func(script string) []string { return []string{"sh", "-c", script} }
	smart := []string{"--annotation", variantAnnotation + "=compat-smart"}
	for _, c := range []struct {
		name  string
		flags []string
		image string
		args  []string
		code  int
		out   string
		keep  bool // no --rm: inspect must report the exit status, then rm
	}{
		{"native exit status", nil, busyboxImage, sh("echo out; echo err >&2; exit 7"), 7, "out\n", true},
		{"native --rm", nil, busyboxImage, sh("echo out"), 0, "out\n", false},
		{"wasm image CMD", nil, wasmImage, nil, 0, "hello from wasm\n", false},
		{"wasm exit status", nil, wasmImage, []string{"/probe.wasm", "exit", "42"}, 42, "", true},
		{"wasm trap", nil, wasmImage, []string{"/trap.wasm"}, 134, "", false},
		{"Go component", nil, wasmImage, []string{"/hello.component.wasm"}, 0, "hello from wasm\n", false},
		{"component exit(err)", nil, wasmImage, []string{"/probe.component.wasm", "exit", "42"}, 1, "", true},
		{"JavaScript component", nil, wasmImage, []string{"/hello-js.component.wasm", "a"}, 0, "hello from JavaScript: /hello-js.component.wasm a\n", false},
		{"compat-smart wasm", smart, mixedImage, []string{"/probe.wasm", "args", "a"}, 0, "/probe.wasm\nargs\na\n", false},
		{"compat-smart native", smart, mixedImage, sh("echo native; exit 3"), 3, "native\n", false},
		{"native tty", []string{"-t"}, busyboxImage, sh("test -t 1 && echo tty"), 0, "tty\r\n", false},
		{"wasm tty", []string{"-t"}, wasmImage, nil, 0, "hello from wasm\r\n", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p := newPodman(t)
			name, cidfile := randomName("run"), filepath.Join(t.TempDir(), "cid")
			t.Cleanup(func() { p.exec("rm", "-f", "--time", "0", name) })
			args := runArgs("--name", name, "--cidfile", cidfile)
			if !c.keep {
				args = append(args, "--rm")
			}
			r := p.run(t, append(append(append(args, c.flags...), c.image), c.args...)...)
			id := strings.TrimSpace(nodecheck.ReadFile(t, cidfile))
			p.explainFailure(t, id)
			if r.code != c.code || r.stdout != c.out {
				t.Errorf("podman run: want exit %d, stdout %q; got\n%s", c.code, c.out, r)
			}
			if c.keep {
				p.assertExit(t, name, c.code)
				p.must(t, "rm", name)
			}
			if r := p.run(t, "container", "exists", name); r.code != 1 {
				t.Errorf("container %s still exists after it was removed: %s", name, r)
			}
			assertNoTrace(t, []string{id}, p.s.wruncRoot)
		})
	}
}

// TestPodmanLifecycle puts one container of each workload through what
// podman does to a running container, in the order a user might.
func TestPodmanLifecycle(t *testing.T) {
	for _, w := range []workload{nativeWorkload, wasmWorkload, smartWasmWorkload, smartNativeWorkload} {
		t.Run(w.name, func(t *testing.T) {
			t.Parallel()
			p := newPodman(t)
			name := randomName("lifecycle")
			id := p.runDetached(t, name, w)
			execWorks := func(t *testing.T) {
				t.Helper()
				if r := p.must(t, append([]string{"exec", name}, w.exec...)...); r.stdout != w.execOut {
					t.Errorf("exec %v: stdout %q, want %q", w.exec, r.stdout, w.execOut)
				}
			}
			cgroup := filepath.Join(cgroupParent, "libpod-"+id)

			t.Run("handler", func(t *testing.T) {
				if got := stateOf(t, p.s.wruncRoot, id).Handler; got != w.handler {
					t.Errorf("handler %q, want %q", got, w.handler)
				}
			})
			t.Run("exec", execWorks)
			t.Run("exec -t", func(t *testing.T) {
				want := strings.ReplaceAll(w.execOut, "\n", "\r\n")
				if r := p.must(t, append([]string{"exec", "-t", name}, w.exec...)...); r.stdout != want {
					t.Errorf("exec -t %v: stdout %q, want %q (a tty's line endings)", w.exec, r.stdout, want)
				}
			})
			t.Run("kill USR1", func(t *testing.T) {
				p.must(t, "kill", "--signal", "USR1", name)
				if w.usr1Out != "" {
					p.waitLog(t, name, w.usr1Out, 1)
				}
				p.assertStatus(t, name, "running")
				execWorks(t)
			})
			t.Run("pause", func(t *testing.T) {
				p.must(t, "pause", name)
				p.assertStatus(t, name, "paused")
				if got := cgroupFile(t, "freezer", cgroup, "freezer.state"); got != "FROZEN" {
					t.Errorf("freezer.state %s after pause, want FROZEN", got)
				}
				p.must(t, "unpause", name)
				p.assertStatus(t, name, "running")
				execWorks(t)
			})
			t.Run("update", func(t *testing.T) {
				p.must(t, "update", "--cpu-shares", "512", name)
				if got := cgroupFile(t, "cpu", cgroup, "cpu.shares"); got != "512" {
					t.Errorf("cpu.shares %s after update, want 512", got)
				}
			})
			t.Run("stop", func(t *testing.T) {
				// The stubborn waiter gets a short grace period; one that
				// obeys TERM the default, so that only a broken one sees KILL.
				grace := "10"
				if w.stopSignal == "SIGKILL" {
					grace = "1"
				}
				p.must(t, "stop", "--time", grace, name)
				p.assertExit(t, name, w.stopCode)
				assertNoTrace(t, []string{id}, p.s.wruncRoot)
			})
			t.Run("start and kill", func(t *testing.T) {
				p.must(t, "start", name)
				p.waitLog(t, name, "ready", 2)
				p.must(t, "kill", "--signal", "KILL", name)
				p.assertExit(t, name, 137)
			})
			t.Run("rm -f", func(t *testing.T) {
				p.must(t, "start", name)
				p.waitLog(t, name, "ready", 3)
				p.must(t, "rm", "--force", "--time", "1", name)
				if r := p.run(t, "container", "exists", name); r.code != 1 {
					t.Errorf("container %s still exists after rm -f: %s", name, r)
				}
				assertNoTrace(t, []string{id}, p.s.wruncRoot)
			})
		})
	}
}
