// Sockets: preview 1's sock_accept, sock_recv, sock_send and sock_shutdown,
// and WasmEdge's extension, with its ABI: sockets opened, bound, connected
// in the container's own network namespace, as a native process's.
//
// WasmEdge's addresses: a guest passes {u32 buf, u32 buf_len}; buf_len 4 is
// an IPv4 address, 16 an IPv6 one, and 128 a {u16 family; u8 addr[126]}
// (family 1 IPv4, 2 IPv6) that getlocaladdr and getpeeraddr fill. Ports are
// separate arguments, in host order. WasmEdge refuses AF_UNIX unless
// configured to allow it; so does the runner (its paths would not resolve
// within a preopen).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "wasi_shared.h"

enum { AF_WASI_UNSPEC = 0, AF_WASI_INET4 = 1, AF_WASI_INET6 = 2, AF_WASI_UNIX = 3 };
enum { SOCK_WASI_ANY = 0, SOCK_WASI_DGRAM = 1, SOCK_WASI_STREAM = 2 };
enum { RIFLAG_PEEK = 1, RIFLAG_WAITALL = 2 };
enum { ROFLAG_TRUNCATED = 1 };
enum { SDFLAG_RD = 1, SDFLAG_WR = 2 };

// socket_of returns the host fd of the guest's fd: on any other than a
// socket, the call fails as the kernel says (ENOTSOCK).
static uint32_t socket_of(struct wasi *w, uint64_t fd, int *host)
{
	struct wasi_fd *f = wasi_fd_get(w, fd);
	if (f == NULL)
		return WASI_EBADF;
	*host = f->host;
	return WASI_ESUCCESS;
}

static uint32_t accept_fd(struct wasi *w, const struct wasi_mem *m, uint64_t fd, uint64_t flags, uint64_t out)
{
	int host;
	if (flags & ~(uint64_t)WASI_FDFLAG_NONBLOCK)
		return WASI_EINVAL;
	uint32_t err = socket_of(w, fd, &host);
	if (err != WASI_ESUCCESS)
		return err;
	if (mem_at(m, out, 4) == NULL)
		return WASI_EFAULT;
	int conn = accept4(host, NULL, NULL, SOCK_CLOEXEC | ((flags & WASI_FDFLAG_NONBLOCK) ? SOCK_NONBLOCK : 0));
	if (conn < 0)
		return WASI_ERRNO();
	uint32_t newfd;
	err = wasi_fd_add(w, conn, &newfd);
	return err != WASI_ESUCCESS ? err : store_u32(m, out, newfd);
}

uint32_t wasi_sock_accept(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	return accept_fd(w, m, args[0], args[1], args[2]);
}

// WasmEdge before 0.12: sock_accept(fd, *newfd), without flags.
uint32_t wasi_sock_accept_v1(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	return accept_fd(w, m, args[0], 0, args[1]);
}

// msg transfers one message; addr, if not NULL, is the peer's (sendmsg) or
// receives it (recvmsg).
static uint32_t msg(struct wasi *w, const struct wasi_mem *m, uint64_t fd, uint64_t iovs, uint64_t niovs, bool send,
		    int flags, struct sockaddr_storage *addr, socklen_t addrlen, uint64_t nptr, uint64_t roflags_ptr)
{
	struct iovec iov[WASI_IOV_MAX];
	int host;
	uint32_t err = socket_of(w, fd, &host);
	if (err == WASI_ESUCCESS)
		err = wasi_iovecs(m, iovs, niovs, iov);
	if (err != WASI_ESUCCESS)
		return err;
	if (mem_at(m, nptr, 4) == NULL || (!send && mem_at(m, roflags_ptr, 2) == NULL))
		return WASI_EFAULT;
	struct msghdr h = {.msg_name = addr, .msg_namelen = addr != NULL ? addrlen : 0, .msg_iov = iov,
			   .msg_iovlen = niovs};
	ssize_t n = send ? sendmsg(host, &h, flags | MSG_NOSIGNAL) : recvmsg(host, &h, flags);
	if (n < 0)
		return WASI_ERRNO();
	if (!send)
		put_u16(mem_at(m, roflags_ptr, 2), (h.msg_flags & MSG_TRUNC) ? ROFLAG_TRUNCATED : 0);
	return store_u32(m, nptr, (uint32_t)n);
}

static uint32_t recv_flags(uint64_t riflags, int *flags)
{
	if (riflags & ~(uint64_t)(RIFLAG_PEEK | RIFLAG_WAITALL))
		return WASI_EINVAL;
	*flags = ((riflags & RIFLAG_PEEK) ? MSG_PEEK : 0) | ((riflags & RIFLAG_WAITALL) ? MSG_WAITALL : 0);
	return WASI_ESUCCESS;
}

// sock_recv(fd, ri_data, ri_data_len, ri_flags, *ro_datalen, *ro_flags)
uint32_t wasi_sock_recv(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	int flags;
	uint32_t err = recv_flags(args[3], &flags);
	if (err != WASI_ESUCCESS)
		return err;
	return msg(w, m, args[0], args[1], args[2], false, flags, NULL, 0, args[4], args[5]);
}

// sock_send(fd, si_data, si_data_len, si_flags, *so_datalen)
uint32_t wasi_sock_send(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	if (args[3] != 0)
		return WASI_EINVAL;
	return msg(w, m, args[0], args[1], args[2], true, 0, NULL, 0, args[4], 0);
}

uint32_t wasi_sock_shutdown(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	static const int how[] = {-1, SHUT_RD, SHUT_WR, SHUT_RDWR};
	int host;
	(void)m;
	if (args[1] == 0 || args[1] > 3)
		return WASI_EINVAL;
	uint32_t err = socket_of(w, args[0], &host);
	if (err != WASI_ESUCCESS)
		return err;
	return shutdown(host, how[args[1]]) == 0 ? WASI_ESUCCESS : WASI_ERRNO();
}

uint32_t wasi_sock_open(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	int domain, type;
	switch (args[0]) {
	case AF_WASI_INET4:
		domain = AF_INET;
		break;
	case AF_WASI_INET6:
		domain = AF_INET6;
		break;
	case AF_WASI_UNIX:
		return WASI_ENOSYS;
	default:
		return WASI_EINVAL;
	}
	switch (args[1]) {
	case SOCK_WASI_DGRAM:
		type = SOCK_DGRAM;
		break;
	case SOCK_WASI_STREAM:
		type = SOCK_STREAM;
		break;
	default:
		return WASI_EINVAL;
	}
	if (mem_at(m, args[2], 4) == NULL)
		return WASI_EFAULT;
	int host = socket(domain, type | SOCK_CLOEXEC, 0);
	if (host < 0)
		return WASI_ERRNO();
	uint32_t fd;
	uint32_t err = wasi_fd_add(w, host, &fd);
	return err != WASI_ESUCCESS ? err : store_u32(m, args[2], fd);
}

// address reads a WasmEdge address at ptr. family and ip are where the
// address is, data its 4 or 16 bytes; storage is the 128-byte form if the
// guest passed one.
struct address {
	int family; // AF_INET, AF_INET6, or 0 when the guest left it to be filled
	uint8_t *data;
	uint8_t *storage;
	uint32_t len;
};

static uint32_t address(const struct wasi_mem *m, uint64_t ptr, struct address *a)
{
	const uint8_t *desc = mem_at(m, ptr, 8);
	if (desc == NULL)
		return WASI_EFAULT;
	uint32_t buf = get_u32(desc), len = get_u32(desc + 4);
	uint8_t *p = mem_at(m, buf, len);
	if (p == NULL)
		return WASI_EFAULT;
	*a = (struct address){.data = p, .len = len};
	switch (len) {
	case 4:
		a->family = AF_INET;
		return WASI_ESUCCESS;
	case 16:
		a->family = AF_INET6;
		return WASI_ESUCCESS;
	case 128:
		a->storage = p;
		a->data = p + 2;
		a->family = get_u16(p) == AF_WASI_INET4 ? AF_INET : get_u16(p) == AF_WASI_INET6 ? AF_INET6 : 0;
		return WASI_ESUCCESS;
	default:
		return WASI_EINVAL;
	}
}

static uint32_t sockaddr_of(const struct address *a, uint64_t port, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof *ss);
	if (port > UINT16_MAX)
		return WASI_EINVAL;
	if (a->family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		memcpy(&in->sin_addr, a->data, 4);
		*len = sizeof *in;
	} else if (a->family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		memcpy(&in6->sin6_addr, a->data, 16);
		*len = sizeof *in6;
	} else {
		return WASI_EINVAL;
	}
	return WASI_ESUCCESS;
}

static uint32_t bind_or_connect(struct wasi *w, const struct wasi_mem *m, const uint64_t *args, bool bind_it)
{
	struct address a;
	struct sockaddr_storage ss;
	socklen_t len;
	int host;
	uint32_t err = socket_of(w, args[0], &host);
	if (err == WASI_ESUCCESS)
		err = address(m, args[1], &a);
	if (err == WASI_ESUCCESS)
		err = sockaddr_of(&a, args[2], &ss, &len);
	if (err != WASI_ESUCCESS)
		return err;
	int r = bind_it ? bind(host, (struct sockaddr *)&ss, len) : connect(host, (struct sockaddr *)&ss, len);
	return r == 0 ? WASI_ESUCCESS : WASI_ERRNO();
}

uint32_t wasi_sock_bind(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	return bind_or_connect(w, m, args, true);
}

uint32_t wasi_sock_connect(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	return bind_or_connect(w, m, args, false);
}

uint32_t wasi_sock_listen(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	int host;
	(void)m;
	uint32_t err = socket_of(w, args[0], &host);
	if (err != WASI_ESUCCESS)
		return err;
	return listen(host, (int)(int32_t)args[1]) == 0 ? WASI_ESUCCESS : WASI_ERRNO();
}

// put_address writes the host's ss into a: into the 128-byte form with its
// family, or as the bare address if a's buffer holds it. Returns the WASI
// family and the port in host order.
static uint32_t put_address(const struct sockaddr_storage *ss, struct address *a, uint16_t *family,
			    uint16_t *port)
{
	const uint8_t *ip;
	uint32_t n;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
		ip = (const uint8_t *)&in->sin_addr;
		n = 4;
		*family = AF_WASI_INET4;
		*port = ntohs(in->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
		ip = (const uint8_t *)&in6->sin6_addr;
		n = 16;
		*family = AF_WASI_INET6;
		*port = ntohs(in6->sin6_port);
	} else {
		return WASI_EAFNOSUPPORT;
	}
	uint32_t room = a->storage != NULL ? a->len - 2 : a->len;
	if (room < n)
		return WASI_ENOMEM;
	memcpy(a->data, ip, n);
	if (a->storage != NULL)
		put_u16(a->storage, *family);
	return WASI_ESUCCESS;
}

// sock_addr is getsockname or getpeername into a WasmEdge address.
static uint32_t sock_addr(struct wasi *w, const struct wasi_mem *m, uint64_t fd, uint64_t addr_ptr,
			  uint64_t type_ptr, uint64_t port_ptr, bool peer, bool v1)
{
	struct address a;
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	uint16_t family, port;
	int host;
	uint32_t err = socket_of(w, fd, &host);
	if (err == WASI_ESUCCESS)
		err = address(m, addr_ptr, &a);
	if (err != WASI_ESUCCESS)
		return err;
	// 0.12 and later fill the 128-byte form only; before, 16 bytes of address.
	if (v1 ? a.len != 16 : a.len != 128)
		return WASI_EINVAL;
	if (mem_at(m, port_ptr, 4) == NULL || (v1 && mem_at(m, type_ptr, 4) == NULL))
		return WASI_EFAULT;
	if ((peer ? getpeername(host, (struct sockaddr *)&ss, &len) : getsockname(host, (struct sockaddr *)&ss, &len)) != 0)
		return WASI_ERRNO();
	err = put_address(&ss, &a, &family, &port);
	if (err != WASI_ESUCCESS)
		return err;
	if (v1)
		store_u32(m, type_ptr, family == AF_WASI_INET4 ? 4 : 6);
	return store_u32(m, port_ptr, port);
}

// sock_getlocaladdr(fd, *addr, *port)
uint32_t wasi_sock_getlocaladdr(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	return sock_addr(w, m, args[0], args[1], 0, args[2], false, false);
}

uint32_t wasi_sock_getpeeraddr(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	return sock_addr(w, m, args[0], args[1], 0, args[2], true, false);
}

// Before 0.12: (fd, *addr, *addr_type, *port), addr_type 4 or 6.
uint32_t wasi_sock_getlocaladdr_v1(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	return sock_addr(w, m, args[0], args[1], args[2], args[3], false, true);
}

uint32_t wasi_sock_getpeeraddr_v1(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	return sock_addr(w, m, args[0], args[1], args[2], args[3], true, true);
}

// WasmEdge's socket options, all at its SOL_SOCKET level (0), by number.
static const int sockopts[] = {SO_REUSEADDR, SO_TYPE,   SO_ERROR,   SO_DONTROUTE, SO_BROADCAST,
			       SO_SNDBUF,    SO_RCVBUF, SO_KEEPALIVE, SO_OOBINLINE, SO_LINGER,
			       SO_RCVLOWAT,  SO_RCVTIMEO, SO_SNDTIMEO, SO_ACCEPTCONN};

// sockopt_of takes (fd, level, name) of sock_getsockopt and sock_setsockopt.
static uint32_t sockopt_of(struct wasi *w, const uint64_t *args, int *host, int *opt)
{
	uint32_t err = socket_of(w, args[0], host);
	if (err != WASI_ESUCCESS)
		return err;
	if (args[1] != 0 || args[2] >= sizeof sockopts / sizeof sockopts[0])
		return WASI_EINVAL;
	*opt = sockopts[args[2]];
	return WASI_ESUCCESS;
}

// sock_getsockopt(fd, level, name, *value, *value_len): SO_ERROR's value is
// a WASI errno and SO_TYPE's a WASI socket type.
uint32_t wasi_sock_getsockopt(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	int host, opt;
	uint32_t err = sockopt_of(w, args, &host, &opt);
	if (err != WASI_ESUCCESS)
		return err;
	uint8_t *lenp = mem_at(m, args[4], 4);
	if (lenp == NULL)
		return WASI_EFAULT;
	socklen_t len = get_u32(lenp);
	uint8_t *value = mem_at(m, args[3], len);
	if (value == NULL)
		return WASI_EFAULT;
	if (getsockopt(host, SOL_SOCKET, opt, value, &len) != 0)
		return WASI_ERRNO();
	if (len == sizeof(int) && opt == SO_ERROR) {
		int e = (int)get_u32(value);
		put_u32(value, e == 0 ? 0 : wasi_errno(e));
	} else if (len == sizeof(int) && opt == SO_TYPE) {
		int t = (int)get_u32(value);
		put_u32(value, t == SOCK_STREAM ? SOCK_WASI_STREAM : t == SOCK_DGRAM ? SOCK_WASI_DGRAM : SOCK_WASI_ANY);
	}
	put_u32(lenp, len);
	return WASI_ESUCCESS;
}

// sock_setsockopt(fd, level, name, *value, value_len)
uint32_t wasi_sock_setsockopt(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	int host, opt;
	uint32_t err = sockopt_of(w, args, &host, &opt);
	if (err != WASI_ESUCCESS)
		return err;
	const uint8_t *value = mem_at(m, args[3], args[4]);
	if (value == NULL)
		return WASI_EFAULT;
	return setsockopt(host, SOL_SOCKET, opt, value, (socklen_t)args[4]) == 0 ? WASI_ESUCCESS : WASI_ERRNO();
}

static uint32_t recv_from(struct wasi *w, const struct wasi_mem *m, const uint64_t *args, uint64_t port_ptr,
			  uint64_t nptr, uint64_t roflags_ptr)
{
	struct address a;
	struct sockaddr_storage ss = {0};
	int flags;
	uint32_t err = address(m, args[3], &a);
	if (err == WASI_ESUCCESS)
		err = recv_flags(args[4], &flags);
	if (err != WASI_ESUCCESS)
		return err;
	if (port_ptr != UINT64_MAX && mem_at(m, port_ptr, 2) == NULL)
		return WASI_EFAULT;
	err = msg(w, m, args[0], args[1], args[2], false, flags, &ss, sizeof ss, nptr, roflags_ptr);
	if (err != WASI_ESUCCESS)
		return err;
	uint16_t family, port;
	if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6)
		return WASI_ESUCCESS; // a connected socket: no address to report
	if (put_address(&ss, &a, &family, &port) != WASI_ESUCCESS)
		return WASI_ESUCCESS; // the buffer is too small for it: WasmEdge leaves it too
	// WasmEdge stores the port as the sockaddr holds it, in network order.
	if (port_ptr != UINT64_MAX)
		put_u16(mem_at(m, port_ptr, 2), htons(port));
	return WASI_ESUCCESS;
}

// sock_recv_from(fd, ri_data, ri_data_len, *addr, ri_flags, *port, *ro_datalen, *ro_flags)
uint32_t wasi_sock_recv_from(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	return recv_from(w, m, args, args[5], args[6], args[7]);
}

// Before 0.12: (fd, ri_data, ri_data_len, *addr, ri_flags, *ro_datalen, *ro_flags).
uint32_t wasi_sock_recv_from_v1(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	return recv_from(w, m, args, UINT64_MAX, args[5], args[6]);
}

// sock_send_to(fd, si_data, si_data_len, *addr, port, si_flags, *so_datalen)
uint32_t wasi_sock_send_to(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	struct address a;
	struct sockaddr_storage ss;
	socklen_t len;
	uint32_t err = address(m, args[3], &a);
	if (err == WASI_ESUCCESS)
		err = sockaddr_of(&a, (uint32_t)args[4], &ss, &len);
	if (err != WASI_ESUCCESS)
		return err;
	if (args[5] != 0)
		return WASI_EINVAL;
	return msg(w, m, args[0], args[1], args[2], true, 0, &ss, len, args[6], 0);
}
