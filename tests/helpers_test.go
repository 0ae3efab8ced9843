// Package tests holds the integration tests of wrunc. They drive the binary
// through its runc-compatible CLI and start real containers, so they need
// root. WRUNC_BIN selects the binary (any runc-compatible runtime works,
// which is how the suite itself is checked against runc).
package tests

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/wrunc/wrunc/tests/nodecheck"
)

var (
	wruncBin   string
	rootfsDir  string // shared busybox rootfs, only ever mounted read-only
	guestsDir  string // the wasm test guests, built from testdata/
	cacheDir   string // the runtime's wasm cache, shared by this run's tests only
	skipReason string
)

// busyboxApplets are linked into every rootfs; the tests' container
// commands use nothing else.
var busyboxApplets = []string{
	"sh", "ls", "cat", "echo", "sleep", "true", "false", "id", "ps",
	"hostname", "mkdir", "env", "pwd", "test", "kill", "wc", "grep", "head",
	"touch", "stat", "readlink",
}

const cmdTimeout = 60 * time.Second

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	if skipReason = nodecheck.SkipUnlessRoot("wrunc integration tests need root"); skipReason != "" {
		return m.Run()
	}
	var err error
	if wruncBin, err = nodecheck.Wrunc(".."); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	work, err := os.MkdirTemp("", "wrunc-tests-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(work)
	rootfsDir = filepath.Join(work, "rootfs")
	if err := buildRootfs(rootfsDir, true); err != nil {
		fmt.Fprintln(os.Stderr, "building rootfs:", err)
		return 1
	}
	guestsDir = filepath.Join(work, "guests")
	if out, err := exec.Command("../testdata/build.sh", guestsDir).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the wasm test guests: %v\n%s", err, out)
		return 1
	}
	// The environment rather than --cache-dir, so that the suite still runs
	// against runc; it keeps the tests off the host's /var/lib/wrunc.
	cacheDir = filepath.Join(work, "cache")
	os.Setenv("WRUNC_CACHE_DIR", cacheDir)
	return m.Run()
}

// buildRootfs makes a minimal rootfs at dir: busybox, or with busybox false
// only the mount points, as in a scratch wasm image.
func buildRootfs(dir string, busybox bool) error {
	dirs := []string{"proc", "sys", "dev", "tmp"}
	if busybox {
		dirs = append(dirs, "bin", "etc")
	}
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	if err := os.Chmod(filepath.Join(dir, "tmp"), 0o1777); err != nil {
		return err
	}
	if !busybox {
		return nil
	}
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "bin", "busybox"), bb, 0o755); err != nil {
		return err
	}
	for _, a := range busyboxApplets {
		if err := os.Symlink("busybox", filepath.Join(dir, "bin", a)); err != nil {
			return err
		}
	}
	files := map[string]string{
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
		"etc/group":  "root:x:0:\nnogroup:x:65534:\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// env is one test's private runtime state dir, so tests can run in
// parallel without seeing each other's containers.
type env struct {
	t    *testing.T
	root string
}

// newEnv skips when the suite can't run and marks the test parallel: every
// test has its own --root and random ids, so nothing is shared.
func newEnv(t *testing.T) *env {
	t.Helper()
	e := newSerialEnv(t)
	t.Parallel()
	return e
}

// newSerialEnv is newEnv for a test that loads the whole machine: it runs
// alone, before the parallel tests, so that it neither slows them down nor
// is slowed by them.
func newSerialEnv(t *testing.T) *env {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
	return &env{t: t, root: t.TempDir()}
}

// on returns e for use in subtest t, so failures are reported from t's
// goroutine.
func (e *env) on(t *testing.T) *env { return &env{t: t, root: e.root} }

type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout: %q\nstderr: %q", r.code, r.stdout, r.stderr)
}

// command builds an invocation of the binary against e's state dir. Its
// stdout and stderr are files, not pipes: a container started by
// create/run -d inherits them and would otherwise keep Wait from returning.
func (e *env) command(ctx context.Context, args ...string) (*exec.Cmd, func() result) {
	e.t.Helper()
	cmd := exec.CommandContext(ctx, wruncBin, append([]string{"--root", e.root}, args...)...)
	dir := e.t.TempDir()
	outF, err := os.Create(filepath.Join(dir, "stdout"))
	if err != nil {
		e.t.Fatal(err)
	}
	errF, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		e.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = outF, errF
	collect := func() result {
		outF.Close()
		errF.Close()
		out, _ := os.ReadFile(outF.Name())
		serr, _ := os.ReadFile(errF.Name())
		code := 0
		if cmd.ProcessState != nil {
			code = exitCode(cmd.ProcessState)
		}
		return result{stdout: string(out), stderr: string(serr), code: code}
	}
	return cmd, collect
}

// exitCode maps a death by signal to -signal so that it can't be confused
// with a runtime that exits 128+n itself.
func exitCode(ps *os.ProcessState) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return -int(ws.Signal())
	}
	return ps.ExitCode()
}

// run executes the binary with --root and returns what it printed.
func (e *env) run(args ...string) result {
	e.t.Helper()
	return e.runIn("", args...)
}

// runIn is run with a working directory, for relative paths.
func (e *env) runIn(dir string, args ...string) result {
	e.t.Helper()
	return e.runWith(func(cmd *exec.Cmd) { cmd.Dir = dir }, args...)
}

// runWith is run with the command adjusted by setup: its environment, the
// files it inherits.
func (e *env) runWith(setup func(*exec.Cmd), args ...string) result {
	e.t.Helper()
	r, err := e.tryWith(setup, args...)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// try is run for goroutines other than the test's, which must not end the
// test: it returns the failure to run the command instead.
func (e *env) try(args ...string) (result, error) {
	return e.tryWith(func(*exec.Cmd) {}, args...)
}

func (e *env) tryWith(setup func(*exec.Cmd), args ...string) (result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd, collect := e.command(ctx, args...)
	setup(cmd)
	err := cmd.Run()
	r := collect()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return r, fmt.Errorf("%s %v: %w", wruncBin, args, err)
	}
	if ctx.Err() != nil {
		return r, fmt.Errorf("%s %v timed out after %v\n%s", wruncBin, args, cmdTimeout, r)
	}
	return r, nil
}

// mustRun is run that fails the test unless the command exits 0.
func (e *env) mustRun(args ...string) result {
	e.t.Helper()
	return e.mustRunIn("", args...)
}

// mustRunIn is mustRun with a working directory.
func (e *env) mustRunIn(dir string, args ...string) result {
	e.t.Helper()
	r := e.runIn(dir, args...)
	if r.code != 0 {
		e.t.Fatalf("%v (cwd %q): %s", args, dir, r)
	}
	return r
}

// mustFail is run that fails the test unless the command exits non-zero
// and its stderr contains each of wants.
func (e *env) mustFail(wants []string, args ...string) result {
	e.t.Helper()
	r := e.run(args...)
	if r.code == 0 {
		e.t.Fatalf("%v succeeded, want failure: %s", args, r)
	}
	for _, w := range wants {
		if !strings.Contains(r.stderr, w) {
			e.t.Errorf("%v: stderr lacks %q: %s", args, w, r)
		}
	}
	return r
}

var idUnsafe = regexp.MustCompile(`[^a-zA-Z0-9]+`)

// newID returns an id no other test or run uses, and registers a forced
// delete for it, so that a container is removed whatever the test did.
func (e *env) newID() string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		e.t.Fatal(err)
	}
	name := idUnsafe.ReplaceAllString(e.t.Name(), "-")
	if len(name) > 40 {
		name = name[len(name)-40:]
	}
	id := strings.ToLower(strings.Trim(name, "-")) + "-" + hex.EncodeToString(b)
	e.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
		defer cancel()
		cmd, collect := e.command(ctx, "delete", "--force", id)
		if err := cmd.Run(); err != nil {
			e.t.Logf("cleanup delete --force %s: %v %s", id, err, collect())
		}
		reapCgroups(e.t, id)
	})
	return id
}

// reapCgroups kills whatever is left in cgroups whose name contains id and
// removes them, so that a runtime whose delete is broken fails its tests
// without leaking containers into the next run.
func reapCgroups(t *testing.T, id string) {
	dirs := cgroupsNamed(t, id)
	if len(dirs) == 0 {
		return
	}
	t.Logf("cleanup: removing cgroups left by %s: %v", id, dirs)
	var pids []int
	for _, d := range dirs {
		pids = append(pids, nodecheck.CgroupProcs(d)...)
		// On cgroup v1 a frozen process cannot die.
		if state := filepath.Join(d, "freezer.state"); fileExists(state) {
			_ = os.WriteFile(state, []byte("THAWED"), 0)
		}
	}
	if err := nodecheck.Kill(pids); err != nil {
		t.Fatal(err)
	}
	// Children before parents.
	sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) })
	for _, d := range dirs {
		if err := nodecheck.RemoveCgroup(d); err != nil {
			t.Logf("cleanup: %v", err)
		}
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// specOpt adjusts the default spec of a test bundle.
type specOpt func(*specs.Spec)

func withArgs(args ...string) specOpt { return func(s *specs.Spec) { s.Process.Args = args } }

func withEnv(kv ...string) specOpt {
	return func(s *specs.Spec) { s.Process.Env = append(s.Process.Env, kv...) }
}

func withAnnotations(a map[string]string) specOpt {
	return func(s *specs.Spec) { s.Annotations = a }
}

func withCgroupsPath(p string) specOpt { return func(s *specs.Spec) { s.Linux.CgroupsPath = p } }

func withHooks(h *specs.Hooks) specOpt { return func(s *specs.Spec) { s.Hooks = h } }

func withTerminal() specOpt { return func(s *specs.Spec) { s.Process.Terminal = true } }

func withCwd(dir string) specOpt { return func(s *specs.Spec) { s.Process.Cwd = dir } }

// withRootfs uses dir, a rootfs of the test's own (see guestRootfs), writable.
func withRootfs(dir string) specOpt {
	return func(s *specs.Spec) { s.Root.Path, s.Root.Readonly = dir, false }
}

func withReadonlyRoot() specOpt { return func(s *specs.Spec) { s.Root.Readonly = true } }

// withWritableRootfs gives the bundle its own rootfs copy, since writes to
// the shared one would leak between tests.
func withWritableRootfs() specOpt { return func(s *specs.Spec) { s.Root.Readonly = false } }

func withMounts(m ...specs.Mount) specOpt {
	return func(s *specs.Spec) { s.Mounts = append(s.Mounts, m...) }
}

func withResources(r *specs.LinuxResources) specOpt {
	return func(s *specs.Spec) {
		r.Devices = s.Linux.Resources.Devices
		s.Linux.Resources = r
	}
}

func withoutNamespace(typ specs.LinuxNamespaceType) specOpt {
	return func(s *specs.Spec) {
		var ns []specs.LinuxNamespace
		for _, n := range s.Linux.Namespaces {
			if n.Type != typ {
				ns = append(ns, n)
			}
		}
		s.Linux.Namespaces = ns
	}
}

// defaultSpec mirrors what `runc spec` generates, minus the cgroup mount
// and terminal, with the rootfs shared read-only.
func defaultSpec() *specs.Spec {
	caps := []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}
	return &specs.Spec{
		Version: specs.Version,
		Process: &specs.Process{
			User: specs.User{UID: 0, GID: 0},
			Args: []string{"sh"},
			Env: []string{
				"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
				"TERM=xterm",
			},
			Cwd: "/",
			Capabilities: &specs.LinuxCapabilities{
				Bounding: caps, Effective: caps, Permitted: caps, Ambient: caps,
			},
			Rlimits:         []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 1024, Soft: 1024}},
			NoNewPrivileges: true,
		},
		Root:     &specs.Root{Path: rootfsDir, Readonly: true},
		Hostname: "wrunc",
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs",
				Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
			{Destination: "/dev/pts", Type: "devpts", Source: "devpts",
				Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
			{Destination: "/dev/shm", Type: "tmpfs", Source: "shm",
				Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
			{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue",
				Options: []string{"nosuid", "noexec", "nodev"}},
			{Destination: "/sys", Type: "sysfs", Source: "sysfs",
				Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		},
		Linux: &specs.Linux{
			Resources: &specs.LinuxResources{
				Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
			},
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace}, {Type: specs.NetworkNamespace},
				{Type: specs.IPCNamespace}, {Type: specs.UTSNamespace},
				{Type: specs.MountNamespace},
			},
			MaskedPaths: []string{
				"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
				"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
				"/proc/sched_debug", "/sys/firmware", "/proc/scsi",
			},
			ReadonlyPaths: []string{
				"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
			},
		},
	}
}

// bundle writes a bundle dir whose config.json is defaultSpec with opts
// applied, and returns its path.
func (e *env) bundle(opts ...specOpt) string {
	e.t.Helper()
	s := defaultSpec()
	for _, o := range opts {
		o(s)
	}
	dir := e.t.TempDir()
	if !s.Root.Readonly && s.Root.Path == rootfsDir {
		if err := buildRootfs(filepath.Join(dir, "rootfs"), true); err != nil {
			e.t.Fatal(err)
		}
		s.Root.Path = "rootfs"
	}
	writeJSON(e.t, filepath.Join(dir, "config.json"), s)
	return dir
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "\t")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// containerState is what `state` prints: the OCI state plus runc's extras.
type containerState struct {
	specs.State
	Rootfs  string    `json:"rootfs"`
	Created time.Time `json:"created"`
	Owner   string    `json:"owner"`
	Handler string    `json:"handler"`
}

func (e *env) state(id string) containerState {
	e.t.Helper()
	r := e.mustRun("state", id)
	var st containerState
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		e.t.Fatalf("state %s: %v\n%s", id, err, r)
	}
	return st
}

// waitStatus polls until the container reaches status: a container stops
// asynchronously after a signal.
func (e *env) waitStatus(id string, status specs.ContainerState) containerState {
	e.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		st := e.state(id)
		if st.Status == status {
			return st
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("container %s: status %q, want %q", id, st.Status, status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// create creates a container from a new bundle and returns its id and
// bundle path.
func (e *env) create(opts ...specOpt) (id, bundle string) {
	e.t.Helper()
	id, bundle = e.newID(), e.bundle(opts...)
	e.mustRun("create", "--bundle", bundle, id)
	return id, bundle
}

// startSleeper returns a running container whose init ignores TERM (pid 1
// without a handler), so only an explicit KILL or delete --force stops it.
func (e *env) startSleeper(opts ...specOpt) (id, bundle string) {
	e.t.Helper()
	id, bundle = e.create(append([]specOpt{withArgs("sleep", "100")}, opts...)...)
	e.mustRun("start", id)
	e.waitStatus(id, specs.StateRunning)
	return id, bundle
}

// assertGone checks that delete left nothing: no state, no state dir.
func (e *env) assertGone(id string) {
	e.t.Helper()
	e.mustFail([]string{"does not exist"}, "state", id)
	if _, err := os.Lstat(filepath.Join(e.root, id)); !errors.Is(err, fs.ErrNotExist) {
		e.t.Errorf("state dir %s still there (err=%v)", filepath.Join(e.root, id), err)
	}
}

func waitProcessGone(t *testing.T, pid int) {
	t.Helper()
	if !nodecheck.Until(10*time.Second, func() bool { return nodecheck.Gone(pid) }) {
		t.Fatalf("process %d still alive", pid)
	}
}

// cgroupMounts maps a v1 controller name (e.g. "pids", "name=systemd") or
// "" for the unified hierarchy to its mount point.
func cgroupMounts(t *testing.T) map[string]string {
	t.Helper()
	m, err := nodecheck.CgroupMounts()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// cgroupDirs returns, per hierarchy, the directory of pid's cgroup where it
// differs from the test process's own, i.e. the ones the runtime created.
func cgroupDirs(t *testing.T, pid int) map[string]string {
	t.Helper()
	mounts := cgroupMounts(t)
	parse := func(p string) map[string]string {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		res := map[string]string{}
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			parts := strings.SplitN(l, ":", 3)
			if len(parts) != 3 {
				continue
			}
			ctrl, _, _ := strings.Cut(parts[1], ",")
			res[ctrl] = parts[2]
		}
		return res
	}
	own, theirs := parse("/proc/self/cgroup"), parse(fmt.Sprintf("/proc/%d/cgroup", pid))
	dirs := map[string]string{}
	for ctrl, p := range theirs {
		if mnt, ok := mounts[ctrl]; ok && p != own[ctrl] {
			dirs[ctrl] = filepath.Join(mnt, p)
		}
	}
	return dirs
}

// containerCgroups is cgroupDirs that insists the container got its own
// pids and memory cgroups, which delete must later remove.
func containerCgroups(t *testing.T, pid int) map[string]string {
	t.Helper()
	dirs := cgroupDirs(t, pid)
	for _, c := range []string{"pids", "memory"} {
		if _, ok := dirs[c]; !ok {
			t.Errorf("container pid %d is not in a cgroup of its own for %s: %v", pid, c, dirs)
		}
	}
	return dirs
}

func assertCgroupsGone(t *testing.T, dirs map[string]string) {
	t.Helper()
	for ctrl, d := range dirs {
		if _, err := os.Stat(d); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s cgroup %s still exists after delete (err=%v)", ctrl, d, err)
		}
	}
}

// cgroupsNamed finds cgroup dirs whose name contains id in any hierarchy.
func cgroupsNamed(t *testing.T, id string) []string {
	t.Helper()
	dirs, err := nodecheck.Cgroups("/", id)
	if err != nil {
		t.Fatal(err)
	}
	return dirs
}

func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o666); err != nil {
		t.Fatal(err)
	}
}

// writeFifo releases a container blocked reading the fifo; it retries
// because opening without a reader fails rather than blocking forever.
func writeFifo(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		if err == nil {
			_, err = f.WriteString("go\n")
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			return
		}
		if !errors.Is(err, syscall.ENXIO) || time.Now().After(deadline) {
			t.Fatalf("no reader on %s: %v", path, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// guestRootfs builds a writable rootfs of the test's own, busybox or
// scratch, holding each named test guest at /<name>.
func (e *env) guestRootfs(busybox bool, guests ...string) string {
	e.t.Helper()
	dir := filepath.Join(e.t.TempDir(), "rootfs")
	if err := buildRootfs(dir, busybox); err != nil {
		e.t.Fatal(err)
	}
	for _, g := range guests {
		copyGuest(e.t, g, filepath.Join(dir, g))
	}
	return dir
}

// copyGuest copies the built test guest name to dst, creating its parents.
func copyGuest(t *testing.T, name, dst string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(guestsDir, name))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// The annotations that choose the handler.
const (
	handlerKey = "run.oci.handler"
	variantKey = "module.wasm.image/variant"
	typeKey    = "io.kubernetes.cri.container-type"
)

var wasmHandler = withAnnotations(map[string]string{handlerKey: "wasm"})

// wasmBundle is a bundle running a guest under run.oci.handler=wasm from a
// scratch rootfs holding only that guest; args[0] is its name.
func (e *env) wasmBundle(args []string, opts ...specOpt) string {
	e.t.Helper()
	base := []specOpt{
		withRootfs(e.guestRootfs(false, args[0])), wasmHandler,
		withArgs(append([]string{"/" + args[0]}, args[1:]...)...),
	}
	return e.bundle(append(base, opts...)...)
}

// startWasmSleeper runs probe.wasm sleeping in a detached wasm container
// (scratch rootfs unless opts say otherwise) and returns once its module is
// loaded.
func (e *env) startWasmSleeper(opts ...specOpt) (id string, pid int) {
	e.t.Helper()
	id, _ = e.startSleeper(append([]specOpt{
		withRootfs(e.guestRootfs(false, "probe.wasm")), wasmHandler, withArgs("/probe.wasm", "sleep", "100"),
	}, opts...)...)
	st := e.state(id)
	if st.Handler != "wasm" {
		e.t.Fatalf("container %s: handler %q, want wasm", id, st.Handler)
	}
	waitGuestLoaded(e.t, st.Pid)
	return id, st.Pid
}

// bg is a command left running alongside the test, such as a foreground
// `run` or an `exec` that waits for its process.
type bg struct {
	e       *env
	args    []string
	cmd     *exec.Cmd
	collect func() result
	ctx     context.Context
	done    chan struct{}
}

// background starts the binary with args. A cleanup kills it if the test ends
// first; containers it made are removed afterwards by newID's cleanup,
// registered earlier.
func (e *env) background(args ...string) *bg {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	cmd, collect := e.command(ctx, args...)
	if err := cmd.Start(); err != nil {
		cancel()
		e.t.Fatalf("%s %v: %v", wruncBin, args, err)
	}
	b := &bg{e: e, args: args, cmd: cmd, collect: collect, ctx: ctx, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(b.done)
	}()
	e.t.Cleanup(func() {
		cancel()
		<-b.done
	})
	return b
}

// wait returns what the command printed once it has exited.
func (b *bg) wait() result {
	b.e.t.Helper()
	<-b.done
	r := b.collect()
	if b.ctx.Err() != nil {
		b.e.t.Fatalf("%s %v timed out after %v\n%s", wruncBin, b.args, cmdTimeout, r)
	}
	return r
}

// poll waits until cond holds, for things that happen asynchronously.
func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	nodecheck.Eventually(t, 15*time.Second, what, cond)
}

// waitGuestLoaded waits until the wasm runner at pid has mapped its module
// from the cache, which it does after installing its stop-signal handlers:
// a TERM sent earlier is dropped (pid 1 without a handler) or ends the runner
// with the Go runtime's own status.
func waitGuestLoaded(t *testing.T, pid int) {
	t.Helper()
	poll(t, fmt.Sprintf("wasm runner %d to load its module", pid), func() bool {
		_, ok := artifactMapped(pid)
		return ok
	})
}

// artifactMapped returns the cached artifact (its path in the cache) that
// the process at pid maps. The runner maps it from a private mount of that
// one file, where its path is "/": it is found by device and inode.
func artifactMapped(pid int) (string, bool) {
	return artifactMappedFrom(pid, cacheDir)
}

// artifactMappedFrom is artifactMapped for the wasm cache at cache.
func artifactMappedFrom(pid int, cache string) (string, bool) {
	maps, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		return "", false
	}
	artifacts, _ := filepath.Glob(filepath.Join(cache, "*.cwasm"))
	for _, a := range artifacts {
		var st syscall.Stat_t
		if syscall.Stat(a, &st) != nil {
			continue
		}
		// maps gives the device as major:minor in hex, then the inode.
		id := fmt.Sprintf(" %02x:%02x %d ", unix.Major(st.Dev), unix.Minor(st.Dev), st.Ino)
		if strings.Contains(string(maps), id) {
			return a, true
		}
	}
	return "", false
}

// ownCgroupsPath returns a new id and an absolute cgroupsPath for it under
// a parent of its own, which a cleanup removes after the container's.
func (e *env) ownCgroupsPath() (id, cgPath string) {
	e.t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		e.t.Fatal(err)
	}
	parent := "/wrunc-test-" + hex.EncodeToString(b)
	mounts := cgroupMounts(e.t)
	// The runtime leaves parents it created, as runc does.
	e.t.Cleanup(func() {
		for _, mnt := range mounts {
			os.Remove(filepath.Join(mnt, parent))
		}
	})
	id = e.newID()
	return id, parent + "/" + id
}

// sigMask reads a signal mask of /proc/<pid>/status, such as SigCgt.
func sigMask(t *testing.T, pid int, field string) uint64 {
	t.Helper()
	for _, l := range strings.Split(nodecheck.ReadFile(t, fmt.Sprintf("/proc/%d/status", pid)), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				t.Fatalf("/proc/%d/status: %q: %v", pid, l, err)
			}
			return mask
		}
	}
	t.Fatalf("/proc/%d/status has no %s", pid, field)
	return 0
}

// handles reports whether pid has a handler installed for sig.
func handles(t *testing.T, pid int, sig syscall.Signal) bool {
	t.Helper()
	return sigMask(t, pid, "SigCgt")&(1<<(sig-1)) != 0
}

// signalPending reports whether sig is queued, undelivered, for pid.
func signalPending(t *testing.T, pid int, sig syscall.Signal) bool {
	t.Helper()
	return (sigMask(t, pid, "SigPnd")|sigMask(t, pid, "ShdPnd"))&(1<<(sig-1)) != 0
}

// mustFailOneLine is mustFail that also wants the error said in exactly one
// line, which is what an engine shows its user of a runtime failure.
func (e *env) mustFailOneLine(wants []string, args ...string) result {
	e.t.Helper()
	r := e.mustFail(wants, args...)
	assertOneErrorLine(e.t, r)
	return r
}

// assertOneErrorLine wants one level=error line, and nothing else but
// warnings (libcontainer's, about the test spec's ambient capabilities).
func assertOneErrorLine(t *testing.T, r result) {
	t.Helper()
	errs := 0
	for _, l := range strings.Split(strings.TrimRight(r.stderr, "\n"), "\n") {
		switch {
		case strings.Contains(l, "level=error"):
			errs++
		case !strings.Contains(l, "level=warning"):
			errs = -1
		}
	}
	if errs != 1 {
		t.Errorf("want exactly one level=error line on stderr: %s", r)
	}
}

// assertClean checks that nothing of id is left on the node: no state (see
// assertNothingLeft), and no cgroup, mount or process of it.
func (e *env) assertClean(id string) {
	e.t.Helper()
	e.assertNothingLeft(id)
	for kind, leaks := range map[string][]string{
		"cgroups":   cgroupsNamed(e.t, id),
		"mounts":    mountsMentioning(e.t, id, e.root+"/"),
		"processes": processesMentioning(id, e.root+"/"),
	} {
		if len(leaks) > 0 {
			e.t.Errorf("%s left by %s: %v", kind, id, leaks)
		}
	}
}

// mountsMentioning returns the lines of our mountinfo that contain any of
// needles.
func mountsMentioning(t *testing.T, needles ...string) []string {
	t.Helper()
	found, err := nodecheck.Mounts(needles...)
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// processesMentioning describes every process using any of needles (see
// nodecheck.ProcessesUsing).
func processesMentioning(needles ...string) []string {
	return nodecheck.Describe(nodecheck.ProcessesUsing(needles...))
}

// fileHash returns the sha256 of the file at path, to tell whether anything
// wrote to it.
func fileHash(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// pipeToPass returns the write end of a new pipe, for a command to inherit,
// and the link a process holding it shows in /proc/<pid>/fd. Both ends are
// closed when the test ends.
func pipeToPass(t *testing.T) (*os.File, string) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.Close()
		w.Close()
	})
	var st syscall.Stat_t
	if err := syscall.Fstat(int(w.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	return w, fmt.Sprintf("pipe:[%d]", st.Ino)
}
