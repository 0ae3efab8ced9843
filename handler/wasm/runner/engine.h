// The engine configuration and the component lookups that the host's
// compile (package wasm) and the runner share: an artifact only loads into
// an engine configured like the one that compiled it, which wasmtime checks,
// and the host refuses at create what the runner would not find.
#ifndef WRUNC_ENGINE_H
#define WRUNC_ENGINE_H

#include <stdbool.h>
#include <string.h>

#include <wasmtime.h> // not found? `make headers` copies it from wasmtime-go

// new_engine returns the engine that compiles and runs guests: wasmtime's
// defaults (the component model is on), except for native unwind
// information. wasmtime walks guest frames by their frame pointers, for its
// backtraces and its exceptions; the .eh_frame it would otherwise emit is
// only for native unwinders (a debugger, a profiler's DWARF mode), and
// mapping and registering it cost ~0.1 ms of every start of the Go hello.
// No interruption checks are compiled in (they cost a Go guest a tenth of
// its start): a stop signal ends the runner itself, at once. wasm.NewEngine
// configures the host's Go engine for core modules the same way.
static inline wasm_engine_t *new_engine(void)
{
	wasm_config_t *config = wasm_config_new();
	wasmtime_config_native_unwind_info_set(config, false);
	wasmtime_config_wasm_component_model_set(config, true);
	return wasm_engine_new_with_config(config);
}

// The interface a wasi:cli/command component exports, whose run function
// is its main: any 0.2 version.
#define CLI_RUN_PREFIX "wasi:cli/run@0.2."

// run_export returns the export index of the run function of the
// component's wasi:cli/run@0.2.x export, or NULL if it has none (or one of
// another shape than `run: func() -> result`).
static inline wasmtime_component_export_index_t *run_export(const wasm_engine_t *engine,
							    const wasmtime_component_t *component)
{
	wasmtime_component_type_t *ty = wasmtime_component_type(component);
	wasmtime_component_export_index_t *run = NULL;
	size_t n = wasmtime_component_type_export_count(ty, engine);

	for (size_t i = 0; i < n && run == NULL; i++) {
		const char *name;
		size_t len;
		wasmtime_component_item_t item, func;
		if (!wasmtime_component_type_export_nth(ty, engine, i, &name, &len, &item))
			continue;
		if (item.kind == WASMTIME_COMPONENT_ITEM_COMPONENT_INSTANCE && len > strlen(CLI_RUN_PREFIX) &&
		    strncmp(name, CLI_RUN_PREFIX, strlen(CLI_RUN_PREFIX)) == 0 &&
		    wasmtime_component_instance_type_export_get(item.of.component_instance, engine, "run", 3, &func)) {
			wasmtime_component_valtype_t result;
			if (func.kind == WASMTIME_COMPONENT_ITEM_COMPONENT_FUNC &&
			    wasmtime_component_func_type_param_count(func.of.component_func) == 0 &&
			    wasmtime_component_func_type_result(func.of.component_func, &result)) {
				if (result.kind == WASMTIME_COMPONENT_VALTYPE_RESULT) {
					wasmtime_component_export_index_t *inst =
						wasmtime_component_get_export_index(component, NULL, name, len);
					if (inst != NULL) {
						run = wasmtime_component_get_export_index(component, inst, "run", 3);
						wasmtime_component_export_index_delete(inst);
					}
				}
				wasmtime_component_valtype_delete(&result);
			}
			wasmtime_component_item_delete(&func);
		}
		wasmtime_component_item_delete(&item);
	}
	wasmtime_component_type_delete(ty);
	return run;
}

// The wasi:cli/exit interface wasmtime's WASI defines (the version of its
// WIT); components importing any 0.2 version of it are linked to it.
#define WASI_CLI_EXIT "wasi:cli/exit@0.2.6"

// define_component_linker gives linker what a component's imports are
// matched against: WASI 0.2 (wasmtime_component_linker_add_wasip2), whose
// wasi:cli/exit is replaced by exit, for both its functions: exit(result)
// and exit-with-code(u8). wasmtime links the latter only with an unstable
// option its C API does not have, yet components built against recent WASI
// (componentize-js) import it; and the runner's own ends the process at
// once, as proc_exit does for core modules. exit is called with its
// function's arguments and data, whatever type the component imports it
// as, and so checks them.
static inline wasmtime_error_t *define_component_linker(wasmtime_component_linker_t *linker,
							wasmtime_component_func_callback_t exit, void *data)
{
	static const char *const functions[] = {"exit", "exit-with-code"};
	wasmtime_component_linker_instance_t *root, *instance = NULL;
	wasmtime_error_t *err = wasmtime_component_linker_add_wasip2(linker);

	if (err != NULL)
		return err;
	wasmtime_component_linker_allow_shadowing(linker, true);
	root = wasmtime_component_linker_root(linker);
	err = wasmtime_component_linker_instance_add_instance(root, WASI_CLI_EXIT, strlen(WASI_CLI_EXIT), &instance);
	for (size_t i = 0; err == NULL && i < sizeof functions / sizeof functions[0]; i++)
		err = wasmtime_component_linker_instance_add_func(instance, functions[i], strlen(functions[i]), exit,
								 data, NULL);
	if (instance != NULL)
		wasmtime_component_linker_instance_delete(instance);
	wasmtime_component_linker_instance_delete(root);
	wasmtime_component_linker_allow_shadowing(linker, false);
	return err;
}

#endif
