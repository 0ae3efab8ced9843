// The host's component compile (component.c), called from component.go.
#ifndef WRUNC_COMPONENT_H
#define WRUNC_COMPONENT_H

#include <stdint.h>
#include <wasm.h>

// What wrunc_compile_component found; why holds the details.
enum {
	COMPONENT_OK,
	COMPONENT_INVALID,     // not a valid component, or wasmtime failed
	COMPONENT_NOT_COMMAND, // no wasi:cli/run export: why lists its exports
	COMPONENT_UNLINKABLE,  // imports what the runner cannot provide
};

// wasmtime's refusal of a store's first core instance (wasmtime's
// bump_resource_counts), which tells check_imports that linking succeeded.
#define INSTANCE_LIMIT_ERROR "resource limit exceeded: instance count too high"

// wrunc_compile_component compiles the component in wasm[:len], checks
// that the runner can run it, and serializes it into artifact.
int wrunc_compile_component(const uint8_t *wasm, size_t len, wasm_byte_vec_t *artifact, wasm_name_t *why);

// wrunc_engine_stamp serializes an empty component: the configuration of
// the engine components are compiled with, for the engine fingerprint.
int wrunc_engine_stamp(wasm_byte_vec_t *stamp, wasm_name_t *why);

#endif
