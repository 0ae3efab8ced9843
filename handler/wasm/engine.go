// Package wasm compiles WebAssembly on the host, at create time, into a cache
// of precompiled artifacts: WASI preview 1 core modules, and WASI 0.2
// wasi:cli/command components. The container's pid 1
// (package runner) only maps an artifact and runs it, so compilation never
// costs time or memory inside the container's cgroup.
package wasm

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"runtime/debug"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

const wasmtimeGoModule = "github.com/bytecodealliance/wasmtime-go/v39"

// NewEngine returns the engine the host compiles with, configured as the
// runner's (runner.c) is, since a precompiled artifact only deserializes into
// an engine configured like the one that compiled it: wasmtime's defaults,
// except for native unwind information. wasmtime walks guest frames by their
// frame pointers, for its backtraces and its exceptions; the .eh_frame it
// would otherwise emit is only for native unwinders (a debugger, a
// profiler's DWARF mode), and mapping and registering it cost ~0.1 ms of
// every start of the Go hello (its artifact's .eh_frame is 160 KiB).
// No interruption checks are compiled in (they cost a Go guest a tenth of
// its start): a stop signal ends the runner itself, at once. Components are
// compiled through the C API with runner/engine.h's new_engine, the same
// configuration (the component model is on by default).
func NewEngine() *wasmtime.Engine {
	cfg := wasmtime.NewConfig()
	cfg.SetNativeUnwindInfo(false)
	return wasmtime.NewEngineWithConfig(cfg)
}

// engineFingerprint identifies everything besides the module bytes that
// shapes compiled code. wasmtime stamps an artifact with its version, target
// triple, ISA (CPU feature) flags and compiler settings, so an empty module's
// artifact captures all of them; the wasmtime-go version is added because
// wasmtime only records its major version there. The stamp of an empty
// component covers the engine components are compiled with.
func engineFingerprint(engine *wasmtime.Engine) (string, error) {
	empty, err := wasmtime.NewModule(engine, []byte("\x00asm\x01\x00\x00\x00"))
	if err != nil {
		return "", fmt.Errorf("compile empty module: %w", err)
	}
	stamp, err := empty.Serialize()
	if err != nil {
		return "", fmt.Errorf("serialize empty module: %w", err)
	}
	componentStamp, err := componentEngineStamp()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00", wasmtimeGoVersion())
	fmt.Fprintf(h, "%d\x00", len(stamp))
	h.Write(stamp)
	h.Write(componentStamp)
	return hex.EncodeToString(h.Sum(nil)[:8]), nil
}

// wasmtimeGoVersion is empty in test binaries, which carry no dependency
// build info; the artifact stamp still covers the wasmtime major version.
func wasmtimeGoVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, dep := range bi.Deps {
		if dep.Path == wasmtimeGoModule {
			if dep.Replace != nil {
				dep = dep.Replace
			}
			return dep.Path + "@" + dep.Version + " " + dep.Sum
		}
	}
	return ""
}
