#!/bin/sh
# Builds the test guests into OUTDIR: the Go ones for wasip1 as NAME.wasm, and
# each wat/NAME.wat both as NAME.wasm (wat2wasm) and as the NAME.wat text.
# Usage: testdata/build.sh OUTDIR
set -eu
out=${1:?usage: build.sh OUTDIR}
src=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
for guest in hello probe; do
	# GOFLAGS from the caller (say, the product's build tags) are not meant for guests.
	(cd "$src" && GOOS=wasip1 GOARCH=wasm GOWORK=off GOFLAGS= \
		go build -trimpath -o "$out/$guest.wasm" "./$guest")
done
for wat in "$src"/wat/*.wat; do
	name=$(basename "$wat" .wat)
	wat2wasm --enable-multi-memory -o "$out/$name.wasm" "$wat"
	cp "$wat" "$out/$name.wat"
done
