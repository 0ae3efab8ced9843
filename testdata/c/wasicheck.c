// wasicheck: a C guest (wasi-libc) that checks one group of WASI functions
// per run and prints "ok GROUP", or "FAIL ..." lines and exits 1:
//
//	wasicheck files DIR   in DIR, an empty writable directory (also the process cwd)
//	wasicheck escape DIR  lookups that must stay beneath their directory
//
// (wasi-libc starts in /, whatever the process cwd, and resolves relative
// paths from there: hence DIR, which it changes to first.)
//	wasicheck clocks | random | poll | misc
//	wasicheck sockets    TCP and UDP over 127.0.0.1 and ::1 within the guest
//	wasicheck serve PORT one TCP connection on [::]:PORT: reads a line, answers "echo LINE"
//	wasicheck resolve NAME [SERVICE]  prints NAME's addresses from
//	                     sock_getaddrinfo, for SERVICE (default 80), which must be port 80
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <wasi/api.h>

static int failures;

#define CHECK(cond, ...)                                                   \
	do {                                                               \
		if (!(cond)) {                                             \
			printf("FAIL %s:%d: %s: ", __func__, __LINE__, #cond); \
			printf(__VA_ARGS__);                               \
			printf(" (errno %d %s)\n", errno, strerror(errno));  \
			failures++;                                        \
		}                                                          \
	} while (0)

// Imports wasi-libc does not declare: WasmEdge's socket extension.
#define WASMEDGE(name) __attribute__((import_module("wasi_snapshot_preview1"), import_name(#name)))
typedef struct {
	uint8_t *buf;
	uint32_t len;
} wasi_address;
WASMEDGE(sock_open) uint16_t we_sock_open(uint32_t family, uint32_t type, int *fd);
WASMEDGE(sock_bind) uint16_t we_sock_bind(int fd, wasi_address *addr, uint32_t port);
WASMEDGE(sock_listen) uint16_t we_sock_listen(int fd, int backlog);
WASMEDGE(sock_connect) uint16_t we_sock_connect(int fd, wasi_address *addr, uint32_t port);
WASMEDGE(sock_getlocaladdr) uint16_t we_sock_getlocaladdr(int fd, wasi_address *addr, uint32_t *port);
WASMEDGE(sock_getpeeraddr) uint16_t we_sock_getpeeraddr(int fd, wasi_address *addr, uint32_t *port);
WASMEDGE(sock_getsockopt) uint16_t we_sock_getsockopt(int fd, uint32_t level, uint32_t name, void *v, uint32_t *len);
WASMEDGE(sock_setsockopt) uint16_t we_sock_setsockopt(int fd, uint32_t level, uint32_t name, const void *v, uint32_t len);
WASMEDGE(sock_send_to)
uint16_t we_sock_send_to(int fd, const __wasi_ciovec_t *iov, uint32_t n, wasi_address *addr, uint32_t port, uint32_t flags,
			 uint32_t *sent);
WASMEDGE(sock_recv_from)
uint16_t we_sock_recv_from(int fd, const __wasi_iovec_t *iov, uint32_t n, wasi_address *addr, uint32_t flags,
			   uint32_t *port, uint32_t *received, uint16_t *oflags);
typedef struct {
	uint16_t flags;
	uint8_t family, socktype;
	uint32_t protocol, addrlen, addr, canonname, canonname_len, next;
} wasi_addrinfo;
typedef struct {
	uint32_t family, data_len, data;
} wasi_sockaddr;
WASMEDGE(sock_getaddrinfo)
uint16_t we_sock_getaddrinfo(const char *node, uint32_t node_len, const char *service, uint32_t service_len,
			     const wasi_addrinfo *hints, wasi_addrinfo **res, uint32_t max, uint32_t *n);

// Dropped from wasi-libc's declarations, not from preview 1.
WASMEDGE(proc_raise) uint16_t wasi_proc_raise(uint32_t sig);

static const char *group;

static void write_file(const char *path, const char *content)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0, "open %s", path);
	CHECK(write(fd, content, strlen(content)) == (ssize_t)strlen(content), "write %s", path);
	close(fd);
}

static void check_files(void)
{
	char buf[64];
	struct stat st;

	int fd = open("f", O_RDWR | O_CREAT | O_EXCL, 0644);
	CHECK(fd >= 0, "create f");
	CHECK(open("f", O_RDWR | O_CREAT | O_EXCL, 0644) < 0 && errno == EEXIST, "O_EXCL on an existing file");
	CHECK(write(fd, "hello", 5) == 5, "write");
	CHECK(pwrite(fd, "world", 5, 5) == 5, "pwrite");
	CHECK(pread(fd, buf, 10, 0) == 10 && memcmp(buf, "helloworld", 10) == 0, "pread");
	CHECK(lseek(fd, 0, SEEK_CUR) == 5, "pwrite moved the offset");
	CHECK(lseek(fd, -3, SEEK_END) == 7, "seek from the end");
	CHECK(read(fd, buf, sizeof buf) == 3 && memcmp(buf, "rld", 3) == 0, "read after seek");
	CHECK(ftruncate(fd, 4) == 0 && fstat(fd, &st) == 0 && st.st_size == 4, "ftruncate");
	CHECK(fsync(fd) == 0 && fdatasync(fd) == 0, "sync");
	CHECK(posix_fadvise(fd, 0, 4, POSIX_FADV_SEQUENTIAL) == 0, "fadvise");
	CHECK(posix_fallocate(fd, 0, 8192) == 0 && fstat(fd, &st) == 0 && st.st_size == 8192, "fallocate");
	CHECK(S_ISREG(st.st_mode) && st.st_nlink == 1, "fstat type and links");
	struct timespec times[2] = {{.tv_sec = 1000000000}, {.tv_sec = 1200000000, .tv_nsec = 5}};
	CHECK(futimens(fd, times) == 0 && fstat(fd, &st) == 0 && st.st_mtim.tv_sec == 1200000000 &&
		      st.st_mtim.tv_nsec == 5 && st.st_atim.tv_sec == 1000000000,
	      "futimens");
	int flags = fcntl(fd, F_GETFL);
	CHECK(flags >= 0 && (flags & O_ACCMODE) == O_RDWR, "fcntl F_GETFL: %x", flags);
	CHECK(fcntl(fd, F_SETFL, O_APPEND) == 0 && (fcntl(fd, F_GETFL) & O_APPEND), "set O_APPEND");
	close(fd);

	fd = open("f", O_WRONLY | O_TRUNC);
	CHECK(fd >= 0 && fstat(fd, &st) == 0 && st.st_size == 0, "O_TRUNC");
	CHECK(read(fd, buf, 1) < 0 && errno == EBADF, "read of a write-only file");
	close(fd);
	CHECK(open("f/", O_RDONLY) < 0 && errno == ENOTDIR, "trailing slash on a file");
	CHECK(open("f", O_RDONLY | O_DIRECTORY) < 0 && errno == ENOTDIR, "O_DIRECTORY on a file");
	CHECK(open("missing", O_RDONLY) < 0 && errno == ENOENT, "missing file");

	CHECK(mkdir("d", 0755) == 0, "mkdir");
	CHECK(mkdir("d", 0755) < 0 && errno == EEXIST, "mkdir twice");
	CHECK(open("d", O_WRONLY) < 0 && errno == EISDIR, "write a directory");
	write_file("d/inner", "x");
	CHECK(rmdir("d") < 0 && errno == ENOTEMPTY, "rmdir of a non-empty directory");
	CHECK(unlink("d") < 0 && (errno == EISDIR || errno == EPERM), "unlink of a directory");
	CHECK(rmdir("f") < 0 && errno == ENOTDIR, "rmdir of a file");
	CHECK(unlink("f/") < 0 && errno == ENOTDIR, "unlink with a trailing slash");
	CHECK(rename("d/inner", "moved") == 0 && stat("moved", &st) == 0 && stat("d/inner", &st) < 0, "rename");
	CHECK(link("moved", "hard") == 0 && stat("moved", &st) == 0 && st.st_nlink == 2, "link");
	CHECK(symlink("moved", "sym") == 0, "symlink");
	ssize_t n = readlink("sym", buf, sizeof buf);
	CHECK(n == 5 && memcmp(buf, "moved", 5) == 0, "readlink: %zd", n);
	CHECK(readlink("sym", buf, 2) == 2 && memcmp(buf, "mo", 2) == 0, "readlink into a short buffer");
	CHECK(lstat("sym", &st) == 0 && S_ISLNK(st.st_mode), "lstat of a symlink");
	CHECK(stat("sym", &st) == 0 && S_ISREG(st.st_mode), "stat through a symlink");
	CHECK(open("sym", O_RDONLY | O_NOFOLLOW) < 0 && errno == ELOOP, "O_NOFOLLOW on a symlink");
	CHECK(symlink("nowhere", "dangling") == 0 && open("dangling", O_RDONLY) < 0 && errno == ENOENT, "dangling");
	CHECK(open("dangling", O_WRONLY | O_CREAT | O_EXCL, 0644) < 0 && errno == EEXIST, "O_EXCL on a dangling symlink");
	CHECK(utimensat(AT_FDCWD, "sym", times, AT_SYMLINK_NOFOLLOW) == 0 && lstat("sym", &st) == 0 &&
		      st.st_mtim.tv_sec == 1200000000,
	      "utimensat of a symlink itself");
	CHECK(unlink("sym") == 0 && unlink("dangling") == 0 && unlink("hard") == 0 && unlink("moved") == 0, "unlink");
	CHECK(rmdir("d/") == 0, "rmdir with a trailing slash");

	// Many long names: readdir takes several fd_readdir calls, each
	// resuming at the cookie of the last entry it got.
	CHECK(mkdir("many", 0755) == 0, "mkdir many");
	char name[160];
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof name, "many/%03d-%0120d", i, 0);
		write_file(name, "");
	}
	DIR *dir = opendir("many");
	CHECK(dir != NULL, "opendir");
	int seen[300] = {0}, count = 0, dots = 0;
	struct dirent *e;
	while (dir != NULL && (e = readdir(dir)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
			dots++;
			continue;
		}
		int i = atoi(e->d_name);
		CHECK(i >= 0 && i < 300 && !seen[i] && e->d_type == DT_REG, "entry %s", e->d_name);
		if (i >= 0 && i < 300)
			seen[i] = 1;
		count++;
	}
	CHECK(count == 300 && dots == 2, "readdir saw %d entries and %d dots", count, dots);
	if (dir != NULL) {
		rewinddir(dir);
		int again = 0;
		while (readdir(dir) != NULL)
			again++;
		CHECK(again == 302, "after rewinddir: %d", again);
		closedir(dir);
	}
}

// check_escape: lookups from the cwd's preopen (fd 3) must stay beneath it.
static void check_escape(void)
{
	__wasi_fd_t fd;
	__wasi_filestat_t st;
	const char *escapes[] = {"..", "../x", "/etc", "a/../../x", "up/x", "abs/x"};
	// abs, a symlink to /, is the test's: a guest may not make one.
	CHECK(symlink("../..", "up") == 0 && mkdir("a", 0755) == 0, "set up");
	CHECK(symlink("/", "abs2") < 0 && errno == EPERM, "symlink to an absolute path");
	for (size_t i = 0; i < sizeof escapes / sizeof escapes[0]; i++) {
		__wasi_errno_t err = __wasi_path_open(3, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, escapes[i], 0, __WASI_RIGHTS_FD_READ, 0, 0, &fd);
		CHECK(err == __WASI_ERRNO_NOTCAPABLE, "path_open %s: %d", escapes[i], err);
		err = __wasi_path_filestat_get(3, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, escapes[i], &st);
		CHECK(err == __WASI_ERRNO_NOTCAPABLE, "path_filestat_get %s: %d", escapes[i], err);
		err = __wasi_path_create_directory(3, escapes[i]);
		CHECK(err == __WASI_ERRNO_NOTCAPABLE || err == __WASI_ERRNO_EXIST, "path_create_directory %s: %d", escapes[i], err);
	}
	CHECK(__wasi_path_remove_directory(3, "..") != 0, "rmdir ..");
	// A hard link through a symlink that leads out is refused too.
	CHECK(symlink("../../../../../../etc/passwd", "out") == 0, "symlink out");
	__wasi_errno_t lerr = __wasi_path_link(3, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "out", 3, "hard");
	CHECK(lerr == __WASI_ERRNO_NOTCAPABLE, "path_link following a symlink out: %d", lerr);
	// The root's own absolute symlinks resolve in the root (fd 4 is /).
	CHECK(__wasi_path_filestat_get(4, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "proc/self/root/etc", &st) != 0 ||
		      st.filetype == __WASI_FILETYPE_DIRECTORY,
	      "proc/self/root");
	// No magic link of /proc reaches a descriptor the guest was not given.
	__wasi_errno_t err = __wasi_path_open(4, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "proc/self/fd/0", 0, __WASI_RIGHTS_FD_READ, 0, 0, &fd);
	CHECK(err == __WASI_ERRNO_LOOP || err == __WASI_ERRNO_NOENT, "open /proc/self/fd/0: %d", err);
	// Guessed descriptor numbers reach nothing.
	for (__wasi_fd_t guess = 5; guess < 1024; guess++) {
		__wasi_fdstat_t fs;
		CHECK(__wasi_fd_fdstat_get(guess, &fs) == __WASI_ERRNO_BADF, "fd %u is open", guess);
	}
}

static void check_clocks(void)
{
	struct timespec a, b, res;
	CHECK(clock_gettime(CLOCK_REALTIME, &a) == 0 && a.tv_sec > 1600000000, "realtime");
	CHECK(clock_getres(CLOCK_MONOTONIC, &res) == 0 && res.tv_sec == 0 && res.tv_nsec > 0, "resolution");
	CHECK(clock_gettime(CLOCK_MONOTONIC, &a) == 0, "monotonic");
	struct timespec nap = {.tv_nsec = 20000000};
	CHECK(nanosleep(&nap, NULL) == 0, "nanosleep");
	CHECK(clock_gettime(CLOCK_MONOTONIC, &b) == 0, "monotonic");
	long long elapsed = (b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
	CHECK(elapsed >= 20000000, "slept only %lld ns", elapsed);
	CHECK(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a) == 0, "process CPU time");
	__wasi_timestamp_t t;
	CHECK(__wasi_clock_time_get(99, 1, &t) == __WASI_ERRNO_INVAL, "unknown clock");
}

static void check_random(void)
{
	unsigned char a[64] = {0}, b[64] = {0};
	CHECK(getentropy(a, sizeof a) == 0 && getentropy(b, sizeof b) == 0 && memcmp(a, b, sizeof a) != 0, "getentropy");
	CHECK(__wasi_random_get(a, 0) == 0, "random_get of nothing");
}

static void check_misc(void)
{
	CHECK(wasi_proc_raise(15) == __WASI_ERRNO_NOSYS, "proc_raise");
	CHECK(__wasi_sched_yield() == 0, "sched_yield");
	int fd = open("/proc/self/stat", O_RDONLY);
	int other = open("/proc/self/status", O_RDONLY);
	CHECK(fd >= 0 && other >= 0, "open two files");
	CHECK(__wasi_fd_renumber(fd, other) == 0, "fd_renumber");
	char buf[8];
	CHECK(read(other, buf, sizeof buf) == sizeof buf, "read the renumbered fd");
	CHECK(read(fd, buf, 1) < 0 && errno == EBADF, "renumbered fd is closed");
	CHECK(__wasi_fd_renumber(other, 999) == __WASI_ERRNO_BADF, "renumber onto a closed fd");
	close(other);
	__wasi_prestat_t pre;
	CHECK(__wasi_fd_prestat_get(0, &pre) == __WASI_ERRNO_BADF, "stdin is no preopen");
	__wasi_fdstat_t fs;
	CHECK(__wasi_fd_fdstat_get(3, &fs) == 0 && fs.fs_filetype == __WASI_FILETYPE_DIRECTORY &&
		      (fs.fs_rights_base & __WASI_RIGHTS_PATH_OPEN),
	      "the preopen is a directory");
	// A directory has no position, a socket call needs a socket, and a
	// directory is never open for writing, as in wasmtime.
	CHECK(shutdown(1, SHUT_RD) < 0 && errno == ENOTSOCK, "shutdown of stdout");
	__wasi_filesize_t pos;
	CHECK(__wasi_fd_seek(3, 0, __WASI_WHENCE_CUR, &pos) == __WASI_ERRNO_BADF, "fd_seek of a directory");
	CHECK(__wasi_fd_tell(3, &pos) == __WASI_ERRNO_BADF, "fd_tell of a directory");
	CHECK(shutdown(3, SHUT_RD) < 0 && errno == ENOTSOCK, "shutdown of a directory");
	CHECK(shutdown(999, SHUT_RD) < 0 && errno == EBADF, "shutdown of no descriptor");
	__wasi_fd_t dfd;
	CHECK(__wasi_path_open(3, 0, ".", __WASI_OFLAGS_DIRECTORY, __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE, 0, 0, &dfd) ==
		      __WASI_ERRNO_ISDIR,
	      "a directory opened for writing");
	// Rights dropped hold; none can be added back.
	__wasi_fd_t rfd;
	CHECK(__wasi_path_open(3, 0, "rights", __WASI_OFLAGS_CREAT, __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE, 0, 0, &rfd) == 0,
	      "open rights");
	CHECK(__wasi_fd_fdstat_get(rfd, &fs) == 0 &&
		      __wasi_fd_fdstat_set_rights(rfd, fs.fs_rights_base & ~__WASI_RIGHTS_FD_READ, fs.fs_rights_inheriting) == 0,
	      "drop FD_READ");
	CHECK(read(rfd, buf, 1) < 0 && errno == EBADF, "read without FD_READ");
	CHECK(write(rfd, "x", 1) == 1, "write with FD_WRITE");
	CHECK(__wasi_fd_fdstat_set_rights(rfd, fs.fs_rights_base, fs.fs_rights_inheriting) == __WASI_ERRNO_NOTCAPABLE,
	      "add FD_READ back");
	close(rfd);
	char env[8];
	CHECK(getenv("HOME") == NULL || snprintf(env, sizeof env, "%s", getenv("HOME")) >= 0, "environment");
}

static int tcp_listen(int family, uint8_t *ip, uint32_t iplen, uint32_t *port)
{
	int fd;
	wasi_address addr = {ip, iplen};
	uint8_t raw[128] = {0};
	wasi_address local = {raw, sizeof raw};
	int one = 1;
	CHECK(we_sock_open(family, 2, &fd) == 0, "sock_open");
	CHECK(we_sock_setsockopt(fd, 0, 0, &one, sizeof one) == 0, "SO_REUSEADDR");
	CHECK(we_sock_bind(fd, &addr, *port) == 0, "sock_bind");
	CHECK(we_sock_listen(fd, 8) == 0, "sock_listen");
	CHECK(we_sock_getlocaladdr(fd, &local, port) == 0 && raw[0] == family && *port > 0, "sock_getlocaladdr");
	return fd;
}

static void tcp_pair(int family, uint8_t *ip, uint32_t iplen)
{
	uint32_t port = 0;
	int l = tcp_listen(family, ip, iplen, &port);
	int c;
	wasi_address addr = {ip, iplen};
	CHECK(we_sock_open(family, 2, &c) == 0, "sock_open client");
	CHECK(we_sock_connect(c, &addr, port) == 0, "sock_connect");
	// poll over the listening socket, the client and a clock together.
	struct pollfd p[2] = {{.fd = l, .events = POLLIN}, {.fd = c, .events = POLLOUT}};
	CHECK(poll(p, 2, 1000) == 2 && (p[0].revents & POLLIN) && (p[1].revents & POLLOUT), "poll");
	int s = accept(l, NULL, NULL);
	CHECK(s >= 0, "accept");
	CHECK(send(c, "ping", 4, 0) == 4, "send");
	char buf[16];
	CHECK(recv(s, buf, sizeof buf, MSG_PEEK) == 4 && recv(s, buf, sizeof buf, 0) == 4 && memcmp(buf, "ping", 4) == 0, "recv");
	uint8_t raw[128] = {0};
	wasi_address peer = {raw, sizeof raw};
	uint32_t peer_port;
	CHECK(we_sock_getpeeraddr(c, &peer, &peer_port) == 0 && peer_port == port && raw[0] == family &&
		      memcmp(raw + 2, ip, iplen) == 0,
	      "sock_getpeeraddr");
	int type = 0;
	uint32_t len = sizeof type;
	CHECK(we_sock_getsockopt(s, 0, 1, &type, &len) == 0 && type == 2 && len == 4, "SO_TYPE");
	CHECK(fcntl(s, F_SETFL, O_NONBLOCK) == 0, "non-blocking");
	CHECK(recv(s, buf, sizeof buf, 0) < 0 && errno == EAGAIN, "recv with nothing to read");
	CHECK(shutdown(c, SHUT_WR) == 0, "shutdown");
	p[0] = (struct pollfd){.fd = s, .events = POLLIN};
	CHECK(poll(p, 1, 1000) == 1, "poll for the end");
	CHECK(recv(s, buf, sizeof buf, 0) == 0, "end of stream");
	close(s);
	close(c);
	close(l);
}

static void udp_pair(int family, uint8_t *ip, uint32_t iplen)
{
	int a = -1, b = -1;
	uint32_t port = 0;
	wasi_address addr = {ip, iplen};
	uint8_t raw[128] = {0};
	wasi_address local = {raw, sizeof raw};
	CHECK(we_sock_open(family, 1, &a) == 0 && we_sock_open(family, 1, &b) == 0, "sock_open udp");
	CHECK(we_sock_bind(a, &addr, 0) == 0 && we_sock_getlocaladdr(a, &local, &port) == 0, "bind udp");
	__wasi_ciovec_t out = {(const uint8_t *)"datagram", 8};
	uint32_t sent, received, from_port;
	uint16_t oflags;
	CHECK(we_sock_send_to(b, &out, 1, &addr, port, 0, &sent) == 0 && sent == 8, "sock_send_to");
	char buf[4];
	__wasi_iovec_t in = {(uint8_t *)buf, sizeof buf};
	uint8_t from[128] = {0};
	wasi_address src = {from, sizeof from};
	CHECK(we_sock_recv_from(a, &in, 1, &src, 0, &from_port, &received, &oflags) == 0 && received == 4 &&
		      memcmp(buf, "data", 4) == 0 && (oflags & __WASI_ROFLAGS_RECV_DATA_TRUNCATED) && from[0] == family,
	      "sock_recv_from");
	close(a);
	close(b);
}

static void check_sockets(void)
{
	uint8_t v4[4] = {127, 0, 0, 1}, v6[16] = {[15] = 1};
	tcp_pair(1, v4, 4);
	tcp_pair(2, v6, 16);
	udp_pair(1, v4, 4);
	udp_pair(2, v6, 16);
	int fd;
	CHECK(we_sock_open(3, 2, &fd) == __WASI_ERRNO_NOSYS, "AF_UNIX is refused");
	CHECK(we_sock_open(1, 0, &fd) == __WASI_ERRNO_INVAL, "socket type any");
}

static int serve(int port)
{
	uint8_t any[16] = {0};
	uint32_t p = (uint32_t)port;
	int l = tcp_listen(2, any, 16, &p);
	printf("listening %u\n", p);
	fflush(stdout);
	int s = accept(l, NULL, NULL);
	CHECK(s >= 0, "accept");
	char line[256];
	ssize_t n = recv(s, line, sizeof line - 1, 0);
	CHECK(n > 0, "recv");
	if (n <= 0)
		return 1;
	line[n] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	char reply[300];
	int len = snprintf(reply, sizeof reply, "echo %s\n", line);
	CHECK(send(s, reply, (size_t)len, 0) == len, "send");
	close(s);
	return failures > 0;
}

static int resolve(const char *name, const char *service)
{
	wasi_addrinfo hints = {.socktype = 2}, res[4];
	wasi_sockaddr sa[4];
	uint8_t data[4][26];
	char canon[4][64];
	for (int i = 0; i < 4; i++) {
		sa[i] = (wasi_sockaddr){0, sizeof data[i], (uint32_t)(uintptr_t)data[i]};
		res[i] = (wasi_addrinfo){.addr = (uint32_t)(uintptr_t)&sa[i], .canonname = (uint32_t)(uintptr_t)canon[i],
					 .canonname_len = sizeof canon[i],
					 .next = i < 3 ? (uint32_t)(uintptr_t)&res[i + 1] : 0};
	}
	wasi_addrinfo *first = res;
	uint32_t n = 0;
	uint16_t err = we_sock_getaddrinfo(name, (uint32_t)strlen(name), service, (uint32_t)strlen(service), &hints, &first, 4, &n);
	if (err != 0) {
		printf("error %u\n", err);
		return 1;
	}
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *d = data[i];
		CHECK(d[0] == 0 && d[1] == 80, "port 80 in network order");
		if (sa[i].family == 1)
			printf("%u.%u.%u.%u\n", d[2], d[3], d[4], d[5]);
		else
			for (int k = 0; k < 16; k += 2)
				printf("%x%s", d[6 + k] << 8 | d[7 + k], k < 14 ? ":" : "\n");
	}
	return failures > 0;
}

int main(int argc, char **argv)
{
	group = argc > 1 ? argv[1] : "";
	if ((strcmp(group, "files") == 0 || strcmp(group, "escape") == 0) && (argc < 3 || chdir(argv[2]) != 0)) {
		fprintf(stderr, "wasicheck %s: no directory to work in\n", group);
		return 2;
	}
	if (strcmp(group, "files") == 0)
		check_files();
	else if (strcmp(group, "escape") == 0)
		check_escape();
	else if (strcmp(group, "clocks") == 0)
		check_clocks();
	else if (strcmp(group, "random") == 0)
		check_random();
	else if (strcmp(group, "misc") == 0)
		check_misc();
	else if (strcmp(group, "sockets") == 0)
		check_sockets();
	else if (strcmp(group, "serve") == 0 && argc > 2)
		return serve(atoi(argv[2]));
	else if (strcmp(group, "resolve") == 0 && argc > 2)
		return resolve(argv[2], argc > 3 ? argv[3] : "80");
	else {
		fprintf(stderr, "usage: wasicheck files DIR|escape DIR|clocks|random|misc|sockets|serve PORT|resolve NAME [SERVICE]\n");
		return 2;
	}
	if (failures > 0)
		return 1;
	printf("ok %s\n", group);
	return 0;
}
