#!/usr/bin/env bash
# Installs what building and testing wrunc needs on a Debian host, as root.
set -euo pipefail
packages=(build-essential pkg-config libseccomp-dev libc-ares-dev busybox-static wabt clang lld wasi-libc
	libclang-rt-dev-wasm32 runc jq bc criu wrk
	podman conmon buildah skopeo containerd)
# The test components' tools (testdata/components) run on Node.js; a host
# with a Node.js of its own (and its npm) keeps it.
command -v npm >/dev/null || packages+=(nodejs npm)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v go >/dev/null || export PATH=$PATH:/usr/local/go/bin
go version >/dev/null
