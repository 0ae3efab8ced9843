package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/wrunc/wrunc/tests/nodecheck"
)

// TestWasmHandlerSelection runs a container per row of the handler table and
// checks both the recorded handler and what actually ran.
func TestWasmHandlerSelection(t *testing.T) {
	e := newEnv(t)
	// Shared read-only by the rows: busybox, probe.wasm, and hello.wasm
	// where the default PATH finds it.
	shared := e.guestRootfs(true, "probe.wasm")
	copyGuest(t, "hello.wasm", filepath.Join(shared, "usr/local/bin/hello.wasm"))
	copyGuest(t, "hello.component.wasm", filepath.Join(shared, "hello.component.wasm"))
	// /app is an absolute symlink to /etc/passwd, a wasm module in this
	// rootfs but a text file on the host: following it on the host would
	// make create fail.
	symlinked := e.guestRootfs(false)
	copyGuest(t, "probe.wasm", filepath.Join(symlinked, "etc/passwd"))
	if err := os.Symlink("/etc/passwd", filepath.Join(symlinked, "app")); err != nil {
		t.Fatal(err)
	}

	native := []string{"sh", "-c", "echo native"}
	probe := []string{"/probe.wasm", "args"}
	pod := map[string]string{variantKey: "compat-smart"}
	cases := []struct {
		name        string
		annotations map[string]string
		args        []string
		rootfs      string
		handler     string
		stdout      string
	}{
		{"handler=wasm", map[string]string{handlerKey: "wasm"}, probe, shared, "wasm", "/probe.wasm\nargs\n"},
		{"handler=wasm-smart wasm entrypoint", map[string]string{handlerKey: "wasm-smart"}, probe, shared, "wasm", "/probe.wasm\nargs\n"},
		{"handler=wasm-smart busybox entrypoint", map[string]string{handlerKey: "wasm-smart"}, native, shared, "native", "native\n"},
		{"variant=compat", map[string]string{variantKey: "compat"}, probe, shared, "wasm", "/probe.wasm\nargs\n"},
		// A pod under compat-smart: its pause container, a busybox sidecar
		// and the wasm app all carry the pod's annotations.
		{"pod sandbox", map[string]string{variantKey: "compat-smart", typeKey: "sandbox"}, native, shared, "native", "native\n"},
		{"pod sidecar", pod, native, shared, "native", "native\n"},
		{"pod app", pod, probe, shared, "wasm", "/probe.wasm\nargs\n"},
		{"entrypoint from PATH", map[string]string{variantKey: "compat"}, []string{"hello.wasm"}, shared, "wasm", "hello from wasm\n"},
		// compat alone would refuse the busybox entrypoint.
		{"sandbox under compat", map[string]string{variantKey: "compat", typeKey: "sandbox"}, native, shared, "native", "native\n"},
		{"CRI-O sandbox under compat", map[string]string{variantKey: "compat", "io.kubernetes.cri-o.ContainerType": "sandbox"}, native, shared, "native", "native\n"},
		{"handler wins over variant", map[string]string{handlerKey: "wasm-smart", variantKey: "compat"}, native, shared, "native", "native\n"},
		{"unknown handler value", map[string]string{handlerKey: "wasmtime"}, native, shared, "native", "native\n"},
		{"unknown variant value", map[string]string{variantKey: "compat-fast"}, native, shared, "native", "native\n"},
		{"no annotation", nil, native, shared, "native", "native\n"},
		{"absolute symlink entrypoint", map[string]string{variantKey: "compat"}, []string{"/app", "args"}, symlinked, "wasm", "/app\nargs\n"},
		{"pod component app", pod, []string{"/hello.component.wasm"}, shared, "wasm", "hello from wasm\n"},
		{"handler=wasm-smart component", map[string]string{handlerKey: "wasm-smart"}, []string{"/hello.component.wasm"}, shared, "wasm", "hello from wasm\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			id, bundle := e.newID(), e.bundle(withRootfs(c.rootfs), withReadonlyRoot(),
				withAnnotations(c.annotations), withArgs(c.args...))
			r := e.run("run", "--keep", "--bundle", bundle, id)
			if r.code != 0 || r.stdout != c.stdout {
				t.Errorf("run: %s\nwant exit 0, stdout %q", r, c.stdout)
			}
			if st := e.state(id); st.Handler != c.handler {
				t.Errorf("handler %q, want %q", st.Handler, c.handler)
			}
			e.mustRun("delete", id)
		})
	}
}

// TestWasmCreateRejects checks that create refuses, up front and leaving
// nothing behind, what compat asks to run as wasm but can't be.
func TestWasmCreateRejects(t *testing.T) {
	const compat = variantKey + "=compat"
	cases := []struct {
		name    string
		args    []string
		content string // written to args[0] in the rootfs, when set
		wants   []string
	}{
		{"ELF entrypoint", []string{"sh"}, "", []string{compat, "/bin/busybox", "not a wasm module"}},
		{"missing entrypoint", []string{"/missing.wasm"}, "", []string{compat, "/missing.wasm", "no such file"}},
		{"garbage .wasm", []string{"/garbage.wasm"}, "not a module\n", []string{compat, "/garbage.wasm", "not a wasm module"}},
		{"unresolvable import", []string{"/badimport.wasm"}, "", []string{"badimport.wasm", "env.foo"}},
		// Components whose world wrunc cannot provide.
		{"empty component", []string{"/component.wasm"}, "\x00asm\x0d\x00\x01\x00",
			[]string{"component /component.wasm exports no wasi:cli/run function (it exports nothing)"}},
		{"wasi:http proxy component", []string{"/proxy.component.wasm"}, "", []string{
			"component /proxy.component.wasm exports no wasi:cli/run function (it exports wasi:http/incoming-handler@0.2.0)",
			"wrunc runs wasi:cli/command components only"}},
		{"component importing wasi:http", []string{"/needs-http.component.wasm"}, "", []string{
			"component /needs-http.component.wasm needs what wrunc cannot provide yet",
			"wasi:http/outgoing-handler@0.2.0", "no wasi:http"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			rootfs := e.guestRootfs(true, "badimport.wasm", "proxy.component.wasm", "needs-http.component.wasm")
			if c.content != "" {
				if err := os.WriteFile(filepath.Join(rootfs, c.args[0]), []byte(c.content), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			id, bundle := e.newID(), e.bundle(withRootfs(rootfs),
				withAnnotations(map[string]string{variantKey: "compat"}), withArgs(c.args...))
			e.mustFailOneLine(c.wants, "create", "--bundle", bundle, id)
			e.assertNothingLeft(id)
			if dirs := cgroupsNamed(t, id); len(dirs) > 0 {
				t.Errorf("leftover cgroups: %v", dirs)
			}
		})
	}
}

// TestWasmGuestView checks what a guest gets of its process spec and how
// its end becomes the container's exit status.
func TestWasmGuestView(t *testing.T) {
	extraEnv := []string{"HOME=/home/guest", "EMPTY=", "A=b=c"}
	cases := []struct {
		name   string
		args   []string
		opts   []specOpt
		code   int
		stdout string
		stderr string
	}{
		{"args", []string{"probe.wasm", "args", "a b", "", "-x"}, nil, 0, "/probe.wasm\nargs\na b\n\n-x\n", ""},
		{"env", []string{"probe.wasm", "env"}, []specOpt{withEnv(extraEnv...)}, 0,
			strings.Join(append(defaultSpec().Process.Env, extraEnv...), "\n") + "\n", ""},
		// Exactly process.env: not the HOME libcontainer gives every
		// process whose environment has none.
		{"env without HOME", []string{"probe.wasm", "env"}, nil, 0,
			strings.Join(defaultSpec().Process.Env, "\n") + "\n", ""},
		{"cwd", []string{"probe.wasm", "cwd"}, []specOpt{withCwd("/tmp")}, 0, "/tmp\n", ""},
		{"exit status", []string{"probe.wasm", "exit", "42"}, nil, 42, "", ""},
		{"wat entrypoint", []string{"exit42.wat"}, nil, 42, "exiting", ""},
		{"end of _start", []string{"hello-wat.wasm"}, nil, 0, "hello from wasm\n", ""},
		{"trap", []string{"trap.wasm"}, nil, 134, "", "wasm `unreachable` instruction executed"},
		// The same guests as wasi:cli/command components. The preview 1
		// adapter turns any exit status but 0 into exit(err), 1.
		{"component args", []string{"probe.component.wasm", "args", "a b", "", "-x"}, nil, 0, "/probe.component.wasm\nargs\na b\n\n-x\n", ""},
		{"component env", []string{"probe.component.wasm", "env"}, []specOpt{withEnv(extraEnv...)}, 0,
			strings.Join(append(defaultSpec().Process.Env, extraEnv...), "\n") + "\n", ""},
		{"component cwd", []string{"probe.component.wasm", "cwd"}, []specOpt{withCwd("/tmp")}, 0, "/tmp\n", ""},
		{"component exit 0", []string{"probe.component.wasm", "exit", "0"}, nil, 0, "", ""},
		{"component exit(err)", []string{"probe.component.wasm", "exit", "42"}, nil, 1, "", ""},
		{"component trap", []string{"trap.component.wasm"}, nil, 134, "", "wasm `unreachable` instruction executed"},
		{"JavaScript component", []string{"hello-js.component.wasm", "x"}, nil, 0, "hello from JavaScript: /hello-js.component.wasm x\n", ""},
		{"JavaScript component exit(err)", []string{"hello-js.component.wasm", "fail"}, nil, 1, "hello from JavaScript: /hello-js.component.wasm fail\n", ""},
		{"JavaScript component exit-with-code", []string{"hello-js.component.wasm", "exit", "42"}, nil, 42, "hello from JavaScript: /hello-js.component.wasm exit 42\n", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			id := e.newID()
			r := e.run("run", "--bundle", e.wasmBundle(c.args, c.opts...), id)
			if r.code != c.code || r.stdout != c.stdout || !strings.Contains(r.stderr, c.stderr) {
				t.Errorf("run: %s\nwant exit %d, stdout %q, stderr with %q", r, c.code, c.stdout, c.stderr)
			}
			e.assertGone(id)
		})
	}
}

// TestWasmFilesystem checks that the guest's / is the container's root, with
// the mount flags libcontainer set on it.
func TestWasmFilesystem(t *testing.T) {
	for _, probe := range []string{"probe.wasm", "probe.component.wasm"} {
		t.Run(probe, func(t *testing.T) { testWasmFilesystem(t, probe) })
	}
}

func testWasmFilesystem(t *testing.T, probe string) {
	t.Run("writable root", func(t *testing.T) {
		e := newEnv(t)
		rootfs := e.guestRootfs(false, probe)
		bundle := e.bundle(withRootfs(rootfs), wasmHandler, withArgs("/"+probe, "write", "/out.txt", "from the guest"))
		e.mustRun("run", "--bundle", bundle, e.newID())
		if got := nodecheck.ReadFile(t, filepath.Join(rootfs, "out.txt")); got != "from the guest" {
			t.Errorf("rootfs out.txt has %q", got)
		}
	})
	t.Run("read-only root with a volume", func(t *testing.T) {
		e := newEnv(t)
		volume := t.TempDir()
		vol := withMounts(specs.Mount{Destination: "/data", Type: "bind", Source: volume, Options: []string{"rbind", "rw"}})
		// The rootfs needs /data to mount the volume on, being read-only.
		rootfs := e.guestRootfs(false, probe)
		if err := os.Mkdir(filepath.Join(rootfs, "data"), 0o755); err != nil {
			t.Fatal(err)
		}
		run := func(args ...string) result {
			t.Helper()
			bundle := e.bundle(withRootfs(rootfs), withReadonlyRoot(), vol, wasmHandler,
				withArgs(append([]string{"/" + probe}, args...)...))
			return e.run("run", "--bundle", bundle, e.newID())
		}
		// wasmtime reports EROFS to the guest as an I/O error: only the
		// failure itself is checked.
		if r := run("write", "/out.txt", "x"); r.code != 1 || !strings.Contains(r.stderr, "open /out.txt") {
			t.Errorf("write to the read-only root: %s\nwant the probe to fail opening /out.txt", r)
		}
		if _, err := os.Stat(filepath.Join(rootfs, "out.txt")); err == nil {
			t.Errorf("the guest wrote to a read-only root")
		}
		if r := run("write", "/data/out.txt", "to the volume"); r.code != 0 {
			t.Errorf("write to the volume: %s", r)
		}
		if got := nodecheck.ReadFile(t, filepath.Join(volume, "out.txt")); got != "to the volume" {
			t.Errorf("volume out.txt has %q", got)
		}
	})
}

// TestWasmInit checks the runner from the host: pid 1 of the container's
// pid namespace, in its cgroups, with nothing of the host to reach.
func TestWasmInit(t *testing.T) {
	e := newEnv(t)
	id, cgPath := e.ownCgroupsPath()
	bundle := e.wasmBundle([]string{"probe.wasm", "sleep", "100"}, withCgroupsPath(cgPath))
	e.mustRun("run", "-d", "--bundle", bundle, id)
	pid := e.state(id).Pid
	waitGuestLoaded(t, pid)
	proc := func(name string) string { return fmt.Sprintf("/proc/%d/%s", pid, name) }

	for _, l := range strings.Split(nodecheck.ReadFile(t, proc("status")), "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == "NSpid:" && f[len(f)-1] != "1" {
			t.Errorf("runner is not pid 1 of its pid namespace: %q", l)
		}
	}
	for _, l := range strings.Split(strings.TrimSpace(nodecheck.ReadFile(t, proc("cgroup"))), "\n") {
		if parts := strings.SplitN(l, ":", 3); len(parts) != 3 || parts[2] != cgPath {
			t.Errorf("runner cgroup %q, want %s", l, cgPath)
		}
	}
	cgroups := containerCgroups(t, pid)

	// The container runs libcontainer's sealed copy of the binary, never
	// the host file a process of the container could write through.
	if exe, err := os.Stat(proc("exe")); err != nil {
		t.Error(err)
	} else if host, err := os.Stat(wruncBin); err != nil {
		t.Error(err)
	} else if os.SameFile(exe, host) {
		t.Errorf("/proc/%d/exe is the host's %s", pid, wruncBin)
	}
	// Its only directories are the guest's preopens: the container's root
	// and working directory.
	root, err := os.Stat(proc("root"))
	if err != nil {
		t.Fatal(err)
	}
	cwd, err := os.Stat(proc("cwd"))
	if err != nil {
		t.Fatal(err)
	}
	fds, err := os.ReadDir(proc("fd"))
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		p := proc("fd/" + fd.Name())
		fi, err := os.Stat(p)
		if err == nil && fi.IsDir() && !os.SameFile(fi, root) && !os.SameFile(fi, cwd) {
			target, _ := os.Readlink(p)
			t.Errorf("runner fd %s is a directory of the host: %s", fd.Name(), target)
		}
	}

	e.mustRun("kill", id, "KILL")
	e.waitStatus(id, specs.StateStopped)
	waitProcessGone(t, pid)
	e.mustRun("delete", id)
	e.assertGone(id)
	assertCgroupsGone(t, cgroups)
}

// TestWasmStopSignal checks that TERM stops a guest busy in wasm code, which
// never returns to the host by itself, and one waiting in a host call, at
// once (the run's timeout would end a guest that went on waiting).
func TestWasmStopSignal(t *testing.T) {
	for _, args := range [][]string{{"probe.wasm", "spin"}, {"spin.wat"}, {"probe.wasm", "sleep", "100"},
		{"spin.component.wasm"}, {"probe.component.wasm", "sleep", "100"},
		// Waiting in accept (C) and in poll_oneoff (Go's netpoller).
		{"wasicheck.wasm", "serve", "8080"}, {"httpserver.wasm", "[::]:8080"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			e := newEnv(t)
			id, bundle := e.newID(), e.wasmBundle(args)
			// A large module's first compile is not what this waits for.
			e.mustRun("precompile", bundle)
			run := e.background("run", "--bundle", bundle, id)
			poll(t, "the container to run", func() bool {
				r := e.run("state", id)
				return r.code == 0 && strings.Contains(r.stdout, `"running"`)
			})
			waitGuestLoaded(t, e.state(id).Pid)
			e.mustRun("kill", id, "TERM")
			if r := run.wait(); r.code != 128+15 {
				t.Errorf("run: %s\nwant exit 143", r)
			}
			e.assertGone(id)
		})
	}
}

func TestWasmTerminal(t *testing.T) {
	e := newEnv(t)
	id, bundle := e.newID(), e.wasmBundle([]string{"hello.wasm"}, withTerminal())
	sock, receive := consoleSocket(t)
	create := e.background("create", "--bundle", bundle, "--console-socket", sock, id)
	pty := receive()
	if r := create.wait(); r.code != 0 {
		t.Fatalf("create: %s", r)
	}
	e.mustRun("start", id)
	readUntil(t, pty, "hello from wasm")
	e.waitStatus(id, specs.StateStopped)
}

// A guest growing past its container's memory limit sees memory.grow fail
// and carries on (grow.wat exits with the MiB it got), where compiling or
// growing unchecked would have had the kernel OOM-kill the container.
func TestWasmMemoryLimit(t *testing.T) {
	e := newEnv(t)
	limit := int64(64 << 20)
	bundle := e.wasmBundle([]string{"grow.wasm"}, withResources(&specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: &limit},
	}))
	// 44 MiB of linear memory (64 MiB less the runner's 16 MiB and 1/16):
	// the initial page plus 43 whole MiB.
	if r := e.run("run", "--bundle", bundle, e.newID()); r.code != 43 {
		t.Errorf("grow under a 64 MiB limit: %s\nwant exit 43 (grow refused in the engine, not an OOM kill)", r)
	}
}

// TestWasmConcurrentFirstStarts checks that containers started at once from
// a module the cache has never seen compile it once between them, and that
// each of them runs it.
func TestWasmConcurrentFirstStarts(t *testing.T) {
	// The Go hello, as a module and as a component: its compile (~1 s) is
	// long enough for every start to reach the cache while the first one
	// is compiling.
	for _, guest := range []string{"hello.wasm", "hello.component.wasm"} {
		t.Run(guest, func(t *testing.T) { testWasmConcurrentFirstStarts(t, guest) })
	}
}

func testWasmConcurrentFirstStarts(t *testing.T, guest string) {
	e := newEnv(t)
	cache := t.TempDir()
	rootfs := e.guestRootfs(false, guest)
	const starts = 4
	var (
		results [starts]result
		errs    [starts]error
		logs    [starts]string
		wg      sync.WaitGroup
	)
	for i := range starts {
		logs[i] = filepath.Join(t.TempDir(), "log")
		bundle := e.bundle(withRootfs(rootfs), withReadonlyRoot(), wasmHandler, withArgs("/"+guest))
		id := e.newID()
		wg.Go(func() {
			results[i], errs[i] = e.try("--debug", "--log", logs[i], "--cache-dir", cache, "run", "--bundle", bundle, id)
		})
	}
	wg.Wait()
	compiles := 0
	for i := range starts {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if r := results[i]; r.code != 0 || r.stdout != "hello from wasm\n" {
			t.Errorf("start %d: %s", i, r)
		}
		compiles += strings.Count(nodecheck.ReadFile(t, logs[i]), "compiled /"+guest+" into the wasm cache")
	}
	if compiles != 1 {
		t.Errorf("%d concurrent first starts compiled the module %d times, want once", starts, compiles)
	}
}
