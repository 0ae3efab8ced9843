package wasm

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// A create with a cached artifact spent most of its CPU on results that
// cannot change while the node stays up and the files stay untouched: the
// fingerprint of this binary's engine, the hash of a module file, the
// checksum of an artifact. The memo keeps them in <cache>/memo for the
// current boot, keyed by what would change if they could: the identity and
// change times of the file they were computed from. A memo of another boot
// is never used, so every artifact is checksummed once per boot (when its
// pages come back from disk) and whenever its file changes.
type memo struct {
	dir  string
	boot string // the kernel's boot id; "" when unknown, which disables the memo
}

const memoDir = "memo"

// racyInterval is how old a module file's last change must be for its hash to
// be remembered: a file changed again within the same tick of the kernel's
// coarse clock would keep its change time, and its stale hash.
const racyInterval = 2 * time.Second

func (c *Cache) memo() memo {
	boot, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return memo{}
	}
	return memo{dir: filepath.Join(c.Dir, memoDir), boot: strings.TrimSpace(string(boot))}
}

// get returns what was put under key in this boot.
func (m memo) get(key string) (string, bool) {
	if m.boot == "" {
		return "", false
	}
	data, err := os.ReadFile(m.path(key))
	if err != nil {
		return "", false
	}
	boot, rest, _ := strings.Cut(string(data), "\n")
	storedKey, value, _ := strings.Cut(rest, "\n")
	if boot != m.boot || storedKey != key {
		return "", false
	}
	return value, true
}

// put remembers value under key, by rename so that a reader never sees half
// of it. It is best effort: a memo that cannot be written is recomputed.
func (m memo) put(key, value string) {
	if m.boot == "" {
		return
	}
	if err := os.MkdirAll(m.dir, 0o700); err != nil {
		return
	}
	path := m.path(key)
	tmp, err := os.CreateTemp(m.dir, filepath.Base(path)+".tmp*")
	if err != nil {
		return
	}
	_, err = tmp.WriteString(m.boot + "\n" + key + "\n" + value)
	if cerr := tmp.Close(); err == nil && cerr == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
}

func (m memo) path(key string) string {
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(m.dir, hex.EncodeToString(sum[:16]))
}

// clean removes the memos of other boots (all of them with forget) and the
// temp files of writers that died (or are writing now: their put fails,
// which only costs a recompute).
func (m memo) clean(forget bool) {
	names, err := filepath.Glob(filepath.Join(m.dir, "*"))
	if err != nil {
		return
	}
	for _, name := range names {
		data, err := os.ReadFile(name)
		if forget || err != nil || m.boot == "" || strings.Contains(filepath.Base(name), ".tmp") ||
			!bytes.HasPrefix(data, []byte(m.boot+"\n")) {
			os.Remove(name)
		}
	}
}

// stamp identifies a file's content within one boot: its inode and whatever
// any write changes (size, modification and change times).
func stamp(st unix.Stat_t) string {
	return fmt.Sprintf("%d:%d size %d mtime %d.%09d ctime %d.%09d", st.Dev, st.Ino, st.Size,
		st.Mtim.Sec, st.Mtim.Nsec, st.Ctim.Sec, st.Ctim.Nsec)
}

// atHandleFID asks name_to_handle_at for a handle that identifies the file
// without having to be usable to open it (Linux 6.5), which overlayfs gives
// without its nfs_export option.
const atHandleFID = 0x200

// moduleStamp identifies a module file's content within one boot across
// mounts: a container's rootfs is usually a new overlay mount each time,
// with a new device number, while its image's files stay the same files of
// a lower layer, which overlayfs's file handle names. Other filesystems'
// handles are unique only within the filesystem, so their fsid is added.
func moduleStamp(f *os.File) (string, unix.Stat_t, error) {
	var st unix.Stat_t
	var fs unix.Statfs_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return "", st, err
	}
	if err := unix.Fstatfs(int(f.Fd()), &fs); err != nil {
		return "", st, err
	}
	handle, _, err := unix.NameToHandleAt(int(f.Fd()), "", unix.AT_EMPTY_PATH|atHandleFID)
	if err != nil {
		return "", st, err
	}
	where := "overlay"
	if fs.Type != unix.OVERLAYFS_SUPER_MAGIC {
		where = fmt.Sprintf("fs %x %x:%x", fs.Type, uint32(fs.Fsid.Val[0]), uint32(fs.Fsid.Val[1]))
	}
	return fmt.Sprintf("%s handle %d:%x size %d mtime %d.%09d ctime %d.%09d", where, handle.Type(), handle.Bytes(),
		st.Size, st.Mtim.Sec, st.Mtim.Nsec, st.Ctim.Sec, st.Ctim.Nsec), st, nil
}

// settled says whether a file last changed at ctime is old enough for a
// result computed from it to be remembered (see racyInterval).
func settled(st unix.Stat_t, now time.Time) bool {
	return now.Sub(time.Unix(st.Ctim.Sec, st.Ctim.Nsec)) > racyInterval
}
