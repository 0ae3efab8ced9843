// What the guest gets of its process: args, environment, clocks, random
// bytes, and its exit.
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>

#include "wasi_shared.h"

// sizes stores the count of strings and their bytes with NULs.
static uint32_t sizes(const struct wasi_mem *m, const uint64_t *args, int n, char **strings)
{
	uint64_t bytes = 0;
	for (int i = 0; i < n; i++)
		bytes += strlen(strings[i]) + 1;
	uint32_t err = store_u32(m, args[0], (uint32_t)n);
	return err != WASI_ESUCCESS ? err : store_u32(m, args[1], (uint32_t)bytes);
}

// strings writes the pointers to the strings at args[0] and the strings
// themselves, packed, at args[1].
static uint32_t strings(const struct wasi_mem *m, const uint64_t *args, int n, char **strings)
{
	uint64_t bytes = 0;
	for (int i = 0; i < n; i++)
		bytes += strlen(strings[i]) + 1;
	uint8_t *ptrs = mem_at(m, args[0], (uint64_t)n * 4), *buf = mem_at(m, args[1], bytes);
	if (ptrs == NULL || buf == NULL)
		return WASI_EFAULT;
	uint64_t off = 0;
	for (int i = 0; i < n; i++) {
		size_t len = strlen(strings[i]) + 1;
		put_u32(ptrs + 4 * i, (uint32_t)(args[1] + off));
		memcpy(buf + off, strings[i], len);
		off += len;
	}
	return WASI_ESUCCESS;
}

uint32_t wasi_args_sizes_get(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	return sizes(m, args, w->argc, w->argv);
}

uint32_t wasi_args_get(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	return strings(m, args, w->argc, w->argv);
}

uint32_t wasi_environ_sizes_get(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	return sizes(m, args, w->envc, w->envv);
}

uint32_t wasi_environ_get(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	return strings(m, args, w->envc, w->envv);
}

// The WASI clocks: realtime, monotonic, the process's and the thread's CPU time.
static const clockid_t clocks[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID,
				   CLOCK_THREAD_CPUTIME_ID};

int64_t wasi_clock_now(uint32_t id)
{
	struct timespec ts;
	if (id >= sizeof clocks / sizeof clocks[0] || clock_gettime(clocks[id], &ts) != 0)
		return -1;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

uint32_t wasi_clock_res_get(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	struct timespec ts;
	(void)w;
	if (args[0] >= sizeof clocks / sizeof clocks[0])
		return WASI_EINVAL;
	if (clock_getres(clocks[args[0]], &ts) != 0)
		return WASI_ERRNO();
	return store_u64(m, args[1], (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
}

uint32_t wasi_clock_time_get(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	(void)w;
	int64_t now = wasi_clock_now((uint32_t)(args[0] > UINT32_MAX ? UINT32_MAX : args[0]));
	if (now < 0)
		return WASI_EINVAL;
	return store_u64(m, args[2], (uint64_t)now);
}

uint32_t wasi_random_get(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	uint8_t *p = mem_at(m, args[0], args[1]);
	(void)w;
	if (p == NULL)
		return WASI_EFAULT;
	for (uint64_t done = 0; done < args[1];) {
		ssize_t n = getrandom(p + done, args[1] - done, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return WASI_ERRNO();
		done += (uint64_t)n;
	}
	return WASI_ESUCCESS;
}

int guest_exit_status(const char *module, uint32_t status)
{
	// wasmtime's range, which keeps 126 and up for the runner's own
	// statuses (a trap's 134, a signal's 128+n).
	if (status >= 126) {
		fprintf(stderr, "wrunc: %s: exit with invalid exit status outside of [0..126): %u\n", module, status);
		return 1;
	}
	return (int)status;
}

// proc_exit ends the runner with the guest's status, as the process exit it
// is. (wasmtime's own unwinds the guest with an error instead, capturing a
// backtrace of its frames: 0.1 ms of every exit of a Go guest.) Nothing is
// left to flush: fd_write is a write(2).
uint32_t wasi_proc_exit(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	(void)m;
	exit(guest_exit_status(w->module, (uint32_t)args[0]));
}

// proc_raise is not for a guest to use: wasmtime refuses it too.
uint32_t wasi_proc_raise(struct wasi *w, const struct wasi_mem *m, const uint64_t *args)
{
	(void)w, (void)m, (void)args;
	return WASI_ENOSYS;
}
