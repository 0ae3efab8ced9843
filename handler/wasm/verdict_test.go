package wasm

import (
	"strings"
	"testing"
	"time"
)

func TestParseCompileLimits(t *testing.T) {
	for _, tc := range []struct {
		timeout, cpu, memory string
		want                 CompileLimits
		err                  string // in the error, "" for none
	}{
		{DefaultCompileTimeout, DefaultCompileCPU, DefaultCompileMemory, CompileLimits{Timeout: 5 * time.Minute, CPUPerMiB: 5 * time.Second, Memory: 2 << 30}, ""},
		{"0", "0", "0", CompileLimits{}, ""},
		{"90s", "1500ms", "512MiB", CompileLimits{Timeout: 90 * time.Second, CPUPerMiB: 1500 * time.Millisecond, Memory: 512 << 20}, ""},
		{"5", "5s", "2GiB", CompileLimits{}, "--compile-timeout"},
		{"-1s", "5s", "2GiB", CompileLimits{}, "--compile-timeout"},
		{"5m", "soon", "2GiB", CompileLimits{}, "--compile-cpu"},
		{"5m", "-5s", "2GiB", CompileLimits{}, "--compile-cpu"},
		{"5m", "5s", "lots", CompileLimits{}, "--compile-memory"},
		{"5m", "5s", "-1", CompileLimits{}, "--compile-memory"},
	} {
		got, err := ParseCompileLimits(tc.timeout, tc.cpu, tc.memory)
		switch {
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("ParseCompileLimits(%q, %q, %q) = %+v, %v; want %+v", tc.timeout, tc.cpu, tc.memory, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("ParseCompileLimits(%q, %q, %q) error %v, want one naming %s", tc.timeout, tc.cpu, tc.memory, err, tc.err)
		}
	}
}

func TestLimitsForModule(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		per  time.Duration
		size int
		cpu  time.Duration
	}{
		{5 * time.Second, 100 << 10, 5 * time.Second},    // a small module gets one MiB's worth
		{5 * time.Second, mib, 5 * time.Second},          //
		{5 * time.Second, 5 * mib / 2, 13 * time.Second}, // 12.5 s, rounded up to RLIMIT_CPU's seconds
		{5 * time.Second, 30 * mib, 150 * time.Second},   //
		{300 * time.Millisecond, 100, time.Second},       // never under a second
		{0, 30 * mib, 0}, // no bound
	} {
		b := CompileLimits{CPUPerMiB: tc.per, Memory: 1 << 30, Timeout: time.Minute}.forModule(tc.size)
		if b.cpu != tc.cpu || b.memory != 1<<30 || b.timeout != time.Minute {
			t.Errorf("%v per MiB for %d bytes: %+v, want CPU time %v (and memory, timeout as set)", tc.per, tc.size, b, tc.cpu)
		}
	}
}

func TestVerdicts(t *testing.T) {
	const cpu, memory = int64(5 * time.Second), int64(1 << 30)
	for _, tc := range []struct {
		refusal *Refusal
		now     bounds
		refused bool // by the remembered verdict, without compiling
	}{
		{&Refusal{Kind: boundCPU, Bound: cpu}, bounds{cpu: 5 * time.Second, memory: memory}, true},
		{&Refusal{Kind: boundCPU, Bound: cpu}, bounds{cpu: 4 * time.Second}, true},
		{&Refusal{Kind: boundCPU, Bound: cpu}, bounds{cpu: 6 * time.Second, memory: memory}, false},
		{&Refusal{Kind: boundCPU, Bound: cpu}, bounds{memory: memory}, false},                          // CPU time unbounded
		{&Refusal{Kind: boundCPU, Bound: cpu}, bounds{cpu: 5 * time.Second, memory: 2 * memory}, true}, // the other limit raised
		{&Refusal{Kind: boundMemory, Bound: memory}, bounds{cpu: 5 * time.Second, memory: memory}, true},
		{&Refusal{Kind: boundMemory, Bound: memory}, bounds{cpu: 5 * time.Second, memory: 2 * memory}, false},
		{&Refusal{Kind: boundMemory, Bound: memory}, bounds{cpu: 5 * time.Second}, false},
	} {
		if !tc.refusal.remembered() {
			t.Fatalf("a stop at the %s limit is not remembered", tc.refusal.Kind)
		}
		kind, bound, err := parseVerdict(tc.refusal.record())
		if err != nil || kind != tc.refusal.Kind || bound != tc.refusal.Bound {
			t.Fatalf("record %q read back as %s %d, %v", tc.refusal.record(), kind, bound, err)
		}
		if got := stillRefused(kind, bound, tc.now); got != tc.refused {
			t.Errorf("verdict %q under %s: refused %v, want %v", tc.refusal.record(), tc.now, got, tc.refused)
		}
	}
	if (&Refusal{Kind: boundTimeout, Bound: int64(time.Minute)}).remembered() {
		t.Error("a stop at the timeout is remembered: it depends on the node's load, not only on the module")
	}
}

func TestParseVerdictRefusesDamage(t *testing.T) {
	for _, record := range []string{"", "cpu", "cpu ", "cpu x", "cpu -5", "cpu 0", "timeout 5", "memory 1 2", "disk 5"} {
		if kind, bound, err := parseVerdict(record); err == nil {
			t.Errorf("record %q read as %s %d, want no verdict", record, kind, bound)
		}
	}
}

// A refusal names the limit, its value and how to raise it, on one line.
func TestRefusalMessages(t *testing.T) {
	for _, tc := range []struct {
		refusal *Refusal
		want    []string
	}{
		{&Refusal{Module: "/m.wasm", Kind: boundCPU, Bound: int64(5 * time.Second), Per: 5 * time.Second},
			[]string{"compile /m.wasm: stopped", "CPU time limit, 5s", "--compile-cpu", "WRUNC_COMPILE_CPU"}},
		{&Refusal{Module: "/m.wasm", Kind: boundMemory, Bound: 2 << 30},
			[]string{"compile /m.wasm: stopped", "memory limit, 2GiB", "--compile-memory", "WRUNC_COMPILE_MEMORY"}},
		{&Refusal{Module: "/m.wasm", Kind: boundTimeout, Bound: int64(5 * time.Minute)},
			[]string{"compile /m.wasm: stopped", "timeout, 5m0s", "--compile-timeout", "WRUNC_COMPILE_TIMEOUT"}},
		{&Refusal{Module: "/m.wasm", Kind: boundCPU, Bound: int64(5 * time.Second), Per: 5 * time.Second, Earlier: true},
			[]string{"compile /m.wasm: refused: an earlier compile", "CPU time limit, 5s", "--compile-cpu", "WRUNC_COMPILE_CPU", "to try again"}},
	} {
		msg := tc.refusal.Error()
		for _, want := range tc.want {
			if !strings.Contains(msg, want) || strings.Contains(msg, "\n") {
				t.Errorf("message %q: want one line with %q", msg, want)
			}
		}
	}
}
