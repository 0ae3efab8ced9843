package wasm

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bytecodealliance/wasmtime-go/v39"
	"golang.org/x/sys/unix"

	"github.com/wrunc/wrunc/handler"
	"github.com/wrunc/wrunc/lockfile"
)

// countingCompile counts compilations, each held open for a while so that
// concurrent callers would overlap were they not serialized.
func countingCompile(n *atomic.Int32) compileFunc {
	return func(module []byte, kind handler.Format, name, _ string) ([]byte, error) {
		n.Add(1)
		time.Sleep(50 * time.Millisecond)
		return compileInCompiler(module, kind, name, bounds{})
	}
}

func openModule(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func inode(t *testing.T, f *os.File) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// mustArtifact returns a usable artifact and its inode.
func mustArtifact(t *testing.T, c *Cache, path string, kind handler.Format, compile compileFunc) uint64 {
	t.Helper()
	f, err := c.artifact(openModule(t, path), path, kind, compile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	module, err := wasmtime.NewModuleDeserializeFile(NewEngine(), f.Name())
	if err != nil {
		t.Fatalf("deserialize %s: %v", f.Name(), err)
	}
	// Unmapped now, since tests go on to damage the file in place.
	module.Close()
	return inode(t, f.File)
}

func TestArtifactCompilesOnce(t *testing.T) {
	c := &Cache{Dir: filepath.Join(t.TempDir(), "cache")}
	var compiles atomic.Int32
	for _, kind := range []handler.Format{handler.CoreModule, handler.WatText} {
		compiles.Store(0)
		module := filepath.Join(guests, "exit42.wasm")
		if kind == handler.WatText {
			module = filepath.Join(guests, "exit42.wat")
		}
		first := mustArtifact(t, c, module, kind, countingCompile(&compiles))
		second := mustArtifact(t, c, module, kind, countingCompile(&compiles))
		if n := compiles.Load(); n != 1 || second != first {
			t.Errorf("%s twice: %d compiles, inodes %d and %d; want 1 compile, one file", module, n, first, second)
		}
	}
}

func TestArtifactFile(t *testing.T) {
	c := &Cache{Dir: filepath.Join(t.TempDir(), "cache")}
	f, err := c.Artifact(openModule(t, filepath.Join(guests, "trap.wasm")), "/trap.wasm", handler.CoreModule)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fdFlags, err := unix.FcntlInt(f.Fd(), unix.F_GETFD, 0)
	if err != nil {
		t.Fatal(err)
	}
	flags, err := unix.FcntlInt(f.Fd(), unix.F_GETFL, 0)
	if err != nil {
		t.Fatal(err)
	}
	if fdFlags&unix.FD_CLOEXEC == 0 || flags&unix.O_ACCMODE != unix.O_RDONLY {
		t.Errorf("artifact fd flags %#x, status flags %#x; want close-on-exec and read-only", fdFlags, flags)
	}
	// Usable before its entry is committed: uncommitted, it has no record
	// and is not listed, and its entry stays locked.
	if records, _ := filepath.Glob(filepath.Join(c.Dir, "*"+sumSuffix)); len(records) != 0 {
		t.Errorf("records before the commit: %v", records)
	}
	if listed, err := c.Entries(); err != nil || len(listed) != 0 {
		t.Errorf("entries before the commit: %v, %v; want none", listed, err)
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if listed, err := c.Entries(); err != nil || len(listed) != 1 {
		t.Errorf("entries after the commit: %v, %v; want one", listed, err)
	}
	entries, err := os.ReadDir(c.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 4 {
		t.Errorf("cache holds %d files, want 4 (.cwasm, .sum, .lock, memo/)", len(entries))
	}
	memos, err := os.ReadDir(filepath.Join(c.Dir, memoDir))
	if err != nil || len(memos) == 0 {
		t.Errorf("memo holds %d files (%v), want the engine's fingerprint at least", len(memos), err)
	}
	paths := append(mapNames(c.Dir, entries), mapNames(filepath.Join(c.Dir, memoDir), memos)...)
	for _, path := range append([]string{c.Dir}, paths...) {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		want := os.FileMode(0o600)
		switch {
		case st.IsDir():
			want = 0o700
		case strings.HasSuffix(path, artifactSuffix):
			want = 0o444 // the runner opens it again as the container's user
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s has mode %v, want %v", path, st.Mode().Perm(), want)
		}
	}
}

func mapNames(dir string, entries []os.DirEntry) []string {
	var paths []string
	for _, e := range entries {
		paths = append(paths, filepath.Join(dir, e.Name()))
	}
	return paths
}

func TestArtifactDamagedEntryIsRebuilt(t *testing.T) {
	damage := map[string]func(base string) error{
		"truncated": func(base string) error { return os.Truncate(base+".cwasm", 100) },
		"corrupt": func(base string) error {
			f, err := os.OpenFile(base+".cwasm", os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = f.WriteAt([]byte("garbage"), 1000)
			return err
		},
		"no checksum": func(base string) error { return os.Remove(base + ".sum") },
		"no artifact": func(base string) error { return os.Remove(base + ".cwasm") },
	}
	for name, damage := range damage {
		t.Run(name, func(t *testing.T) {
			c := &Cache{Dir: t.TempDir()}
			var compiles atomic.Int32
			module := filepath.Join(guests, "exit42.wasm")
			mustArtifact(t, c, module, handler.CoreModule, countingCompile(&compiles))
			artifacts, err := filepath.Glob(filepath.Join(c.Dir, "*.lock"))
			if err != nil || len(artifacts) != 1 {
				t.Fatalf("lock files %v, %v", artifacts, err)
			}
			if err := damage(strings.TrimSuffix(artifacts[0], ".lock")); err != nil {
				t.Fatal(err)
			}
			mustArtifact(t, c, module, handler.CoreModule, countingCompile(&compiles))
			if n := compiles.Load(); n != 2 {
				t.Errorf("%d compiles, want a rebuild", n)
			}
		})
	}
}

func TestArtifactConcurrentCompilesOnce(t *testing.T) {
	c := &Cache{Dir: t.TempDir()}
	var compiles atomic.Int32
	inodes := make([]uint64, 8)
	var wg sync.WaitGroup
	for i := range inodes {
		wg.Go(func() {
			inodes[i] = mustArtifact(t, c, filepath.Join(guests, "spin.wasm"), handler.CoreModule, countingCompile(&compiles))
		})
	}
	wg.Wait()
	if n := compiles.Load(); n != 1 {
		t.Errorf("%d concurrent lookups compiled %d times, want once", len(inodes), n)
	}
	for _, ino := range inodes[1:] {
		if ino != inodes[0] {
			t.Errorf("concurrent lookups got different files: inodes %v", inodes)
			break
		}
	}
}

func TestArtifactRejectsUnrunnableModules(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]struct{ wat, err string }{
		"unknown import": {
			`(module (import "env" "foo" (func)) (func (export "_start")))`,
			"imports env.foo, which wrunc does not provide",
		},
		"unknown WASI function": {
			`(module (import "wasi_snapshot_preview1" "bogus" (func)) (func (export "_start")))`,
			"imports wasi_snapshot_preview1.bogus, which wrunc does not provide",
		},
		"wrong signature": {
			`(module (import "wasi_snapshot_preview1" "proc_exit" (func (param i64))) (func (export "_start")))`,
			"imports wasi_snapshot_preview1.proc_exit as func[i64] -> [], but wrunc provides func[i32] -> []",
		},
		"no _start": {
			`(module (func (export "main")))`,
			"has no _start function export",
		},
		"invalid": {`(module (func (export "_start") (result i32)))`, "compile "},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".wat")
			if err := os.WriteFile(path, []byte(tc.wat), 0o600); err != nil {
				t.Fatal(err)
			}
			c := &Cache{Dir: t.TempDir()}
			f, err := c.Artifact(openModule(t, path), path, handler.WatText)
			if err == nil {
				f.Close()
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("error %q, want one naming %s and containing %q", err, path, tc.err)
			}
			if cwasm, _ := filepath.Glob(filepath.Join(c.Dir, "*.cwasm")); len(cwasm) != 0 {
				t.Errorf("rejected module left cache entries %v", cwasm)
			}
		})
	}
}

func TestArtifactBadImportMessage(t *testing.T) {
	path := filepath.Join(guests, "badimport.wasm")
	_, err := (&Cache{Dir: t.TempDir()}).Artifact(openModule(t, path), path, handler.CoreModule)
	want := "module " + path + " imports env.foo, which wrunc does not provide"
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
}

func TestPruneEvictsLeastRecentlyUsed(t *testing.T) {
	c := &Cache{Dir: filepath.Join(t.TempDir(), "cache")}
	modules := []string{"exit42.wasm", "trap.wasm", "spin.wasm"}
	past := time.Now().Add(-time.Hour)
	for i, m := range modules {
		mustArtifact(t, c, filepath.Join(guests, m), handler.CoreModule, c.compileBounded)
		entries, err := c.Entries()
		if err != nil || len(entries) != i+1 {
			t.Fatalf("entries after %s: %v %v", m, entries, err)
		}
		// Distinct last uses without sleeping: the i-th module was used i minutes after the first.
		used := past.Add(time.Duration(i) * time.Minute)
		for _, e := range entries {
			if e.LastUsed.After(past.Add(time.Duration(i-1) * time.Minute)) {
				if err := os.Chtimes(filepath.Join(c.Dir, e.Key+sumSuffix), used, used); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	// Use the oldest again: it becomes the most recent.
	mustArtifact(t, c, filepath.Join(guests, modules[0]), handler.CoreModule, c.compileBounded)
	entries, err := c.Entries()
	if err != nil {
		t.Fatal(err)
	}
	newest := entries[len(entries)-1]
	removed, err := c.Prune(newest.Size)
	if err != nil {
		t.Fatal(err)
	}
	left, _ := c.Entries()
	if len(removed) != 2 || len(left) != 1 || left[0].Key != newest.Key {
		t.Fatalf("prune to one entry: removed %v, left %v; want only %s left", removed, left, newest.Key)
	}
	names, _ := os.ReadDir(c.Dir)
	if got := mapNames(c.Dir, names); len(got) != 4 {
		t.Errorf("files left: %v, want the one entry's .cwasm .sum .lock, and memo/", got)
	}
}

func TestPruneSkipsEntriesInUseAndRemovesOrphans(t *testing.T) {
	c := &Cache{Dir: filepath.Join(t.TempDir(), "cache")}
	mustArtifact(t, c, filepath.Join(guests, "exit42.wasm"), handler.CoreModule, c.compileBounded)
	entries, _ := c.Entries()
	base := filepath.Join(c.Dir, entries[0].Key)
	// A create holding the entry: prune must leave it.
	lock, err := lockfile.Lock(base+lockSuffix, unix.LOCK_EX)
	if err != nil {
		t.Fatal(err)
	}
	// What creates killed while writing other entries leave behind: a
	// temp file, and an artifact killed before its commit wrote a record.
	orphan, uncommitted := filepath.Join(c.Dir, "deadbeef-0000"), filepath.Join(c.Dir, "deadbeef-0001")
	for _, name := range []string{orphan + artifactSuffix + ".tmp123", orphan + lockSuffix,
		uncommitted + artifactSuffix, uncommitted + lockSuffix} {
		if err := os.WriteFile(name, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if removed, err := c.Prune(0); err != nil || len(removed) != 0 {
		t.Fatalf("prune with the entry locked: removed %v, %v; want nothing", removed, err)
	}
	lock.Close()
	names, _ := os.ReadDir(c.Dir)
	for _, n := range mapNames(c.Dir, names) {
		if strings.HasPrefix(filepath.Base(n), "deadbeef") {
			t.Errorf("orphan %s not removed", n)
		}
	}
	if removed, err := c.Prune(0); err != nil || len(removed) != 1 {
		t.Fatalf("prune after unlock: removed %v, %v; want the entry", removed, err)
	}
}

// A module truncated while it is being hashed faults the mapping: that must
// be an error of the create, not a crash of wrunc.
func TestModuleTruncatedWhileHashed(t *testing.T) {
	f := openModule(t, filepath.Join(guests, "exit42.wasm"))
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	// A mapping past the end of the file is what a truncation leaves.
	if _, err := sha256OfMapping(f, st.Size()+2*int64(os.Getpagesize())); err == nil || !strings.Contains(err.Error(), "changed while being read") {
		t.Errorf("hashing past the end of the file: err %v, want a fault reported as an error", err)
	}
	want := sha256.Sum256(readAll(t, f.Name()))
	if got, err := mappedSHA256(f); err != nil || got != want {
		t.Errorf("mappedSHA256 = %x, %v; want %x", got, err, want)
	}
}

// A module rewritten between its hash and its compile must not be cached
// under the old hash: another image with the old bytes would get the new code.
func TestModuleRewrittenBeforeCompile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.wasm")
	if err := os.WriteFile(path, readAll(t, filepath.Join(guests, "exit42.wasm")), 0o644); err != nil {
		t.Fatal(err)
	}
	src := openModule(t, path)
	_, load, err := (&Cache{}).moduleKey(src, "/m.wasm", false, memo{})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, readAll(t, filepath.Join(guests, "trap.wasm")), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := load(); err == nil || !strings.Contains(err.Error(), "changed while being read") {
		t.Errorf("load after a rewrite: %v, want an error", err)
	}
}

func readAll(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
