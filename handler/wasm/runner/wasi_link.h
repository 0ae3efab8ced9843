// wasi_define_imports defines in linker the runner's WASI functions that
// module imports (wasi_link.c).
#ifndef WRUNC_WASI_LINK_H
#define WRUNC_WASI_LINK_H

#include <wasmtime.h>

#include "wasi_shared.h"

wasmtime_error_t *wasi_define_imports(wasmtime_linker_t *linker, const wasmtime_module_t *module, struct wasi *w);

#endif
