package wasm

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	units "github.com/docker/go-units"
)

// CompileLimits bound one compile, which runs in a process of its own (see
// compileBounded) on bytes an image chose: a small module can be made to
// cost minutes of CPU and GiBs of memory (one function with tens of
// thousands of locals live across a loop). Zero means no bound.
type CompileLimits struct {
	// Timeout is the wall-clock time a compile may take, after which the
	// compiler is killed. It depends on the node's load as much as on the
	// module, so a compile stopped by it is not remembered.
	Timeout time.Duration
	// CPUPerMiB is the CPU time (all threads together) a compile may use
	// per MiB of module, counting at least one MiB: a real module's
	// compile grows with its size, an attack's does not.
	CPUPerMiB time.Duration
	// Memory is the private writable memory (RLIMIT_DATA: heap, thread
	// stacks, anonymous mappings) the compiler process may have.
	Memory int64
}

// Each limit is set by a global option and its environment variable, which
// a refusal names so that whoever reads it knows what to raise.
const (
	CompileTimeoutFlag = "compile-timeout"
	CompileTimeoutEnv  = "WRUNC_COMPILE_TIMEOUT"
	CompileCPUFlag     = "compile-cpu"
	CompileCPUEnv      = "WRUNC_COMPILE_CPU"
	CompileMemoryFlag  = "compile-memory"
	CompileMemoryEnv   = "WRUNC_COMPILE_MEMORY"
)

// The defaults: a 25 MB Go module (the heaviest kind to compile per byte)
// takes ~30 s of CPU and ~550 MiB on a 2-core node, so a 30 MB one gets
// 150 s and 2 GiB; a module of a few hundred KiB gets 5 s, where one
// function of 10,000 i64 locals chained in a loop needs 17 s to minutes.
const (
	DefaultCompileTimeout = "5m"
	DefaultCompileCPU     = "5s"
	DefaultCompileMemory  = "2GiB"
)

// ParseCompileLimits reads the limits as the options spell them: durations
// such as 5m or 5s (the CPU time per MiB of module) and a size such as 2GiB,
// each 0 for no bound.
func ParseCompileLimits(timeout, cpuPerMiB, memory string) (CompileLimits, error) {
	var l CompileLimits
	var err error
	if l.Timeout, err = parseDuration(CompileTimeoutFlag, timeout); err != nil {
		return l, err
	}
	if l.CPUPerMiB, err = parseDuration(CompileCPUFlag, cpuPerMiB); err != nil {
		return l, err
	}
	if l.Memory, err = units.RAMInBytes(memory); err != nil || l.Memory < 0 {
		return l, fmt.Errorf("invalid --%s %q: want a size such as 2GiB, or 0 for no bound", CompileMemoryFlag, memory)
	}
	return l, nil
}

func parseDuration(flag, value string) (time.Duration, error) {
	if value == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(value)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("invalid --%s %q: want a duration such as 5s or 2m, or 0 for no bound", flag, value)
	}
	return d, nil
}

// boundKind names one limit; the timeout has none of its own as it is never
// remembered.
type boundKind string

const (
	boundCPU     boundKind = "cpu"
	boundMemory  boundKind = "memory"
	boundTimeout boundKind = "timeout"
)

// bounds are the limits in force for one module: CPU time in whole seconds
// (what RLIMIT_CPU counts in), memory in bytes, the timeout.
type bounds struct {
	cpu     time.Duration
	memory  int64
	timeout time.Duration
}

// forModule scales the CPU limit to a module of size bytes, rounded up to a
// whole second.
func (l CompileLimits) forModule(size int) bounds {
	b := bounds{memory: l.Memory, timeout: l.Timeout}
	if l.CPUPerMiB > 0 {
		mib := max(1, float64(size)/(1<<20))
		seconds := math.Ceil(float64(l.CPUPerMiB) * mib / float64(time.Second))
		b.cpu = time.Duration(seconds) * time.Second
	}
	return b
}

func (b bounds) String() string {
	show := func(set bool, s string) string {
		if !set {
			return "none"
		}
		return s
	}
	return fmt.Sprintf("CPU time %s, memory %s, timeout %s", show(b.cpu > 0, b.cpu.String()),
		show(b.memory > 0, units.BytesSize(float64(b.memory))), show(b.timeout > 0, b.timeout.String()))
}

// value is the bound of kind in force, 0 for none.
func (b bounds) value(kind boundKind) int64 {
	switch kind {
	case boundCPU:
		return int64(b.cpu)
	case boundMemory:
		return b.memory
	case boundTimeout:
		return int64(b.timeout)
	}
	return 0
}

// A Refusal is a compile stopped by one of its limits.
type Refusal struct {
	Module  string        // the module's name, as the container sees it
	Kind    boundKind     // the limit that stopped it
	Bound   int64         // the limit's value for this module (nanoseconds or bytes)
	Earlier bool          // remembered from an earlier compile rather than just seen
	Per     time.Duration // the CPU limit as set, per MiB of module
}

func (r *Refusal) Error() string {
	var what, flag, env string
	switch r.Kind {
	case boundCPU:
		what = fmt.Sprintf("its compile CPU time limit, %v (--%s %v per MiB of module, at least one MiB's worth)",
			time.Duration(r.Bound), CompileCPUFlag, r.Per)
		flag, env = CompileCPUFlag, CompileCPUEnv
	case boundMemory:
		what = fmt.Sprintf("its compile memory limit, %s (--%s)", units.BytesSize(float64(r.Bound)), CompileMemoryFlag)
		flag, env = CompileMemoryFlag, CompileMemoryEnv
	default:
		what = fmt.Sprintf("its compile timeout, %v (--%s)", time.Duration(r.Bound), CompileTimeoutFlag)
		flag, env = CompileTimeoutFlag, CompileTimeoutEnv
	}
	if r.Earlier {
		return fmt.Sprintf("compile %s: refused: an earlier compile of this module on this node reached %s; raise it with --%s or %s to try again",
			r.Module, what, flag, env)
	}
	return fmt.Sprintf("compile %s: stopped at %s; raise it with --%s or %s", r.Module, what, flag, env)
}

// remembered says whether the refusal is the module's own doing, so that
// compiling it again under the same limits would only repeat it.
func (r *Refusal) remembered() bool { return r.Kind == boundCPU || r.Kind == boundMemory }

// A verdict is the record of a refusal, kept in the memo under its entry's
// key: "cpu NANOSECONDS" or "memory BYTES".
func verdictKey(entry string) string { return "refused " + entry }

func (r *Refusal) record() string { return fmt.Sprintf("%s %d", r.Kind, r.Bound) }

// parseVerdict reads a record; a damaged one is no verdict, which only costs
// a compile.
func parseVerdict(record string) (kind boundKind, bound int64, err error) {
	k, v, ok := strings.Cut(record, " ")
	if !ok {
		return "", 0, errors.New("no bound")
	}
	kind = boundKind(k)
	if kind != boundCPU && kind != boundMemory {
		return "", 0, fmt.Errorf("unknown limit %q", k)
	}
	if bound, err = strconv.ParseInt(v, 10, 64); err != nil || bound <= 0 {
		return "", 0, fmt.Errorf("bad bound %q", v)
	}
	return kind, bound, nil
}

// stillRefused says whether a verdict holds under the bounds in force: it
// does unless the limit that refused the module was raised (or lifted).
func stillRefused(kind boundKind, bound int64, now bounds) bool {
	v := now.value(kind)
	return v > 0 && v <= bound
}
