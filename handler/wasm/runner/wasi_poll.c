// poll_oneoff over descriptors of any kind (files, pipes, sockets) and
// clocks together, with one ppoll: Go's netpoller and async runtimes wait
// in it. A stop signal ends the runner from its handler wherever it waits.
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wasi_shared.h"

enum { EVENT_CLOCK = 0, EVENT_FD_READ = 1, EVENT_FD_WRITE = 2 };
enum { SUBCLOCK_ABSTIME = 1 };
enum { EVENT_HANGUP = 1 };
#define EVENT_SIZE 32

// At most this many subscriptions in one call: what the guest's memory
// holds of them is not a bound the runner's own allocation should follow.
#define MAX_SUBSCRIPTIONS 65536

struct layout {
	uint64_t size;                                           // of a subscription
	uint64_t clock_id, clock_timeout, clock_precision, clock_flags; // offsets in it
};

static const struct layout preview1 = {48, 16, 24, 32, 40};
// Preview 0's clock subscription starts with an identifier.
static const struct layout unstable = {56, 24, 32, 40, 48};

static void put_event(uint8_t *e, uint64_t userdata, uint16_t error, uint8_t type, uint64_t nbytes, uint16_t flags)
{
	memset(e, 0, EVENT_SIZE);
	put_u64(e, userdata);
	put_u16(e + 8, error);
	put_u8(e + 10, type);
	put_u64(e + 16, nbytes);
	put_u16(e + 24, flags);
}

// readable_bytes is what a read would return now, as wasmtime reports it: a
// file's rest, or what a pipe or socket holds.
static uint64_t readable_bytes(int fd)
{
	struct stat st;
	int n;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		off_t pos = lseek(fd, 0, SEEK_CUR);
		return pos >= 0 && st.st_size > pos ? (uint64_t)(st.st_size - pos) : 0;
	}
	return ioctl(fd, FIONREAD, &n) == 0 && n > 0 ? (uint64_t)n : 0;
}

static int64_t mono_now(void)
{
	return wasi_clock_now(1);
}

static uint32_t poll_oneoff(struct wasi *w, const struct wasi_mem *m, const uint64_t *args, const struct layout *l)
{
	uint64_t nsubs = args[2];
	if (nsubs == 0)
		return WASI_EINVAL;
	if (nsubs > MAX_SUBSCRIPTIONS)
		return WASI_ENOTSUP;
	const uint8_t *in = mem_at(m, args[0], nsubs * l->size);
	uint8_t *out = mem_at(m, args[1], nsubs * EVENT_SIZE);
	if (in == NULL || out == NULL || mem_at(m, args[3], 4) == NULL)
		return WASI_EFAULT;

	struct pollfd *pfds = calloc(nsubs, sizeof *pfds);
	int64_t *deadlines = calloc(nsubs, sizeof *deadlines); // monotonic ns, -1: not a clock
	if (pfds == NULL || deadlines == NULL) {
		free(pfds);
		free(deadlines);
		return WASI_ENOMEM;
	}
	uint32_t nevents = 0;
	int64_t now = mono_now(), earliest = INT64_MAX;
	for (uint64_t i = 0; i < nsubs; i++) {
		const uint8_t *s = in + i * l->size;
		uint64_t userdata = get_u64(s);
		uint8_t tag = s[8];
		pfds[i].fd = -1;
		deadlines[i] = -1;
		if (tag == EVENT_CLOCK) {
			uint32_t id = get_u32(s + l->clock_id);
			uint64_t timeout = get_u64(s + l->clock_timeout);
			uint16_t flags = get_u16(s + l->clock_flags);
			int64_t clock_now = wasi_clock_now(id);
			if (clock_now < 0 || (flags & ~SUBCLOCK_ABSTIME)) {
				put_event(out + EVENT_SIZE * nevents++, userdata, WASI_EINVAL, tag, 0, 0);
				continue;
			}
			// Every clock counts down on the monotonic one: an absolute
			// time is converted once, now.
			// (A time past what an int64 holds is never.)
			int64_t wait = timeout > INT64_MAX		? INT64_MAX
				       : (flags & SUBCLOCK_ABSTIME) ? (int64_t)timeout - clock_now
								  : (int64_t)timeout;
			if (wait < 0)
				wait = 0;
			deadlines[i] = now > INT64_MAX - wait ? INT64_MAX : now + wait;
			if (deadlines[i] < earliest)
				earliest = deadlines[i];
		} else if (tag == EVENT_FD_READ || tag == EVENT_FD_WRITE) {
			struct wasi_fd *f = wasi_fd_get(w, get_u32(s + 16));
			if (f == NULL) {
				put_event(out + EVENT_SIZE * nevents++, userdata, WASI_EBADF, tag, 0, 0);
				continue;
			}
			pfds[i].fd = f->host;
			pfds[i].events = tag == EVENT_FD_READ ? POLLIN : POLLOUT;
		} else {
			put_event(out + EVENT_SIZE * nevents++, userdata, WASI_EINVAL, tag, 0, 0);
		}
	}

	for (;;) {
		struct timespec ts, *tp = NULL;
		if (nevents > 0) {
			ts = (struct timespec){0};
			tp = &ts;
		} else if (earliest != INT64_MAX) {
			int64_t wait = earliest - mono_now();
			if (wait < 0)
				wait = 0;
			ts = (struct timespec){.tv_sec = wait / 1000000000, .tv_nsec = wait % 1000000000};
			tp = &ts;
		}
		int n = ppoll(pfds, (nfds_t)nsubs, tp, NULL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			uint32_t err = WASI_ERRNO();
			free(pfds);
			free(deadlines);
			return err;
		}
		now = mono_now();
		for (uint64_t i = 0; i < nsubs; i++) {
			const uint8_t *s = in + i * l->size;
			if (pfds[i].fd >= 0 && pfds[i].revents) {
				uint16_t error = (pfds[i].revents & POLLNVAL) ? WASI_EBADF : 0;
				uint16_t flags = (pfds[i].revents & POLLHUP) ? EVENT_HANGUP : 0;
				uint64_t nbytes = s[8] == EVENT_FD_READ && !error ? readable_bytes(pfds[i].fd) : 0;
				put_event(out + EVENT_SIZE * nevents++, get_u64(s), error, s[8], nbytes, flags);
			} else if (deadlines[i] >= 0 && deadlines[i] <= now) {
				put_event(out + EVENT_SIZE * nevents++, get_u64(s), 0, EVENT_CLOCK, 0, 0);
			}
		}
		if (nevents > 0)
			break;
	}
	free(pfds);
	free(deadlines);
	return store_u32(m, args[3], nevents);
}

uint32_t wasi_poll_oneoff(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	return poll_oneoff(w, m, args, &preview1);
}

uint32_t wasi_unstable_poll_oneoff(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	return poll_oneoff(w, m, args, &unstable);
}

uint32_t wasi_sched_yield(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	(void)w, (void)m, (void)args;
	sched_yield();
	return WASI_ESUCCESS;
}
