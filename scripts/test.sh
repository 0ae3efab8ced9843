#!/usr/bin/env bash
# The whole test suite: installs dependencies, lints, builds the static
# binary, runs unit and integration tests (real containers; needs root) and
# the OCI runtime-tools validation programs, then the same binary under real
# engines (podman, containerd).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "the test suite creates real containers: run it as root" >&2; exit 1; }
source scripts/deps.sh
make lint
make bin/wrunc
make unit
make integration
make conformance
make engines
