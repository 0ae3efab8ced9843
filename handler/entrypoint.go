package handler

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"golang.org/x/sys/unix"
)

// defaultPath is searched when process.env has no PATH.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Entrypoint is the file a container would execute.
type Entrypoint struct {
	ContainerPath string // absolute, as the container sees it, after PATH lookup and symlinks
	HostPath      string // the same file on the host: securejoin(rootfs, ContainerPath)
	Format        Format
	rootfs        string
}

// Open opens the entrypoint for reading, resolving it inside the rootfs
// again: the image may have swapped it, or a directory on its path, for a
// symlink since it was resolved, and reading HostPath would follow that
// symlink out to the host.
func (e *Entrypoint) Open() (*os.File, error) {
	f, err := openInRoot(e.rootfs, e.ContainerPath)
	if err != nil {
		return nil, fmt.Errorf("open %s in rootfs: %w", e.ContainerPath, err)
	}
	return f, nil
}

// openInRoot opens the regular file at p, resolved inside rootfs by the
// kernel (openat2's RESOLVE_IN_ROOT: symlinks and ".." cannot lead out). It
// looks at the file through an O_PATH handle before opening it, so that a
// FIFO or a device swapped in is refused without being opened, and then
// opens that very file through the handle's /proc/self/fd link. That is the
// host's /proc: wrunc runs in the host's mount namespace, so the hardened
// private procfs that pathrs-lite mounts for the same step, at a cost of
// ~0.1 ms per create, buys nothing here. pathrs-lite remains the way on
// kernels without openat2.
func openInRoot(rootfs, p string) (*os.File, error) {
	handle, reopen, err := pathInRoot(rootfs, p)
	if err != nil {
		return nil, err
	}
	defer handle.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(handle.Fd()), &st); err != nil {
		return nil, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, errNotRegular
	}
	return reopen(handle, st)
}

// pathInRoot returns an O_PATH handle of p resolved inside rootfs, and how to
// open the file it names for reading.
func pathInRoot(rootfs, p string) (*os.File, func(*os.File, unix.Stat_t) (*os.File, error), error) {
	// A bare fd: it never leaves this function, and os.OpenFile would probe
	// it for the poller on every create.
	root, err := unix.Open(rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, &os.PathError{Op: "open", Path: rootfs, Err: err}
	}
	defer unix.Close(root)
	how := unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS}
	fd, err := openat2Scoped(unix.Openat2, root, p, &how)
	switch {
	case err == nil:
		return os.NewFile(uintptr(fd), p), reopenViaProc, nil
	case errors.Is(err, unix.ENOSYS):
		handle, err := pathrs.OpenInRoot(rootfs, p)
		return handle, func(h *os.File, _ unix.Stat_t) (*os.File, error) {
			return pathrs.Reopen(h, unix.O_RDONLY|unix.O_CLOEXEC)
		}, err
	default:
		return nil, nil, err
	}
}

// scopedLookupRetries bounds the retries of a scoped openat2, as pathrs-lite
// does: the processes of a running container (an exec resolves in its root)
// can rename in a loop to keep every lookup failing, and wrunc must then
// fail rather than spin.
const scopedLookupRetries = 128

// openat2Scoped is openat2 with RESOLVE_IN_ROOT, retried when the kernel
// refuses a lookup that a rename or a mount raced (EAGAIN, or EXDEV when the
// race left the result outside the root), as pathrs-lite does.
func openat2Scoped(openat2 func(int, string, *unix.OpenHow) (int, error), root int, p string, how *unix.OpenHow) (int, error) {
	for retries := 0; ; {
		fd, err := openat2(root, p, how)
		switch {
		case err == nil:
			return fd, nil
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN || err == unix.EXDEV:
			if retries < scopedLookupRetries {
				retries++
				continue
			}
			return -1, &os.PathError{Op: "openat2", Path: p, Err: fmt.Errorf("the path kept changing while it was resolved (%d attempts): %w", retries+1, err)}
		default:
			return -1, &os.PathError{Op: "openat2", Path: p, Err: err}
		}
	}
}

// reopenViaProc opens the file behind an O_PATH handle whose stat is st, and
// checks that it is the same file.
func reopenViaProc(handle *os.File, st unix.Stat_t) (*os.File, error) {
	f, err := os.OpenFile("/proc/self/fd/"+strconv.Itoa(int(handle.Fd())), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	var got unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &got); err != nil || got.Dev != st.Dev || got.Ino != st.Ino {
		f.Close()
		return nil, errors.New("reopened another file than the one resolved")
	}
	return f, nil
}

// notFound reads better in a one-line error than fs.ErrNotExist, yet
// errors.Is(err, fs.ErrNotExist) still holds for callers.
type notFound string

func (e notFound) Error() string      { return string(e) }
func (notFound) Is(target error) bool { return target == fs.ErrNotExist }

var errNotRegular = errors.New("not a regular file")

// ResolveEntrypoint finds args0 inside rootfs as the container would (PATH
// from env when no slash, relative to cwd when relative with slash) and
// sniffs its Format. Symlinks are resolved within rootfs, never on the host.
func ResolveEntrypoint(rootfs, args0, cwd string, env []string) (*Entrypoint, error) {
	ep, _, err := resolve(rootfs, args0, cwd, env)
	return ep, err
}

// resolve is ResolveEntrypoint that also returns the header it read, which
// Select needs to explain a rejection.
func resolve(rootfs, args0, cwd string, env []string) (*Entrypoint, []byte, error) {
	if args0 == "" {
		return nil, nil, errors.New("entrypoint is empty")
	}
	rootfs = filepath.Clean(rootfs)
	host, err := lookPath(rootfs, args0, cwd, env)
	if err != nil {
		return nil, nil, fmt.Errorf("entrypoint %s: %w", args0, err)
	}
	// SecureJoin returns rootfs joined with the resolved in-container path.
	containerPath := path.Join("/", filepath.ToSlash(strings.TrimPrefix(host, rootfs)))
	header, err := readHeader(rootfs, containerPath)
	if err != nil {
		return nil, nil, fmt.Errorf("entrypoint %s: %w", args0, err)
	}
	return &Entrypoint{ContainerPath: containerPath, HostPath: host, Format: Sniff(containerPath, header), rootfs: rootfs}, header, nil
}

// lookPath mirrors exec.LookPath as run by runc inside the container, and
// returns the host path of the regular file it finds.
func lookPath(rootfs, args0, cwd string, env []string) (string, error) {
	if strings.Contains(args0, "/") {
		if !path.IsAbs(args0) {
			args0 = path.Join(cwd, args0)
		}
		return regularFile(rootfs, args0)
	}
	search := searchPath(env)
	for _, dir := range filepath.SplitList(search) {
		// runc refuses a result relative to the cwd (exec.ErrDot), so such
		// PATH entries can never supply the entrypoint.
		if !path.IsAbs(dir) {
			continue
		}
		// Like execvp, a candidate that is missing or unusable lets the
		// search go on.
		if host, err := regularFile(rootfs, path.Join(dir, args0)); err == nil {
			return host, nil
		}
	}
	return "", notFound("not found in PATH=" + search)
}

// searchPath returns the PATH the container's process would use. The last
// definition wins, as runc deduplicates env keeping the last one.
func searchPath(env []string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], "PATH="); ok {
			return v
		}
	}
	return defaultPath
}

// regularFile resolves p within rootfs and checks it is a regular file.
func regularFile(rootfs, p string) (string, error) {
	host, err := securejoin.SecureJoin(rootfs, p)
	if err != nil {
		return "", fmt.Errorf("resolve in rootfs: %w", err)
	}
	// Lstat: SecureJoin already resolved every symlink, so one here could
	// only lead out of the rootfs.
	fi, err := os.Lstat(host)
	switch {
	case securejoin.IsNotExist(err):
		return "", notFound("no such file in rootfs")
	case err != nil:
		return "", err
	case !fi.Mode().IsRegular():
		return "", errNotRegular
	}
	return host, nil
}

// readHeader reads the first headerLen bytes of the file at p inside
// rootfs, or fewer if it is shorter. It opens the file as Open does: the
// image may have swapped any part of the path since it was resolved, and
// the host path would follow a symlinked directory out of the rootfs, to a
// host file or a device whose open does something of its own.
func readHeader(rootfs, p string) ([]byte, error) {
	f, err := openInRoot(rootfs, p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	header := make([]byte, headerLen)
	n, err := io.ReadFull(f, header)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("read header: %w", err)
	}
	return header[:n], nil
}
