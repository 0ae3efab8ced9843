// What runner.c shares with component.c: the runner's options, its
// failures, and the guest's store.
#ifndef WRUNC_RUNNER_INTERNAL_H
#define WRUNC_RUNNER_INTERNAL_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include <wasmtime.h>

#include "runner.h"

// What a shell reports for SIGABRT, as the wasmtime CLI exits on a trap.
#define TRAP_STATUS (128 + SIGABRT)

struct options {
	int handoff_fd;
	const char *module;     // the module's path in the container, for messages
	long long guest_memory; // bytes of linear memory the guest may have; 0: no bound
	bool hide_home;         // HOME in our environment is libcontainer's, not the guest's
	int guest_argc;
	char **guest_argv;
};

// fail prints why the runner cannot go on and exits 1.
__attribute__((noreturn, format(printf, 1, 2))) void fail(const char *fmt, ...);
__attribute__((noreturn)) void fail_with(const char *what, wasmtime_error_t *err);

// report_failure prints why the guest did not finish (err or trap, freed)
// and returns the exit status: 134 on a trap, 1 otherwise.
int report_failure(const char *module, wasmtime_error_t *err, wasm_trap_t *trap);

// guest_exit_status: see wasi_shared.h.
int guest_exit_status(const char *module, uint32_t status);

// guest_store returns a store with the guest's WASI and memory bound.
wasmtime_store_t *guest_store(wasm_engine_t *engine, const struct options *o, char **envp,
			      const struct runner_handoff *facts);

// run_component runs a wasi:cli/command component and returns the exit
// status (component.c).
int run_component(wasm_engine_t *engine, const wasmtime_component_t *component, const struct options *o,
		  char **envp, const struct runner_handoff *facts);

#endif
