// The guest's descriptor table and the fd_* calls on open descriptors.
//
// A WASI fd is an index into the table, which maps it to a host fd the
// runner opened for the guest (or the guest's stdio): the guest names only
// its own descriptors, never the runner's (wasmtime's artifact fd and
// whatever else the runner holds), whatever numbers it tries.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "wasi_shared.h"

// At most this many descriptors, as the host's RLIMIT_NOFILE bounds them
// anyway: the table is the one allocation a guest grows.
#define WASI_MAX_FDS (1u << 20)

#define FILE_RIGHTS                                                                                         \
	(WASI_RIGHT(WASI_RIGHT_FD_DATASYNC) | WASI_RIGHT(WASI_RIGHT_FD_READ) | WASI_RIGHT(WASI_RIGHT_FD_SEEK) | \
	 WASI_RIGHT(WASI_RIGHT_FD_FDSTAT_SET_FLAGS) | WASI_RIGHT(WASI_RIGHT_FD_SYNC) |                        \
	 WASI_RIGHT(WASI_RIGHT_FD_TELL) | WASI_RIGHT(WASI_RIGHT_FD_WRITE) | WASI_RIGHT(WASI_RIGHT_FD_ADVISE) | \
	 WASI_RIGHT(WASI_RIGHT_FD_ALLOCATE) | WASI_RIGHT(WASI_RIGHT_FD_FILESTAT_GET) |                        \
	 WASI_RIGHT(WASI_RIGHT_FD_FILESTAT_SET_SIZE) | WASI_RIGHT(WASI_RIGHT_FD_FILESTAT_SET_TIMES) |         \
	 WASI_RIGHT(WASI_RIGHT_POLL_FD_READWRITE))
#define DIRECTORY_RIGHTS                                                                                    \
	(WASI_RIGHT(WASI_RIGHT_PATH_CREATE_DIRECTORY) | WASI_RIGHT(WASI_RIGHT_PATH_CREATE_FILE) |            \
	 WASI_RIGHT(WASI_RIGHT_PATH_LINK_SOURCE) | WASI_RIGHT(WASI_RIGHT_PATH_LINK_TARGET) |                  \
	 WASI_RIGHT(WASI_RIGHT_PATH_OPEN) | WASI_RIGHT(WASI_RIGHT_FD_READDIR) |                               \
	 WASI_RIGHT(WASI_RIGHT_PATH_READLINK) | WASI_RIGHT(WASI_RIGHT_PATH_RENAME_SOURCE) |                   \
	 WASI_RIGHT(WASI_RIGHT_PATH_RENAME_TARGET) | WASI_RIGHT(WASI_RIGHT_PATH_SYMLINK) |                    \
	 WASI_RIGHT(WASI_RIGHT_PATH_REMOVE_DIRECTORY) | WASI_RIGHT(WASI_RIGHT_PATH_UNLINK_FILE) |             \
	 WASI_RIGHT(WASI_RIGHT_PATH_FILESTAT_GET) | WASI_RIGHT(WASI_RIGHT_PATH_FILESTAT_SET_TIMES) |          \
	 WASI_RIGHT(WASI_RIGHT_FD_FILESTAT_GET) | WASI_RIGHT(WASI_RIGHT_FD_FILESTAT_SET_TIMES))
#define SOCKET_RIGHTS                                                                                       \
	(WASI_RIGHT(WASI_RIGHT_FD_READ) | WASI_RIGHT(WASI_RIGHT_FD_WRITE) |                                  \
	 WASI_RIGHT(WASI_RIGHT_FD_FDSTAT_SET_FLAGS) | WASI_RIGHT(WASI_RIGHT_FD_FILESTAT_GET) |                \
	 WASI_RIGHT(WASI_RIGHT_POLL_FD_READWRITE) | WASI_RIGHT(WASI_RIGHT_SOCK_SHUTDOWN) |                    \
	 WASI_RIGHT(WASI_RIGHT_SOCK_ACCEPT))

uint8_t wasi_filetype_of_mode(unsigned mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return WASI_FILETYPE_REGULAR_FILE;
	case S_IFDIR:
		return WASI_FILETYPE_DIRECTORY;
	case S_IFCHR:
		return WASI_FILETYPE_CHARACTER_DEVICE;
	case S_IFBLK:
		return WASI_FILETYPE_BLOCK_DEVICE;
	case S_IFLNK:
		return WASI_FILETYPE_SYMBOLIC_LINK;
	case S_IFSOCK:
		return WASI_FILETYPE_SOCKET_STREAM;
	default: // a pipe, as wasmtime reports it
		return WASI_FILETYPE_UNKNOWN;
	}
}

// wasi_filetype_of returns the WASI file type of host and the rights
// wasmtime reports for it: a file's or socket's, less reading or writing if
// its mode lacks them; a directory's, which it passes on to files and
// directories opened under it.
uint8_t wasi_filetype_of(int host, uint64_t *base, uint64_t *inheriting)
{
	struct stat st;
	uint8_t type = WASI_FILETYPE_UNKNOWN;

	if (fstat(host, &st) == 0)
		type = wasi_filetype_of_mode(st.st_mode);
	if (type == WASI_FILETYPE_SOCKET_STREAM) {
		int sotype;
		socklen_t len = sizeof sotype;
		if (getsockopt(host, SOL_SOCKET, SO_TYPE, &sotype, &len) == 0 && sotype == SOCK_DGRAM)
			type = WASI_FILETYPE_SOCKET_DGRAM;
	}
	if (type == WASI_FILETYPE_DIRECTORY) {
		*base = DIRECTORY_RIGHTS;
		*inheriting = DIRECTORY_RIGHTS | FILE_RIGHTS;
		return type;
	}
	*base = type == WASI_FILETYPE_SOCKET_STREAM || type == WASI_FILETYPE_SOCKET_DGRAM ? SOCKET_RIGHTS
											      : FILE_RIGHTS;
	int mode = fcntl(host, F_GETFL);
	if (mode >= 0 && (mode & O_ACCMODE) == O_WRONLY)
		*base &= ~WASI_RIGHT(WASI_RIGHT_FD_READ);
	if (mode >= 0 && (mode & O_ACCMODE) == O_RDONLY)
		*base &= ~WASI_RIGHT(WASI_RIGHT_FD_WRITE);
	*inheriting = *base;
	return type;
}

struct wasi_fd *wasi_fd_get(struct wasi *w, uint64_t fd)
{
	if (fd >= w->nfds || w->fds[fd].host < 0)
		return NULL;
	return &w->fds[fd];
}

// slot returns the lowest free slot at or after from, growing the table.
static struct wasi_fd *slot(struct wasi *w, uint32_t from, uint32_t *fd)
{
	for (uint32_t i = from; i < w->nfds; i++)
		if (w->fds[i].host < 0) {
			*fd = i;
			return &w->fds[i];
		}
	uint32_t n = w->nfds < 16 ? 16 : w->nfds * 2;
	if (from >= n || n > WASI_MAX_FDS)
		return NULL;
	struct wasi_fd *fds = realloc(w->fds, n * sizeof *fds);
	if (fds == NULL)
		return NULL;
	for (uint32_t i = w->nfds; i < n; i++)
		fds[i] = (struct wasi_fd){.host = -1};
	w->fds = fds;
	*fd = from > w->nfds ? from : w->nfds;
	w->nfds = n;
	return &w->fds[*fd];
}

// wasi_fd_add gives host (which the guest now owns) a guest fd.
uint32_t wasi_fd_add(struct wasi *w, int host, uint32_t *fd)
{
	struct wasi_fd *f = slot(w, 0, fd);
	if (f == NULL) {
		close(host);
		return WASI_EMFILE;
	}
	*f = (struct wasi_fd){.host = host};
	f->filetype = wasi_filetype_of(host, &f->rights_base, &f->rights_inheriting);
	return WASI_ESUCCESS;
}

static bool add_preopen(struct wasi *w, const char *path, bool in_root)
{
	uint32_t fd;
	int host = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (host < 0 || wasi_fd_add(w, host, &fd) != WASI_ESUCCESS)
		return false;
	w->fds[fd].preopen = path;
	w->fds[fd].in_root = in_root;
	return true;
}

bool wasi_init(struct wasi *w, int argc, char **argv, int envc, char **envv, const char *cwd)
{
	*w = (struct wasi){.argc = argc, .argv = argv, .envc = envc, .envv = envv, .module = "the module"};
	// The guest's stdio is the runner's: the container's.
	for (int i = 0; i < 3; i++) {
		uint32_t fd;
		struct wasi_fd *f = slot(w, (uint32_t)i, &fd);
		if (f == NULL) {
			errno = ENOMEM;
			return false;
		}
		*f = (struct wasi_fd){.host = i, .shared = true};
		f->filetype = wasi_filetype_of(i, &f->rights_base, &f->rights_inheriting);
	}
	// WASI has no working directory. Go's wasip1 runtime (when PWD is
	// unset) and Zig take the first preopen as theirs, and wasi-libc and Go
	// resolve absolute paths by the longest preopen prefix, so preopening
	// the cwd before / gives guests the process cwd without adding to their
	// env.
	if (strcmp(cwd, "/") != 0 && !add_preopen(w, cwd, false))
		return false;
	return add_preopen(w, "/", true);
}

uint32_t wasi_iovecs(const struct wasi_mem *m, uint64_t iovs, uint64_t n, struct iovec *out)
{
	if (n > WASI_IOV_MAX)
		return WASI_EINVAL;
	const uint8_t *list = mem_at(m, iovs, n * 8);
	if (list == NULL)
		return WASI_EFAULT;
	for (uint64_t i = 0; i < n; i++) {
		uint32_t buf = get_u32(list + 8 * i), len = get_u32(list + 8 * i + 4);
		uint8_t *p = mem_at(m, buf, len);
		if (p == NULL)
			return WASI_EFAULT;
		out[i] = (struct iovec){.iov_base = p, .iov_len = len};
	}
	return WASI_ESUCCESS;
}

static bool is_socket(const struct wasi_fd *f)
{
	return f->filetype == WASI_FILETYPE_SOCKET_STREAM || f->filetype == WASI_FILETYPE_SOCKET_DGRAM;
}

// ready_now emulates non-blocking mode on a shared descriptor: false if a
// transfer would wait; a write is cut to what a pipe or terminal that polls
// writable takes at once.
static bool ready_now(int host, bool write, struct iovec *iov, uint64_t n)
{
	struct pollfd p = {.fd = host, .events = write ? POLLOUT : POLLIN};
	if (poll(&p, 1, 0) == 0)
		return false;
	size_t room = PIPE_BUF;
	for (uint64_t i = 0; i < n; i++) {
		if (iov[i].iov_len > room)
			iov[i].iov_len = room;
		room -= iov[i].iov_len;
	}
	return true;
}

// rw does one scatter/gather transfer and stores its count at nptr.
static uint32_t rw(struct wasi *w, const struct wasi_mem *m, const uint64_t *args, bool write, bool positioned)
{
	struct iovec iov[WASI_IOV_MAX];
	struct wasi_fd *f = wasi_fd_get(w, args[0]);
	uint64_t offset = positioned ? args[3] : 0, nptr = positioned ? args[4] : args[3];
	ssize_t n;

	// The rights a guest dropped (fd_fdstat_set_rights) hold, as in wasmtime.
	if (f == NULL || !(f->rights_base & WASI_RIGHT(write ? WASI_RIGHT_FD_WRITE : WASI_RIGHT_FD_READ)))
		return WASI_EBADF;
	uint32_t err = wasi_iovecs(m, args[1], args[2], iov);
	if (err != WASI_ESUCCESS)
		return err;
	if (mem_at(m, nptr, 4) == NULL)
		return WASI_EFAULT;
	if (positioned && offset > INT64_MAX)
		return WASI_EINVAL;
	if (f->shared && f->nonblock && !positioned && !ready_now(f->host, write, iov, args[2]))
		return WASI_EAGAIN;
	if (positioned)
		n = write ? pwritev(f->host, iov, (int)args[2], (off_t)offset)
			  : preadv(f->host, iov, (int)args[2], (off_t)offset);
	else if (write && is_socket(f))
		// A socket's peer gone is EPIPE to the guest, as to a native Go
		// program, not a SIGPIPE that ends the container.
		n = sendmsg(f->host, &(struct msghdr){.msg_iov = iov, .msg_iovlen = args[2]}, MSG_NOSIGNAL);
	else
		n = write ? writev(f->host, iov, (int)args[2]) : readv(f->host, iov, (int)args[2]);
	if (n < 0)
		return WASI_ERRNO();
	return store_u32(m, nptr, (uint32_t)n);
}

uint32_t wasi_fd_read(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	return rw(w, m, args, false, false);
}

uint32_t wasi_fd_write(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	return rw(w, m, args, true, false);
}

uint32_t wasi_fd_pread(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	return rw(w, m, args, false, true);
}

uint32_t wasi_fd_pwrite(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	return rw(w, m, args, true, true);
}

uint32_t wasi_fd_close(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	struct wasi_fd *f = wasi_fd_get(w, args[0]);
	(void)m;
	if (f == NULL)
		return WASI_EBADF;
	struct wasi_fd closed = *f;
	*f = (struct wasi_fd){.host = -1};
	if (closed.shared)
		return WASI_ESUCCESS;
	// Linux frees the fd even when close fails; so does the table.
	if (close(closed.host) != 0 && errno != EINTR)
		return WASI_ERRNO();
	return WASI_ESUCCESS;
}

// fd_renumber moves from onto to, closing to: both must be open, as in wasmtime.
uint32_t wasi_fd_renumber(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	struct wasi_fd *from = wasi_fd_get(w, args[0]), *to = wasi_fd_get(w, args[1]);
	(void)m;
	if (from == NULL || to == NULL)
		return WASI_EBADF;
	if (from == to)
		return WASI_ESUCCESS;
	if (!to->shared)
		close(to->host);
	*to = *from;
	*from = (struct wasi_fd){.host = -1};
	return WASI_ESUCCESS;
}

static uint32_t sync_fd(struct wasi *w, uint64_t fd, int (*sync)(int))
{
	struct wasi_fd *f = wasi_fd_get(w, fd);
	if (f == NULL)
		return WASI_EBADF;
	return sync(f->host) == 0 ? WASI_ESUCCESS : WASI_ERRNO();
}

uint32_t wasi_fd_datasync(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	(void)m;
	return sync_fd(w, args[0], fdatasync);
}

uint32_t wasi_fd_sync(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	(void)m;
	return sync_fd(w, args[0], fsync);
}

uint32_t wasi_fd_advise(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	static const int advice[] = {POSIX_FADV_NORMAL,   POSIX_FADV_SEQUENTIAL, POSIX_FADV_RANDOM,
				     POSIX_FADV_WILLNEED, POSIX_FADV_DONTNEED,   POSIX_FADV_NOREUSE};
	struct wasi_fd *f = wasi_fd_get(w, args[0]);
	(void)m;
	if (f == NULL)
		return WASI_EBADF;
	if (args[3] >= sizeof advice / sizeof advice[0] || args[1] > INT64_MAX || args[2] > INT64_MAX)
		return WASI_EINVAL;
	int err = posix_fadvise(f->host, (off_t)args[1], (off_t)args[2], advice[args[3]]);
	return err == 0 ? WASI_ESUCCESS : wasi_errno(err);
}

uint32_t wasi_fd_allocate(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	struct wasi_fd *f = wasi_fd_get(w, args[0]);
	(void)m;
	if (f == NULL)
		return WASI_EBADF;
	if (args[1] > INT64_MAX || args[2] > INT64_MAX || args[2] == 0)
		return WASI_EINVAL;
	int err = posix_fallocate(f->host, (off_t)args[1], (off_t)args[2]);
	return err == 0 ? WASI_ESUCCESS : wasi_errno(err);
}

static uint16_t fdflags_of(const struct wasi_fd *f)
{
	int fl = fcntl(f->host, F_GETFL);
	uint16_t flags = f->nonblock ? WASI_FDFLAG_NONBLOCK : 0;
	if (fl < 0)
		return flags;
	if (fl & O_APPEND)
		flags |= WASI_FDFLAG_APPEND;
	if (fl & O_NONBLOCK)
		flags |= WASI_FDFLAG_NONBLOCK;
	if ((fl & O_SYNC) == O_SYNC)
		flags |= WASI_FDFLAG_SYNC | WASI_FDFLAG_RSYNC;
	else if (fl & O_DSYNC)
		flags |= WASI_FDFLAG_DSYNC;
	return flags;
}

uint32_t wasi_fd_fdstat_get(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	struct wasi_fd *f = wasi_fd_get(w, args[0]);
	uint8_t *p = mem_at(m, args[1], 24);
	if (f == NULL)
		return WASI_EBADF;
	if (p == NULL)
		return WASI_EFAULT;
	memset(p, 0, 24);
	put_u8(p, f->filetype);
	put_u16(p + 2, fdflags_of(f));
	put_u64(p + 8, f->rights_base);
	put_u64(p + 16, f->rights_inheriting);
	return WASI_ESUCCESS;
}

// fd_fdstat_set_flags changes what Linux lets change after open: append and
// non-blocking (Go's netpoller sets it on every socket); the sync flags
// cannot change, as in wasmtime.
uint32_t wasi_fd_fdstat_set_flags(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	struct wasi_fd *f = wasi_fd_get(w, args[0]);
	uint64_t flags = args[1];
	(void)m;
	if (f == NULL)
		return WASI_EBADF;
	if (flags & ~(uint64_t)(WASI_FDFLAG_APPEND | WASI_FDFLAG_NONBLOCK))
		return WASI_EINVAL;
	int fl = fcntl(f->host, F_GETFL);
	if (fl < 0)
		return WASI_ERRNO();
	// A shared descriptor keeps the mode the container got it in.
	int kept = f->shared ? fl & O_NONBLOCK : 0;
	fl &= ~(O_APPEND | O_NONBLOCK);
	if (flags & WASI_FDFLAG_APPEND)
		fl |= O_APPEND;
	if (f->shared)
		f->nonblock = flags & WASI_FDFLAG_NONBLOCK;
	else if (flags & WASI_FDFLAG_NONBLOCK)
		fl |= O_NONBLOCK;
	fl |= kept;
	return fcntl(f->host, F_SETFL, fl) == 0 ? WASI_ESUCCESS : WASI_ERRNO();
}

// fd_fdstat_set_rights may only drop rights, never add any.
uint32_t wasi_fd_fdstat_set_rights(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	struct wasi_fd *f = wasi_fd_get(w, args[0]);
	(void)m;
	if (f == NULL)
		return WASI_EBADF;
	if ((args[1] & ~f->rights_base) || (args[2] & ~f->rights_inheriting))
		return WASI_ENOTCAPABLE;
	f->rights_base = args[1];
	f->rights_inheriting = args[2];
	return WASI_ESUCCESS;
}

uint32_t wasi_put_filestat(const struct wasi_mem *m, uint64_t ptr, const struct stat *st, enum wasi_abi abi)
{
	uint64_t size = abi == WASI_PREVIEW1 ? 64 : 56;
	uint8_t *p = mem_at(m, ptr, size);
	if (p == NULL)
		return WASI_EFAULT;
	memset(p, 0, size);
	put_u64(p, st->st_dev);
	put_u64(p + 8, st->st_ino);
	put_u8(p + 16, wasi_filetype_of_mode(st->st_mode));
	// preview 0's nlink is 32 bits, and everything after it moves up 8 bytes.
	uint8_t *rest = p + (abi == WASI_PREVIEW1 ? 32 : 24);
	if (abi == WASI_PREVIEW1)
		put_u64(p + 24, st->st_nlink);
	else
		put_u32(p + 20, st->st_nlink > UINT32_MAX ? UINT32_MAX : (uint32_t)st->st_nlink);
	put_u64(rest, (uint64_t)st->st_size);
	put_u64(rest + 8, (uint64_t)st->st_atim.tv_sec * 1000000000u + (uint64_t)st->st_atim.tv_nsec);
	put_u64(rest + 16, (uint64_t)st->st_mtim.tv_sec * 1000000000u + (uint64_t)st->st_mtim.tv_nsec);
	put_u64(rest + 24, (uint64_t)st->st_ctim.tv_sec * 1000000000u + (uint64_t)st->st_ctim.tv_nsec);
	return WASI_ESUCCESS;
}

static uint32_t fd_filestat_get(struct wasi *w, const struct wasi_mem *m, const uint64_t *args, enum wasi_abi abi)
{
	struct wasi_fd *f = wasi_fd_get(w, args[0]);
	struct stat st;
	if (f == NULL)
		return WASI_EBADF;
	if (fstat(f->host, &st) != 0)
		return WASI_ERRNO();
	return wasi_put_filestat(m, args[1], &st, abi);
}

uint32_t wasi_fd_filestat_get(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	return fd_filestat_get(w, m, args, WASI_PREVIEW1);
}

uint32_t wasi_unstable_fd_filestat_get(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	return fd_filestat_get(w, m, args, WASI_UNSTABLE);
}

uint32_t wasi_fd_filestat_set_size(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	struct wasi_fd *f = wasi_fd_get(w, args[0]);
	(void)m;
	if (f == NULL)
		return WASI_EBADF;
	if (args[1] > INT64_MAX)
		return WASI_EINVAL;
	return ftruncate(f->host, (off_t)args[1]) == 0 ? WASI_ESUCCESS : WASI_ERRNO();
}

// wasi_timespecs converts WASI's fstflags and times into utimensat's.
uint32_t wasi_timespecs(uint64_t atim, uint64_t mtim, uint64_t flags, struct timespec *ts)
{
	enum { ATIM = 1, ATIM_NOW = 2, MTIM = 4, MTIM_NOW = 8 };
	if ((flags & ~(uint64_t)15) || ((flags & ATIM) && (flags & ATIM_NOW)) ||
	    ((flags & MTIM) && (flags & MTIM_NOW)))
		return WASI_EINVAL;
	uint64_t t[2] = {atim, mtim};
	uint64_t set[2] = {ATIM, MTIM}, now[2] = {ATIM_NOW, MTIM_NOW};
	for (int i = 0; i < 2; i++) {
		if (flags & now[i])
			ts[i] = (struct timespec){.tv_nsec = UTIME_NOW};
		else if (flags & set[i])
			ts[i] = (struct timespec){.tv_sec = (time_t)(t[i] / 1000000000u),
						  .tv_nsec = (long)(t[i] % 1000000000u)};
		else
			ts[i] = (struct timespec){.tv_nsec = UTIME_OMIT};
	}
	return WASI_ESUCCESS;
}

uint32_t wasi_fd_filestat_set_times(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	struct wasi_fd *f = wasi_fd_get(w, args[0]);
	struct timespec ts[2];
	(void)m;
	if (f == NULL)
		return WASI_EBADF;
	uint32_t err = wasi_timespecs(args[1], args[2], args[3], ts);
	if (err != WASI_ESUCCESS)
		return err;
	return futimens(f->host, ts) == 0 ? WASI_ESUCCESS : WASI_ERRNO();
}

// seekable returns the guest's fd if it has a position: a directory has
// none to the guest (its offset is fd_readdir's, by cookie), as in wasmtime.
static struct wasi_fd *seekable(struct wasi *w, uint64_t fd)
{
	struct wasi_fd *f = wasi_fd_get(w, fd);
	return f != NULL && f->filetype != WASI_FILETYPE_DIRECTORY ? f : NULL;
}

static uint32_t fd_seek(struct wasi *w, const struct wasi_mem *m, const uint64_t *args, const int whence[3])
{
	struct wasi_fd *f = seekable(w, args[0]);
	if (f == NULL)
		return WASI_EBADF;
	if (args[2] > 2)
		return WASI_EINVAL;
	if (mem_at(m, args[3], 8) == NULL)
		return WASI_EFAULT;
	off_t pos = lseek(f->host, (off_t)args[1], whence[args[2]]);
	if (pos < 0)
		return WASI_ERRNO();
	return store_u64(m, args[3], (uint64_t)pos);
}

uint32_t wasi_fd_seek(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	static const int whence[3] = {SEEK_SET, SEEK_CUR, SEEK_END};
	return fd_seek(w, m, args, whence);
}

// Preview 0 numbers whence differently: CUR, END, SET.
uint32_t wasi_unstable_fd_seek(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	static const int whence[3] = {SEEK_CUR, SEEK_END, SEEK_SET};
	return fd_seek(w, m, args, whence);
}

uint32_t wasi_fd_tell(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	struct wasi_fd *f = seekable(w, args[0]);
	if (f == NULL)
		return WASI_EBADF;
	if (mem_at(m, args[1], 8) == NULL)
		return WASI_EFAULT;
	off_t pos = lseek(f->host, 0, SEEK_CUR);
	if (pos < 0)
		return WASI_ERRNO();
	return store_u64(m, args[1], (uint64_t)pos);
}

uint32_t wasi_fd_prestat_get(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	struct wasi_fd *f = wasi_fd_get(w, args[0]);
	uint8_t *p = mem_at(m, args[1], 8);
	if (f == NULL || f->preopen == NULL)
		return WASI_EBADF;
	if (p == NULL)
		return WASI_EFAULT;
	put_u32(p, 0); // a directory
	put_u32(p + 4, (uint32_t)strlen(f->preopen));
	return WASI_ESUCCESS;
}

uint32_t wasi_fd_prestat_dir_name(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	struct wasi_fd *f = wasi_fd_get(w, args[0]);
	if (f == NULL || f->preopen == NULL)
		return WASI_EBADF;
	size_t len = strlen(f->preopen);
	if (args[2] < len)
		return WASI_ENAMETOOLONG;
	uint8_t *p = mem_at(m, args[1], len);
	if (p == NULL)
		return WASI_EFAULT;
	memcpy(p, f->preopen, len);
	return WASI_ESUCCESS;
}
