// Package engines runs wrunc under the engines that call it in production:
// podman through conmon, and containerd through its runc v2 shim, driven by
// ctr and through the CRI. The suite starts each engine itself, privately
// (configuration, storage, state and sockets in one temporary directory,
// every container's cgroups below one cgroup of its own), builds its images
// locally from the repository's sources and /bin/busybox, and checks that
// nothing of a container outlives its removal. It needs root.
package engines

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/wrunc/wrunc/tests/nodecheck"
)

var (
	wruncBin     string
	workDir      string // everything the suite and its engines write
	cgroupParent string // every container's cgroups are below it, in each hierarchy
	skipReason   string

	teardownMu sync.Mutex
	teardowns  []func() error
)

// Host paths that the engines create whatever they are configured with
// (containers/image's blob cache, podman's network run dir, the shims'
// sockets, the CNI library's cache of results); the suite removes those it
// created.
var engineHostDirs = []string{"/var/lib/containers", "/run/containers", "/run/containerd", "/var/lib/cni"}

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	if skipReason = nodecheck.SkipUnlessRoot("the engines suite starts container engines: it needs root"); skipReason != "" {
		return m.Run()
	}
	var err error
	if wruncBin, err = nodecheck.Wrunc(filepath.Join("..", "..")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var created []string
	for _, d := range engineHostDirs {
		if _, err := os.Lstat(d); errors.Is(err, fs.ErrNotExist) {
			created = append(created, d)
		}
	}
	if workDir, err = os.MkdirTemp("", "wrunc-engines-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cgroupParent = "/" + filepath.Base(workDir)
	code := m.Run()
	if err := teardown(created); err != nil {
		fmt.Fprintln(os.Stderr, "engines suite teardown:", err)
		code = 1
	}
	return code
}

// atTeardown registers f to run after all tests, before the suite checks
// that nothing is left; the last registered runs first.
func atTeardown(f func() error) {
	teardownMu.Lock()
	defer teardownMu.Unlock()
	teardowns = append(teardowns, f)
}

// teardown stops the engines, then removes what is left below the work dir
// and the suite's cgroup. Anything still running or mounted there by then
// is a leak, reported as an error after it has been removed.
func teardown(createdHostDirs []string) error {
	var errs []error
	slices.Reverse(teardowns)
	for _, f := range teardowns {
		errs = append(errs, f())
	}
	if pids := nodecheck.Processes(workDir); len(pids) > 0 {
		errs = append(errs, fmt.Errorf("processes left running: %s", strings.Join(nodecheck.Describe(pids), "; ")))
		errs = append(errs, nodecheck.Kill(pids))
	}
	mounts, err := nodecheck.MountsUnder(workDir)
	errs = append(errs, err)
	for _, m := range mounts {
		errs = append(errs, fmt.Errorf("mount left behind: %s", m))
		if err := syscall.Unmount(m, syscall.MNT_DETACH); err != nil {
			errs = append(errs, fmt.Errorf("umount %s: %w", m, err))
		}
	}
	errs = append(errs, removeCgroupTree(cgroupParent))
	if err := os.RemoveAll(workDir); err != nil {
		errs = append(errs, err)
	}
	for _, d := range createdHostDirs {
		// Only if empty for /run/containerd: another containerd may have
		// come up since, and its sockets are not ours to remove.
		if d == "/run/containerd" {
			os.Remove(filepath.Join(d, "s"))
			os.Remove(d)
			continue
		}
		os.RemoveAll(d)
	}
	return errors.Join(errs...)
}

// requireTools skips t when an engine's package is not installed; every
// tool here is a Debian package that scripts/deps.sh installs.
func requireTools(t *testing.T, tools ...string) {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (scripts/deps.sh installs it): %v", tool, err)
		}
	}
}

// fixture is something set up once, by the first test that needs it; if
// that fails, every test that needs it fails with the same error.
type fixture[T any] struct {
	once sync.Once
	val  T
	err  error
}

func (f *fixture[T]) get(t *testing.T, setup func() (T, error)) T {
	t.Helper()
	f.once.Do(func() { f.val, f.err = setup() })
	if f.err != nil {
		t.Fatal(f.err)
	}
	return f.val
}

// busyboxApplets are linked into the busybox image; the containers the
// tests start use nothing else.
var busyboxApplets = []string{"sh", "sleep", "echo", "cat", "true", "test", "kill", "ls", "ps"}

// buildContext lays out what the images are built from: a busybox rootfs,
// the wasm test guests built from testdata/ and the static pause binary.
func buildContext(dir string) error {
	rootfs := filepath.Join(dir, "rootfs")
	if err := os.MkdirAll(filepath.Join(rootfs, "bin"), 0o755); err != nil {
		return err
	}
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		return fmt.Errorf("busybox (Debian's busybox-static): %w", err)
	}
	if err := os.WriteFile(filepath.Join(rootfs, "bin", "busybox"), bb, 0o755); err != nil {
		return err
	}
	for _, a := range busyboxApplets {
		if err := os.Symlink("busybox", filepath.Join(rootfs, "bin", a)); err != nil {
			return err
		}
	}
	build := exec.Command(filepath.Join("..", "..", "testdata", "build.sh"), dir)
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("building the wasm guests: %v\n%s", err, out)
	}
	gcc := exec.Command("gcc", "-static", "-O2", "-o", filepath.Join(dir, "pause"), filepath.Join("testdata", "pause.c"))
	if out, err := gcc.CombinedOutput(); err != nil {
		return fmt.Errorf("building the pause binary: %v\n%s", err, out)
	}
	return nil
}

// writeFiles writes each name (relative to dir) with its content.
func writeFiles(dir string, files map[string]string) error {
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// lines returns the lines of s that contain sub, for failure messages.
func lines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
