package tests

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/wrunc/wrunc/tests/nodecheck"
)

// statePaused is runc's status for a frozen container; the OCI spec has none.
const statePaused specs.ContainerState = "paused"

// nativeAndWasm starts, per handler, a running container whose init stops
// on TERM once the returned pid handles it.
var nativeAndWasm = []struct {
	name  string
	start func(e *env) (id string, pid int)
}{
	{"native", func(e *env) (string, int) {
		id, _ := e.startSleeper(withArgs("sh", "-c", "trap 'exit 0' TERM; sleep 100 & wait"))
		pid := e.state(id).Pid
		// pid 1 drops a TERM it has no handler for yet.
		poll(e.t, "the shell's TERM trap", func() bool { return handles(e.t, pid, syscall.SIGTERM) })
		return id, pid
	}},
	{"wasm", func(e *env) (string, int) { return e.startWasmSleeper() }},
}

func TestPs(t *testing.T) {
	for _, c := range nativeAndWasm {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			id, pid := c.start(e)
			r := e.mustRun("ps", "--format", "json", id)
			var pids []int
			if err := json.Unmarshal([]byte(r.stdout), &pids); err != nil {
				t.Fatalf("ps --format json: %v\n%s", err, r)
			}
			if !slices.Contains(pids, pid) {
				t.Errorf("ps --format json %v lacks the init pid %d", pids, pid)
			}

			lines := strings.Split(strings.TrimRight(e.mustRun("ps", id).stdout, "\n"), "\n")
			col := slices.Index(strings.Fields(lines[0]), "PID")
			if col < 0 {
				t.Fatalf("ps: no PID column in the header %q", lines[0])
			}
			found := false
			for _, l := range lines[1:] {
				f := strings.Fields(l)
				found = found || len(f) > col && f[col] == strconv.Itoa(pid)
			}
			if !found {
				t.Errorf("ps table lacks the init pid %d:\n%s", pid, strings.Join(lines, "\n"))
			}
		})
	}
}

// TestPauseResume checks that a paused container is frozen: a TERM sent
// meanwhile stays pending, and only takes effect once it is resumed.
func TestPauseResume(t *testing.T) {
	for _, c := range nativeAndWasm {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			id, pid := c.start(e)
			e.mustFail([]string{"not paused"}, "resume", id)
			e.mustRun("pause", id)
			if st := e.state(id); st.Status != statePaused {
				t.Fatalf("status %q after pause, want paused", st.Status)
			}
			if got := frozen(t, pid); got != "FROZEN" {
				t.Errorf("freezer state %q, want FROZEN", got)
			}
			if r := e.mustFail([]string{"paused"}, "exec", id, "true"); r.code != 255 {
				t.Errorf("exec into a paused container: exit %d, want 255", r.code)
			}

			e.mustRun("kill", id, "TERM")
			if !signalPending(t, pid, syscall.SIGTERM) || nodecheck.Gone(pid) {
				t.Errorf("TERM was acted on by a paused container")
			}
			if st := e.state(id); st.Status != statePaused {
				t.Errorf("status %q after TERM while paused, want paused", st.Status)
			}

			e.mustRun("resume", id)
			e.waitStatus(id, specs.StateStopped)
		})
	}
	t.Run("stopped", func(t *testing.T) {
		e := newEnv(t)
		id, _ := e.create(withArgs("true"))
		e.mustRun("start", id)
		e.waitStatus(id, specs.StateStopped)
		e.mustFail([]string{"not running"}, "pause", id)
		e.mustFail([]string{"not paused"}, "resume", id)
	})
}

// frozen returns the freezer state of pid's cgroup: cgroup v1's
// freezer.state, or FROZEN/THAWED from cgroup v2's cgroup.freeze.
func frozen(t *testing.T, pid int) string {
	t.Helper()
	dirs := cgroupDirs(t, pid)
	if d, ok := dirs["freezer"]; ok {
		return strings.TrimSpace(nodecheck.ReadFile(t, filepath.Join(d, "freezer.state")))
	}
	if strings.TrimSpace(nodecheck.ReadFile(t, filepath.Join(dirs[""], "cgroup.freeze"))) == "1" {
		return "FROZEN"
	}
	return "THAWED"
}
