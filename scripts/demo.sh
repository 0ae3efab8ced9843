#!/usr/bin/env bash
# Builds wrunc, then runs a Linux container (busybox) and a WebAssembly
# container (a Go program built for wasip1) from bundles made here, each with
# `wrunc run`, side by side; then a pod of two without an engine: a wasm HTTP
# server and a native busybox sidecar in its network namespace, fetching
# from it over localhost.
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

echo "== Pod: a wasm HTTP server, and a busybox sidecar in its network namespace"
mkdir -p "$work/server/rootfs" "$work/sidecar/rootfs/bin"
cp "$work/guests/httpserver.wasm" "$work/server/rootfs/"
bundle "$work/server" '["/httpserver.wasm", "[::]:8080"]' '{"module.wasm.image/variant": "compat"}'
server="demo-server-$$"
trap '"$wrunc" "${global[@]}" delete -f "$server" 2>/dev/null; rm -rf "$work"' EXIT
"$wrunc" "${global[@]}" run --detach --bundle "$work/server" "$server" >/dev/null
pid=$("$wrunc" "${global[@]}" state "$server" | jq .pid)
cp /bin/busybox "$work/sidecar/rootfs/bin/"
ln -s busybox "$work/sidecar/rootfs/bin/sh"
# The sidecar joins the server's network namespace, as a pod's containers
# join their sandbox's, and brings its loopback up (a pod's network set-up
# would have).
bundle "$work/sidecar" '["sh", "-c", "busybox ip link set lo up && until busybox wget -q -O- http://127.0.0.1:8080/from-the-sidecar; do busybox sleep 0.1; done"]' '{}'
jq --arg ns "/proc/$pid/ns/net" '(.linux.namespaces[] | select(.type == "network")) .path = $ns |
	.process.capabilities.bounding += ["CAP_NET_ADMIN"] | .process.capabilities.effective += ["CAP_NET_ADMIN"] |
	.process.capabilities.permitted += ["CAP_NET_ADMIN"]' "$work/sidecar/config.json" >"$work/sidecar/config.json.new"
mv "$work/sidecar/config.json.new" "$work/sidecar/config.json"
"$wrunc" "${global[@]}" run --bundle "$work/sidecar" "demo-sidecar-$$"
"$wrunc" "${global[@]}" kill "$server" TERM
"$wrunc" "${global[@]}" delete -f "$server"
echo "== all containers ran and were removed"
