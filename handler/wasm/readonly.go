package wasm

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// openReadOnly opens path for reading through a detached, read-only bind
// mount of that one file, made for this open and gone with the last
// descriptor or mapping of it.
//
// An artifact is handed to a container's runner, which keeps a descriptor
// and mappings of it while the guest runs. A process of the container that
// may reach those (one with CAP_SYS_PTRACE, through /proc/1/fd or
// map_files, or a guest that takes over the runner through /proc/self/mem)
// could otherwise reopen the file for writing, truncate it or change its
// times: it is the node's cache entry, shared by every container of the
// module. On a read-only mount the kernel refuses all of that (EROFS)
// whatever the caller's capabilities, short of CAP_SYS_ADMIN, which could
// remount. It is the same file, so the artifact's page cache stays shared
// between containers. The mount costs ~0.1 ms per open, most of it the
// detach when the mount's descriptor is closed.
func openReadOnly(path string) (*os.File, error) {
	tree, err := unix.OpenTree(unix.AT_FDCWD, path, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("open wasm artifact %s on a private mount: %w", path, err)
	}
	defer unix.Close(tree)
	// Not noexec: wasmtime maps the artifact's code executable.
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV}
	if err := unix.MountSetattr(tree, "", unix.AT_EMPTY_PATH, &attr); err != nil {
		return nil, fmt.Errorf("make the mount of wasm artifact %s read-only: %w", path, err)
	}
	// The host's /proc: wrunc runs in the host's mount namespace.
	fd, err := unix.Open("/proc/self/fd/"+strconv.Itoa(tree), unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, fmt.Errorf("open wasm artifact %s: %w", path, err)
	}
	return os.NewFile(uintptr(fd), path), nil
}
