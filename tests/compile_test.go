package tests

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/wrunc/wrunc/internal/testguests"
	"github.com/wrunc/wrunc/tests/nodecheck"
)

// The module of issue 17: one function of 10,000 i64 locals chained in a
// loop, 100 KB whose compile takes tens of seconds of CPU (minutes and GiBs
// for twice as many locals).
const attackLocals = 10000

// localsRootfs is a scratch rootfs holding the locals module at /name, and
// probe.wasm.
func (e *env) localsRootfs(name string) string {
	e.t.Helper()
	rootfs := e.guestRootfs(false, "probe.wasm")
	if err := os.WriteFile(filepath.Join(rootfs, name), testguests.LocalsModule(attackLocals), 0o755); err != nil {
		e.t.Fatal(err)
	}
	return rootfs
}

// uniqueModuleName is a module path no other test's compiler has in its
// command line.
func uniqueModuleName(t *testing.T) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "/locals-" + hex.EncodeToString(b) + ".wasm"
}

// compiled says whether a debug log shows a compiler process started for
// module.
func compiled(t *testing.T, log, module string) bool {
	return strings.Contains(nodecheck.ReadFile(t, log), "compiling "+module+" in a compiler process")
}

// assertNoCacheEntry checks that a cache holds no artifact, checksum or
// temp file, and that no compiler of module is left running.
func assertNoCacheEntry(t *testing.T, cache, module string) {
	t.Helper()
	for _, pattern := range []string{"*.cwasm*", "*.sum*", "*.tmp*", "memo/*.tmp*"} {
		if left, _ := filepath.Glob(filepath.Join(cache, pattern)); len(left) > 0 {
			t.Errorf("a refused compile left %v", left)
		}
	}
	if pids := compilers(module); len(pids) > 0 {
		t.Errorf("compilers left running: %v", nodecheck.Describe(pids))
	}
}

// compilers returns the compiler processes of module (whose container's
// runner has it in its command line too).
func compilers(module string) []int {
	var pids []int
	for _, pid := range nodecheck.Processes(module) {
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err == nil && strings.Contains(string(cmdline), "\x00wrunc-wasm-compiler\x00") {
			pids = append(pids, pid)
		}
	}
	return pids
}

// A create of the locals module is stopped at the compile CPU limit with one
// line that says which limit and how to raise it, leaves nothing behind, and
// is refused again from the remembered verdict without compiling, until the
// limit is raised or the cache pruned.
func TestCompileCPULimitRefusesLocalsModule(t *testing.T) {
	e := newEnv(t)
	cache := t.TempDir()
	module := uniqueModuleName(t)
	bundle := e.bundle(withRootfs(e.localsRootfs(module)), wasmHandler, withArgs(module))
	create := func(env ...string) (result, string) {
		t.Helper()
		log := filepath.Join(t.TempDir(), "log")
		id := e.newID()
		r := e.runWith(func(cmd *exec.Cmd) { cmd.Env = append(os.Environ(), env...) },
			"--debug", "--log", log, "--cache-dir", cache, "create", "--bundle", bundle, id)
		e.assertGone(id)
		assertNoCacheEntry(t, cache, module)
		if r.code == 0 || strings.Count(r.stderr, "\n") != 1 {
			t.Fatalf("create of the locals module: %s\nwant one line of error", r)
		}
		return r, log
	}
	limit := []string{"WRUNC_COMPILE_CPU=1s"}
	r, log := create(limit...)
	for _, want := range []string{"compile " + module + ": stopped at its compile CPU time limit, 1s", "--compile-cpu", "WRUNC_COMPILE_CPU"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("first create: stderr lacks %q: %s", want, r)
		}
	}
	if !compiled(t, log, module) {
		t.Errorf("first create: no compile in its debug log")
	}

	r, log = create(limit...)
	if !strings.Contains(r.stderr, "refused: an earlier compile of this module on this node reached its compile CPU time limit, 1s") {
		t.Errorf("second create: %s\nwant the remembered refusal", r)
	}
	if compiled(t, log, module) {
		t.Errorf("second create compiled the module again")
	}

	r, log = create("WRUNC_COMPILE_CPU=2s")
	if !strings.Contains(r.stderr, "stopped at its compile CPU time limit, 2s") || !compiled(t, log, module) {
		t.Errorf("create with the limit raised: %s\nwant a new compile, stopped at 2s", r)
	}

	e.mustRun("--cache-dir", cache, "cache", "prune", "--all")
	if _, log = create(limit...); !compiled(t, log, module) {
		t.Errorf("create after cache prune --all did not compile again")
	}
}

// exec and precompile are bounded as create is; the memory limit is
// remembered too, the timeout (the node's load as much as the module's
// doing) is not.
func TestCompileLimitsAtExecAndPrecompile(t *testing.T) {
	e := newEnv(t)
	module := uniqueModuleName(t)
	rootfs := e.localsRootfs(module)
	file := filepath.Join(rootfs, module)
	cache := t.TempDir()

	id, _ := e.startWasmSleeper(withRootfs(rootfs))
	r := e.mustFail([]string{"compile " + module + ": stopped at its compile CPU time limit, 1s", "--compile-cpu", "WRUNC_COMPILE_CPU"},
		"--cache-dir", cache, "--compile-cpu", "1s", "exec", id, module)
	// (libcontainer warns of the ambient capabilities it cannot raise.)
	if strings.Count(r.stderr, "level=error") != 1 {
		t.Errorf("exec: %s\nwant one line of error", r)
	}
	assertNoCacheEntry(t, cache, module)

	cache = t.TempDir()
	memory := []string{"--cache-dir", cache, "--compile-memory", "64MiB", "precompile", file}
	e.mustFail([]string{"compile " + file + ": stopped at its compile memory limit, 64MiB", "--compile-memory", "WRUNC_COMPILE_MEMORY"}, memory...)
	e.mustFail([]string{"refused: an earlier compile", "memory limit, 64MiB"}, memory...)
	assertNoCacheEntry(t, cache, file)

	cache = t.TempDir()
	for range 2 {
		log := filepath.Join(t.TempDir(), "log")
		e.mustFail([]string{"compile " + file + ": stopped at its compile timeout, 1s", "--compile-timeout", "WRUNC_COMPILE_TIMEOUT"},
			"--debug", "--log", log, "--cache-dir", cache, "--compile-cpu", "0", "--compile-timeout", "1s", "precompile", file)
		if !compiled(t, log, file) {
			t.Errorf("precompile after a timeout did not compile again")
		}
	}
	assertNoCacheEntry(t, cache, file)
}

// startCompiling starts wrunc with args and extra fds from 3 on, and
// returns it once its compiler of module has mapped the module, with the
// compiler's pid and a channel closed when wrunc has exited.
func (e *env) startCompiling(module string, extra []*os.File, args ...string) (*exec.Cmd, int, chan struct{}) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	e.t.Cleanup(cancel)
	cmd, _ := e.command(ctx, append([]string{"--cache-dir", e.t.TempDir(), "--compile-cpu", "0", "--compile-timeout", "0"}, args...)...)
	cmd.ExtraFiles = extra
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	var pid int
	poll(e.t, "the compiler to map its module", func() bool {
		for _, p := range compilers(module) {
			if maps, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", p)); err == nil && strings.Contains(string(maps), "memfd:wrunc-module") {
				pid = p
				return true
			}
		}
		return false
	})
	return cmd, pid, done
}

// The compiler holds no descriptor that wrunc's caller left open across exec
// (libcontainer marks a create's close-on-exec, but precompile and a
// compile that starts first do not), and runs as nobody with no
// capabilities at a lower priority.
func TestCompilerHoldsNothing(t *testing.T) {
	e := newEnv(t)
	module := filepath.Join(e.localsRootfs("locals.wasm"), "locals.wasm")
	w, leaked := pipeToPass(t)
	// fd 3 and 4: the compiler gets its module at 3.
	precompile, pid, done := e.startCompiling(module, []*os.File{w, w}, "precompile", module)
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		target, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		// Besides stdio: the Go runtime's epoll, eventfd and the cgroup
		// files it reads its CPU quota from.
		own := fd.Name() == "0" && target == "/dev/null" || strings.HasPrefix(target, "pipe:") ||
			strings.HasPrefix(target, "anon_inode:") || strings.HasPrefix(target, "/sys/fs/cgroup/")
		if target == leaked || !own {
			t.Errorf("the compiler holds fd %s: %s", fd.Name(), target)
		}
	}
	status := nodecheck.ReadFile(t, fmt.Sprintf("/proc/%d/status", pid))
	for _, want := range []string{"Uid:\t65534\t65534\t65534\t65534", "Gid:\t65534\t65534\t65534\t65534", "CapEff:\t0000000000000000", "NoNewPrivs:\t1"} {
		if !strings.Contains(status, want) {
			t.Errorf("compiler's status lacks %q:\n%s", want, status)
		}
	}
	if got, want := nice(t, pid), min(nice(t, os.Getpid())+10, 19); got != want {
		t.Errorf("compiler's nice %d, want %d", got, want)
	}
	precompile.Process.Kill()
	<-done
}

// A create killed while it compiles leaves no compiler running.
func TestKilledCreateLeavesNoCompiler(t *testing.T) {
	e := newEnv(t)
	module := uniqueModuleName(t)
	bundle := e.bundle(withRootfs(e.localsRootfs(module)), wasmHandler, withArgs(module))
	create, pid, done := e.startCompiling(module, nil, "create", "--bundle", bundle, e.newID())
	if err := create.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-done
	waitProcessGone(t, pid)
}

// nice reads a process's nice value from its stat (field 19).
func nice(t *testing.T, pid int) int {
	stat := nodecheck.ReadFile(t, fmt.Sprintf("/proc/%d/stat", pid))
	fields := strings.Fields(stat[strings.LastIndexByte(stat, ')')+2:])
	n, err := strconv.Atoi(fields[16])
	if err != nil {
		t.Fatal(err)
	}
	return n
}
