// Files and paths: path_* and fd_readdir.
//
// A guest path is relative to one of its directory descriptors and must stay
// beneath it, as in wasmtime: every lookup goes through openat2 with
// RESOLVE_BENEATH (an absolute path, a ".." or a symlink that leaves the
// directory fails with ENOTCAPABLE), or, for the preopened /, RESOLVE_IN_ROOT:
// the container's root is the guest's, so its absolute symlinks resolve in
// it as for a native process. No lookup crosses a "magic link" of /proc
// (/proc/self/fd/N would reach the runner's own descriptors).
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "wasi_shared.h"

enum { LOOKUP_SYMLINK_FOLLOW = 1 };
enum { OFLAG_CREAT = 1, OFLAG_DIRECTORY = 2, OFLAG_EXCL = 4, OFLAG_TRUNC = 8 };

// path_of copies the guest's path into buf (PATH_MAX bytes with its NUL).
static uint32_t path_of(const struct wasi_mem *m, uint64_t ptr, uint64_t len, char *buf)
{
	if (len >= PATH_MAX)
		return WASI_ENAMETOOLONG;
	const uint8_t *p = mem_at(m, ptr, len);
	if (p == NULL)
		return WASI_EFAULT;
	if (memchr(p, '\0', len) != NULL)
		return WASI_EILSEQ;
	memcpy(buf, p, len);
	buf[len] = '\0';
	return WASI_ESUCCESS;
}

// dir_of returns the host fd of the guest's directory fd.
static uint32_t dir_of(struct wasi *w, uint64_t fd, const struct wasi_fd **out)
{
	const struct wasi_fd *f = wasi_fd_get(w, fd);
	if (f == NULL)
		return WASI_EBADF;
	if (f->filetype != WASI_FILETYPE_DIRECTORY)
		return WASI_ENOTDIR;
	*out = f;
	return WASI_ESUCCESS;
}

// resolve_errno is the errno of a failed lookup: leaving the directory is
// ENOTCAPABLE, as in wasmtime.
static uint32_t resolve_errno(int err)
{
	return err == EXDEV ? WASI_ENOTCAPABLE : wasi_errno(err);
}

// open_beneath opens path under dir with flags, staying within dir.
static int open_beneath(const struct wasi_fd *dir, const char *path, uint64_t flags, mode_t mode)
{
	struct open_how how = {
		.flags = flags | O_CLOEXEC,
		.mode = (flags & O_CREAT) ? mode : 0,
		.resolve = RESOLVE_NO_MAGICLINKS | (dir->in_root ? RESOLVE_IN_ROOT : RESOLVE_BENEATH),
	};
	if (*path == '\0') {
		errno = ENOENT;
		return -1;
	}
	long fd;
	do
		fd = syscall(SYS_openat2, dir->host, path, &how, sizeof how);
	while (fd < 0 && errno == EAGAIN);
	return (int)fd;
}

// A path split into the directory holding its last component (open O_PATH)
// and that component, with any trailing slashes (the kernel's rules for
// them then apply, as for a native process).
struct parent {
	int fd;
	const char *leaf;
};

static uint32_t open_parent(struct wasi *w, uint64_t fd, const struct wasi_mem *m, uint64_t ptr, uint64_t len,
			    char *buf, struct parent *out)
{
	const struct wasi_fd *dir;
	uint32_t err = dir_of(w, fd, &dir);
	if (err == WASI_ESUCCESS)
		err = path_of(m, ptr, len, buf);
	if (err != WASI_ESUCCESS)
		return err;
	if (*buf == '\0')
		return WASI_ENOENT;
	size_t end = strlen(buf);
	while (end > 0 && buf[end - 1] == '/')
		end--;
	size_t start = end;
	while (start > 0 && buf[start - 1] != '/')
		start--;
	size_t leaf_len = end - start;
	bool dots = (leaf_len == 1 && buf[start] == '.') || (leaf_len == 2 && strncmp(buf + start, "..", 2) == 0);
	int parent;
	if (end == 0 || dots) {
		// "/", "." or "..": the parent is the directory the path names,
		// looked up as a whole (a ".." must not step out), and the leaf is
		// the directory itself.
		parent = open_beneath(dir, buf, O_PATH | O_DIRECTORY, 0);
		out->leaf = ".";
	} else if (start == 0) {
		parent = open_beneath(dir, ".", O_PATH | O_DIRECTORY, 0);
		out->leaf = buf;
	} else {
		// The component keeps its trailing slashes; the directory part
		// ends at the slash before it.
		char *leaf = buf + start;
		char saved = leaf[-1];
		leaf[-1] = '\0';
		parent = open_beneath(dir, buf[0] == '\0' ? "/" : buf, O_PATH | O_DIRECTORY, 0);
		leaf[-1] = saved;
		// leaf[-1] is a slash, and the path before it is buf: keep the
		// leaf's own storage by moving it to the start of buf.
		memmove(buf, leaf, strlen(leaf) + 1);
		out->leaf = buf;
	}
	if (parent < 0)
		return resolve_errno(errno);
	out->fd = parent;
	return WASI_ESUCCESS;
}

static uint32_t open_path(struct wasi *w, const struct wasi_mem *m, uint64_t fd, uint64_t lookup_flags,
			  uint64_t ptr, uint64_t len, int *out);

static uint32_t done(struct parent *p, int result)
{
	int err = errno;
	close(p->fd);
	return result == 0 ? WASI_ESUCCESS : resolve_errno(err);
}

enum leaf_op { MKDIR, RMDIR, UNLINK };

// on_leaf does op on the last component of the guest's path (args: fd, path, len).
static uint32_t on_leaf(struct wasi *w, const struct wasi_mem *m, const uint64_t *args, enum leaf_op op)
{
	char buf[PATH_MAX];
	struct parent p;
	uint32_t err = open_parent(w, args[0], m, args[1], args[2], buf, &p);
	if (err != WASI_ESUCCESS)
		return err;
	switch (op) {
	case MKDIR:
		return done(&p, mkdirat(p.fd, p.leaf, 0777));
	case RMDIR:
		return done(&p, unlinkat(p.fd, p.leaf, AT_REMOVEDIR));
	default:
		return done(&p, unlinkat(p.fd, p.leaf, 0));
	}
}

uint32_t wasi_path_create_directory(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	return on_leaf(w, m, args, MKDIR);
}

uint32_t wasi_path_remove_directory(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	return on_leaf(w, m, args, RMDIR);
}

uint32_t wasi_path_unlink_file(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	return on_leaf(w, m, args, UNLINK);
}

uint32_t wasi_path_symlink(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	char target[PATH_MAX], buf[PATH_MAX];
	struct parent p;
	uint32_t err = path_of(m, args[0], args[1], target);
	// A symlink may not point out of its directory's tree by an absolute
	// target, as in wasmtime (which refuses it as an escape, EPERM).
	if (err == WASI_ESUCCESS && target[0] == '/')
		err = WASI_EPERM;
	if (err == WASI_ESUCCESS)
		err = open_parent(w, args[2], m, args[3], args[4], buf, &p);
	if (err != WASI_ESUCCESS)
		return err;
	return done(&p, symlinkat(target, p.fd, p.leaf));
}

uint32_t wasi_path_readlink(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	char buf[PATH_MAX];
	struct parent p;
	uint8_t *out = mem_at(m, args[3], args[4]);
	if (out == NULL || mem_at(m, args[5], 4) == NULL)
		return WASI_EFAULT;
	uint32_t err = open_parent(w, args[0], m, args[1], args[2], buf, &p);
	if (err != WASI_ESUCCESS)
		return err;
	char link[PATH_MAX];
	ssize_t n = readlinkat(p.fd, p.leaf, link, sizeof link);
	err = done(&p, n < 0 ? -1 : 0);
	if (err != WASI_ESUCCESS)
		return err;
	// A buffer too small gets the target's beginning, as from readlink(2).
	size_t len = (size_t)n < args[4] ? (size_t)n : args[4];
	memcpy(out, link, len);
	return store_u32(m, args[5], (uint32_t)len);
}

uint32_t wasi_path_link(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	char old_buf[PATH_MAX], new_buf[PATH_MAX];
	struct parent old_p, new_p;
	if (args[1] & ~(uint64_t)LOOKUP_SYMLINK_FOLLOW)
		return WASI_EINVAL;
	if (args[1] & LOOKUP_SYMLINK_FOLLOW) {
		// As for path_filestat_set_times: the followed target must be
		// beneath the directory too.
		int fd;
		uint32_t err = open_path(w, m, args[0], args[1], args[2], args[3], &fd);
		if (err != WASI_ESUCCESS)
			return err;
		close(fd);
	}
	uint32_t err = open_parent(w, args[0], m, args[2], args[3], old_buf, &old_p);
	if (err != WASI_ESUCCESS)
		return err;
	err = open_parent(w, args[4], m, args[5], args[6], new_buf, &new_p);
	if (err != WASI_ESUCCESS) {
		close(old_p.fd);
		return err;
	}
	int flags = (args[1] & LOOKUP_SYMLINK_FOLLOW) ? AT_SYMLINK_FOLLOW : 0;
	int r = linkat(old_p.fd, old_p.leaf, new_p.fd, new_p.leaf, flags);
	close(new_p.fd);
	return done(&old_p, r);
}

uint32_t wasi_path_rename(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	char old_buf[PATH_MAX], new_buf[PATH_MAX];
	struct parent old_p, new_p;
	uint32_t err = open_parent(w, args[0], m, args[1], args[2], old_buf, &old_p);
	if (err != WASI_ESUCCESS)
		return err;
	err = open_parent(w, args[3], m, args[4], args[5], new_buf, &new_p);
	if (err != WASI_ESUCCESS) {
		close(old_p.fd);
		return err;
	}
	int r = renameat(old_p.fd, old_p.leaf, new_p.fd, new_p.leaf);
	close(new_p.fd);
	return done(&old_p, r);
}

// open_path opens the guest's path under fd as O_PATH, following a final
// symlink if lookup_flags say so: what path_filestat_* act on.
static uint32_t open_path(struct wasi *w, const struct wasi_mem *m, uint64_t fd, uint64_t lookup_flags,
			  uint64_t ptr, uint64_t len, int *out)
{
	const struct wasi_fd *dir;
	char buf[PATH_MAX];
	if (lookup_flags & ~(uint64_t)LOOKUP_SYMLINK_FOLLOW)
		return WASI_EINVAL;
	uint32_t err = dir_of(w, fd, &dir);
	if (err == WASI_ESUCCESS)
		err = path_of(m, ptr, len, buf);
	if (err != WASI_ESUCCESS)
		return err;
	int flags = O_PATH | ((lookup_flags & LOOKUP_SYMLINK_FOLLOW) ? 0 : O_NOFOLLOW);
	*out = open_beneath(dir, buf, flags, 0);
	return *out < 0 ? resolve_errno(errno) : WASI_ESUCCESS;
}

static uint32_t path_filestat_get(struct wasi *w, const struct wasi_mem *m, const uint64_t *args, enum wasi_abi abi)
{
	struct stat st;
	int fd;
	uint32_t err = open_path(w, m, args[0], args[1], args[2], args[3], &fd);
	if (err != WASI_ESUCCESS)
		return err;
	int r = fstat(fd, &st);
	int saved = errno;
	close(fd);
	if (r != 0)
		return wasi_errno(saved);
	return wasi_put_filestat(m, args[4], &st, abi);
}

uint32_t wasi_path_filestat_get(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	return path_filestat_get(w, m, args, WASI_PREVIEW1);
}

uint32_t wasi_unstable_path_filestat_get(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	return path_filestat_get(w, m, args, WASI_UNSTABLE);
}

uint32_t wasi_path_filestat_set_times(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	struct timespec ts[2];
	char buf[PATH_MAX];
	struct parent p;
	int fd;
	uint32_t err = wasi_timespecs(args[4], args[5], args[6], ts);
	if (err != WASI_ESUCCESS)
		return err;
	// The lookup checks that the path (and the target of a followed
	// symlink) is beneath the directory; utimensat then acts on it by its
	// parent, as futimens cannot on an O_PATH descriptor.
	err = open_path(w, m, args[0], args[1], args[2], args[3], &fd);
	if (err != WASI_ESUCCESS)
		return err;
	close(fd);
	err = open_parent(w, args[0], m, args[2], args[3], buf, &p);
	if (err != WASI_ESUCCESS)
		return err;
	int flags = (args[1] & LOOKUP_SYMLINK_FOLLOW) ? 0 : AT_SYMLINK_NOFOLLOW;
	return done(&p, utimensat(p.fd, p.leaf, ts, flags));
}

// open_flags returns open(2)'s flags for path_open's: read and write as the
// rights ask, a directory read-only.
static uint32_t open_flags(uint64_t oflags, uint64_t rights, uint64_t fdflags, uint64_t lookup, int *out)
{
	const uint64_t write_rights = WASI_RIGHT(WASI_RIGHT_FD_WRITE) | WASI_RIGHT(WASI_RIGHT_FD_DATASYNC) |
				      WASI_RIGHT(WASI_RIGHT_FD_ALLOCATE) |
				      WASI_RIGHT(WASI_RIGHT_FD_FILESTAT_SET_SIZE);
	const uint64_t read_rights = WASI_RIGHT(WASI_RIGHT_FD_READ) | WASI_RIGHT(WASI_RIGHT_FD_READDIR);
	int flags = 0;

	if ((oflags & ~(uint64_t)15) || (fdflags & ~(uint64_t)31) || (lookup & ~(uint64_t)LOOKUP_SYMLINK_FOLLOW))
		return WASI_EINVAL;
	bool write = (rights & write_rights) != 0, read = (rights & read_rights) != 0;
	if (oflags & OFLAG_DIRECTORY) {
		if (oflags & (OFLAG_CREAT | OFLAG_TRUNC))
			return WASI_EINVAL;
		// A directory is never open for writing: as in wasmtime, asking is EISDIR.
		if (rights & WASI_RIGHT(WASI_RIGHT_FD_WRITE))
			return WASI_EISDIR;
		flags = O_RDONLY | O_DIRECTORY;
	} else if (write) {
		flags = read ? O_RDWR : O_WRONLY;
	} else {
		flags = O_RDONLY;
	}
	if (oflags & OFLAG_CREAT)
		flags |= O_CREAT;
	if (oflags & OFLAG_EXCL)
		flags |= O_EXCL;
	if (oflags & OFLAG_TRUNC)
		flags |= O_TRUNC;
	if (fdflags & WASI_FDFLAG_APPEND)
		flags |= O_APPEND;
	if (fdflags & WASI_FDFLAG_DSYNC)
		flags |= O_DSYNC;
	if (fdflags & WASI_FDFLAG_NONBLOCK)
		flags |= O_NONBLOCK;
	if (fdflags & (WASI_FDFLAG_SYNC | WASI_FDFLAG_RSYNC))
		flags |= O_SYNC;
	if (!(lookup & LOOKUP_SYMLINK_FOLLOW))
		flags |= O_NOFOLLOW;
	*out = flags;
	return WASI_ESUCCESS;
}

uint32_t wasi_path_open(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	const struct wasi_fd *dir;
	char buf[PATH_MAX];
	int flags;
	uint32_t err = dir_of(w, args[0], &dir);
	if (err == WASI_ESUCCESS)
		err = path_of(m, args[2], args[3], buf);
	if (err == WASI_ESUCCESS)
		err = open_flags(args[4], args[5], args[7], args[1], &flags);
	if (err != WASI_ESUCCESS)
		return err;
	if (mem_at(m, args[8], 4) == NULL)
		return WASI_EFAULT;
	uint64_t inheriting = dir->rights_inheriting;
	int host = open_beneath(dir, buf, (uint64_t)flags, 0666);
	if (host < 0 && errno == EISDIR && (flags & O_ACCMODE) != O_RDONLY && !(flags & O_CREAT))
		// As wasmtime does: writing a directory is EISDIR, reading one opens it.
		return WASI_EISDIR;
	if (host < 0)
		return resolve_errno(errno);
	uint32_t fd;
	err = wasi_fd_add(w, host, &fd);
	if (err != WASI_ESUCCESS)
		return err;
	struct wasi_fd *f = wasi_fd_get(w, fd);
	// Files and directories get what their directory passes on, at most.
	f->rights_base &= inheriting;
	f->rights_inheriting &= inheriting;
	return store_u32(m, args[8], fd);
}

static uint8_t dirent_type(unsigned char d_type)
{
	switch (d_type) {
	case DT_BLK:
		return WASI_FILETYPE_BLOCK_DEVICE;
	case DT_CHR:
		return WASI_FILETYPE_CHARACTER_DEVICE;
	case DT_DIR:
		return WASI_FILETYPE_DIRECTORY;
	case DT_REG:
		return WASI_FILETYPE_REGULAR_FILE;
	case DT_LNK:
		return WASI_FILETYPE_SYMBOLIC_LINK;
	case DT_SOCK:
		return WASI_FILETYPE_SOCKET_STREAM;
	default:
		return WASI_FILETYPE_UNKNOWN;
	}
}

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

// fd_readdir fills buf with WASI dirents from the position cookie: a
// cookie is the directory offset the kernel gives each entry (d_off, where
// the next one starts), so a guest resumes exactly where it stopped. The
// last entry may be cut at the end of buf, as the spec says; the guest
// knows by a full buffer to ask again with a bigger one.
uint32_t wasi_fd_readdir(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	struct wasi_fd *f = wasi_fd_get(w, args[0]);
	uint64_t cap = args[2], cookie = args[3], used = 0;
	uint8_t *out = mem_at(m, args[1], cap);
	_Alignas(8) char kbuf[16384];

	if (f == NULL)
		return WASI_EBADF;
	if (out == NULL || mem_at(m, args[4], 4) == NULL)
		return WASI_EFAULT;
	if (f->filetype != WASI_FILETYPE_DIRECTORY)
		return WASI_ENOTDIR;
	if (cookie > INT64_MAX)
		return WASI_EINVAL;
	if (lseek(f->host, (off_t)cookie, SEEK_SET) < 0)
		return WASI_ERRNO();
	while (used < cap) {
		long n = syscall(SYS_getdents64, f->host, kbuf, sizeof kbuf);
		if (n < 0)
			return WASI_ERRNO();
		if (n == 0)
			break;
		for (long off = 0; off < n && used < cap;) {
			struct linux_dirent64 *d = (struct linux_dirent64 *)(kbuf + off);
			uint8_t head[24] = {0};
			size_t namlen = strlen(d->d_name);
			put_u64(head, (uint64_t)d->d_off);
			put_u64(head + 8, d->d_ino);
			put_u32(head + 16, (uint32_t)namlen);
			put_u8(head + 20, dirent_type(d->d_type));
			size_t k = cap - used < sizeof head ? cap - used : sizeof head;
			memcpy(out + used, head, k);
			used += k;
			k = cap - used < namlen ? cap - used : namlen;
			memcpy(out + used, d->d_name, k);
			used += k;
			off += d->d_reclen;
		}
	}
	return store_u32(m, args[4], (uint32_t)used);
}
