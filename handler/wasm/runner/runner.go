// Package runner is wrunc's in-container wasm runner and its contract with
// the host side: the container process of a wasm container is wrunc's own
// binary (libcontainer's sealed copy, as /proc/self/exe) with argv from Args.
// Linking this package adds a C constructor (runner.c) that, when argv[1] is
// Marker, runs the module before the Go runtime starts and exits with the
// guest's status; in any other process it returns at once.
//
// The module arrives precompiled, as an open artifact sent over a Handoff,
// and is only mapped and run: compiling happens on the host (package wasm).
package runner

// include/ holds the C API headers of the wasmtime-go version in go.mod,
// copied from the module by `make headers` (cgo includes only from inside
// this module); every make target that builds this package runs it first.

// #cgo CFLAGS: -I${SRCDIR}/include -O2 -Wall
// #cgo LDFLAGS: -lcares
// #include "runner.h"
import "C"

import (
	"fmt"
	"strconv"

	// libwasmtime, which runner.c calls, comes with the Go bindings.
	_ "github.com/bytecodealliance/wasmtime-go/v39"
)

// Marker is argv[1] of a container process that runs a wasm module.
const Marker = C.RUNNER_MARKER

// handoffSize is the size of the message Handoff.Send writes.
const handoffSize = C.sizeof_struct_runner_handoff

// Memory the runner keeps for itself out of the container's limit: wasmtime's
// structures (a few MiB), the guest's stacks, and the page cache of files the
// guest writes, which the kernel charges to the container too. See
// GuestMemory.
const (
	runnerBaseMemory    = 16 << 20
	runnerShareOfMemory = 16 // plus 1/16 of the limit
)

// GuestMemory returns the most linear memory a guest may have in a container
// limited to limit bytes: the limit less 16 MiB and less 1/16 of it, which
// is 44 MiB of 64 MiB, 224 MiB of 256 MiB, 944 MiB of 1 GiB.
func GuestMemory(limit int64) (int64, error) {
	guest := limit - runnerBaseMemory - limit/runnerShareOfMemory
	if guest < 1<<20 {
		return 0, fmt.Errorf("memory limit %d bytes leaves no room for a wasm guest: the runner needs %d", limit, limit-guest)
	}
	return guest, nil
}

// Invocation is how the host starts a runner, besides the guest's args.
type Invocation struct {
	HandoffFD   int    // the number the Handoff's container end has in the container
	Module      string // the module's path as the container sees it, for messages
	GuestMemory int64  // bound of the guest's memories (0: none; see GuestMemory)
	// HideHome: the guest's environment has no HOME, though the runner's
	// has one (libcontainer adds HOME to every process whose environment
	// lacks it). The guest gets exactly process.env.
	HideHome bool
}

// Args builds the container process's args: a guest past its memory bound
// sees memory.grow fail, as wasm specifies, rather than the container
// being OOM-killed.
func (inv Invocation) Args(guestArgs []string) []string {
	args := []string{
		"/proc/self/exe", Marker,
		"--artifact-socket=" + strconv.Itoa(inv.HandoffFD),
		"--module=" + inv.Module,
		"--guest-memory=" + strconv.FormatInt(inv.GuestMemory, 10),
	}
	if inv.HideHome {
		args = append(args, "--hide-home")
	}
	return append(append(args, "--"), guestArgs...)
}
