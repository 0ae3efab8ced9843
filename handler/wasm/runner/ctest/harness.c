// A harness of the runner's WASI functions without wasmtime, for the tests
// in wasi_test.go (which build it with the runner's C files):
//
//	harness errno              prints each row of the errno table: "LINUX WASI"
//	harness fuzz DIR SEED N    makes N calls of random host functions with
//	                           random arguments on a random memory, in a new
//	                           network namespace, DIR as both preopens; prints
//	                           "ok" if every call returned an errno
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "wasi_shared.h"

size_t wasi_errno_table_len(void);
void wasi_errno_table_row(size_t i, int *linux_errno, uint16_t *wasi);

struct entry {
	const char *module, *name, *params, *results;
	wasi_func impl;
};

#define ENTRY(module, name, params, results, impl) {module, name, params, results, impl},
static const struct entry entries[] = {WASI_FUNCS(ENTRY)};
#define NENTRIES (sizeof entries / sizeof entries[0])

// Not fuzzed: proc_exit ends the process; poll_oneoff and getaddrinfo wait
// past a signal by design (an EINTR resumes them), so they get bounded calls.
static bool skipped(const char *name)
{
	return strcmp(name, "proc_exit") == 0 || strcmp(name, "poll_oneoff") == 0 ||
	       strcmp(name, "sock_getaddrinfo") == 0;
}

#define MEM_SIZE 65536
static uint8_t memory[MEM_SIZE];

static uint64_t rnd(void)
{
	return (uint64_t)random() << 33 ^ (uint64_t)random() << 11 ^ (uint64_t)random();
}

// arg is a random argument, often one that means something: a small number
// (a descriptor, a flag), a pointer into memory, one at its edge, or any.
// Paths planted in memory at multiples of 64 below 1024 (see scribble),
// which arguments often point at.
static const char *const paths[] = {"a", "a/b", "a/", "..", "../x", ".", "l", "l/", "a/../a", "/", "a/b/c", "x\0y"};

static uint64_t arg(char type)
{
	switch (rnd() % 9) {
	case 6:
	case 7:
		return 64 * (rnd() % 16);
	case 8:
	case 0:
		return rnd() % 8;
	case 1:
	case 2:
		return rnd() % MEM_SIZE;
	case 3: {
		static const uint64_t edges[] = {MEM_SIZE - 1, MEM_SIZE, MEM_SIZE + 1, UINT32_MAX, UINT32_MAX - 7, 0};
		return edges[rnd() % 6];
	}
	case 4:
		return rnd() % 64;
	default:
		return type == 'I' ? rnd() : (uint32_t)rnd();
	}
}

// scribble makes memory hold plausible structures: small numbers and
// pointers back into it (iovecs, addresses), and paths, among random bytes.
static void scribble(void)
{
	const char *path = paths[rnd() % (sizeof paths / sizeof paths[0])];
	memcpy(memory + 64 * (rnd() % 16), path, strlen(path) + 1);
	for (int i = 0; i < 64; i++) {
		uint32_t at = (uint32_t)(rnd() % (MEM_SIZE - 8)), v;
		switch (rnd() % 3) {
		case 0: v = (uint32_t)(rnd() % MEM_SIZE); break;
		case 1: v = (uint32_t)(rnd() % 256); break;
		default: v = (uint32_t)rnd(); break;
		}
		memcpy(memory + at, &v, 4);
	}
}

static void on_alarm(int sig) { (void)sig; }

static int fuzz(const char *dir, unsigned seed, long n, FILE *report)
{
	struct wasi w;
	struct wasi_mem m = {memory, MEM_SIZE};
	char *argv[] = {"guest", "arg", NULL}, *envv[] = {"A=1", NULL};

	if (unshare(CLONE_NEWNET) != 0 || chdir(dir) != 0) {
		fprintf(report, "set up: %s\n", strerror(errno));
		return 1;
	}
	if (!wasi_init(&w, 2, argv, 1, envv, dir)) {
		fprintf(report, "wasi_init: %s\n", strerror(errno));
		return 1;
	}
	// The / preopen is DIR too: random paths stay in it.
	int root = open(dir, O_RDONLY | O_DIRECTORY);
	if (root < 0 || dup2(root, w.fds[4].host) < 0) {
		fprintf(report, "preopen: %s\n", strerror(errno));
		return 1;
	}
	close(root);
	// A call that blocks (accept, a read) is interrupted by the next tick.
	struct sigaction sa = {.sa_handler = on_alarm};
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval tick = {{0, 20000}, {0, 20000}};
	setitimer(ITIMER_REAL, &tick, NULL);
	srandom(seed);
	for (size_t i = 0; i < MEM_SIZE; i++)
		memory[i] = (uint8_t)rnd();
	for (long call = 0; call < n; call++) {
		const struct entry *e = &entries[rnd() % NENTRIES];
		if (skipped(e->name))
			continue;
		uint64_t args[16];
		for (size_t k = 0; e->params[k]; k++)
			args[k] = arg(e->params[k]);
		if (call % 16 == 0)
			scribble();
		uint32_t r = e->impl(&w, &m, args);
		if (r > WASI_EAI_SYSTEM) {
			fprintf(report, "%s.%s returned %u, not an errno\n", e->module, e->name, r);
			return 1;
		}
	}
	// poll_oneoff, bounded: clock subscriptions of at most a millisecond.
	for (long call = 0; call < n / 100; call++) {
		uint64_t nsubs = 1 + rnd() % 4, in = rnd() % (MEM_SIZE / 2), out = MEM_SIZE / 2 + rnd() % (MEM_SIZE / 4);
		for (uint64_t s = 0; s < nsubs; s++) {
			uint8_t *sub = memory + in + 48 * s;
			if (in + 48 * (s + 1) > MEM_SIZE)
				break;
			sub[8] = (uint8_t)(rnd() % 4);
			uint64_t timeout = rnd() % 1000000;
			memcpy(sub + 24, &timeout, 8);
			memset(sub + 40, 0, 2);
		}
		uint64_t args[4] = {in, out, nsubs, rnd() % MEM_SIZE};
		uint32_t r = wasi_poll_oneoff(&w, &m, args);
		if (r > WASI_EAI_SYSTEM) {
			fprintf(report, "poll_oneoff returned %u\n", r);
			return 1;
		}
	}
	fprintf(report, "ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "errno") == 0) {
		for (size_t i = 0; i < wasi_errno_table_len(); i++) {
			int linux_errno;
			uint16_t wasi;
			wasi_errno_table_row(i, &linux_errno, &wasi);
			printf("%d %u %u\n", linux_errno, wasi, wasi_errno(linux_errno));
		}
		return 0;
	}
	if (argc == 5 && strcmp(argv[1], "fuzz") == 0) {
		// The report goes to a descriptor of its own: the calls write to
		// and close the guest's stdio, which is /dev/null.
		FILE *report = fdopen(dup(1), "w");
		int null = open("/dev/null", O_RDWR);
		for (int fd = 0; fd < 3; fd++)
			dup2(null, fd);
		setvbuf(report, NULL, _IONBF, 0);
		return fuzz(argv[2], (unsigned)strtoul(argv[3], NULL, 10), strtol(argv[4], NULL, 10), report);
	}
	fprintf(stderr, "usage: harness errno | fuzz DIR SEED N\n");
	return 2;
}
