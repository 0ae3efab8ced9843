// The runner's own WASI (preview 1, preview 0 where its ABI differs, and
// WasmEdge's socket extension): a thin layer of host functions over the
// container's system calls. The kernel checks every file and socket
// operation with the container's credentials, mounts and network namespace,
// as for a native process of the container.
//
// Layout, one concern per file, each with its tests (wasi_test.go):
//   wasi_shared.h shared declarations: guest memory access, errnos, the context
//   wasi_table.h  every host function with its signature (also read by the
//                 host's link check, handler/wasm/linkable.go)
//   wasi_link.c   the glue to wasmtime: defines the module's imports
//   wasi_errno.c  Linux errno -> WASI errno
//   wasi_fd.c     the descriptor table and fd_* on open descriptors
//   wasi_path.c   path resolution within a preopen, path_*, fd_readdir
//   wasi_poll.c   poll_oneoff, sched_yield
//   wasi_sock.c   sock_* of preview 1 and of WasmEdge's extension
//   wasi_resolve.c sock_getaddrinfo's resolver: /etc/hosts, DNS per /etc/resolv.conf
//   wasi_env.c    args, environment, clocks, random, proc_exit, proc_raise
//
// Every host function takes its arguments as 64-bit integers (an i32 in the
// low half) and returns a WASI errno; every pointer and length from the guest
// is checked against its linear memory (wasi_mem) before use.
#ifndef WRUNC_WASI_H
#define WRUNC_WASI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

// WASI errnos (preview 1 and 0 share them).
enum {
	WASI_ESUCCESS = 0, WASI_E2BIG = 1, WASI_EACCES = 2, WASI_EADDRINUSE = 3, WASI_EADDRNOTAVAIL = 4,
	WASI_EAFNOSUPPORT = 5, WASI_EAGAIN = 6, WASI_EALREADY = 7, WASI_EBADF = 8, WASI_EBADMSG = 9,
	WASI_EBUSY = 10, WASI_ECANCELED = 11, WASI_ECHILD = 12, WASI_ECONNABORTED = 13,
	WASI_ECONNREFUSED = 14, WASI_ECONNRESET = 15, WASI_EDEADLK = 16, WASI_EDESTADDRREQ = 17,
	WASI_EDOM = 18, WASI_EDQUOT = 19, WASI_EEXIST = 20, WASI_EFAULT = 21, WASI_EFBIG = 22,
	WASI_EHOSTUNREACH = 23, WASI_EIDRM = 24, WASI_EILSEQ = 25, WASI_EINPROGRESS = 26, WASI_EINTR = 27,
	WASI_EINVAL = 28, WASI_EIO = 29, WASI_EISCONN = 30, WASI_EISDIR = 31, WASI_ELOOP = 32,
	WASI_EMFILE = 33, WASI_EMLINK = 34, WASI_EMSGSIZE = 35, WASI_EMULTIHOP = 36,
	WASI_ENAMETOOLONG = 37, WASI_ENETDOWN = 38, WASI_ENETRESET = 39, WASI_ENETUNREACH = 40,
	WASI_ENFILE = 41, WASI_ENOBUFS = 42, WASI_ENODEV = 43, WASI_ENOENT = 44, WASI_ENOEXEC = 45,
	WASI_ENOLCK = 46, WASI_ENOLINK = 47, WASI_ENOMEM = 48, WASI_ENOMSG = 49, WASI_ENOPROTOOPT = 50,
	WASI_ENOSPC = 51, WASI_ENOSYS = 52, WASI_ENOTCONN = 53, WASI_ENOTDIR = 54, WASI_ENOTEMPTY = 55,
	WASI_ENOTRECOVERABLE = 56, WASI_ENOTSOCK = 57, WASI_ENOTSUP = 58, WASI_ENOTTY = 59,
	WASI_ENXIO = 60, WASI_EOVERFLOW = 61, WASI_EOWNERDEAD = 62, WASI_EPERM = 63, WASI_EPIPE = 64,
	WASI_EPROTO = 65, WASI_EPROTONOSUPPORT = 66, WASI_EPROTOTYPE = 67, WASI_ERANGE = 68,
	WASI_EROFS = 69, WASI_ESPIPE = 70, WASI_ESRCH = 71, WASI_ESTALE = 72, WASI_ETIMEDOUT = 73,
	WASI_ETXTBSY = 74, WASI_EXDEV = 75, WASI_ENOTCAPABLE = 76,
	// WasmEdge's getaddrinfo errors, after the spec's.
	WASI_EAI_ADDRFAMILY = 77, WASI_EAI_AGAIN = 78, WASI_EAI_BADFLAG = 79, WASI_EAI_FAIL = 80,
	WASI_EAI_FAMILY = 81, WASI_EAI_MEMORY = 82, WASI_EAI_NODATA = 83, WASI_EAI_NONAME = 84,
	WASI_EAI_SERVICE = 85, WASI_EAI_SOCKTYPE = 86, WASI_EAI_SYSTEM = 87,
};

// File types.
enum {
	WASI_FILETYPE_UNKNOWN = 0, WASI_FILETYPE_BLOCK_DEVICE = 1, WASI_FILETYPE_CHARACTER_DEVICE = 2,
	WASI_FILETYPE_DIRECTORY = 3, WASI_FILETYPE_REGULAR_FILE = 4, WASI_FILETYPE_SOCKET_DGRAM = 5,
	WASI_FILETYPE_SOCKET_STREAM = 6, WASI_FILETYPE_SYMBOLIC_LINK = 7,
};

// fdflags.
enum {
	WASI_FDFLAG_APPEND = 1, WASI_FDFLAG_DSYNC = 2, WASI_FDFLAG_NONBLOCK = 4, WASI_FDFLAG_RSYNC = 8,
	WASI_FDFLAG_SYNC = 16,
};

// Rights, as wasmtime reports them (it enforces none beyond a file's read
// and write modes, and neither does the runner: the kernel does).
#define WASI_RIGHT(n) (UINT64_C(1) << (n))
enum {
	WASI_RIGHT_FD_DATASYNC = 0, WASI_RIGHT_FD_READ = 1, WASI_RIGHT_FD_SEEK = 2,
	WASI_RIGHT_FD_FDSTAT_SET_FLAGS = 3, WASI_RIGHT_FD_SYNC = 4, WASI_RIGHT_FD_TELL = 5,
	WASI_RIGHT_FD_WRITE = 6, WASI_RIGHT_FD_ADVISE = 7, WASI_RIGHT_FD_ALLOCATE = 8,
	WASI_RIGHT_PATH_CREATE_DIRECTORY = 9, WASI_RIGHT_PATH_CREATE_FILE = 10,
	WASI_RIGHT_PATH_LINK_SOURCE = 11, WASI_RIGHT_PATH_LINK_TARGET = 12, WASI_RIGHT_PATH_OPEN = 13,
	WASI_RIGHT_FD_READDIR = 14, WASI_RIGHT_PATH_READLINK = 15, WASI_RIGHT_PATH_RENAME_SOURCE = 16,
	WASI_RIGHT_PATH_RENAME_TARGET = 17, WASI_RIGHT_PATH_FILESTAT_GET = 18,
	WASI_RIGHT_PATH_FILESTAT_SET_SIZE = 19, WASI_RIGHT_PATH_FILESTAT_SET_TIMES = 20,
	WASI_RIGHT_FD_FILESTAT_GET = 21, WASI_RIGHT_FD_FILESTAT_SET_SIZE = 22,
	WASI_RIGHT_FD_FILESTAT_SET_TIMES = 23, WASI_RIGHT_PATH_SYMLINK = 24,
	WASI_RIGHT_PATH_REMOVE_DIRECTORY = 25, WASI_RIGHT_PATH_UNLINK_FILE = 26,
	WASI_RIGHT_POLL_FD_READWRITE = 27, WASI_RIGHT_SOCK_SHUTDOWN = 28, WASI_RIGHT_SOCK_ACCEPT = 29,
};

// The two ABIs that share these functions: they differ in the layout of
// filestat and of poll_oneoff's clock subscription, and in fd_seek's whence.
enum wasi_abi { WASI_PREVIEW1, WASI_UNSTABLE };

// A guest's linear memory for the length of one host call (host calls do
// not grow it). base is never NULL: a module without memory has size 0.
struct wasi_mem {
	uint8_t *base;
	uint64_t size;
};

// mem_at returns the guest's bytes [ptr, ptr+len) or NULL if any of them is
// outside its memory.
static inline uint8_t *mem_at(const struct wasi_mem *m, uint64_t ptr, uint64_t len)
{
	if (ptr > m->size || len > m->size - ptr)
		return NULL;
	return m->base + ptr;
}

static inline void put_u8(uint8_t *p, uint8_t v) { *p = v; }
static inline void put_u16(uint8_t *p, uint16_t v) { memcpy(p, &v, sizeof v); }
static inline void put_u32(uint8_t *p, uint32_t v) { memcpy(p, &v, sizeof v); }
static inline void put_u64(uint8_t *p, uint64_t v) { memcpy(p, &v, sizeof v); }
static inline uint16_t get_u16(const uint8_t *p) { uint16_t v; memcpy(&v, p, sizeof v); return v; }
static inline uint32_t get_u32(const uint8_t *p) { uint32_t v; memcpy(&v, p, sizeof v); return v; }
static inline uint64_t get_u64(const uint8_t *p) { uint64_t v; memcpy(&v, p, sizeof v); return v; }

// store_u32 writes v at the guest's ptr, if in bounds.
static inline uint32_t store_u32(const struct wasi_mem *m, uint64_t ptr, uint32_t v)
{
	uint8_t *p = mem_at(m, ptr, 4);
	if (p == NULL)
		return WASI_EFAULT;
	put_u32(p, v);
	return WASI_ESUCCESS;
}

static inline uint32_t store_u64(const struct wasi_mem *m, uint64_t ptr, uint64_t v)
{
	uint8_t *p = mem_at(m, ptr, 8);
	if (p == NULL)
		return WASI_EFAULT;
	put_u64(p, v);
	return WASI_ESUCCESS;
}

// A guest descriptor: the host fd it stands for, and what WASI reports of it.
struct wasi_fd {
	int host;                // -1: free slot
	uint8_t filetype;        // WASI_FILETYPE_*
	uint64_t rights_base, rights_inheriting;
	const char *preopen;     // the name fd_prestat_dir_name reports, or NULL
	bool in_root;            // the container's root: absolute symlinks resolve in it
	// The container's stdio, whose open file descriptions it shares with
	// whoever started it (a shell's terminal, an engine's pipes): the guest
	// closes only its own handle, and its non-blocking mode (which every Go
	// guest sets on stdio) is the runner's, not a flag on the description.
	bool shared;
	bool nonblock;
};

// The guest's WASI state: its descriptors, arguments and environment.
struct wasi {
	struct wasi_fd *fds;
	uint32_t nfds; // slots in fds
	int argc, envc;
	char **argv, **envv;
	const char *module; // for messages
};

// The signature of every host function (see wasi_table.h).
typedef uint32_t (*wasi_func)(struct wasi *w, const struct wasi_mem *m, const uint64_t *args);

// wasi_init sets up the guest's state: stdio, then the preopens (the cwd
// unless it is /, then /; see wasi_fd.c). Returns false with errno set.
bool wasi_init(struct wasi *w, int argc, char **argv, int envc, char **envv, const char *cwd);

// Descriptor table (wasi_fd.c).
struct wasi_fd *wasi_fd_get(struct wasi *w, uint64_t fd);
uint32_t wasi_fd_add(struct wasi *w, int host, uint32_t *fd);
uint8_t wasi_filetype_of(int host, uint64_t *rights_base, uint64_t *rights_inheriting);

// Errnos (wasi_errno.c): the WASI errno of a Linux errno.
uint32_t wasi_errno(int err);
#define WASI_ERRNO() wasi_errno(errno)

// Scatter/gather lists from the guest (wasi_fd.c): at most WASI_IOV_MAX entries.
#define WASI_IOV_MAX 1024
struct iovec;
uint32_t wasi_iovecs(const struct wasi_mem *m, uint64_t iovs, uint64_t n, struct iovec *out);

// The host's stat in the WASI layout of abi (wasi_fd.c).
struct stat;
uint32_t wasi_put_filestat(const struct wasi_mem *m, uint64_t ptr, const struct stat *st, enum wasi_abi abi);
uint8_t wasi_filetype_of_mode(unsigned mode);

// utimensat's times for WASI's (wasi_fd.c).
struct timespec;
uint32_t wasi_timespecs(uint64_t atim, uint64_t mtim, uint64_t flags, struct timespec *ts);

// guest_exit_status returns the exit status for a guest's own exit with
// status, or 1 (and says why) for one WASI keeps from guests (wasi_env.c;
// components' wasi:cli/exit uses it too).
int guest_exit_status(const char *module, uint32_t status);

// Clocks (wasi_env.c): now on a WASI clock, in ns, or -1 if the id is unknown.
int64_t wasi_clock_now(uint32_t id);

#define WASI_DECLARE(module, name, params, results, impl) \
	uint32_t impl(struct wasi *w, const struct wasi_mem *m, const uint64_t *args);
#include "wasi_table.h"
WASI_FUNCS(WASI_DECLARE)
#undef WASI_DECLARE

#endif
