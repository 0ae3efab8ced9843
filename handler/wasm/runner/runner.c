// The in-container wasm runner. It runs as a constructor, before the Go
// runtime starts (as libcontainer's nsexec does for `init`), and exits
// without ever returning to it: a container's pid 1 that only runs a module
// has no use for the Go runtime, whose start alone (threads, heap, every
// package's init) costs more than loading the module and running it.
//
// argv: <exe> RUNNER_MARKER --artifact-socket=FD --module=PATH
//       --guest-memory=BYTES [--hide-home] -- GUEST_ARGS...
// (built by runner.Args; see runner.go for the contract).

#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <wasi.h> // not found? `make headers` copies it from wasmtime-go
#include <wasmtime.h>

#include "engine.h"
#include "runner.h"
#include "runner_internal.h"
#include "wasi_link.h"

void fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("wrunc: wasm runner: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

// message_of returns err's message and frees err.
static wasm_name_t message_of(wasmtime_error_t *err)
{
	wasm_name_t msg;
	wasmtime_error_message(err, &msg);
	wasmtime_error_delete(err);
	return msg;
}

void fail_with(const char *what, wasmtime_error_t *err)
{
	wasm_name_t msg = message_of(err);
	fail("%s: %.*s", what, (int)msg.size, msg.data);
}

static long long parse_number(const char *flag, const char *s)
{
	char *end;
	errno = 0;
	long long n = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || n < 0)
		fail("parse runner args: %s: not a number: %s", flag, s);
	return n;
}

static void parse_args(int argc, char **argv, struct options *o)
{
	static const char socket_flag[] = "--artifact-socket=", module_flag[] = "--module=",
			  memory_flag[] = "--guest-memory=", hide_home_flag[] = "--hide-home";
	int i;

	*o = (struct options){.handoff_fd = -1, .module = "the module"};
	for (i = 2; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (strncmp(a, socket_flag, sizeof socket_flag - 1) == 0) {
			long long fd = parse_number(socket_flag, a + sizeof socket_flag - 1);
			if (fd > INT_MAX)
				fail("parse runner args: %s: out of range: %lld", socket_flag, fd);
			o->handoff_fd = (int)fd;
		} else if (strncmp(a, module_flag, sizeof module_flag - 1) == 0) {
			o->module = a + sizeof module_flag - 1;
		} else if (strncmp(a, memory_flag, sizeof memory_flag - 1) == 0) {
			o->guest_memory = parse_number(memory_flag, a + sizeof memory_flag - 1);
		} else if (strcmp(a, hide_home_flag) == 0) {
			o->hide_home = true;
		} else {
			fail("parse runner args: unknown argument %s", a);
		}
	}
	if (o->handoff_fd < 0)
		fail("parse runner args: no --artifact-socket");
	o->guest_argc = i < argc ? argc - i : 0;
	o->guest_argv = argv + i;
}

// receive_artifact takes the artifact's fd, close-on-exec, and the module's
// facts from the handoff socket (see runner.Handoff) and closes the socket.
static int receive_artifact(int sock, struct runner_handoff *facts)
{
	struct iovec iov = {.iov_base = facts, .iov_len = sizeof *facts};
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof control.buf,
	};
	ssize_t n;
	int fd;

	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		fail("receive the wasm artifact: %s", strerror(errno));
	close(sock);
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (n == 0 && c == NULL)
		fail("receive the wasm artifact: wrunc closed the handoff without sending it");
	if (c == NULL || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len != CMSG_LEN(sizeof(int)) || (msg.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) ||
	    (size_t)n != sizeof *facts)
		fail("receive the wasm artifact: malformed message");
	memcpy(&fd, CMSG_DATA(c), sizeof fd);
	return fd;
}

// stop ends the runner as a stop signal ends a native process: at once,
// wherever the guest is (running wasm code or blocked in a host call), with
// the status a shell reports for it. WASI preview 1 gives a guest no way to
// handle signals, so there is nothing of the guest's to run first, and its
// output is already written: fd_write is a write(2), with no buffer of the
// runner's in between.
static void stop(int sig)
{
	_exit(128 + sig);
}

// handle_stop_signals makes the stop signals reach stop, whatever
// disposition or mask the runner inherited across exec (an ignored SIGINT
// stays ignored there).
static void handle_stop_signals(void)
{
	static const int stop_signals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT};
	struct sigaction sa = {.sa_handler = stop};
	sigset_t set;

	sigfillset(&sa.sa_mask);
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof stop_signals / sizeof stop_signals[0]; i++) {
		if (sigaction(stop_signals[i], &sa, NULL) != 0)
			fail("handle signal %d: %s", stop_signals[i], strerror(errno));
		sigaddset(&set, stop_signals[i]);
	}
	if (sigprocmask(SIG_UNBLOCK, &set, NULL) != 0)
		fail("unblock stop signals: %s", strerror(errno));
}

// A table element is a pointer in wasmtime (a funcref), or smaller.
#define TABLE_ELEMENT_SIZE 8

// limit_guest bounds what the guest can allocate in total, in all its
// memories and tables: wasmtime's store limits bound each one on its own, so
// the guest's share is divided among the memories the module defines, and
// its tables together get at most a 16th of it more (out of the runner's
// own headroom, which is at least that: see runner.GuestMemory). A guest
// past its bound sees memory.grow or table.grow fail, as wasm specifies,
// instead of the kernel OOM-killing the whole container. The counts are
// bounds too: no more memories or tables than the module defines.
static void limit_guest(wasmtime_store_t *store, long long guest_memory, const struct runner_handoff *facts)
{
	int64_t memories = facts->memories > 0 ? facts->memories : 1;
	int64_t tables = facts->tables > 0 ? facts->tables : 1;

	if (guest_memory <= 0)
		return;
	wasmtime_store_limiter(store, guest_memory / memories, guest_memory / 16 / TABLE_ELEMENT_SIZE / tables,
			       -1, facts->tables, facts->memories);
}

static wasi_config_t *wasi_config(const struct options *o, char **envp)
{
	wasi_config_t *cfg = wasi_config_new();
	size_t envc = 0, i;

	if (!wasi_config_set_argv(cfg, (size_t)o->guest_argc, (const char **)o->guest_argv))
		fail("%s: guest arguments are not valid UTF-8", o->module);
	for (char **e = envp; *e != NULL; e++)
		envc++;
	const char **names = calloc(envc + 1, sizeof *names), **values = calloc(envc + 1, sizeof *values);
	if (names == NULL || values == NULL)
		fail("out of memory");
	size_t n = 0;
	for (i = 0; i < envc; i++) {
		char *eq = strchr(envp[i], '=');
		if (o->hide_home && eq != NULL && eq - envp[i] == 4 && strncmp(envp[i], "HOME", 4) == 0)
			continue;
		names[n] = eq != NULL ? strndup(envp[i], (size_t)(eq - envp[i])) : envp[i];
		values[n] = eq != NULL ? eq + 1 : "";
		if (names[n++] == NULL)
			fail("out of memory");
	}
	if (!wasi_config_set_env(cfg, n, names, values))
		fail("%s: environment is not valid UTF-8", o->module);
	wasi_config_inherit_stdin(cfg);
	wasi_config_inherit_stdout(cfg);
	wasi_config_inherit_stderr(cfg);

	// Full WASI rights: the mount flags libcontainer set (a read-only root,
	// writable volumes under it) are what the guest may write, as for any
	// process of the container.
	wasi_dir_perms dir_perms = WASMTIME_WASI_DIR_PERMS_READ | WASMTIME_WASI_DIR_PERMS_WRITE;
	wasi_file_perms file_perms = WASMTIME_WASI_FILE_PERMS_READ | WASMTIME_WASI_FILE_PERMS_WRITE;
	// WASI has no working directory. Go's wasip1 runtime (when PWD is
	// unset) and Zig take the first preopen as theirs, and wasi-libc and Go
	// resolve absolute paths by the longest preopen prefix, so preopening
	// the cwd before / gives guests the process cwd without adding to their
	// env.
	char *cwd = getcwd(NULL, 0);
	if (cwd == NULL)
		fail("get working directory: %s", strerror(errno));
	if (strcmp(cwd, "/") != 0 && !wasi_config_preopen_dir(cfg, cwd, cwd, dir_perms, file_perms))
		fail("preopen %s", cwd);
	if (!wasi_config_preopen_dir(cfg, "/", "/", dir_perms, file_perms))
		fail("preopen /");
	return cfg;
}

// report_failure prints why the guest did not finish and returns the exit
// status, following the wasmtime CLI: 134 on a trap, 1 when the module could
// not be started. (A guest's proc_exit never gets here: see wasi_env.c.)
int report_failure(const char *module, wasmtime_error_t *err, wasm_trap_t *trap)
{
	wasm_name_t msg;
	int status;

	if (err != NULL) {
		msg = message_of(err);
		status = 1;
	} else {
		// wasmtime's trap message carries the wasm backtrace already.
		wasm_trap_message(trap, &msg);
		wasm_trap_delete(trap);
		status = TRAP_STATUS;
	}
	fprintf(stderr, "wrunc: %s: %.*s\n", module, (int)msg.size, msg.data);
	return status;
}

// guest_store returns a store with wasmtime's WASI for a component (args,
// env, cwd and / preopened, the container's stdio: WASI 0.2 is wasmtime's)
// and its bound on memories and tables.
wasmtime_store_t *guest_store(wasm_engine_t *engine, const struct options *o, char **envp,
			      const struct runner_handoff *facts)
{
	wasi_config_t *wasi = wasi_config(o, envp);
	wasmtime_store_t *store = wasmtime_store_new(engine, NULL, NULL);
	wasmtime_error_t *err = wasmtime_context_set_wasi(wasmtime_store_context(store), wasi);
	if (err != NULL)
		fail_with("configure WASI", err);
	// The environment is the guest's now; left in ours it would steer the
	// engine too (RUST_BACKTRACE alone doubles the cost of a guest's exit).
	clearenv();
	// wasmtime's WASI runs its host calls through a tokio runtime, started
	// at the guest's first call with a worker thread per CPU. One guest
	// thread needs one worker; starting (and, at exit, stopping) the others
	// costs a quarter of a Go guest's run.
	setenv("TOKIO_WORKER_THREADS", "1", 1);
	limit_guest(store, o->guest_memory, facts);
	return store;
}

// guest_env returns the guest's environment: exactly process.env, which is
// ours but for the HOME libcontainer adds when process.env lacks one.
static char **guest_env(const struct options *o, char **envp, int *envc)
{
	size_t n = 0;
	for (char **e = envp; *e != NULL; e++)
		n++;
	char **env = calloc(n + 1, sizeof *env);
	if (env == NULL)
		fail("out of memory");
	*envc = 0;
	for (char **e = envp; *e != NULL; e++) {
		if (o->hide_home && strncmp(*e, "HOME=", 5) == 0)
			continue;
		env[(*envc)++] = *e;
	}
	return env;
}

// run_module runs a core module with the runner's own WASI (wasi_*.c): for
// preview 1 and 0 and WasmEdge's sockets, wasmtime is only the engine.
static int run_module(wasm_engine_t *engine, const wasmtime_module_t *module, const struct options *o, char **envp,
		      const struct runner_handoff *facts)
{
	struct wasi wasi;
	int envc;
	char **env = guest_env(o, envp, &envc);
	char *cwd = getcwd(NULL, 0);
	if (cwd == NULL)
		fail("get working directory: %s", strerror(errno));
	if (!wasi_init(&wasi, o->guest_argc, o->guest_argv, envc, env, cwd))
		fail("set up WASI: %s", strerror(errno));
	wasi.module = o->module;
	// The environment is the guest's now; left in ours it would steer the
	// engine too (RUST_BACKTRACE alone doubles the cost of a guest's exit).
	clearenv();
	wasmtime_store_t *store = wasmtime_store_new(engine, NULL, NULL);
	wasmtime_context_t *ctx = wasmtime_store_context(store);
	limit_guest(store, o->guest_memory, facts);
	wasmtime_error_t *err;

	wasmtime_linker_t *linker = wasmtime_linker_new(engine);
	if ((err = wasi_define_imports(linker, module, &wasi)) != NULL)
		fail_with("define WASI", err);
	wasmtime_instance_t instance;
	wasm_trap_t *trap = NULL;
	err = wasmtime_linker_instantiate(linker, ctx, module, &instance, &trap);
	if (err != NULL || trap != NULL)
		return report_failure(o->module, err, trap);
	wasmtime_extern_t start;
	if (!wasmtime_instance_export_get(ctx, &instance, "_start", strlen("_start"), &start) ||
	    start.kind != WASMTIME_EXTERN_FUNC) {
		fprintf(stderr, "wrunc: %s: no _start function\n", o->module);
		return 1;
	}
	err = wasmtime_func_call(ctx, &start.of.func, NULL, 0, NULL, 0, &trap);
	if (err != NULL || trap != NULL)
		return report_failure(o->module, err, trap);
	return 0;
}

static int run(struct options *o, char **envp)
{
	// The configuration the host compiles with: an artifact only loads
	// into an engine configured like the one that compiled it, which
	// wasmtime checks.
	wasm_engine_t *engine = new_engine();
	struct runner_handoff facts;
	int artifact = receive_artifact(o->handoff_fd, &facts);
	char path[32];
	snprintf(path, sizeof path, "/proc/self/fd/%d", artifact);
	wasmtime_module_t *module = NULL;
	wasmtime_component_t *component = NULL;
	wasmtime_error_t *err = facts.component ? wasmtime_component_deserialize_file(engine, path, &component)
						: wasmtime_module_deserialize_file(engine, path, &module);
	if (err != NULL)
		fail_with(facts.component ? "load precompiled component" : "load precompiled module", err);
	// wasmtime keeps a read-only fd of its own on the artifact for its
	// memory images. Both are on a read-only mount of the artifact alone
	// (wasm.openReadOnly), so whoever reaches them cannot write the host's
	// file; and the runner is non-dumpable, so processes of the container
	// without CAP_SYS_PTRACE cannot even read them through /proc/1.
	close(artifact);
	if (facts.component)
		return run_component(engine, component, o, envp, &facts);
	return run_module(engine, module, o, envp, &facts);
}

__attribute__((constructor)) static void wrunc_wasm_runner(int argc, char **argv, char **envp)
{
	struct options o;

	if (argc < 2 || strcmp(argv[1], RUNNER_MARKER) != 0)
		return;
	// First of all: the runner is pid 1 of its pid namespace, and the kernel
	// drops the signals that pid 1 does not handle.
	handle_stop_signals();
	// Other processes of the container (exec'd ones) need not reach our fds
	// or mappings through /proc/1: they lead to the host's cached artifact,
	// read-only as it is.
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		fail("set non-dumpable: %s", strerror(errno));
	parse_args(argc, argv, &o);
	exit(run(&o, envp));
}
