// Shared by runner.c and runner.go: the runner's contract with wrunc.
#ifndef WRUNC_RUNNER_H
#define WRUNC_RUNNER_H

// argv[1] of the container process that runs a module.
#define RUNNER_MARKER "wrunc-wasm-runner"

#endif
