package tests

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/wrunc/wrunc/tests/nodecheck"
)

// TestFlagsAfterID drives a container's whole life with every flag after
// the container id, as runc accepts them and as scripts write them, while
// exec's command line and ps's options keep theirs.
func TestFlagsAfterID(t *testing.T) {
	e := newEnv(t)
	id, bundle := e.newID(), e.bundle(withArgs("sleep", "100"))
	e.mustRun("create", id, "--bundle", bundle, "--pid-file", filepath.Join(bundle, "pid"))
	if st := e.state(id); st.Status != specs.StateCreated || nodecheck.ReadFile(t, filepath.Join(bundle, "pid")) == "" {
		t.Fatalf("create ID --bundle B --pid-file P: %+v", st)
	}
	e.mustRun("start", id)
	pid := e.waitStatus(id, specs.StateRunning).Pid

	e.mustRun("update", id, "--pids-limit", "17")
	if got := strings.TrimSpace(nodecheck.ReadFile(t, filepath.Join(cgroupDirs(t, pid)["pids"], "pids.max"))); got != "17" {
		t.Errorf("update ID --pids-limit 17: pids.max is %q", got)
	}

	var ev struct{ Type, ID string }
	if r := e.mustRun("events", id, "--stats"); json.Unmarshal([]byte(r.stdout), &ev) != nil || ev.Type != "stats" || ev.ID != id {
		t.Errorf("events ID --stats: %s", r)
	}

	var pids []int
	if r := e.mustRun("ps", id, "-f", "json"); json.Unmarshal([]byte(r.stdout), &pids) != nil || !slices.Contains(pids, pid) {
		t.Errorf("ps ID -f json: %s", r)
	}
	// ps(1)'s own options, after the id, are still ps(1)'s.
	if r := e.mustRun("ps", id, "-o", "pid,comm"); !slices.Equal(strings.Fields(strings.SplitN(r.stdout, "\n", 2)[0]), []string{"PID", "COMMAND"}) || !strings.Contains(r.stdout, " sleep\n") {
		t.Errorf("ps ID -o pid,comm: %s", r)
	}

	// exec's flags before its command; the command's own flags stay its own.
	r := e.mustRun("exec", id, "--env", "A=1", "sh", "-c", `echo "$A" "$@"`, "sh", "--tty", "-e", "B=2")
	if r.stdout != "1 --tty -e B=2\n" {
		t.Errorf("exec ID --env A=1 sh -c ... --tty -e B=2: %s", r)
	}
	if r := e.mustRun("exec", id, "-e", "A=2", "--", "sh", "-c", `echo "$A"`); r.stdout != "2\n" {
		t.Errorf("exec ID -e A=2 -- sh ...: %s", r)
	}

	e.mustRun("kill", id, "KILL", "--all")
	e.waitStatus(id, specs.StateStopped)
	e.mustRun("delete", id, "--force")
	e.assertGone(id)

	// run's flags after its id too.
	runID := e.newID()
	e.mustRun("run", runID, "--bundle", bundle, "--detach")
	e.waitStatus(runID, specs.StateRunning)
	e.mustRun("delete", runID, "--force")
	e.assertGone(runID)
}
