package wasm

// The runner's host functions, from the table its linker reads too
// (runner/wasi_table.h): the one list of what a module may import.

// #cgo CFLAGS: -I${SRCDIR}/runner
// #include <stddef.h>
// #include "wasi_table.h"
// struct wasi_import { const char *module, *name, *params, *results; };
// #define WASI_IMPORT(module, name, params, results, impl) {module, name, params, results},
// static const struct wasi_import wasi_imports[] = {WASI_FUNCS(WASI_IMPORT)};
// static size_t wasi_imports_len(void) { return sizeof wasi_imports / sizeof wasi_imports[0]; }
// static const struct wasi_import *wasi_import_at(size_t i) { return &wasi_imports[i]; }
import "C"

import (
	"fmt"
	"strings"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

// providedImports maps "module.name" to the signatures the runner provides
// under it (spelled as in wasi_table.h: i for i32, I for i64, params and
// results separated by "->").
func providedImports() map[string][]string {
	provided := make(map[string][]string)
	for i := C.size_t(0); i < C.wasi_imports_len(); i++ {
		imp := C.wasi_import_at(i)
		name := C.GoString(imp.module) + "." + C.GoString(imp.name)
		provided[name] = append(provided[name], C.GoString(imp.params)+"->"+C.GoString(imp.results))
	}
	return provided
}

// spell writes types as wasi_table.h does; a type no host function has
// spells as "?".
func spell(types []*wasmtime.ValType) string {
	var b strings.Builder
	for _, t := range types {
		switch t.Kind() {
		case wasmtime.KindI32:
			b.WriteByte('i')
		case wasmtime.KindI64:
			b.WriteByte('I')
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}

// describe spells a table signature as wasmtime's types print.
func describe(sig string) string {
	params, results, _ := strings.Cut(sig, "->")
	kinds := func(s string) []string {
		out := []string{}
		for _, c := range s {
			if c == 'I' {
				out = append(out, "i64")
			} else {
				out = append(out, "i32")
			}
		}
		return out
	}
	return fmt.Sprintf("func[%s] -> [%s]", strings.Join(kinds(params), " "), strings.Join(kinds(results), " "))
}

// checkLinkable matches the module's imports against what the runner
// provides, and requires a WASI command entry point.
func checkLinkable(module *wasmtime.Module, path string) error {
	provided := providedImports()
	for _, imp := range module.Imports() {
		var field string
		if name := imp.Name(); name != nil {
			field = *name
		}
		name := imp.Module() + "." + field
		sigs, ok := provided[name]
		if !ok {
			return fmt.Errorf("module %s imports %s, which wrunc does not provide", path, name)
		}
		ft := imp.Type().FuncType()
		if ft == nil {
			return fmt.Errorf("module %s imports %s as %s, but wrunc provides %s", path, name, signature(imp.Type()), describe(sigs[0]))
		}
		want := spell(ft.Params()) + "->" + spell(ft.Results())
		found := false
		var have []string
		for _, sig := range sigs {
			found = found || sig == want
			have = append(have, describe(sig))
		}
		if !found {
			return fmt.Errorf("module %s imports %s as %s, but wrunc provides %s", path, name, signature(imp.Type()), strings.Join(have, " or "))
		}
	}
	for _, exp := range module.Exports() {
		if exp.Name() == "_start" && signature(exp.Type()) == "func[] -> []" {
			return nil
		}
	}
	return fmt.Errorf("module %s has no _start function export (only WASI commands can run)", path)
}

func signature(ty *wasmtime.ExternType) string {
	ft := ty.FuncType()
	if ft == nil {
		return "a non-function"
	}
	return fmt.Sprintf("func%v -> %v", ft.Params(), ft.Results())
}
