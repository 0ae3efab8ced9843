package tests

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/wrunc/wrunc/tests/nodecheck"
)

// limits are the cgroup v1 values update changes, as the kernel reports
// them: memory.limit_in_bytes, pids.max, cpu.shares.
type limits struct{ memory, pids, shares string }

func readLimits(t *testing.T, cgPath string) limits {
	t.Helper()
	mounts := cgroupMounts(t)
	read := func(ctrl, file string) string {
		return strings.TrimSpace(nodecheck.ReadFile(t, filepath.Join(mounts[ctrl], cgPath, file)))
	}
	return limits{read("memory", "memory.limit_in_bytes"), read("pids", "pids.max"), read("cpu", "cpu.shares")}
}

// runStdin is run with stdin, for `update --resources -` as containerd calls it.
func (e *env) runStdin(stdin string, args ...string) result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd, collect := e.command(ctx, args...)
	cmd.Stdin = strings.NewReader(stdin)
	err := cmd.Run()
	r := collect()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) || ctx.Err() != nil {
		e.t.Fatalf("%s %v: %v\n%s", wruncBin, args, err, r)
	}
	return r
}

func TestUpdate(t *testing.T) {
	e := newEnv(t)
	id, cgPath := e.ownCgroupsPath()
	e.mustRun("create", "--bundle", e.bundle(withArgs("sleep", "100"), withCgroupsPath(cgPath)), id)
	e.mustRun("start", id)
	file := filepath.Join(t.TempDir(), "resources.json")
	writeJSON(t, file, specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: ptr(int64(96 << 20))},
		Pids:   &specs.LinuxPids{Limit: ptr(int64(33))},
	})

	for _, step := range []struct {
		name  string
		args  []string
		stdin string
		want  limits
	}{
		{"flags", []string{"--memory", "256m", "--pids-limit", "42", "--cpu-share", "512"}, "", limits{"268435456", "42", "512"}},
		{"stdin", []string{"--resources", "-"}, `{"memory": {"limit": 134217728}, "cpu": {"shares": 300}, "pids": {"limit": 17}}`, limits{"134217728", "17", "300"}},
		// Podman's form; what the file leaves out stays as it was.
		{"file", []string{"--resources=" + file}, "", limits{"100663296", "33", "300"}},
		{"memory with a unit", []string{"--memory", "1g"}, "", limits{"1073741824", "33", "300"}},
	} {
		if r := e.runStdin(step.stdin, append([]string{"update"}, append(step.args, id)...)...); r.code != 0 {
			t.Fatalf("%s: update failed: %s", step.name, r)
		}
		if got := readLimits(t, cgPath); got != step.want {
			t.Errorf("%s: cgroup limits %+v, want %+v", step.name, got, step.want)
		}
	}

	before := readLimits(t, cgPath)
	r := e.runStdin(`{"memory": {"limit": 1`, "update", "--resources", "-", id)
	if msg := strings.TrimSpace(r.stderr); r.code == 0 || msg == "" || strings.Contains(msg, "\n") {
		t.Errorf("update with truncated JSON: want one line of error and a non-zero exit: %s", r)
	}
	if got := readLimits(t, cgPath); got != before {
		t.Errorf("a refused update changed the cgroup: %+v, was %+v", got, before)
	}
	e.mustFail([]string{"memory"}, "update", "--memory", "lots", id)
	if st := e.state(id); st.Status != specs.StateRunning {
		t.Errorf("container %s after refused updates, want running", st.Status)
	}
}

// A wasm container is updated through its cgroup like any other, and its
// stats come from there too.
func TestUpdateWasm(t *testing.T) {
	e := newEnv(t)
	id, cgPath := e.ownCgroupsPath()
	bundle := e.wasmBundle([]string{"probe.wasm", "sleep", "100"}, withCgroupsPath(cgPath),
		withAnnotations(map[string]string{variantKey: "compat"}))
	e.mustRun("create", "--bundle", bundle, id)
	e.mustRun("start", id)
	if h := e.state(id).Handler; h != "" && h != "wasm" {
		t.Fatalf("handler %q, want wasm", h)
	}

	e.mustRun("update", "--memory", "768m", "--pids-limit", "64", "--cpu-share", "256", id)
	if got, want := readLimits(t, cgPath), (limits{"805306368", "64", "256"}); got != want {
		t.Errorf("cgroup limits %+v, want %+v", got, want)
	}
	st := e.stats(id)
	if st.Pids.Current < 1 || st.Pids.Limit != 64 {
		t.Errorf("pids %+v, want current >= 1 and limit 64", st.Pids)
	}
	if st.Memory.Usage.Usage == 0 || st.Memory.Usage.Limit != 768<<20 {
		t.Errorf("memory usage %+v, want some usage under a 768 MiB limit", st.Memory.Usage)
	}
}
