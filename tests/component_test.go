package tests

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"

	"github.com/wrunc/wrunc/tests/nodecheck"
)

// The process contract of components (args, env, cwd, stdio, exit status,
// trap, filesystem, stop signals, handler selection, refusals at create)
// is checked by the rows for components in wasm_test.go; these are what
// only components need.

// TestWasmComponentExec checks that exec runs a component in a running wasm
// container, and refuses one wrunc cannot run without touching the
// container.
func TestWasmComponentExec(t *testing.T) {
	e := newEnv(t)
	id, _ := e.startWasmSleeper(withRootfs(e.guestRootfs(true, "probe.wasm", "hello-js.component.wasm", "proxy.component.wasm")),
		withAnnotations(map[string]string{variantKey: "compat-smart"}))
	if r := e.mustRun("exec", id, "/hello-js.component.wasm", "a", "b"); r.stdout != "hello from JavaScript: /hello-js.component.wasm a b\n" {
		t.Errorf("exec of a JavaScript component printed %q", r.stdout)
	}
	if r := e.run("exec", id, "/hello-js.component.wasm", "fail"); r.code != 1 {
		t.Errorf("exec: %s\nwant the component's exit(err), 1", r)
	}
	r := e.mustFailOneLine([]string{"component /proxy.component.wasm exports no wasi:cli/run function"},
		"exec", id, "/proxy.component.wasm")
	if st := e.state(id); st.Status != specs.StateRunning {
		t.Errorf("container %s after the refused exec (%s): %s", id, r, st.Status)
	}
}

// TestWasmComponentCache checks that precompile warms the cache with a
// component, that a create then loads it without compiling, and that the
// cache lists it and prunes it as any entry.
func TestWasmComponentCache(t *testing.T) {
	e := newEnv(t)
	cache := t.TempDir()
	rootfs := e.guestRootfs(false, "hello.component.wasm")
	e.mustRun("--cache-dir", cache, "precompile", filepath.Join(rootfs, "hello.component.wasm"))
	sums, _ := filepath.Glob(filepath.Join(cache, "*.sum"))
	if len(sums) != 1 || !strings.Contains(nodecheck.ReadFile(t, sums[0]), " kind=component ") {
		t.Fatalf("cache records after precompile: %v, want one of a component", sums)
	}
	log := filepath.Join(t.TempDir(), "log")
	bundle := e.bundle(withRootfs(rootfs), withReadonlyRoot(), wasmHandler, withArgs("/hello.component.wasm"))
	if r := e.mustRun("--debug", "--log", log, "--cache-dir", cache, "run", "--bundle", bundle, e.newID()); r.stdout != "hello from wasm\n" {
		t.Errorf("run of the precompiled component printed %q", r.stdout)
	}
	if strings.Contains(nodecheck.ReadFile(t, log), "compiled ") {
		t.Errorf("the create compiled the precompiled component again:\n%s", nodecheck.ReadFile(t, log))
	}
	if r := e.mustRun("--cache-dir", cache, "cache", "ls"); strings.Count(r.stdout, "\n") != 2 {
		t.Errorf("cache ls: %q, want a header and the component's entry", r.stdout)
	}
	e.mustRun("--cache-dir", cache, "cache", "prune", "--all")
	if left, _ := filepath.Glob(filepath.Join(cache, "*.cwasm")); len(left) != 0 {
		t.Errorf("cache prune --all left %v", left)
	}
}

// TestWasmComponentMemoryLimit checks the in-engine bound on a component's
// memories: under a 64 MiB limit the Go probe's runtime sees its heap
// growth refused and says so, rather than the container being OOM-killed.
func TestWasmComponentMemoryLimit(t *testing.T) {
	limit := int64(64 << 20)
	memory := withResources(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit}})
	e := newEnv(t)
	for _, c := range []struct {
		mib  string
		code int
	}{{"16", 0}, {"100", 1}} {
		r := e.run("run", "--bundle", e.wasmBundle([]string{"probe.component.wasm", "grow", c.mib}, memory), e.newID())
		if r.code != c.code || (c.code != 0 && !strings.Contains(r.stderr, "out of memory")) {
			t.Errorf("grow %s MiB under a 64 MiB limit: %s\nwant exit %d (grow refused in the engine, not an OOM kill)", c.mib, r, c.code)
		}
	}
}

// TestWasmFeatures checks that features says what the wasm handler runs.
func TestWasmFeatures(t *testing.T) {
	e := newEnv(t)
	var f features.Features
	if err := json.Unmarshal([]byte(e.mustRun("features").stdout), &f); err != nil {
		t.Fatal(err)
	}
	if got := f.Annotations["io.github.wrunc.wasm.formats"]; got != "module,wat,component" {
		t.Errorf("io.github.wrunc.wasm.formats = %q, want module,wat,component", got)
	}
	if got := f.Annotations["io.github.wrunc.wasm.worlds"]; !strings.Contains(got, "wasi:cli/command@0.2") {
		t.Errorf("io.github.wrunc.wasm.worlds = %q, want wasi:cli/command@0.2 among them", got)
	}
}
