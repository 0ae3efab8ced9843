// The glue between wasmtime and the runner's WASI: each host function of
// wasi_table.h that the module imports, with the signature it imports, is
// defined in the linker as an unchecked function (no conversion of values
// through wasmtime's typed API), called with the guest's memory.
#define _GNU_SOURCE
#include <stdlib.h>

#include <wasmtime.h>

#include "wasi_shared.h"
#include "wasi_link.h"

struct wasi_entry {
	const char *module, *name, *params, *results;
	wasi_func impl;
};

#define WASI_ENTRY(module, name, params, results, impl) {module, name, params, results, impl},
static const struct wasi_entry entries[] = {WASI_FUNCS(WASI_ENTRY)};
#undef WASI_ENTRY
#define NENTRIES (sizeof entries / sizeof entries[0])

struct binding {
	const struct wasi_entry *entry;
	struct wasi *wasi;
	size_t nparams;
};

// A module that exports no memory gets an empty one: every pointer is out
// of bounds.
static uint8_t no_memory[1];

static struct wasi_mem memory_of(wasmtime_caller_t *caller)
{
	wasmtime_extern_t item;
	if (wasmtime_caller_export_get(caller, "memory", 6, &item) && item.kind == WASMTIME_EXTERN_MEMORY) {
		wasmtime_context_t *ctx = wasmtime_caller_context(caller);
		struct wasi_mem m = {wasmtime_memory_data(ctx, &item.of.memory),
				     (uint64_t)wasmtime_memory_data_size(ctx, &item.of.memory)};
		if (m.base != NULL)
			return m;
	}
	return (struct wasi_mem){no_memory, 0};
}

static wasm_trap_t *call(void *env, wasmtime_caller_t *caller, wasmtime_val_raw_t *raw, size_t n)
{
	const struct binding *b = env;
	uint64_t args[16];
	(void)n;
	for (size_t i = 0; i < b->nparams; i++)
		args[i] = b->entry->params[i] == 'I' ? (uint64_t)raw[i].i64 : (uint64_t)(uint32_t)raw[i].i32;
	struct wasi_mem m = memory_of(caller);
	uint32_t errno_ = b->entry->impl(b->wasi, &m, args);
	if (b->entry->results[0] != '\0')
		raw[0].i32 = (int32_t)errno_;
	return NULL;
}

static wasm_valtype_vec_t valtypes(const char *spec)
{
	wasm_valtype_vec_t vec;
	size_t n = strlen(spec);
	wasm_valtype_vec_new_uninitialized(&vec, n);
	for (size_t i = 0; i < n; i++)
		vec.data[i] = wasm_valtype_new(spec[i] == 'I' ? WASM_I64 : WASM_I32);
	return vec;
}

// signature spells ty's params or results as wasi_table.h does; false if
// some type is neither i32 nor i64 (no host function of ours has it).
static bool signature(const wasm_valtype_vec_t *types, char *out, size_t size)
{
	if (types->size >= size)
		return false;
	for (size_t i = 0; i < types->size; i++) {
		wasm_valkind_t k = wasm_valtype_kind(types->data[i]);
		if (k != WASM_I32 && k != WASM_I64)
			return false;
		out[i] = k == WASM_I64 ? 'I' : 'i';
	}
	out[types->size] = '\0';
	return true;
}

static const struct wasi_entry *find(const wasm_name_t *module, const wasm_name_t *name, const wasm_functype_t *ty)
{
	char params[17], results[2];
	if (!signature(wasm_functype_params(ty), params, sizeof params) ||
	    !signature(wasm_functype_results(ty), results, sizeof results))
		return NULL;
	for (size_t i = 0; i < NENTRIES; i++) {
		const struct wasi_entry *e = &entries[i];
		if (strlen(e->module) == module->size && memcmp(e->module, module->data, module->size) == 0 &&
		    strlen(e->name) == name->size && memcmp(e->name, name->data, name->size) == 0 &&
		    strcmp(e->params, params) == 0 && strcmp(e->results, results) == 0)
			return e;
	}
	return NULL;
}

wasmtime_error_t *wasi_define_imports(wasmtime_linker_t *linker, const wasmtime_module_t *module, struct wasi *w)
{
	static struct binding bindings[NENTRIES];
	static bool defined[NENTRIES];
	wasm_importtype_vec_t imports;
	wasmtime_error_t *err = NULL;

	wasmtime_module_imports(module, &imports);
	for (size_t i = 0; i < imports.size && err == NULL; i++) {
		const wasm_externtype_t *type = wasm_importtype_type(imports.data[i]);
		const wasm_functype_t *ft = wasm_externtype_as_functype_const(type);
		if (ft == NULL)
			continue;
		const struct wasi_entry *e = find(wasm_importtype_module(imports.data[i]),
						  wasm_importtype_name(imports.data[i]), ft);
		// Anything else stays undefined: instantiating says which import
		// is missing (the host's check at create refuses such a module first).
		if (e == NULL || defined[e - entries])
			continue;
		size_t k = (size_t)(e - entries);
		defined[k] = true;
		bindings[k] = (struct binding){e, w, strlen(e->params)};
		wasm_valtype_vec_t params = valtypes(e->params), results = valtypes(e->results);
		wasm_functype_t *fty = wasm_functype_new(&params, &results);
		err = wasmtime_linker_define_func_unchecked(linker, e->module, strlen(e->module), e->name,
							    strlen(e->name), fty, call, &bindings[k], NULL);
		wasm_functype_delete(fty);
	}
	wasm_importtype_vec_delete(&imports);
	return err;
}
