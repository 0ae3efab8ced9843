package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/wrunc/wrunc/tests/nodecheck"
)

func TestExecNative(t *testing.T) {
	e := newEnv(t)
	id, _ := e.startSleeper()
	initPid := e.state(id).Pid

	t.Run("exit status", func(t *testing.T) {
		if r := e.on(t).run("exec", id, "sh", "-c", "exit 3"); r.code != 3 {
			t.Errorf("exec: %s\nwant exit 3", r)
		}
	})
	t.Run("flags", func(t *testing.T) {
		r := e.on(t).mustRun("exec", "--env", "FOO=bar", "--cwd", "/tmp", "--user", "1000:1000",
			id, "sh", "-c", `echo "$FOO $(pwd) $(id -u) $(id -g)"`)
		if r.stdout != "bar /tmp 1000 1000\n" {
			t.Errorf("exec printed %q, want env, cwd, uid and gid from the flags", r.stdout)
		}
	})
	t.Run("process.json", func(t *testing.T) {
		p := defaultSpec().Process
		p.Args = []string{"sh", "-c", `echo "$X $(pwd)"`}
		p.Env = append(p.Env, "X=from-json")
		p.Cwd = "/tmp"
		path := filepath.Join(t.TempDir(), "process.json")
		writeJSON(t, path, p)
		if r := e.on(t).mustRun("exec", "--process", path, id); r.stdout != "from-json /tmp\n" {
			t.Errorf("exec --process printed %q", r.stdout)
		}
	})
	t.Run("missing binary", func(t *testing.T) {
		for _, bin := range []string{"no-such-command", "/no/such/file"} {
			r := e.on(t).mustFail(nil, "exec", id, bin)
			if r.code != 255 || !strings.Contains(r.stderr, bin) ||
				!strings.Contains(r.stderr, "executable file not found") && !strings.Contains(r.stderr, "no such file") {
				t.Errorf("exec %s: %s\nwant exit 255 and a not-found error naming it", bin, r)
			}
		}
	})
	t.Run("detached", func(t *testing.T) {
		e := e.on(t)
		pidFile := filepath.Join(t.TempDir(), "pid")
		e.mustRun("exec", "-d", "--pid-file", pidFile, id, "sleep", "100")
		pid, err := strconv.Atoi(nodecheck.ReadFile(t, pidFile))
		if err != nil {
			t.Fatalf("pid file: %v", err)
		}
		if nodecheck.Gone(pid) {
			t.Fatalf("exec'd process %d is not running", pid)
		}
		if got, want := nsOf(t, pid, "pid"), nsOf(t, initPid, "pid"); got != want {
			t.Errorf("exec'd process in pid namespace %s, container's is %s", got, want)
		}
	})
	t.Run("terminal", func(t *testing.T) {
		e := e.on(t)
		sock, receive := consoleSocket(t)
		pidFile := filepath.Join(t.TempDir(), "pid")
		ex := e.background("exec", "-d", "-t", "--console-socket", sock, "--pid-file", pidFile, id, "sh")
		pty := receive()
		if r := ex.wait(); r.code != 0 {
			t.Fatalf("exec: %s", r)
		}
		// The tty echoes the input back unexpanded, so only the shell's
		// own output contains the result.
		if _, err := pty.WriteString("test -t 0 && echo tty-$((6*7))\n"); err != nil {
			t.Fatal(err)
		}
		readUntil(t, pty, "tty-42")
		pid, err := strconv.Atoi(nodecheck.ReadFile(t, pidFile))
		if err != nil {
			t.Fatalf("pid file: %v", err)
		}
		if _, err := pty.WriteString("exit\n"); err != nil {
			t.Fatal(err)
		}
		waitProcessGone(t, pid)
	})
}

func TestExecStopped(t *testing.T) {
	e := newEnv(t)
	id, _ := e.create(withArgs("true"))
	e.mustRun("start", id)
	e.waitStatus(id, specs.StateStopped)
	if r := e.mustFail([]string{"stopped"}, "exec", id, "true"); r.code != 255 {
		t.Errorf("exec into a stopped container: exit %d, want 255", r.code)
	}
}

// TestExecWasm checks that exec into a wasm container runs wasm modules
// through the runner and anything else natively.
func TestExecWasm(t *testing.T) {
	t.Run("busybox rootfs", func(t *testing.T) {
		e := newEnv(t)
		// compat-smart makes the container wasm, its wasm entrypoint deciding.
		id, _ := e.startWasmSleeper(withRootfs(e.guestRootfs(true, "probe.wasm")),
			withAnnotations(map[string]string{variantKey: "compat-smart"}))
		if r := e.mustRun("exec", id, "/probe.wasm", "args", "a", "b"); r.stdout != "/probe.wasm\nargs\na\nb\n" {
			t.Errorf("exec of a module printed %q", r.stdout)
		}
		if r := e.run("exec", id, "/probe.wasm", "exit", "5"); r.code != 5 {
			t.Errorf("exec: %s\nwant the module's exit 5", r)
		}
		if r := e.mustRun("exec", id, "sh", "-c", "echo native"); r.stdout != "native\n" {
			t.Errorf("exec of busybox printed %q", r.stdout)
		}
	})
	t.Run("scratch rootfs", func(t *testing.T) {
		e := newEnv(t)
		id, _ := e.startWasmSleeper()
		if r := e.mustFail([]string{"sh", "executable file not found"}, "exec", id, "sh"); r.code != 255 {
			t.Errorf("exec of a binary the rootfs lacks: exit %d, want 255", r.code)
		}
	})
}

// nsOf returns the identity of pid's namespace of type typ.
func nsOf(t *testing.T, pid int, typ string) string {
	t.Helper()
	ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, typ))
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

// TestExecCommasInFlags checks that a comma is part of a flag's value, as
// in runc, where a list is given by repeating the flag.
func TestExecCommasInFlags(t *testing.T) {
	e := newEnv(t)
	id, _ := e.startSleeper()
	pid := e.state(id).Pid

	if r := e.mustRun("exec", "-e", "A=x,y", "-e", "B= z", id, "sh", "-c", `echo "$A|$B"`); r.stdout != "x,y| z\n" {
		t.Errorf("exec -e A=x,y -e 'B= z': %s", r)
	}

	dirs := cgroupDirs(t, pid)
	for _, ctrl := range []string{"cpu", "cpuacct"} {
		sub := filepath.Join(dirs[ctrl], "sub")
		if err := os.Mkdir(sub, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	r := e.mustRun("exec", "--cgroup", "cpu,cpuacct:sub", id, "cat", "/proc/self/cgroup")
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		parts := strings.SplitN(l, ":", 3)
		if len(parts) == 3 && (parts[1] == "cpu" || parts[1] == "cpuacct" || parts[1] == "cpu,cpuacct") && !strings.HasSuffix(parts[2], "/sub") {
			t.Errorf("exec --cgroup cpu,cpuacct:sub ran in %s", l)
		}
	}

	e.mustFail([]string{"1,2"}, "exec", "--additional-gids", "1,2", id, "true")
	if r := e.mustRun("exec", "-g", "1", "-g", "2", id, "id", "-G"); r.stdout != "0 1 2\n" {
		t.Errorf("exec -g 1 -g 2: %s", r)
	}
}
