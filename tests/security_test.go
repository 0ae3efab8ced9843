package tests

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/wrunc/wrunc/tests/nodecheck"
)

// exeWrites tries, from inside a container, what CVE-2019-5736 did: to write
// to the runtime's binary through /proc/<pid>/exe. It prints what succeeded,
// so a safe runtime makes it print nothing. Appending is enough to tell, and
// leaves what a broken runtime exposes recoverable.
const exeWrites = `for f in /proc/1/exe /proc/self/exe; do { echo x >> "$f"; } 2>/dev/null && echo "wrote $f"; done; true`

// runnerReach tries, from a process exec'd into a wasm container, to reach
// what the runner (pid 1) holds: its fds and mappings lead to the host's
// cached artifact, their link targets name host paths.
const runnerReach = `
for f in /proc/1/exe /proc/1/fd/*; do readlink "$f" >/dev/null 2>&1 && echo "read link $f"; done
for f in /proc/1/exe /proc/1/maps; do cat "$f" >/dev/null 2>&1 && echo "read $f"; done
for f in /proc/1/map_files/* /proc/1/fd/*; do { echo x >> "$f"; } 2>/dev/null && echo "wrote $f"; done
true`

// TestProcExeOverwrite checks that no process of a container can write to
// the host's wrunc binary, nor a wasm container's to the cached artifact,
// even while the runtime itself enters the container with exec.
func TestProcExeOverwrite(t *testing.T) {
	binary := fileHash(t, wruncBin)
	t.Cleanup(func() {
		if fileHash(t, wruncBin) != binary {
			t.Errorf("%s changed", wruncBin)
		}
	})

	t.Run("native", func(t *testing.T) {
		e := newEnv(t)
		// Writable, so that only what guards the binaries can stop a write.
		id, bundle := e.startSleeper(withWritableRootfs())
		// An attacker looping over every process, so as to catch the
		// runtime's own while it sets up each exec below.
		e.mustRun("exec", "-d", id, "sh", "-c", `while :; do
			for f in /proc/[0-9]*/exe; do { echo x >> "$f"; } 2>/dev/null && echo "wrote $f" >> /tmp/wrote; done
		done`)
		for range 20 {
			e.mustRun("exec", id, "true")
		}
		if r := e.mustRun("exec", id, "sh", "-c", "cat /proc/1/exe >/dev/null || echo cannot read; "+exeWrites); r.stdout != "" {
			t.Errorf("exec printed %q, want it to read /proc/1/exe (busybox) and write no binary", r.stdout)
		}
		if b, err := os.ReadFile(filepath.Join(bundle, "rootfs/tmp/wrote")); err == nil {
			t.Errorf("the container wrote through /proc/<pid>/exe:\n%s", b)
		}
	})
	t.Run("wasm", func(t *testing.T) {
		e := newEnv(t)
		// compat-smart: busybox runs natively next to the wasm init.
		id, pid := e.startWasmSleeper(withRootfs(e.guestRootfs(true, "probe.wasm")),
			withAnnotations(map[string]string{variantKey: "compat-smart"}))
		artifact := mappedArtifact(t, pid)
		before := fileHash(t, artifact)
		if r := e.mustRun("exec", id, "sh", "-c", runnerReach+"; "+exeWrites); r.stdout != "" {
			t.Errorf("the container reached its runner through /proc/1:\n%s", r.stdout)
		}
		if fileHash(t, artifact) != before {
			t.Errorf("the container wrote to the cached artifact %s", artifact)
		}
	})
}

// mappedArtifact returns the cached artifact the wasm runner at pid mapped.
func mappedArtifact(t *testing.T, pid int) string {
	t.Helper()
	a, ok := artifactMapped(pid)
	if !ok {
		t.Fatalf("wasm runner %d maps nothing of the cache", pid)
	}
	return a
}

// TestNoLeakedFds checks, from the host, that container processes hold no fd
// of the runtime's (CVE-2024-21626 leaked a host cgroup directory): only
// stdio, which is the caller's to choose, and the fds asked for with
// --preserve-fds; a wasm runner also its preopened root, its artifact, and
// the epoll and eventfd of its Go runtime.
func TestNoLeakedFds(t *testing.T) {
	t.Run("native", func(t *testing.T) {
		e := newEnv(t)
		w, pipe := pipeToPass(t)
		preserved := func(fd int, target string) bool { return fd == 3 && target == pipe }
		withPipe := func(cmd *exec.Cmd) { cmd.ExtraFiles = []*os.File{w} }

		id, bundle := e.newID(), e.bundle(withArgs("sleep", "100"))
		if r := e.runWith(withPipe, "create", "--preserve-fds", "1", "--bundle", bundle, id); r.code != 0 {
			t.Fatalf("create: %s", r)
		}
		e.mustRun("start", id)
		assertFds(t, waitExeced(t, e.state(id).Pid), preserved)
		execd := func(setup func(*exec.Cmd), flags ...string) int {
			t.Helper()
			pidFile := filepath.Join(t.TempDir(), "pid")
			args := append(append([]string{"exec", "-d", "--pid-file", pidFile}, flags...), id, "sleep", "100")
			if r := e.runWith(setup, args...); r.code != 0 {
				t.Fatalf("exec: %s", r)
			}
			pid, err := strconv.Atoi(nodecheck.ReadFile(t, pidFile))
			if err != nil {
				t.Fatal(err)
			}
			return waitExeced(t, pid)
		}
		assertFds(t, execd(func(*exec.Cmd) {}), func(int, string) bool { return false })
		assertFds(t, execd(withPipe, "--preserve-fds", "1"), preserved)
	})
	t.Run("wasm", func(t *testing.T) {
		e := newEnv(t)
		_, pid := e.startWasmSleeper()
		root, err := os.Stat(fmt.Sprintf("/proc/%d/root", pid))
		if err != nil {
			t.Fatal(err)
		}
		artifact, err := os.Stat(mappedArtifact(t, pid))
		if err != nil {
			t.Fatal(err)
		}
		assertFds(t, pid, func(fd int, target string) bool {
			if strings.HasPrefix(target, "anon_inode:") {
				return true
			}
			fi, err := os.Stat(fmt.Sprintf("/proc/%d/fd/%d", pid, fd))
			return err == nil && (os.SameFile(fi, root) || os.SameFile(fi, artifact))
		})
	})
}

// waitExeced returns pid once it runs `sleep 100`: until its execve, a
// container process is the runtime's, holding the runtime's fds (all
// close-on-exec).
func waitExeced(t *testing.T, pid int) int {
	t.Helper()
	poll(t, fmt.Sprintf("process %d to exec sleep", pid), func() bool {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		return string(b) == "sleep\x00100\x00"
	})
	return pid
}

// assertFds checks that pid's fds past stdio are ones allowed says it may hold.
func assertFds(t *testing.T, pid int, allowed func(fd int, target string) bool) {
	t.Helper()
	links, err := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", pid))
	if err != nil || len(links) < 3 {
		t.Fatalf("fds of %d: %v %v", pid, links, err)
	}
	for _, l := range links {
		fd, _ := strconv.Atoi(filepath.Base(l))
		target, _ := os.Readlink(l)
		if fd > 2 && !allowed(fd, target) {
			t.Errorf("process %d holds fd %d: %s", pid, fd, target)
		}
	}
}

// TestCwdThroughFd checks that a working directory naming one of the
// runtime's fds, the way into the host CVE-2024-21626 opened, fails cleanly.
func TestCwdThroughFd(t *testing.T) {
	e := newEnv(t)
	running, _ := e.startSleeper()
	for fd := 3; fd <= 10; fd++ {
		cwd := fmt.Sprintf("/proc/self/fd/%d", fd)
		if r := e.mustFail([]string{cwd}, "exec", "--cwd", cwd, running, "true"); r.code != 255 {
			t.Errorf("exec --cwd %s: exit %d, want 255", cwd, r.code)
		}
		t.Run(strconv.Itoa(fd), func(t *testing.T) {
			e := newEnv(t)
			id := e.newID()
			e.mustFailOneLine([]string{cwd}, "create", "--bundle", e.bundle(withCwd(cwd)), id)
			e.assertClean(id)
		})
	}
	if r := e.mustRun("exec", running, "ps", "-o", "pid,args"); strings.Count(r.stdout, "\n") != 3 {
		t.Errorf("processes left by the failed execs:\n%s", r.stdout)
	}
}

// TestWasmEntrypointConfined checks that the module a wasm container runs is
// the file its rootfs holds at the entrypoint's path, symlinks resolved
// inside the rootfs: each layout has a decoy on the host, hello.wasm, where
// the symlinks lead when followed on the host, and exit42.wasm where they
// lead in the rootfs. The decoy must not even be compiled.
func TestWasmEntrypointConfined(t *testing.T) {
	decoyKey := fileHash(t, filepath.Join(guestsDir, "hello.wasm"))
	cases := []struct {
		name string
		// layout builds under dir a rootfs with /app.wasm, and returns the
		// root.path to give, and the host decoy's path.
		layout func(t *testing.T, dir string) (rootPath, decoy string)
		// refusal is what create may say instead of running exit42.wasm.
		refusal string
	}{
		{"relative symlink out", func(t *testing.T, dir string) (string, string) {
			rootfs := filepath.Join(dir, "x/y/z/w/rootfs")
			symlink(t, "../../../../etc/module", filepath.Join(rootfs, "app.wasm"))
			copyGuest(t, "exit42.wasm", filepath.Join(rootfs, "etc/module"))
			return rootfs, filepath.Join(dir, "x/etc/module")
		}, ""},
		{"absolute symlink", func(t *testing.T, dir string) (string, string) {
			rootfs, decoy := filepath.Join(dir, "rootfs"), filepath.Join(dir, "module")
			symlink(t, decoy, filepath.Join(rootfs, "app.wasm"))
			copyGuest(t, "exit42.wasm", filepath.Join(rootfs, decoy))
			return rootfs, decoy
		}, ""},
		// libcontainer refuses a rootfs that is a symlink, as runc does.
		{"rootfs through a symlink", func(t *testing.T, dir string) (string, string) {
			rootfs, link := filepath.Join(dir, "a/b/rootfs"), filepath.Join(dir, "link")
			symlink(t, "../../../module", filepath.Join(rootfs, "app.wasm"))
			copyGuest(t, "exit42.wasm", filepath.Join(rootfs, "module"))
			symlink(t, rootfs, link)
			return link, filepath.Join(dir, "module")
		}, "symlink"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			rootPath, decoy := c.layout(t, t.TempDir())
			copyGuest(t, "hello.wasm", decoy)
			if err := buildRootfs(rootPath, false); err != nil {
				t.Fatal(err)
			}
			cache := t.TempDir()
			bundle := e.bundle(withRootfs(rootPath), wasmHandler, withArgs("/app.wasm"))
			r := e.run("--cache-dir", cache, "run", "--bundle", bundle, e.newID())
			refused := c.refusal != "" && r.code == 1 && r.stdout == "" && strings.Contains(r.stderr, c.refusal)
			if !refused && (r.code != 42 || r.stdout != "exiting") {
				t.Errorf("run: %s\nwant exit42.wasm's exit 42: the module was not the rootfs's", r)
			}
			if decoys, _ := filepath.Glob(filepath.Join(cache, decoyKey+"*")); len(decoys) > 0 {
				t.Errorf("the host's decoy module was compiled: %v", decoys)
			}
		})
	}
}

// TestWasmEntrypointSwap races creates against a rootfs whose entrypoint
// flips between a module and a symlink to a host file, as a process sharing
// the rootfs could: what create compiles must be the file it checked, never
// what a symlink swapped in since leads to on the host.
func TestWasmEntrypointSwap(t *testing.T) {
	e := newSerialEnv(t)
	decoy := filepath.Join(t.TempDir(), "decoy.wasm")
	copyGuest(t, "hello.wasm", decoy)
	cache := t.TempDir()
	compiled := func(module string) bool {
		found, _ := filepath.Glob(filepath.Join(cache, fileHash(t, module)+"*"))
		return len(found) > 0
	}
	rootfs := e.guestRootfs(false, "exit42.wasm")
	module := filepath.Join(rootfs, "exit42.wasm")
	app, file, link := filepath.Join(rootfs, "app.wasm"), filepath.Join(rootfs, ".file"), filepath.Join(rootfs, ".link")
	stop, flipErr := make(chan struct{}), make(chan error, 1)
	go func() {
		defer close(flipErr)
		for {
			select {
			case <-stop:
				return
			default:
			}
			// Each made aside and renamed over the entrypoint, so that it
			// always exists, and is as long one as the other.
			err := errors.Join(os.Link(module, file), os.Rename(file, app), os.Symlink(decoy, link), os.Rename(link, app))
			if err != nil {
				flipErr <- err
				return
			}
		}
	}()
	stopFlipping := sync.OnceValue(func() error {
		close(stop)
		return <-flipErr
	})
	t.Cleanup(func() { stopFlipping() })
	// A namespace libcontainer doesn't know fails create right after the
	// module is compiled, so that no container needs removing.
	bogus := func(s *specs.Spec) {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "bogus"})
	}
	id, bundle := e.newID(), e.bundle(withRootfs(rootfs), wasmHandler, withArgs("/app.wasm"), bogus)
	// The runtime that read the entrypoint again after checking it compiled
	// the decoy within 80 rounds in each of a dozen runs. Finding the
	// symlink at the check fails a round early.
	for i := 0; i < 150 && !compiled(decoy); i++ {
		e.mustFail(nil, "--cache-dir", cache, "create", "--bundle", bundle, id)
	}
	if err := stopFlipping(); err != nil {
		t.Fatal(err)
	}
	if compiled(decoy) {
		t.Errorf("create compiled the host file %s that a symlink swapped in for %s led to", decoy, app)
	} else if !compiled(module) {
		t.Errorf("no create got to compile the entrypoint, so the race was never run")
	}
}

func symlink(t *testing.T, target, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
}

// TestWasmCacheByContent checks that the cache keys artifacts by the
// module's content, not its path, and that a guest rewriting its own module
// changes nothing for other containers of the original.
func TestWasmCacheByContent(t *testing.T) {
	e := newEnv(t)
	run := func(rootfs string, args ...string) result {
		t.Helper()
		bundle := e.bundle(withRootfs(rootfs), wasmHandler, withArgs(append([]string{"/app.wasm"}, args...)...))
		return e.run("run", "--bundle", bundle, e.newID())
	}
	rootfsWith := func(guest string) string {
		rootfs := e.guestRootfs(false)
		copyGuest(t, guest, filepath.Join(rootfs, "app.wasm"))
		return rootfs
	}
	// artifact returns the cache entry of guest's content, and its hash.
	artifact := func(guest string) (path, hash string) {
		t.Helper()
		found, _ := filepath.Glob(filepath.Join(cacheDir, fileHash(t, filepath.Join(guestsDir, guest))+"-*.cwasm"))
		if len(found) != 1 {
			t.Fatalf("cache entries of %s: %v, want one", guest, found)
		}
		return found[0], fileHash(t, found[0])
	}
	probe := rootfsWith("probe.wasm")
	if r := run(probe, "args"); r.code != 0 || r.stdout != "/app.wasm\nargs\n" {
		t.Errorf("probe.wasm at /app.wasm: %s", r)
	}
	if r := run(rootfsWith("exit42.wasm")); r.code != 42 || r.stdout != "exiting" {
		t.Errorf("exit42.wasm at the same path: %s", r)
	}
	path, before := artifact("probe.wasm")
	if other, _ := artifact("exit42.wasm"); other == path {
		t.Fatalf("two modules at one path share the cache entry %s", path)
	}

	if r := run(probe, "write", "/app.wasm", "overwritten"); r.code != 0 {
		t.Fatalf("the guest could not write its module: %s", r)
	}
	if r := run(rootfsWith("probe.wasm"), "args"); r.code != 0 || r.stdout != "/app.wasm\nargs\n" {
		t.Errorf("another container of the original module: %s", r)
	}
	if _, after := artifact("probe.wasm"); after != before {
		t.Errorf("the artifact %s changed after a guest rewrote its module", path)
	}
	// What that rootfs holds now is no module at all.
	if r := run(probe, "args"); r.code == 0 || !strings.Contains(r.stderr, "/app.wasm") {
		t.Errorf("the rewritten module ran: %s", r)
	}
}

// TestWasmGuestConfined checks that a guest sees of the host only what its
// spec gives it: process.env alone, whatever the environment of the wrunc
// that started it, and the container's root alone.
func TestWasmGuestConfined(t *testing.T) {
	e := newEnv(t)
	env := []string{"PATH=/bin", "HOME=/home/guest", "GUEST=1"}
	rootfs := e.guestRootfs(false, "probe.wasm")
	hostOnly := filepath.Join(t.TempDir(), "host-only")
	if err := os.WriteFile(hostOnly, []byte("host secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) result {
		t.Helper()
		bundle := e.bundle(withRootfs(rootfs), wasmHandler,
			withArgs(append([]string{"/probe.wasm"}, args...)...),
			func(s *specs.Spec) { s.Process.Env = env })
		return e.runWith(func(cmd *exec.Cmd) {
			cmd.Env = append(os.Environ(), "HOME=/root/of/the/caller", "WRUNC_DEBUG=1", "CALLER_SECRET=1", "RUST_BACKTRACE=1")
		}, "run", "--bundle", bundle, e.newID())
	}
	if r := run("env"); r.stdout != strings.Join(env, "\n")+"\n" {
		t.Errorf("guest env %q, want exactly process.env %q", r.stdout, env)
	}
	r := run("ls", "/")
	ents, err := os.ReadDir(rootfs)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, d := range ents {
		want = append(want, d.Name())
	}
	if got := strings.Fields(r.stdout); !slices.Equal(got, want) {
		t.Errorf("guest's / holds %v, the rootfs %v", got, want)
	}
	if r := run("read", hostOnly); r.code == 0 || strings.Contains(r.stdout, "secret") {
		t.Errorf("the guest read a host file outside its rootfs: %s", r)
	}
}
