package tests

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// withUser runs the container's process as uid:gid with extra groups.
func withUser(uid, gid uint32, extra ...uint32) specOpt {
	return func(s *specs.Spec) {
		s.Process.User = specs.User{UID: uid, GID: gid, AdditionalGids: extra}
	}
}

// TestWasmAnyUser checks that wasm containers, and processes exec'd into
// them, run as any user, as native ones do: Kubernetes' restricted Pod
// Security Standard requires runAsNonRoot.
func TestWasmAnyUser(t *testing.T) {
	for _, probe := range []string{"probe.wasm", "probe.component.wasm"} {
		t.Run("init "+probe, func(t *testing.T) {
			e := newEnv(t)
			rootfs := e.guestRootfs(false, probe)
			bundle := e.bundle(withRootfs(rootfs), withWritableRootfs(), wasmHandler, withUser(1000, 1000, 2000),
				withArgs("/"+probe, "write", "/tmp/by-guest", "hello"))
			e.mustRun("run", "--bundle", bundle, e.newID())
			assertOwner(t, filepath.Join(rootfs, "tmp/by-guest"), 1000, 1000)
		})
	}
	t.Run("exec", func(t *testing.T) {
		e := newEnv(t)
		rootfs := e.guestRootfs(true, "probe.wasm")
		id, _ := e.startWasmSleeper(withRootfs(rootfs), withWritableRootfs(), withUser(1000, 1000),
			withAnnotations(map[string]string{variantKey: "compat-smart"}))
		e.mustRun("exec", "--user", "1001:1002", "--additional-gids", "2000", id,
			"/probe.wasm", "write", "/tmp/by-exec", "hello")
		assertOwner(t, filepath.Join(rootfs, "tmp/by-exec"), 1001, 1002)
		// A native process next to it, as a sidecar would be.
		if r := e.mustRun("exec", "--user", "65534:65534", id, "id", "-u"); strings.TrimSpace(r.stdout) != "65534" {
			t.Errorf("native exec as 65534: %s", r)
		}
	})
	t.Run("native", func(t *testing.T) {
		e := newEnv(t)
		bundle := e.bundle(withUser(1000, 1000, 2000, 2001), withArgs("sh", "-c", "id -u; id -G"))
		r := e.mustRun("run", "--bundle", bundle, e.newID())
		if got := strings.Fields(r.stdout); strings.Join(got, " ") != "1000 1000 2000 2001" {
			t.Errorf("native as 1000:1000 +2000,2001: id says %q", r.stdout)
		}
	})
}

func assertOwner(t *testing.T, path string, uid, gid int) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	sys := st.Sys().(*syscall.Stat_t)
	if int(sys.Uid) != uid || int(sys.Gid) != gid {
		t.Errorf("%s belongs to %d:%d, want %d:%d", path, sys.Uid, sys.Gid, uid, gid)
	}
}

// artifactWrites tries, from a process exec'd into a wasm container with
// the capabilities that reach the runner's descriptors (CAP_SYS_PTRACE)
// and override file modes (CAP_DAC_OVERRIDE, CAP_FOWNER), every way of
// changing the host's cached artifact through them: appending, writing in
// place, truncating, and setting its times. It prints what succeeded.
const artifactWrites = `
for f in /proc/1/fd/*; do
	[ "$(stat -L -c %i "$f" 2>/dev/null)" = "$ARTIFACT_INODE" ] || continue
	echo "reached $f" >&2
	{ printf X >> "$f"; } 2>/dev/null && echo "appended to $f"
	{ printf X 1<> "$f"; } 2>/dev/null && echo "wrote in place to $f"
	touch -c -d '2000-01-01 00:00:00' "$f" 2>/dev/null && echo "set the times of $f"
	{ printf '' > "$f"; } 2>/dev/null && echo "truncated $f"
done
true`

// TestWasmCacheUnwritable checks that nothing a container can reach lets
// it change the node's compile cache: the runner's descriptor and mappings
// of the artifact lead to a read-only mount of it.
func TestWasmCacheUnwritable(t *testing.T) {
	for _, probe := range []string{"probe.wasm", "probe.component.wasm"} {
		t.Run(probe, func(t *testing.T) { testWasmCacheUnwritable(t, probe) })
	}
}

func testWasmCacheUnwritable(t *testing.T, probe string) {
	e := newEnv(t)
	id, pid := e.startWasmSleeper(withRootfs(e.guestRootfs(true, probe)), withArgs("/"+probe, "sleep", "100"),
		withAnnotations(map[string]string{variantKey: "compat-smart"}))
	artifact := mappedArtifact(t, pid)
	before, beforeStat := fileHash(t, artifact), statOf(t, artifact)
	t.Cleanup(func() {
		if fileHash(t, artifact) != before || statOf(t, artifact) != beforeStat {
			t.Errorf("the cached artifact %s changed", artifact)
		}
	})

	t.Run("exec with ptrace", func(t *testing.T) {
		var st syscall.Stat_t
		if err := syscall.Stat(artifact, &st); err != nil {
			t.Fatal(err)
		}
		r := e.on(t).mustRun("exec", "--cap", "CAP_SYS_PTRACE", "--cap", "CAP_DAC_OVERRIDE", "--cap", "CAP_FOWNER",
			"--env", fmt.Sprintf("ARTIFACT_INODE=%d", st.Ino), id, "sh", "-c", artifactWrites)
		if !strings.Contains(r.stderr, "reached /proc/1/fd/") {
			t.Errorf("the attack did not reach the runner's descriptor of the artifact: %s", r)
		}
		if r.stdout != "" {
			t.Errorf("the container changed the artifact through the runner's descriptors:\n%s", r.stdout)
		}
	})
	// The host's root has every capability: what it cannot do through the
	// runner's descriptors and mappings, no process of the container can,
	// nor a guest that took the runner over (through /proc/self/mem).
	t.Run("every capability", func(t *testing.T) {
		want, err := os.Stat(artifact)
		if err != nil {
			t.Fatal(err)
		}
		links, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", pid))
		maps, _ := filepath.Glob(fmt.Sprintf("/proc/%d/map_files/*", pid))
		reached := 0
		for _, l := range append(links, maps...) {
			if st, err := os.Stat(l); err != nil || !os.SameFile(st, want) {
				continue
			}
			reached++
			if f, err := os.OpenFile(l, os.O_WRONLY|os.O_APPEND, 0); err == nil {
				f.Close()
				t.Errorf("opened %s for writing", l)
			}
			if err := os.Truncate(l, 0); err == nil {
				t.Errorf("truncated %s", l)
			}
			if err := os.Chtimes(l, time.Unix(0, 0), time.Unix(0, 0)); err == nil {
				t.Errorf("set the times of %s", l)
			}
			if err := os.Chmod(l, 0o666); err == nil {
				t.Errorf("changed the mode of %s", l)
			}
		}
		if reached == 0 {
			t.Fatalf("runner %d holds no descriptor or mapping of %s", pid, artifact)
		}
	})
}

// statOf is what a write, truncate, chmod or utimes would change.
func statOf(t *testing.T, path string) string {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d %v %v", st.Size(), st.Mode(), st.ModTime().UnixNano())
}

// sparseModule writes a module header followed by a hole of size bytes in
// all: nothing on disk, gigabytes to whoever reads it.
func sparseModule(t *testing.T, path string, size int64) {
	t.Helper()
	if err := os.WriteFile(path, []byte("\x00asm\x01\x00\x00\x00"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
}

// inMemoryCgroup makes a command run in a cgroup of its own limited to
// limit bytes, as wrunc runs under a shim, conmon or kubelet that has a
// memory limit.
func inMemoryCgroup(t *testing.T, limit int64) func(*exec.Cmd) {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	name := "wrunc-test-caller-" + hex.EncodeToString(b)
	dir, limitFile := filepath.Join("/sys/fs/cgroup/memory", name), "memory.limit_in_bytes"
	if _, err := os.Stat("/sys/fs/cgroup/memory"); err != nil {
		dir, limitFile = filepath.Join("/sys/fs/cgroup", name), "memory.max" // cgroup v2
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reapCgroups(t, name) })
	if err := os.WriteFile(filepath.Join(dir, limitFile), []byte(fmt.Sprint(limit)), 0o644); err != nil {
		t.Fatal(err)
	}
	return func(cmd *exec.Cmd) {
		cmd.Args = append([]string{"sh", "-c", `echo $$ > "$0/cgroup.procs" && exec "$@"`, dir}, cmd.Args...)
		cmd.Path = "/bin/sh"
	}
}

// TestWasmModuleFileLimits checks that a module file is sized up before
// anything of it is read: a sparse file of many GiB (4 KiB on disk), from
// an image or planted by a running container for an exec (a liveness
// probe), would otherwise cost the node that much memory.
func TestWasmModuleFileLimits(t *testing.T) {
	cases := []struct {
		name string
		size int64
		want string
	}{
		{"8 GiB", 8 << 30, "is 8GiB, over the limit of 128MiB (--max-module-size, $WRUNC_MAX_MODULE_SIZE)"},
		{"100 MiB sparse", 100 << 20, "is a sparse file (100MiB with holes): refused"},
	}
	for _, c := range cases {
		t.Run(c.name+" at create", func(t *testing.T) {
			e := newEnv(t)
			rootfs := e.guestRootfs(false)
			sparseModule(t, filepath.Join(rootfs, "huge.wasm"), c.size)
			id, bundle := e.newID(), e.bundle(withRootfs(rootfs), wasmHandler, withArgs("/huge.wasm"))
			r := e.runWith(inMemoryCgroup(t, 256<<20), "create", "--bundle", bundle, id)
			if r.code == 0 || !strings.Contains(r.stderr, "/huge.wasm "+c.want) {
				t.Fatalf("create of a %s module: %s\nwant %q", c.name, r, c.want)
			}
			assertOneErrorLine(t, r)
			e.assertClean(id)
		})
		t.Run(c.name+" at exec", func(t *testing.T) {
			e := newEnv(t)
			rootfs := e.guestRootfs(false, "probe.wasm")
			id, _ := e.startWasmSleeper(withRootfs(rootfs))
			// Planted while the container runs, as a guest with a
			// writable root or a sidecar sharing a volume could.
			sparseModule(t, filepath.Join(rootfs, "health.wasm"), c.size)
			r := e.runWith(inMemoryCgroup(t, 256<<20), "exec", id, "/health.wasm")
			if r.code == 0 || !strings.Contains(r.stderr, "/health.wasm "+c.want) {
				t.Fatalf("exec of a %s module: %s\nwant %q", c.name, r, c.want)
			}
			assertOneErrorLine(t, r)
			if st := e.state(id); st.Status != specs.StateRunning {
				t.Errorf("container %s after the refused exec: %s", id, st.Status)
			}
		})
	}
	t.Run("over the size limit", func(t *testing.T) {
		e := newEnv(t)
		id, bundle := e.newID(), e.wasmBundle([]string{"hello.wasm"})
		limit := func(cmd *exec.Cmd) { cmd.Env = append(os.Environ(), "WRUNC_MAX_MODULE_SIZE=1MiB") }
		r := e.runWith(limit, "run", "--bundle", bundle, id)
		if r.code == 0 || !strings.Contains(r.stderr, "/hello.wasm is 2.") ||
			!strings.Contains(r.stderr, "over the limit of 1MiB (--max-module-size, $WRUNC_MAX_MODULE_SIZE)") {
			t.Fatalf("run of a 2.5 MB module with a 1 MiB limit: %s\nwant it refused, naming the limit", r)
		}
		assertOneErrorLine(t, r)
		e.assertClean(id)
	})
}

// TestWasmGuestBoundInTotal checks that the in-engine bound covers all a
// guest allocates: several memories share the guest's share of the
// container's limit, and tables are bounded too, so the guest sees its
// grows fail instead of the container being OOM-killed.
func TestWasmGuestBoundInTotal(t *testing.T) {
	limit := int64(64 << 20)
	cases := []struct {
		guest string
		want  int
		why   string
	}{
		// 44 MiB shared by six memories: 7 whole MiB each past its first page.
		{"multimem.wasm", 42, "MiB in six memories"},
		// A 16th of 44 MiB in 8-byte elements: five steps of 64 Ki.
		{"bigtable.wasm", 5, "steps of 64 Ki table elements"},
	}
	for _, c := range cases {
		t.Run(c.guest, func(t *testing.T) {
			e := newEnv(t)
			bundle := e.wasmBundle([]string{c.guest}, withResources(&specs.LinuxResources{
				Memory: &specs.LinuxMemory{Limit: &limit},
			}))
			if r := e.run("run", "--bundle", bundle, e.newID()); r.code != c.want {
				t.Errorf("%s under a 64 MiB limit: %s\nwant exit %d (%s)", c.guest, r, c.want, c.why)
			}
		})
	}
}
