package wasm

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/wrunc/wrunc/handler"
	"github.com/wrunc/wrunc/lockfile"
)

// Cache holds precompiled artifacts. Dir is created 0700, its files 0600
// but for the artifacts, 0444.
//
// An entry is <module sha256>-<engine fingerprint> with the suffixes .cwasm
// (the wasmtime artifact, mmapped by the runner, hence never rewritten in
// place), .sum (its record: size, SHA-256 and module facts, so a truncated,
// corrupt or altered artifact is recompiled instead of handed out; its
// mtime is the entry's last use) and .lock (flocked while an entry is
// checked, built or evicted, so concurrent creates of a new module compile
// it once). memo/ holds what was computed for the current boot (see memo).
//
// Only wrunc writes the cache, as root. Containers get artifacts only as
// descriptors on a read-only mount (openReadOnly), which any uid may read
// (a runner runs as the container's user) and none may write; the module's
// content hash in the key keeps one image from reaching another's entry.
type Cache struct {
	Dir           string
	MaxSize       int64         // bytes of artifacts to keep, least recently used evicted first; 0: unbounded
	MaxModuleSize int64         // bytes of a module file; 0: unbounded (see DefaultMaxModuleSize)
	Limits        CompileLimits // of each compile (see compileBounded)

	now func() time.Time // for tests; nil: time.Now
}

// Entry describes one cached artifact.
type Entry struct {
	Key      string // <module sha256>-<engine fingerprint>
	Size     int64
	LastUsed time.Time
}

const (
	artifactSuffix = ".cwasm"
	sumSuffix      = ".sum"
	lockSuffix     = ".lock"
)

// compileFunc is a seam for tests to count compilations: it compiles module
// of kind (a binary: WatText's is converted already; name is for messages)
// for the entry at entry (its path without suffix).
type compileFunc func(module []byte, kind handler.Format, name, entry string) ([]byte, error)

// Artifact is a precompiled module, open for a runner.
type Artifact struct {
	*os.File // read-only, close-on-exec, on a read-only mount (openReadOnly)
	Facts    ModuleFacts

	// commit, for an artifact just compiled, makes its entry durable and
	// known to the cache; until then the entry stays locked.
	commit func() error
}

// Commit finishes the cache entry of an artifact just compiled: syncs it
// to disk, writes its record and releases the entry's lock. An artifact is
// usable before that, so a caller hands it to its runner first: the
// container does not wait for the disk. Until the record is written, a
// crash leaves an artifact without one, which the next create of the module
// compiles again. Commit does nothing the second time, or for an artifact
// that was cached already.
func (a *Artifact) Commit() error {
	commit := a.commit
	a.commit = nil
	if commit == nil {
		return nil
	}
	return commit()
}

// Close commits the artifact's entry, if it is new, and closes the file.
func (a *Artifact) Close() error {
	return errors.Join(a.Commit(), a.File.Close())
}

// Artifact returns the precompiled artifact for the module of the given
// kind read from src (a core module, its text, or a component), compiling
// it on a miss. The caller opens src, safely within the container's rootfs.
// Errors call the module name: the path the container sees, not where its
// rootfs is on the host.
func (c *Cache) Artifact(src *os.File, name string, kind handler.Format) (*Artifact, error) {
	return c.artifact(src, name, kind, c.compileBounded)
}

func (c *Cache) artifact(src *os.File, name string, kind handler.Format, compile compileFunc) (*Artifact, error) {
	if err := checkModuleFile(src, name, c.MaxModuleSize); err != nil {
		return nil, err
	}
	m := c.memo()
	sum, load, err := c.moduleKey(src, name, kind == handler.WatText, m)
	if err != nil {
		return nil, err
	}
	// An engine is created only when the fingerprint is not remembered.
	fingerprint, err := rememberedFingerprint(m, NewEngine)
	if err != nil {
		return nil, err
	}
	base := filepath.Join(c.Dir, hex.EncodeToString(sum[:])+"-"+fingerprint)

	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("create wasm cache: %w", err)
	}
	f, compiled, err := c.lockedArtifact(base, m, func() ([]byte, ModuleFacts, error) {
		module, err := load()
		if err != nil {
			return nil, ModuleFacts{}, err
		}
		facts, err := factsOf(kind, module)
		if err != nil {
			return nil, facts, fmt.Errorf("compile %s: %w", name, err)
		}
		start := time.Now()
		artifact, err := compile(module, kind, name, base)
		if err == nil {
			// A compile is the one slow step of a wasm create: worth a line
			// in a debug log, and what tells a miss from a hit.
			logrus.Debugf("compiled %s into the wasm cache in %v", name, time.Since(start).Round(time.Millisecond))
		}
		return artifact, facts, err
	})
	if err != nil {
		return nil, err
	}
	if compiled && c.MaxSize > 0 {
		// Only a new entry can push the cache over its bound, once it is
		// committed.
		commit := f.commit
		f.commit = func() error {
			if err := commit(); err != nil {
				return err
			}
			_, err := c.Prune(c.MaxSize)
			return err
		}
	}
	return f, nil
}

// rememberedFingerprint is engineFingerprint, remembered for this binary
// for the boot (the CPU's features do not change within one).
func rememberedFingerprint(m memo, engine func() *wasmtime.Engine) (string, error) {
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/exe", &st); err != nil {
		return engineFingerprint(engine())
	}
	key := "engine of " + stamp(st)
	if fingerprint, ok := m.get(key); ok {
		return fingerprint, nil
	}
	fingerprint, err := engineFingerprint(engine())
	if err == nil {
		m.put(key, fingerprint)
	}
	return fingerprint, err
}

// moduleKey returns the sha256 of the module in src (of its binary form when
// wat) and a function that reads the module for a compile. A binary module
// is hashed through a mapping, which costs a create with a cached artifact
// no heap, and the hash is remembered for the file for the boot; a compile
// reads the module again and checks the hash, so that the entry holds code
// compiled from exactly the bytes its key names, even if the file is
// rewritten in between.
func (c *Cache) moduleKey(src *os.File, name string, wat bool, m memo) (sum [sha256.Size]byte, load func() ([]byte, error), err error) {
	if !wat {
		if sum, err = c.rememberedSHA256(src, m); err != nil {
			return sum, nil, fmt.Errorf("read module %s: %w", name, err)
		}
		load = func() ([]byte, error) {
			module, err := readModule(src)
			if err != nil {
				return nil, fmt.Errorf("read module %s: %w", name, err)
			}
			if sha256.Sum256(module) != sum {
				return nil, fmt.Errorf("read module %s: it changed while being read", name)
			}
			return module, nil
		}
		return sum, load, nil
	}
	text, err := readModule(src)
	if err != nil {
		return sum, nil, fmt.Errorf("read module %s: %w", name, err)
	}
	// Keyed by the binary so that a module has one entry whatever its source form.
	module, err := wasmtime.Wat2Wasm(string(text))
	if err != nil {
		return sum, nil, fmt.Errorf("parse %s: %w", name, err)
	}
	return sha256.Sum256(module), func() ([]byte, error) { return module, nil }, nil
}

// rememberedSHA256 is mappedSHA256, remembered for the file for the boot
// once the file has settled (see racyInterval). A file that cannot be named
// across mounts is hashed every time.
func (c *Cache) rememberedSHA256(src *os.File, m memo) (sum [sha256.Size]byte, err error) {
	before, st, serr := moduleStamp(src)
	key := "module " + before
	if serr == nil {
		if value, ok := m.get(key); ok {
			if b, err := hex.DecodeString(value); err == nil && len(b) == len(sum) {
				copy(sum[:], b)
				return sum, nil
			}
		}
	}
	if sum, err = mappedSHA256(src); err != nil {
		return sum, err
	}
	if serr == nil && settled(st, c.clock()) {
		if after, _, err := moduleStamp(src); err == nil && after == before {
			m.put(key, hex.EncodeToString(sum[:]))
		}
	}
	return sum, nil
}

func (c *Cache) clock() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

// mappedSHA256 hashes f through a read-only mapping. Whoever else can write
// the rootfs may truncate the file under the mapping: the fault is then an
// error rather than a crash.
func mappedSHA256(f *os.File) (sum [sha256.Size]byte, err error) {
	st, err := f.Stat()
	if err != nil {
		return sum, err
	}
	return sha256OfMapping(f, st.Size())
}

// sha256OfMapping hashes the first size bytes of f through a mapping.
func sha256OfMapping(f *os.File, size int64) (sum [sha256.Size]byte, err error) {
	if size == 0 {
		return sha256.Sum256(nil), nil
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return sum, fmt.Errorf("map: %w", err)
	}
	defer unix.Munmap(data)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("it changed while being read: %v", r)
		}
	}()
	return sha256.Sum256(data), nil
}

// readModule reads src whole, from its start, into a buffer of its size:
// growing one from io.ReadAll's 512 bytes cost more than hashing a
// multi-megabyte module.
func readModule(src *os.File) ([]byte, error) {
	st, err := src.Stat()
	if err != nil {
		return nil, err
	}
	buf := bytes.NewBuffer(make([]byte, 0, st.Size()+bytes.MinRead))
	_, err = buf.ReadFrom(io.NewSectionReader(src, 0, math.MaxInt64))
	return buf.Bytes(), err
}

// lockedArtifact opens base's artifact, building it first when it is
// missing or damaged, all under the entry's lock; a built artifact's entry
// is committed, and its lock released, by the artifact's Commit.
func (c *Cache) lockedArtifact(base string, m memo, build func() ([]byte, ModuleFacts, error)) (_ *Artifact, compiled bool, err error) {
	lock, err := lockfile.Lock(base+lockSuffix, unix.LOCK_EX)
	if err != nil {
		return nil, false, err
	}
	defer func() {
		if !compiled || err != nil {
			lock.Close() // drops the flock
		}
	}()

	if f, err := c.openVerified(base, m); err == nil {
		now := time.Now()
		// The LRU clock; a failure only makes the entry look older.
		_ = os.Chtimes(base+sumSuffix, now, now)
		return f, false, nil
	}
	artifact, facts, err := build()
	if err != nil {
		return nil, false, err
	}
	// Readable by any uid: the runner opens it again (wasmtime maps it by
	// path, /proc/self/fd/N) as the container's user.
	written, err := writeReplace(base+artifactSuffix, artifact, 0o444, false)
	if err != nil {
		return nil, false, err
	}
	f, err := openReadOnly(base + artifactSuffix)
	if err != nil {
		written.Close()
		return nil, false, err
	}
	return &Artifact{File: f, Facts: facts, commit: func() error {
		defer lock.Close()
		err := written.Sync()
		if cerr := written.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			var rec *os.File
			rec, err = writeReplace(base+sumSuffix, []byte(recordOf(artifact, facts).String()), 0o600, true)
			if err == nil {
				err = rec.Close()
			}
		}
		if err != nil {
			return fmt.Errorf("commit wasm cache entry %s: %w", base, err)
		}
		return nil
	}}, true, nil
}

// Entries lists the cache's artifacts, least recently used first.
func (c *Cache) Entries() ([]Entry, error) {
	paths, err := filepath.Glob(filepath.Join(c.Dir, "*"+artifactSuffix))
	if err != nil {
		return nil, fmt.Errorf("list wasm cache: %w", err)
	}
	var entries []Entry
	for _, p := range paths {
		base := strings.TrimSuffix(p, artifactSuffix)
		art, err1 := os.Stat(p)
		sum, err2 := os.Stat(base + sumSuffix)
		if err1 != nil || err2 != nil {
			continue // being written or evicted
		}
		entries = append(entries, Entry{Key: filepath.Base(base), Size: art.Size(), LastUsed: sum.ModTime()})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].LastUsed.Before(entries[j].LastUsed) })
	return entries, nil
}

// Prune evicts least recently used entries until the artifacts take at most
// maxSize bytes, and removes what crashed writers left and the memos of
// other boots. Entries in use by a create are skipped; running containers
// keep their mapped artifact, as an unlinked file stays valid for whoever
// has it open.
func (c *Cache) Prune(maxSize int64) ([]Entry, error) {
	entries, err := c.Entries()
	if err != nil {
		return nil, err
	}
	var total int64
	for _, e := range entries {
		total += e.Size
	}
	var removed []Entry
	for _, e := range entries {
		if total <= maxSize {
			break
		}
		ok, err := c.evict(e.Key)
		if err != nil {
			return removed, err
		}
		if ok {
			total -= e.Size
			removed = append(removed, e)
		}
	}
	// Evicting everything forgets everything.
	c.memo().clean(maxSize == 0)
	return removed, c.removeOrphans()
}

// evict removes one entry unless a create holds it.
func (c *Cache) evict(key string) (bool, error) {
	base := filepath.Join(c.Dir, key)
	lock, err := lockfile.Lock(base+lockSuffix, unix.LOCK_EX|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer lock.Close()
	for _, suffix := range []string{artifactSuffix, sumSuffix, lockSuffix} {
		if err := os.Remove(base + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return false, fmt.Errorf("evict wasm cache entry %s: %w", key, err)
		}
	}
	return true, nil
}

// removeOrphans deletes temp files, lock files and artifacts without a
// record whose entry is not being written: the leftovers of a create
// killed half-way.
func (c *Cache) removeOrphans() error {
	names, err := filepath.Glob(filepath.Join(c.Dir, "*"))
	if err != nil {
		return fmt.Errorf("list wasm cache: %w", err)
	}
	for _, name := range names {
		base, temp := orphanBase(filepath.Base(name))
		if base == "" {
			continue
		}
		base = filepath.Join(c.Dir, base)
		if !temp && recorded(base) {
			continue // a live entry
		}
		lock, err := lockfile.Lock(base+lockSuffix, unix.LOCK_EX|unix.LOCK_NB)
		if err != nil {
			continue // a create is writing this entry now
		}
		if temp {
			_ = os.Remove(name)
		} else if !recorded(base) {
			_ = os.Remove(base + artifactSuffix) // never committed
		}
		if _, err := os.Stat(base + artifactSuffix); errors.Is(err, os.ErrNotExist) {
			_ = os.Remove(base + lockSuffix)
		}
		lock.Close()
	}
	return nil
}

// recorded tells whether base's entry has its record, without which its
// artifact, if any, is not used.
func recorded(base string) bool {
	_, err := os.Stat(base + sumSuffix)
	return err == nil
}

// orphanBase returns the entry a temp or lock file name belongs to ("" for
// other files) and whether it is a temp file.
func orphanBase(name string) (base string, temp bool) {
	for _, suffix := range []string{artifactSuffix, sumSuffix} {
		if i := strings.Index(name, suffix+".tmp"); i > 0 {
			return name[:i], true
		}
	}
	if b, ok := strings.CutSuffix(name, lockSuffix); ok {
		return b, false
	}
	return "", false
}

// compile is the compiler's (see compileBounded). It also rejects, at
// create rather than inside the container, modules the runner could not
// start.
func compile(engine *wasmtime.Engine, wasm []byte, path string) ([]byte, error) {
	module, err := wasmtime.NewModule(engine, wasm)
	if err != nil {
		return nil, fmt.Errorf("compile %s: %w", path, err)
	}
	if err := checkLinkable(module, path); err != nil {
		return nil, err
	}
	artifact, err := module.Serialize()
	if err != nil {
		return nil, fmt.Errorf("serialize %s: %w", path, err)
	}
	return artifact, nil
}

// openVerified opens an entry's artifact if it matches its record: checked
// once per boot while the file stays as it was (see memo), since a check
// reads all of a multi-megabyte artifact.
func (c *Cache) openVerified(base string, m memo) (*Artifact, error) {
	text, err := os.ReadFile(base + sumSuffix)
	if err != nil {
		return nil, err
	}
	rec, err := parseRecord(string(text))
	if err != nil {
		return nil, err
	}
	f, err := openReadOnly(base + artifactSuffix)
	if err != nil {
		return nil, err
	}
	var st unix.Stat_t
	serr := unix.Fstat(int(f.Fd()), &st)
	key := "artifact " + stamp(st)
	if value, ok := m.get(key); ok && serr == nil && value == rec.String() {
		return &Artifact{File: f, Facts: rec.facts}, nil
	}
	if err := checkMapped(f, rec); err != nil {
		f.Close()
		return nil, err
	}
	if serr == nil && settled(st, c.clock()) {
		m.put(key, rec.String())
	}
	return &Artifact{File: f, Facts: rec.facts}, nil
}

// checkMapped checks f against its record through a read-only mapping of
// the page cache: reading a multi-megabyte artifact into the heap costs
// more than hashing it.
func checkMapped(f *os.File, rec record) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if st.Size() != rec.size || st.Size() == 0 {
		return errors.New("wasm artifact does not match its record")
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("map wasm artifact: %w", err)
	}
	defer unix.Munmap(data)
	if !rec.matches(data) {
		return errors.New("wasm artifact does not match its record")
	}
	return nil
}

// writeReplace puts data at path, with mode perm, by renaming a new file
// over it (a runner may have the old artifact mmapped, and rewriting that in
// place would SIGBUS it), and returns the new file, open for writing. With
// sync, the file is on disk before it is named: a crash then leaves the
// old file or the new one, not one that is named but empty.
func writeReplace(path string, data []byte, perm os.FileMode, sync bool) (*os.File, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return nil, fmt.Errorf("write wasm cache entry: %w", err)
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(perm)
	}
	if err == nil && sync {
		err = tmp.Sync()
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("write wasm cache entry %s: %w", path, err)
	}
	return tmp, nil
}
