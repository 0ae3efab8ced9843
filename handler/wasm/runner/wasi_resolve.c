// sock_getaddrinfo, WasmEdge's name resolution, as for a native process of
// the container: its /etc/hosts, /etc/resolv.conf and nsswitch.conf's hosts
// order, read by c-ares (Debian's, linked statically) rather than glibc,
// whose resolver needs NSS modules the runner (static) cannot load and the
// rootfs need not have.
//
// The guest's result is a chain it prepared: max_res addrinfos linked by
// ai_next, each with an ai_addr sockaddr {u32 family, u32 data_len, u32 data}
// whose data receives the host sockaddr's bytes after its family (port in
// network order, then the address), and an ai_canonname buffer.
#define _GNU_SOURCE
#include <ares.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "wasi_shared.h"

enum { AI_WASI_PASSIVE = 1, AI_WASI_CANONNAME = 2, AI_WASI_NUMERICHOST = 4, AI_WASI_NUMERICSERV = 8,
       AI_WASI_V4MAPPED = 16, AI_WASI_ALL = 32, AI_WASI_ADDRCONFIG = 64 };
#define ADDRINFO_SIZE 28
#define SOCKADDR_SIZE 12

struct lookup {
	bool done;
	int status;
	struct ares_addrinfo *result;
};

static void on_result(void *arg, int status, int timeouts, struct ares_addrinfo *result)
{
	struct lookup *l = arg;
	(void)timeouts;
	l->done = true;
	l->status = status;
	l->result = result;
}

static uint32_t ares_errno(int status)
{
	switch (status) {
	case ARES_ENOTFOUND:
	case ARES_ENONAME:
		return WASI_EAI_NONAME;
	case ARES_ENODATA:
		return WASI_EAI_NODATA;
	case ARES_ENOMEM:
		return WASI_EAI_MEMORY;
	case ARES_EBADFAMILY:
		return WASI_EAI_FAMILY;
	case ARES_ESERVICE:
		return WASI_EAI_SERVICE;
	case ARES_EBADFLAGS:
		return WASI_EAI_BADFLAG;
	case ARES_ETIMEOUT:
	case ARES_ECONNREFUSED:
	case ARES_ESERVFAIL:
		return WASI_EAI_AGAIN;
	default:
		return WASI_EAI_FAIL;
	}
}

// resolve runs one ares_getaddrinfo to its end, waiting with poll (the
// guest's descriptors may be numbered past select's limit).
static int resolve(const char *node, const char *service, const struct ares_addrinfo_hints *hints,
		   struct ares_addrinfo **out)
{
	static bool initialized;
	ares_channel channel;
	struct lookup l = {0};
	int status;

	if (!initialized) {
		if ((status = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS)
			return status;
		initialized = true;
	}
	// A channel per call: the container's files are read as they are now.
	if ((status = ares_init(&channel)) != ARES_SUCCESS)
		return status;
	ares_getaddrinfo(channel, node, service, hints, on_result, &l);
	while (!l.done) {
		ares_socket_t socks[ARES_GETSOCK_MAXNUM];
		struct pollfd pfds[ARES_GETSOCK_MAXNUM];
		int mask = ares_getsock(channel, socks, ARES_GETSOCK_MAXNUM), n = 0;
		for (int i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
			if (!ARES_GETSOCK_READABLE(mask, i) && !ARES_GETSOCK_WRITABLE(mask, i))
				continue;
			pfds[n++] = (struct pollfd){.fd = socks[i],
						    .events = (short)((ARES_GETSOCK_READABLE(mask, i) ? POLLIN : 0) |
								      (ARES_GETSOCK_WRITABLE(mask, i) ? POLLOUT : 0))};
		}
		struct timeval tv, *tvp = ares_timeout(channel, NULL, &tv);
		int timeout = tvp != NULL ? (int)(tvp->tv_sec * 1000 + tvp->tv_usec / 1000) : -1;
		if (poll(pfds, (nfds_t)n, timeout) < 0 && errno != EINTR)
			break;
		if (n == 0)
			ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
		for (int i = 0; i < n; i++)
			ares_process_fd(channel, (pfds[i].revents & (POLLIN | POLLERR | POLLHUP)) ? pfds[i].fd : ARES_SOCKET_BAD,
					(pfds[i].revents & POLLOUT) ? pfds[i].fd : ARES_SOCKET_BAD);
	}
	ares_destroy(channel); // calls on_result with ARES_EDESTRUCTION if still pending
	*out = l.result;
	return l.status;
}

// string_of copies a guest string (which may carry its NUL, as Go's and
// WasmEdge's callers pass it) into a C string; empty is NULL.
static uint32_t string_of(const struct wasi_mem *m, uint64_t ptr, uint64_t len, char *buf, size_t size,
			  const char **out)
{
	const uint8_t *p = mem_at(m, ptr, len);
	if (p == NULL)
		return WASI_EFAULT;
	const uint8_t *nul = memchr(p, '\0', len);
	size_t n = nul != NULL ? (size_t)(nul - p) : len;
	if (n >= size)
		return WASI_ENAMETOOLONG;
	memcpy(buf, p, n);
	buf[n] = '\0';
	*out = n > 0 ? buf : NULL;
	return WASI_ESUCCESS;
}

static uint32_t hints_of(const struct wasi_mem *m, uint64_t ptr, struct ares_addrinfo_hints *h, bool *canon)
{
	const uint8_t *p = mem_at(m, ptr, ADDRINFO_SIZE);
	if (p == NULL)
		return WASI_EFAULT;
	uint16_t flags = get_u16(p);
	uint8_t family = p[2], socktype = p[3];
	uint32_t protocol = get_u32(p + 4);
	static const struct { uint16_t wasi; int ares; } flag_map[] = {
		{AI_WASI_PASSIVE, ARES_AI_PASSIVE},     {AI_WASI_CANONNAME, ARES_AI_CANONNAME},
		{AI_WASI_NUMERICHOST, ARES_AI_NUMERICHOST}, {AI_WASI_NUMERICSERV, ARES_AI_NUMERICSERV},
		{AI_WASI_V4MAPPED, ARES_AI_V4MAPPED},   {AI_WASI_ALL, ARES_AI_ALL},
		{AI_WASI_ADDRCONFIG, ARES_AI_ADDRCONFIG},
	};
	*h = (struct ares_addrinfo_hints){0};
	for (size_t i = 0; i < sizeof flag_map / sizeof flag_map[0]; i++)
		if (flags & flag_map[i].wasi)
			h->ai_flags |= flag_map[i].ares;
	if (flags & ~(uint16_t)127)
		return WASI_EAI_BADFLAG;
	*canon = flags & AI_WASI_CANONNAME;
	switch (family) {
	case 0: h->ai_family = AF_UNSPEC; break;
	case 1: h->ai_family = AF_INET; break;
	case 2: h->ai_family = AF_INET6; break;
	default: return WASI_EAI_FAMILY;
	}
	switch (socktype) {
	case 0: break;
	case 1: h->ai_socktype = SOCK_DGRAM; break;
	case 2: h->ai_socktype = SOCK_STREAM; break;
	default: return WASI_EAI_SOCKTYPE;
	}
	switch (protocol) {
	case 0: break;
	case 1: h->ai_protocol = IPPROTO_TCP; break;
	case 2: h->ai_protocol = IPPROTO_UDP; break;
	default: return WASI_ENOSYS;
	}
	return WASI_ESUCCESS;
}

// put_result fills the guest's addrinfo at p with node.
static uint32_t put_result(const struct wasi_mem *m, uint8_t *p, const struct ares_addrinfo_node *node,
			   const char *canon)
{
	uint8_t family = node->ai_family == AF_INET ? 1 : 2;
	put_u16(p, 0);
	put_u8(p + 2, family);
	put_u8(p + 3, node->ai_socktype == SOCK_STREAM ? 2 : node->ai_socktype == SOCK_DGRAM ? 1 : 0);
	put_u32(p + 4, node->ai_protocol == IPPROTO_TCP ? 1 : node->ai_protocol == IPPROTO_UDP ? 2 : 0);
	put_u32(p + 8, (uint32_t)node->ai_addrlen);
	uint8_t *sa = mem_at(m, get_u32(p + 12), SOCKADDR_SIZE);
	if (sa == NULL)
		return WASI_EFAULT;
	// The sockaddr's bytes after its family: port, then address.
	size_t n = node->ai_addrlen > 2 ? node->ai_addrlen - 2 : 0;
	uint32_t room = get_u32(sa + 4);
	uint8_t *data = mem_at(m, get_u32(sa + 8), room);
	if (data == NULL)
		return WASI_EFAULT;
	if (n > room)
		n = room;
	memcpy(data, (const uint8_t *)node->ai_addr + 2, n);
	put_u32(sa, family);
	put_u32(sa + 4, (uint32_t)n);
	uint32_t canon_len = 0;
	if (canon != NULL) {
		uint32_t canon_room = get_u32(p + 20);
		uint8_t *c = mem_at(m, get_u32(p + 16), canon_room);
		size_t len = strlen(canon);
		if (c != NULL && canon_room > len) {
			memcpy(c, canon, len + 1);
			canon_len = (uint32_t)len;
		}
	}
	put_u32(p + 20, canon_len);
	return WASI_ESUCCESS;
}

// service_port looks a service name up in the container's /etc/services
// for the socket type (TCP unless it is a datagram one), as glibc does:
// c-ares would ask glibc's NSS, which would load the rootfs's libraries into
// the static runner. A number stays as it is.
static uint32_t service_port(const char *service, int socktype, char *port, size_t size)
{
	const char *proto = socktype == SOCK_DGRAM ? "udp" : "tcp";
	if (service[strspn(service, "0123456789")] == '\0')
		return WASI_ESUCCESS;
	FILE *f = fopen("/etc/services", "re");
	char line[512];
	uint32_t err = WASI_EAI_SERVICE;
	while (f != NULL && err != WASI_ESUCCESS && fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "#")] = '\0';
		char *save, *name = strtok_r(line, " \t\n", &save), *pp = strtok_r(NULL, " \t\n", &save);
		if (name == NULL || pp == NULL)
			continue;
		char *slash = strchr(pp, '/');
		if (slash == NULL || strcmp(slash + 1, proto) != 0)
			continue;
		*slash = '\0';
		bool match = strcmp(name, service) == 0;
		for (char *alias; !match && (alias = strtok_r(NULL, " \t\n", &save)) != NULL;)
			match = strcmp(alias, service) == 0;
		if (match && strlen(pp) < size) {
			strcpy(port, pp);
			err = WASI_ESUCCESS;
		}
	}
	if (f != NULL)
		fclose(f);
	return err;
}

// sock_getaddrinfo(node, node_len, service, service_len, *hints, **res, max_res, *res_len)
uint32_t wasi_sock_getaddrinfo(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	char node_buf[1025], service_buf[256];
	const char *node, *service;
	struct ares_addrinfo_hints hints;
	bool canon;
	(void)w;
	uint32_t err = string_of(m, args[0], args[1], node_buf, sizeof node_buf, &node);
	if (err == WASI_ESUCCESS)
		err = string_of(m, args[2], args[3], service_buf, sizeof service_buf, &service);
	if (err != WASI_ESUCCESS)
		return err;
	if (node == NULL && service == NULL)
		return WASI_EAI_NONAME;
	if (args[6] < 1)
		return WASI_EAI_MEMORY;
	if ((err = hints_of(m, args[4], &hints, &canon)) != WASI_ESUCCESS)
		return err;
	char port[8];
	if (service != NULL && (err = service_port(service, hints.ai_socktype, port, sizeof port)) != WASI_ESUCCESS)
		return err;
	if (service != NULL && service[strspn(service, "0123456789")] != '\0')
		service = port;
	hints.ai_flags |= ARES_AI_NUMERICSERV;
	const uint8_t *res = mem_at(m, args[5], 4);
	if (res == NULL || mem_at(m, args[7], 4) == NULL)
		return WASI_EFAULT;

	struct ares_addrinfo *result = NULL;
	int status = resolve(node, service, &hints, &result);
	if (status != ARES_SUCCESS) {
		if (result != NULL)
			ares_freeaddrinfo(result);
		return ares_errno(status);
	}
	uint32_t count = 0;
	uint64_t next = get_u32(res);
	for (struct ares_addrinfo_node *n = result->nodes; n != NULL && count < args[6]; n = n->ai_next) {
		if (n->ai_family != AF_INET && n->ai_family != AF_INET6)
			continue;
		uint8_t *p = mem_at(m, next, ADDRINFO_SIZE);
		if (p == NULL) {
			err = WASI_EFAULT;
			break;
		}
		err = put_result(m, p, n, canon && count == 0 ? result->name : NULL);
		if (err != WASI_ESUCCESS)
			break;
		count++;
		next = get_u32(p + 24);
		if (next == 0)
			break;
	}
	ares_freeaddrinfo(result);
	if (err != WASI_ESUCCESS)
		return err;
	return store_u32(m, args[7], count);
}
