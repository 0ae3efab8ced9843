package tests

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// counterScript counts up in /tmp/n from 1, keeping its count only in the
// shell's memory, so that a restart shows as the count going back to 1.
// Its stdio is /dev/null, which CRIU finds again at restore, unlike the
// test's files.
const counterScript = `exec </dev/null >/dev/null 2>&1
i=0
while :; do i=$((i+1)); echo $i >/tmp/n; sleep 0.1; done`

// criuUnusable returns why CRIU cannot checkpoint on this host, in CRIU's
// words, or "" when `criu check` passes.
func criuUnusable() string {
	out, err := exec.Command("criu", "check").CombinedOutput()
	if err == nil {
		return ""
	}
	for _, l := range bytes.Split(out, []byte("\n")) {
		if bytes.HasPrefix(l, []byte("Error")) {
			return string(l)
		}
	}
	return err.Error() + ": " + string(bytes.TrimSpace(out))
}

func TestCheckpointRestore(t *testing.T) {
	e := newEnv(t)
	data := t.TempDir()
	bundle := e.bundle(withArgs("sh", "-c", counterScript),
		withMounts(specs.Mount{Destination: "/tmp", Type: "bind", Source: data, Options: []string{"rbind", "rw"}}))
	id := e.newID()
	e.mustRun("run", "-d", "--bundle", bundle, id)
	// -1 while the shell has truncated the file and not yet written to it.
	count := func() int {
		b, _ := os.ReadFile(filepath.Join(data, "n"))
		n, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			return -1
		}
		return n
	}
	var before int
	poll(t, "the counter to reach 3", func() bool { before = count(); return before >= 3 })
	pid := e.state(id).Pid

	images, work := filepath.Join(t.TempDir(), "images"), t.TempDir()
	r := e.run("checkpoint", "--image-path", images, "--work-path", work, id)
	if r.code != 0 {
		reason := criuUnusable()
		if reason == "" {
			t.Fatalf("checkpoint: %s", r)
		}
		// CRIU's own failure, with where to read more, and the container
		// left as it was.
		if log := filepath.Join(work, "dump.log"); !strings.Contains(r.stderr, "criu") || !strings.Contains(r.stderr, log) {
			t.Errorf("checkpoint failed without CRIU's error or its log %s: %s", log, r)
		}
		if st := e.state(id); st.Status != specs.StateRunning {
			t.Errorf("container %s after a failed checkpoint, want running", st.Status)
		}
		t.Skipf("CRIU cannot checkpoint on this host: %s", reason)
	}
	e.assertGone(id)
	waitProcessGone(t, pid)
	before = max(before, count())

	e.mustRun("restore", "-d", "--image-path", images, "--work-path", work, "--bundle", bundle, id)
	if st := e.state(id); st.Status != specs.StateRunning {
		t.Fatalf("restored container %s, want running", st.Status)
	}
	var after int
	poll(t, "the restored counter to move", func() bool { after = count(); return after >= 0 && after != before })
	if after < before {
		t.Errorf("counter went from %d to %d: the restored container started over", before, after)
	}
}

// What cannot be checkpointed or restored is refused, and a failed restore
// leaves nothing behind.
func TestCheckpointRefusals(t *testing.T) {
	e := newEnv(t)
	id, bundle := e.create(withArgs("sleep", "100"))
	images := t.TempDir()
	e.mustFail([]string{"created"}, "checkpoint", "--image-path", images, id)
	e.mustRun("delete", id)

	e.mustFail(nil, "restore", "-d", "--image-path", images, "--bundle", bundle, id)
	e.assertGone(id)
	if dirs := cgroupsNamed(t, id); len(dirs) > 0 {
		t.Errorf("failed restore left cgroups: %v", dirs)
	}
}
