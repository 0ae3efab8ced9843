#!/usr/bin/env bash
# Copies the C headers of the wasmtime-go module in go.mod into
# handler/wasm/runner/include, where the runner's C code finds them: cgo can
# only name include directories inside this module. Run it after changing the
# wasmtime-go version; TestHeadersMatchModule fails until then.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(go list -m -f '{{.Dir}}' github.com/bytecodealliance/wasmtime-go/v39)/build/include
dst=handler/wasm/runner/include
rm -rf "$dst"
# Only the headers wasmtime.h includes: the C API, not the C++ one.
(cd "$src" && echo '#include <wasmtime.h>' | cc -I. -E -H -x c - 2>&1 >/dev/null |
	sed -n 's/^\.* \([^/].*\)$/\1/p' | sort -u) | while read -r h; do
	mkdir -p "$dst/$(dirname "$h")"
	install -m 0644 "$src/$h" "$dst/$h"
done
