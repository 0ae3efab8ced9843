// Shared by runner.c and runner.go: the runner's contract with wrunc.
#ifndef WRUNC_RUNNER_H
#define WRUNC_RUNNER_H

#include <stdint.h>

// argv[1] of the container process that runs a module.
#define RUNNER_MARKER "wrunc-wasm-runner"

// What the runner receives with the artifact's fd over the handoff socket
// (runner.Handoff.Send writes it, in the machine's byte order): what the
// artifact is, and the facts of the module it needs to bound the guest's
// memories and tables in total (for a component, of all its core modules).
struct runner_handoff {
	uint32_t memories;  // linear memories the module defines
	uint32_t tables;    // tables the module defines
	uint32_t component; // 1: a wasi:cli/command component, 0: a core module
};

#endif
