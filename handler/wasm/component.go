package wasm

// include/ holds the C API headers of the wasmtime-go version in go.mod
// (`make headers`); runner/engine.h is the engine configuration and the
// component lookups the runner shares.

// #cgo CFLAGS: -I${SRCDIR}/runner/include -I${SRCDIR}/runner -O2 -Wall
// #include "component.h"
import "C"

import (
	"fmt"
	"strings"
	"unsafe"
)

// compileComponent compiles a wasi:cli/command component and serializes it,
// refusing, at create rather than inside the container, a component the
// runner could not start: one that is not a command (no wasi:cli/run
// export, such as a wasi:http proxy) or that imports what the runner's
// WASI 0.2 does not provide.
func compileComponent(component []byte, name string) ([]byte, error) {
	if len(component) == 0 {
		return nil, fmt.Errorf("compile %s: empty component", name)
	}
	var artifact, why C.wasm_byte_vec_t
	status := C.wrunc_compile_component((*C.uint8_t)(unsafe.Pointer(&component[0])), C.size_t(len(component)), &artifact, &why)
	reason := string(takeBytes(&why))
	switch status {
	case C.COMPONENT_OK:
		return takeBytes(&artifact), nil
	case C.COMPONENT_NOT_COMMAND:
		return nil, fmt.Errorf("component %s exports no wasi:cli/run function (it exports %s): wrunc runs wasi:cli/command components only, not wasi:http proxies or libraries", name, reason)
	case C.COMPONENT_UNLINKABLE:
		// The first line names the import; the causes below it, its parts.
		first, _, _ := strings.Cut(reason, "\n")
		return nil, fmt.Errorf("component %s needs what wrunc cannot provide yet (%s): wrunc provides the wasi:cli/command world of WASI 0.2 (cli, clocks, filesystem, io, random; sockets refuse every address), no wasi:http", name, first)
	}
	return nil, fmt.Errorf("compile %s: %s", name, oneLine(reason))
}

// oneLine puts wasmtime's message, a chain of causes on several lines, on
// one, without the native backtrace anyhow adds when the environment asks
// for one (RUST_BACKTRACE).
func oneLine(message string) string {
	message, _, _ = strings.Cut(message, "\nStack backtrace:")
	return strings.Join(strings.Fields(message), " ")
}

// componentEngineStamp is what an empty component's artifact says of the
// engine components are compiled with (runner/engine.h), for the engine
// fingerprint.
func componentEngineStamp() ([]byte, error) {
	var stamp, why C.wasm_byte_vec_t
	if C.wrunc_engine_stamp(&stamp, &why) != C.COMPONENT_OK {
		return nil, fmt.Errorf("compile empty component: %s", oneLine(string(takeBytes(&why))))
	}
	return takeBytes(&stamp), nil
}

// takeBytes copies v's bytes to Go and frees v.
func takeBytes(v *C.wasm_byte_vec_t) []byte {
	if v.data == nil {
		return nil
	}
	b := C.GoBytes(unsafe.Pointer(v.data), C.int(v.size))
	C.wasm_byte_vec_delete(v)
	return b
}
