#!/usr/bin/env bash
# Builds wrunc, then runs a Linux container (busybox) and a WebAssembly
# container (a Go program built for wasip1) from bundles made here, each with
# `wrunc run`, side by side.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "containers need root: run as root" >&2; exit 1; }
source scripts/deps.sh
make bin/wrunc
wrunc=$PWD/bin/wrunc

work=$(mktemp -d /tmp/wrunc-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
global=(--root "$work/state" --cache-dir "$work/cache")

# bundle DIR ARGS_JSON ANNOTATIONS_JSON: a config.json from `wrunc spec`,
# without a terminal, with the given args and annotations and a read-only root.
bundle() {
	"$wrunc" spec --bundle "$1"
	jq --argjson args "$2" --argjson ann "$3" \
		'.process.terminal = false | .process.args = $args | .annotations = $ann | .root.readonly = true' \
		"$1/config.json" >"$1/config.json.new"
	mv "$1/config.json.new" "$1/config.json"
}

echo "== Linux container: busybox"
mkdir -p "$work/busybox/rootfs/bin"
cp /bin/busybox "$work/busybox/rootfs/bin/"
ln -s busybox "$work/busybox/rootfs/bin/sh"
bundle "$work/busybox" '["sh", "-c", "echo hello from busybox, pid $$ in $(busybox uname -s)"]' '{}'
"$wrunc" "${global[@]}" run --bundle "$work/busybox" "demo-busybox-$$"

echo "== Wasm container: hello.wasm, compiled on the host, run inside the sandbox"
testdata/build.sh "$work/guests" >/dev/null
mkdir -p "$work/wasm/rootfs"
cp "$work/guests/hello.wasm" "$work/wasm/rootfs/"
bundle "$work/wasm" '["/hello.wasm"]' '{"module.wasm.image/variant": "compat"}'
"$wrunc" "${global[@]}" run --bundle "$work/wasm" "demo-wasm-$$"
echo "== both containers ran and were removed"
