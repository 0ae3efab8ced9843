package wasm

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/bytecodealliance/wasmtime-go/v39"
	"golang.org/x/sys/unix"

	"github.com/wrunc/wrunc/handler"
	"github.com/wrunc/wrunc/internal/testguests"
)

// The compiler process's artifact is the one an in-process compile makes.
func TestCompilerProcessCompiles(t *testing.T) {
	module := readAll(t, filepath.Join(guests, "exit42.wasm"))
	artifact, err := compileInCompiler(module, handler.CoreModule, "/exit42.wasm", CompileLimits{Timeout: time.Minute, CPUPerMiB: 5 * time.Second, Memory: 1 << 30}.forModule(len(module)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wasmtime.NewModuleDeserialize(NewEngine(), artifact); err != nil {
		t.Errorf("the compiler's artifact does not load: %v", err)
	}
}

// A module that does not compile is the compiler's own error, not a
// refusal: nothing is remembered of it, whatever its name says.
func TestCompilerProcessErrors(t *testing.T) {
	garbage := []byte("\x00asm\x01\x00\x00\x00garbage")
	for _, tc := range []struct {
		module []byte
		name   string
		want   string
	}{
		{garbage, "/bad.wasm", "compile /bad.wasm: "},
		{garbage, "/out of memory.wasm", "compile /out of memory.wasm: "},
		{readAll(t, filepath.Join(guests, "badimport.wasm")), "/bad.wasm", "module /bad.wasm imports env.foo, which wrunc does not provide"},
	} {
		_, err := compileInCompiler(tc.module, handler.CoreModule, tc.name, bounds{memory: 2 << 30})
		var refusal *Refusal
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) || errors.As(err, &refusal) {
			t.Errorf("error %v, want one starting %q", err, tc.want)
		}
	}
}

// localsModule writes the module of many live locals, whose compile takes
// tens of seconds of CPU, into a file.
func localsModule(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "locals.wasm")
	if err := os.WriteFile(path, testguests.LocalsModule(10000), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// refusal returns the Refusal an Artifact of module under limits ends in.
func refusal(t *testing.T, c *Cache, module string) *Refusal {
	t.Helper()
	f, err := c.Artifact(openModule(t, module), "/locals.wasm", handler.CoreModule)
	if err == nil {
		f.Close()
		t.Fatalf("the locals module compiled under %+v", c.Limits)
	}
	var r *Refusal
	if !errors.As(err, &r) {
		t.Fatalf("error %v, want a refusal", err)
	}
	return r
}

// assertNoEntry checks that a refused compile left no artifact, checksum or
// temp file in the cache.
func assertNoEntry(t *testing.T, dir string) {
	t.Helper()
	for _, pattern := range []string{"*.cwasm*", "*.sum*", "*.tmp*", "memo/*.tmp*"} {
		if left, _ := filepath.Glob(filepath.Join(dir, pattern)); len(left) > 0 {
			t.Errorf("a refused compile left %v", left)
		}
	}
}

func TestCompileLimitsStopTheLocalsModule(t *testing.T) {
	for _, tc := range []struct {
		name       string
		limits     CompileLimits
		kind       boundKind
		remembered bool
	}{
		{"cpu", CompileLimits{CPUPerMiB: time.Second}, boundCPU, true},
		{"memory", CompileLimits{Memory: 64 << 20}, boundMemory, true},
		{"timeout", CompileLimits{Timeout: 300 * time.Millisecond}, boundTimeout, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Cache{Dir: filepath.Join(t.TempDir(), "cache"), Limits: tc.limits}
			module := localsModule(t)
			first := refusal(t, c, module)
			if first.Kind != tc.kind || first.Earlier {
				t.Fatalf("first compile: %v, want it stopped at the %s limit", first, tc.kind)
			}
			assertNoEntry(t, c.Dir)
			if second := refusal(t, c, module); second.Earlier != tc.remembered || second.Kind != tc.kind {
				t.Errorf("second compile: %v (remembered: %v), want remembered: %v", second, second.Earlier, tc.remembered)
			}
			assertNoEntry(t, c.Dir)
		})
	}
}

// A remembered refusal holds until its limit is raised, and only that limit.
func TestRaisedLimitRetries(t *testing.T) {
	c := &Cache{Dir: filepath.Join(t.TempDir(), "cache"), Limits: CompileLimits{CPUPerMiB: time.Second, Memory: 2 << 30}}
	module := localsModule(t)
	if r := refusal(t, c, module); r.Kind != boundCPU || r.Earlier {
		t.Fatalf("first compile: %v, want it stopped at 1s of CPU", r)
	}
	c.Limits.Memory *= 2
	if r := refusal(t, c, module); !r.Earlier {
		t.Errorf("with more memory: %v, want the remembered refusal (the CPU limit stopped it)", r)
	}
	c.Limits.CPUPerMiB = 2 * time.Second
	if r := refusal(t, c, module); r.Earlier || r.Kind != boundCPU || r.Bound != int64(2*time.Second) {
		t.Errorf("with 2s of CPU: %v, want a new compile stopped at 2s", r)
	}
	c.Limits.CPUPerMiB = time.Second
	if r := refusal(t, c, module); !r.Earlier || r.Bound != int64(2*time.Second) {
		t.Errorf("back at 1s of CPU: %v, want the refusal at 2s remembered", r)
	}
}

// The compiler is forked from a thread whose priority is lowered; the
// caller's other threads keep theirs.
func TestLowerPriority(t *testing.T) {
	nice := func() int {
		prio, err := unix.Getpriority(unix.PRIO_PROCESS, unix.Gettid())
		if err != nil {
			t.Fatal(err)
		}
		return 20 - prio
	}
	before := nice()
	after := make(chan int)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		if err := lowerPriority(); err != nil {
			t.Error(err)
		}
		after <- nice()
	}()
	if got, want := <-after, min(before+compilerNice, 19); got != want {
		t.Errorf("compiler thread's nice %d, want %d", got, want)
	}
	if got := nice(); got != before {
		t.Errorf("caller's nice went from %d to %d", before, got)
	}
}

func TestOutOfMemory(t *testing.T) {
	for message, want := range map[string]bool{
		"memory allocation of 196608 bytes failed\nSIGABRT: abort": true,
		"fatal error: runtime: out of memory":                      true,
		"thread '<unnamed>' panicked at registry.rs:167:10:\nThe global thread pool has not been initialized.: ThreadPoolBuildError { kind: IOError(Os { code: 11, kind: WouldBlock, message: \"Resource temporarily unavailable\" }) }": true,
		"runtime/cgo: pthread_create failed: Resource temporarily unavailable": true,
		"compile /m.wasm: failed to parse WebAssembly module":                  false,
		"": false,
	} {
		if got := outOfMemory(message); got != want {
			t.Errorf("outOfMemory(%q) = %v, want %v", message, got, want)
		}
	}
}

// Components compile in the compiler process too, and what the runner
// could not run is its own error there.
func TestCompilerProcessComponents(t *testing.T) {
	component := readAll(t, filepath.Join(guests, "hello.component.wasm"))
	artifact, err := compileInCompiler(component, handler.Component, "/hello.component.wasm", bounds{memory: 2 << 30})
	if err != nil || !strings.HasPrefix(string(artifact), "\x7fELF") {
		t.Errorf("compile of a component: %d bytes, %v; want an artifact", len(artifact), err)
	}
	proxy := readAll(t, filepath.Join(guests, "proxy.component.wasm"))
	_, err = compileInCompiler(proxy, handler.Component, "/proxy.wasm", bounds{memory: 2 << 30})
	want := "component /proxy.wasm exports no wasi:cli/run function (it exports wasi:http/incoming-handler@0.2.0)"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("compile of a wasi:http proxy: %v, want %q", err, want)
	}
}
