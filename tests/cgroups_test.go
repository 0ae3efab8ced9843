package tests

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/wrunc/wrunc/tests/nodecheck"
)

func TestCgroupsPath(t *testing.T) {
	e := newEnv(t)
	id := e.newID()
	// A parent of its own, so removing it can't race another test or run.
	parent := "/wrunc-test-" + id
	cgPath := parent + "/" + id
	mounts := cgroupMounts(t)
	const memLimit = 64 << 20
	bundle := e.bundle(withArgs("sleep", "100"), withCgroupsPath(cgPath),
		withResources(&specs.LinuxResources{
			Memory: &specs.LinuxMemory{Limit: ptr(int64(memLimit))},
			Pids:   &specs.LinuxPids{Limit: ptr(int64(123))},
		}))
	e.mustRun("create", "--bundle", bundle, id)
	pid := e.state(id).Pid

	pidsDir := filepath.Join(mounts["pids"], cgPath)
	memDir := filepath.Join(mounts["memory"], cgPath)
	procs := strings.Fields(nodecheck.ReadFile(t, filepath.Join(pidsDir, "cgroup.procs")))
	if !slices.Contains(procs, strconv.Itoa(pid)) {
		t.Errorf("pid %d not in %s/cgroup.procs: %v", pid, pidsDir, procs)
	}
	if got := strings.TrimSpace(nodecheck.ReadFile(t, filepath.Join(memDir, "memory.limit_in_bytes"))); got != strconv.Itoa(memLimit) {
		t.Errorf("memory.limit_in_bytes %s, want %d", got, memLimit)
	}
	if got := strings.TrimSpace(nodecheck.ReadFile(t, filepath.Join(pidsDir, "pids.max"))); got != "123" {
		t.Errorf("pids.max %s, want 123", got)
	}
	dirs := containerCgroups(t, pid)
	if dirs["pids"] != pidsDir || dirs["memory"] != memDir {
		t.Errorf("container cgroups %v, want %s and %s", dirs, pidsDir, memDir)
	}

	e.mustRun("start", id)
	e.waitStatus(id, specs.StateRunning)
	e.mustRun("delete", "--force", id)
	e.assertGone(id)
	waitProcessGone(t, pid)
	assertCgroupsGone(t, dirs)
	// The runtime leaves parents it created, as runc does.
	for _, mnt := range mounts {
		os.Remove(filepath.Join(mnt, parent))
	}
}

func ptr[T any](v T) *T { return &v }
