package wasm

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/bytecodealliance/wasmtime-go/v39"
	"golang.org/x/sys/unix"
)

// Cache holds precompiled artifacts. Dir is created 0700, entries 0600.
//
// An entry is <module sha256>-<engine fingerprint> with the suffixes .cwasm
// (the wasmtime artifact, mmapped by the runner, hence never rewritten in
// place), .sum (its size and sha256, so a truncated or corrupt artifact is
// recompiled instead of handed out) and .lock (flocked while an entry is
// checked or built, so concurrent creates of a new module compile it once).
type Cache struct{ Dir string }

// compileFunc is a seam for tests to count compilations.
type compileFunc func(engine *wasmtime.Engine, module []byte, path string) ([]byte, error)

// Artifact returns an open read-only (O_CLOEXEC) file of the precompiled
// artifact for the module at hostPath (a .wasm core module, or .wat text when
// wat is true), compiling it on a miss.
func (c *Cache) Artifact(hostPath string, wat bool) (*os.File, error) {
	return c.artifact(hostPath, wat, compile)
}

func (c *Cache) artifact(hostPath string, wat bool, compile compileFunc) (*os.File, error) {
	module, err := os.ReadFile(hostPath)
	if err != nil {
		return nil, fmt.Errorf("read module: %w", err)
	}
	if wat {
		// Keyed by the binary so that a module has one entry whatever its source form.
		if module, err = wasmtime.Wat2Wasm(string(module)); err != nil {
			return nil, fmt.Errorf("parse %s: %w", hostPath, err)
		}
	}
	engine := NewEngine()
	fingerprint, err := engineFingerprint(engine)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(module)
	base := filepath.Join(c.Dir, hex.EncodeToString(sum[:])+"-"+fingerprint)

	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("create wasm cache: %w", err)
	}
	lock, err := os.OpenFile(base+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open wasm cache lock: %w", err)
	}
	defer lock.Close() // drops the flock
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return nil, fmt.Errorf("lock %s: %w", lock.Name(), err)
	}

	if f, err := openVerified(base); err == nil {
		return f, nil
	}
	artifact, err := compile(engine, module, hostPath)
	if err != nil {
		return nil, err
	}
	digest, err := digestOf(bytes.NewReader(artifact))
	if err != nil {
		return nil, err
	}
	if err := writeReplace(base+".cwasm", artifact); err != nil {
		return nil, err
	}
	if err := writeReplace(base+".sum", []byte(digest)); err != nil {
		return nil, err
	}
	f, err := os.Open(base + ".cwasm")
	if err != nil {
		return nil, fmt.Errorf("open wasm artifact: %w", err)
	}
	return f, nil
}

// compile also rejects, at create rather than inside the container, modules
// the runner could not start.
func compile(engine *wasmtime.Engine, wasm []byte, path string) ([]byte, error) {
	module, err := wasmtime.NewModule(engine, wasm)
	if err != nil {
		return nil, fmt.Errorf("compile %s: %w", path, err)
	}
	if err := checkLinkable(engine, module, path); err != nil {
		return nil, err
	}
	artifact, err := module.Serialize()
	if err != nil {
		return nil, fmt.Errorf("serialize %s: %w", path, err)
	}
	return artifact, nil
}

// checkLinkable matches the module's imports against the runner's linker,
// which provides WASI preview 1 only, and requires a WASI command entry point.
func checkLinkable(engine *wasmtime.Engine, module *wasmtime.Module, path string) error {
	linker := wasmtime.NewLinker(engine)
	if err := linker.DefineWasi(); err != nil {
		return fmt.Errorf("define WASI: %w", err)
	}
	store := wasmtime.NewStore(engine)
	for _, imp := range module.Imports() {
		var field string
		if name := imp.Name(); name != nil {
			field = *name
		}
		name := imp.Module() + "." + field
		provided := linker.Get(store, imp.Module(), field)
		if provided == nil {
			return fmt.Errorf("module %s imports %s, which wrunc does not provide", path, name)
		}
		if want, have := signature(imp.Type()), signature(provided.Type(store)); want != have {
			return fmt.Errorf("module %s imports %s as %s, but wrunc provides %s", path, name, want, have)
		}
	}
	for _, exp := range module.Exports() {
		if exp.Name() == "_start" && signature(exp.Type()) == "func[] -> []" {
			return nil
		}
	}
	return fmt.Errorf("module %s has no _start function export (only WASI commands can run)", path)
}

func signature(ty *wasmtime.ExternType) string {
	ft := ty.FuncType()
	if ft == nil {
		return "a non-function"
	}
	return fmt.Sprintf("func%v -> %v", ft.Params(), ft.Results())
}

// openVerified opens an entry's artifact if it matches its recorded digest.
func openVerified(base string) (*os.File, error) {
	want, err := os.ReadFile(base + ".sum")
	if err != nil {
		return nil, err
	}
	f, err := os.Open(base + ".cwasm")
	if err != nil {
		return nil, err
	}
	got, err := digestOf(f)
	if err == nil && got != string(want) {
		err = errors.New("wasm artifact does not match its checksum")
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func digestOf(r io.Reader) (string, error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		return "", fmt.Errorf("hash wasm artifact: %w", err)
	}
	return fmt.Sprintf("%d %x\n", n, h.Sum(nil)), nil
}

// writeReplace puts data at path by renaming a new file over it: a runner may
// have the old artifact mmapped, and rewriting that in place would SIGBUS it.
// There is no fsync: after a crash the digest check catches a torn entry.
func writeReplace(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write wasm cache entry: %w", err)
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write wasm cache entry %s: %w", path, err)
	}
	return nil
}
