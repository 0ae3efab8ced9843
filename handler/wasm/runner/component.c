// Running a wasi:cli/command component: its wasi:cli/run export is its
// main, with the same WASI (args, env, cwd and / preopened, stdio) and the
// same memory bound as a core module gets.

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wasmtime.h>

#include "engine.h"
#include "runner_internal.h"

// component_ended returns the exit status for a guest that ended in err,
// freed: a trap (an error that unwound wasm frames: 134, as for a core
// module), or 1 when it could not start. (A guest's wasi:cli/exit never
// gets here: see component_exit; an exit of wasmtime's is taken as its
// status all the same.)
static int component_ended(const char *module, wasmtime_error_t *err)
{
	wasm_frame_vec_t trace;
	int status;

	if (wasmtime_error_exit_status(err, &status)) {
		wasmtime_error_delete(err);
		return guest_exit_status(module, (uint32_t)status);
	}
	wasmtime_error_wasm_trace(err, &trace);
	bool trapped = trace.size > 0;
	wasm_frame_vec_delete(&trace);
	status = report_failure(module, err, NULL);
	return trapped ? TRAP_STATUS : status;
}

// component_exit is the guest's wasi:cli/exit (see define_component_linker):
// exit(result) ends the runner with 0 for ok and 1 for err, exit-with-code
// with the code (below 126, as a core module's proc_exit). Nothing is left
// to flush: the guest's writes to stdio are writes of wasmtime's to the
// container's descriptors.
static wasmtime_error_t *component_exit(void *module, wasmtime_context_t *ctx, const wasmtime_component_func_type_t *ty,
					wasmtime_component_val_t *args, size_t nargs, wasmtime_component_val_t *results,
					size_t nresults)
{
	if (nargs == 1 && nresults == 0 && args[0].kind == WASMTIME_COMPONENT_RESULT && args[0].of.result.val == NULL)
		exit(args[0].of.result.is_ok ? 0 : 1);
	if (nargs == 1 && nresults == 0 && args[0].kind == WASMTIME_COMPONENT_U8)
		exit(guest_exit_status(module, args[0].of.u8));
	return wasmtime_error_new("wasi:cli/exit called with arguments of another type");
}

int run_component(wasm_engine_t *engine, const wasmtime_component_t *component, const struct options *o,
		  char **envp, const struct runner_handoff *facts)
{
	// The host checked that it has one (wasm.compileComponent).
	wasmtime_component_export_index_t *run = run_export(engine, component);
	if (run == NULL) {
		fprintf(stderr, "wrunc: %s: no wasi:cli/run export\n", o->module);
		return 1;
	}
	wasmtime_store_t *store = guest_store(engine, o, envp, facts);
	wasmtime_context_t *ctx = wasmtime_store_context(store);
	wasmtime_component_linker_t *linker = wasmtime_component_linker_new(engine);
	wasmtime_error_t *err = define_component_linker(linker, component_exit, (void *)o->module);
	if (err != NULL)
		fail_with("define WASI", err);

	wasmtime_component_instance_t instance;
	err = wasmtime_component_linker_instantiate(linker, ctx, component, &instance);
	if (err != NULL)
		return component_ended(o->module, err);
	wasmtime_component_func_t func;
	if (!wasmtime_component_instance_get_func(&instance, ctx, run, &func)) {
		fprintf(stderr, "wrunc: %s: no wasi:cli/run function\n", o->module);
		return 1;
	}
	wasmtime_component_val_t result;
	memset(&result, 0, sizeof result);
	if ((err = wasmtime_component_func_call(&func, ctx, NULL, 0, &result, 1)) != NULL)
		return component_ended(o->module, err);
	// run's result<_, _>: err is a command's failure, as exit(err) is.
	return result.kind == WASMTIME_COMPONENT_RESULT && result.of.result.is_ok ? 0 : 1;
}
