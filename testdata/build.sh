#!/bin/sh
# Builds the test guests into OUTDIR: the Go ones for wasip1 as NAME.wasm, the
# C ones (c/NAME.c, with Debian's clang and wasi-libc) as NAME.wasm, each
# wat/NAME.wat both as NAME.wasm (wat2wasm) and as the NAME.wat text,
# and the test components (components/build.mjs): some of those adapted
# into wasi:cli/command components as NAME.component.wasm, and a JavaScript
# one, hello-js.component.wasm. The npm tools the components need, pinned
# in components/package-lock.json, are installed into components/node_modules
# once per change of the lock file.
# Usage: testdata/build.sh OUTDIR
set -eu
out=${1:?usage: build.sh OUTDIR}
src=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
for guest in hello probe httpserver httpclient; do
	# GOFLAGS from the caller (say, the product's build tags) are not meant for guests.
	(cd "$src" && GOOS=wasip1 GOARCH=wasm GOWORK=off GOFLAGS= \
		go build -trimpath -o "$out/$guest.wasm" "./$guest")
done
for c in "$src"/c/*.c; do
	clang --target=wasm32-wasi -O2 -Wall -Werror -o "$out/$(basename "$c" .c).wasm" "$c"
done
for wat in "$src"/wat/*.wat; do
	name=$(basename "$wat" .wat)
	wat2wasm --enable-multi-memory -o "$out/$name.wasm" "$wat"
	cp "$wat" "$out/$name.wat"
done

# jco 1.35 and its file system binding need Node.js 20 or later.
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo none)
case $node_major in
none) echo "build.sh: the test components need Node.js 20 or later and npm (scripts/deps.sh)" >&2; exit 1 ;;
1[0-9] | [0-9]) echo "build.sh: the test components need Node.js 20 or later, not $(node --version)" >&2; exit 1 ;;
esac
# Test packages build their guests at once: one installs, the others wait.
components="$src/components"
flock "$components/package-lock.json" sh -c '
	cd "$1"
	if ! cmp -s package-lock.json node_modules/.wrunc-installed; then
		npm ci --no-audit --no-fund --loglevel=error >&2
		cp package-lock.json node_modules/.wrunc-installed
	fi
	node build.mjs "$2" hello probe trap spin
' sh "$components" "$out"
