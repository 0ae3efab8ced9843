// Compiling a wasi:cli/command component on the host, through wasmtime's
// C API: wasmtime-go has no component model.

#define _GNU_SOURCE // memmem
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wasi.h>
#include <wasmtime.h>

#include "component.h"
#include "engine.h"

// set_reason puts err's message in why and frees err.
static void set_reason(wasmtime_error_t *err, wasm_name_t *why)
{
	wasmtime_error_message(err, why);
	wasmtime_error_delete(err);
}

static void clear_reason(wasm_name_t *why)
{
	wasm_byte_vec_delete(why);
	*why = (wasm_name_t){0};
}

static void set_reason_text(const char *text, wasm_name_t *why)
{
	wasm_byte_vec_new(why, strlen(text), text);
}

// describe_exports puts the names of the component's exports in why.
static void describe_exports(const wasm_engine_t *engine, const wasmtime_component_t *component, wasm_name_t *why)
{
	wasmtime_component_type_t *ty = wasmtime_component_type(component);
	size_t n = wasmtime_component_type_export_count(ty, engine), used = 0;
	char names[512] = "";

	for (size_t i = 0; i < n && used < sizeof names - 1; i++) {
		const char *name;
		size_t len;
		wasmtime_component_item_t item;
		if (!wasmtime_component_type_export_nth(ty, engine, i, &name, &len, &item))
			continue;
		wasmtime_component_item_delete(&item);
		int w = snprintf(names + used, sizeof names - used, "%s%.*s", used > 0 ? ", " : "",
				 len > 200 ? 200 : (int)len, name);
		used = w < 0 ? used : used + (size_t)w;
	}
	wasmtime_component_type_delete(ty);
	set_reason_text(n == 0 ? "nothing" : names, why);
}

// exit_on_host stands for the runner's wasi:cli/exit in the linker
// check_imports uses, which never runs the guest.
static wasmtime_error_t *exit_on_host(void *data, wasmtime_context_t *ctx, const wasmtime_component_func_type_t *ty,
				      wasmtime_component_val_t *args, size_t nargs, wasmtime_component_val_t *results,
				      size_t nresults)
{
	return wasmtime_error_new("wasi:cli/exit is not callable on the host");
}

// check_imports matches the component's imports against the runner's
// linker (define_component_linker) by
// instantiating it in a store that allows no core instance: the linker
// checks every import first, and the first core instance, before any of
// the guest's code could run, fails on the limit.
static int check_imports(wasm_engine_t *engine, const wasmtime_component_t *component, wasm_name_t *why)
{
	wasmtime_component_linker_t *linker = wasmtime_component_linker_new(engine);
	wasmtime_store_t *store = wasmtime_store_new(engine, NULL, NULL);
	wasmtime_context_t *ctx = wasmtime_store_context(store);
	wasmtime_component_instance_t instance;
	int status = COMPONENT_OK;

	wasmtime_error_t *err = define_component_linker(linker, exit_on_host, NULL);
	if (err == NULL)
		err = wasmtime_context_set_wasi(ctx, wasi_config_new());
	if (err != NULL) {
		set_reason(err, why);
		status = COMPONENT_INVALID;
		goto out;
	}
	wasmtime_store_limiter(store, -1, -1, 0, -1, -1);
	err = wasmtime_component_linker_instantiate(linker, ctx, component, &instance);
	if (err != NULL) {
		set_reason(err, why);
		if (why->size < strlen(INSTANCE_LIMIT_ERROR) ||
		    memmem(why->data, why->size, INSTANCE_LIMIT_ERROR, strlen(INSTANCE_LIMIT_ERROR)) == NULL)
			status = COMPONENT_UNLINKABLE;
		else
			clear_reason(why);
	}
out:
	wasmtime_store_delete(store);
	wasmtime_component_linker_delete(linker);
	return status;
}

int wrunc_compile_component(const uint8_t *wasm, size_t len, wasm_byte_vec_t *artifact, wasm_name_t *why)
{
	wasm_engine_t *engine = new_engine();
	wasmtime_component_t *component = NULL;
	wasmtime_component_export_index_t *run = NULL;
	int status = COMPONENT_OK;

	wasmtime_error_t *err = wasmtime_component_new(engine, wasm, len, &component);
	if (err != NULL) {
		set_reason(err, why);
		status = COMPONENT_INVALID;
		goto out;
	}
	if ((run = run_export(engine, component)) == NULL) {
		describe_exports(engine, component, why);
		status = COMPONENT_NOT_COMMAND;
		goto out;
	}
	wasmtime_component_export_index_delete(run);
	if ((status = check_imports(engine, component, why)) != COMPONENT_OK)
		goto out;
	if ((err = wasmtime_component_serialize(component, artifact)) != NULL) {
		set_reason(err, why);
		status = COMPONENT_INVALID;
	}
out:
	if (component != NULL)
		wasmtime_component_delete(component);
	wasm_engine_delete(engine);
	return status;
}

int wrunc_engine_stamp(wasm_byte_vec_t *stamp, wasm_name_t *why)
{
	static const uint8_t empty[] = {0x00, 'a', 's', 'm', 0x0d, 0x00, 0x01, 0x00};
	wasm_engine_t *engine = new_engine();
	wasmtime_component_t *component = NULL;

	wasmtime_error_t *err = wasmtime_component_new(engine, empty, sizeof empty, &component);
	if (err == NULL) {
		err = wasmtime_component_serialize(component, stamp);
		wasmtime_component_delete(component);
	}
	wasm_engine_delete(engine);
	if (err != NULL) {
		set_reason(err, why);
		return COMPONENT_INVALID;
	}
	return COMPONENT_OK;
}
