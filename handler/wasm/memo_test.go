package wasm

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wrunc/wrunc/handler"
)

// settledCache is a cache whose clock runs an hour ahead, so that the files
// a test has just written count as settled (see racyInterval).
func settledCache(t *testing.T) *Cache {
	return &Cache{Dir: filepath.Join(t.TempDir(), "cache"), now: func() time.Time { return time.Now().Add(time.Hour) }}
}

func copyGuest(t *testing.T, guest, to string) string {
	t.Helper()
	if err := os.WriteFile(to, readAll(t, filepath.Join(guests, guest)), 0o644); err != nil {
		t.Fatal(err)
	}
	return to
}

func moduleMemoKey(t *testing.T, path string) string {
	t.Helper()
	stamp, _, err := moduleStamp(openModule(t, path))
	if err != nil {
		t.Fatalf("stamp %s: %v", path, err)
	}
	return "module " + stamp
}

// A create remembers a settled module's hash and then uses it instead of
// hashing the file; a memo of another boot is not used.
func TestMemoRemembersModuleHash(t *testing.T) {
	c := settledCache(t)
	dir := t.TempDir()
	exit42 := copyGuest(t, "exit42.wasm", filepath.Join(dir, "exit42.wasm"))
	trap := copyGuest(t, "trap.wasm", filepath.Join(dir, "trap.wasm"))
	var compiles atomic.Int32
	own := mustArtifact(t, c, exit42, handler.CoreModule, countingCompile(&compiles))
	other := mustArtifact(t, c, trap, handler.CoreModule, countingCompile(&compiles))

	m := c.memo()
	key := moduleMemoKey(t, exit42)
	sum := sha256.Sum256(readAll(t, exit42))
	if got, ok := m.get(key); !ok || got != hex.EncodeToString(sum[:]) {
		t.Fatalf("memo of %s: %q, %v; want its sha256", exit42, got, ok)
	}
	// Only a remembered hash can lead this file to another module's entry.
	trapSum := sha256.Sum256(readAll(t, trap))
	m.put(key, hex.EncodeToString(trapSum[:]))
	if got := mustArtifact(t, c, exit42, handler.CoreModule, countingCompile(&compiles)); got != other {
		t.Errorf("with a remembered hash: artifact inode %d, want the one the memo names (%d)", got, other)
	}
	memo{dir: m.dir, boot: "another boot"}.put(key, hex.EncodeToString(trapSum[:]))
	if got := mustArtifact(t, c, exit42, handler.CoreModule, countingCompile(&compiles)); got != own {
		t.Errorf("with another boot's memo: artifact inode %d, want the module's own (%d)", got, own)
	}
	if n := compiles.Load(); n != 2 {
		t.Errorf("%d compiles, want 2", n)
	}
}

// A module changed within racyInterval is hashed every time: a second change
// in the same tick of the kernel's clock would not change its stamp.
func TestMemoSkipsUnsettledModules(t *testing.T) {
	c := &Cache{Dir: filepath.Join(t.TempDir(), "cache")}
	module := copyGuest(t, "exit42.wasm", filepath.Join(t.TempDir(), "exit42.wasm"))
	mustArtifact(t, c, module, handler.CoreModule, c.compileBounded)
	if got, ok := c.memo().get(moduleMemoKey(t, module)); ok {
		t.Errorf("memo of a module written just now: %q, want none", got)
	}
}

// The engine's fingerprint is remembered for this binary.
func TestMemoRemembersFingerprint(t *testing.T) {
	c := settledCache(t)
	module := filepath.Join(guests, "exit42.wasm")
	mustArtifact(t, c, module, handler.CoreModule, c.compileBounded)
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/exe", &st); err != nil {
		t.Fatal(err)
	}
	want, err := engineFingerprint(NewEngine())
	if err != nil {
		t.Fatal(err)
	}
	m := c.memo()
	if got, ok := m.get("engine of " + stamp(st)); !ok || got != want {
		t.Errorf("remembered fingerprint %q, %v; want %q", got, ok, want)
	}
	m.put("engine of "+stamp(st), "0123456789abcdef")
	mustArtifact(t, c, module, handler.CoreModule, c.compileBounded)
	if matches, _ := filepath.Glob(filepath.Join(c.Dir, "*-0123456789abcdef.cwasm")); len(matches) != 1 {
		t.Errorf("entries keyed by the remembered fingerprint: %v, want one", matches)
	}
}

// Damage to an artifact whose check is remembered still changes its stamp,
// so it is checked again and rebuilt.
func TestMemoDoesNotHideDamage(t *testing.T) {
	c := settledCache(t)
	var compiles atomic.Int32
	module := filepath.Join(guests, "exit42.wasm")
	mustArtifact(t, c, module, handler.CoreModule, countingCompile(&compiles))
	mustArtifact(t, c, module, handler.CoreModule, countingCompile(&compiles)) // checked and remembered
	artifacts, err := filepath.Glob(filepath.Join(c.Dir, "*.cwasm"))
	if err != nil || len(artifacts) != 1 {
		t.Fatalf("artifacts %v, %v", artifacts, err)
	}
	// Past the tick of the kernel's coarse clock in which the artifact was
	// written, as racyInterval ensures outside tests, whose clock is ahead.
	time.Sleep(50 * time.Millisecond)
	f, err := os.OpenFile(artifacts[0], os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("garbage"), 1000); err != nil {
		t.Fatal(err)
	}
	f.Close()
	mustArtifact(t, c, module, handler.CoreModule, countingCompile(&compiles))
	if n := compiles.Load(); n != 2 {
		t.Errorf("%d compiles, want a rebuild of the damaged artifact", n)
	}
}

func TestMemoClean(t *testing.T) {
	c := settledCache(t)
	m := c.memo()
	m.put("kept", "1")
	memo{dir: m.dir, boot: "another boot"}.put("gone", "2")
	if err := os.WriteFile(m.path("torn")+".tmp123", []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	m.clean(false)
	names, _ := filepath.Glob(filepath.Join(m.dir, "*"))
	if v, ok := m.get("kept"); len(names) != 1 || !ok || v != "1" {
		t.Errorf("after clean: %v, kept=%q %v; want only this boot's memo", names, v, ok)
	}
	m.clean(true)
	if names, _ := filepath.Glob(filepath.Join(m.dir, "*")); len(names) != 0 {
		t.Errorf("after clean(forget): %v, want nothing", names)
	}
}
