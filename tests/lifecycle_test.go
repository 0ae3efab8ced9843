package tests

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/wrunc/wrunc/tests/nodecheck"
)

func TestLifecycle(t *testing.T) {
	e := newEnv(t)
	annotations := map[string]string{"org.wrunc.test": "lifecycle", "empty": ""}
	// A TERM handler, because pid 1 of a pid namespace ignores signals it
	// doesn't handle, and the default `kill` signal is TERM. `wait` returns
	// as soon as the trap fires.
	id, bundle := e.newID(), e.bundle(
		withArgs("sh", "-c", "trap 'exit 0' TERM; sleep 100 & wait"),
		withAnnotations(annotations))
	pidFile := filepath.Join(t.TempDir(), "pid")
	e.mustRun("create", "--bundle", bundle, "--pid-file", pidFile, id)

	st := e.state(id)
	if st.ID != id || st.Status != specs.StateCreated || st.Bundle != bundle {
		t.Errorf("state after create: id %q status %q bundle %q, want %q created %q", st.ID, st.Status, st.Bundle, id, bundle)
	}
	if st.Version == "" || st.Created.IsZero() {
		t.Errorf("state lacks ociVersion or created: %+v", st)
	}
	if st.Pid <= 0 || nodecheck.Gone(st.Pid) {
		t.Fatalf("state pid %d is not a live process", st.Pid)
	}
	if got := nodecheck.ReadFile(t, pidFile); got != strconv.Itoa(st.Pid) {
		t.Errorf("pid file has %q, state says pid %d", got, st.Pid)
	}
	if !reflect.DeepEqual(st.Annotations, annotations) {
		t.Errorf("annotations %v, want %v", st.Annotations, annotations)
	}
	if fi, err := os.Stat(filepath.Join(e.root, id)); err != nil || !fi.IsDir() {
		t.Errorf("no state dir %s: %v", filepath.Join(e.root, id), err)
	}
	cgroups := containerCgroups(t, st.Pid)

	e.mustRun("start", id)
	if st2 := e.state(id); st2.Status != specs.StateRunning || st2.Pid != st.Pid {
		t.Errorf("after start: status %q pid %d, want running pid %d", st2.Status, st2.Pid, st.Pid)
	}

	e.mustFail([]string{"cannot start an already running container"}, "start", id)

	e.mustRun("kill", id)
	e.waitStatus(id, specs.StateStopped)
	waitProcessGone(t, st.Pid)
	e.mustFail([]string{"cannot start a container that has stopped"}, "start", id)

	e.mustRun("delete", id)
	e.assertGone(id)
	assertCgroupsGone(t, cgroups)
}

func TestKillSignalForms(t *testing.T) {
	for _, sig := range []string{"9", "KILL", "SIGKILL", "kill"} {
		t.Run(sig, func(t *testing.T) {
			e := newEnv(t)
			id, _ := e.startSleeper()
			e.mustRun("kill", id, sig)
			e.waitStatus(id, specs.StateStopped)
		})
	}
}

// Signal 0, as for kill(2) and runc, asks whether the init is there.
func TestKillZero(t *testing.T) {
	e := newEnv(t)
	id, _ := e.startSleeper()
	pid := e.state(id).Pid
	e.mustRun("kill", id, "0")
	e.mustRun("kill", "--all", id, "0")
	if st := e.state(id); st.Status != specs.StateRunning || st.Pid != pid {
		t.Fatalf("after kill 0: status %q pid %d, want running pid %d", st.Status, st.Pid, pid)
	}
	e.mustRun("kill", id, "KILL")
	e.waitStatus(id, specs.StateStopped)
	if r := e.mustFail([]string{"container not running"}, "kill", id, "0"); r.code != 1 {
		t.Errorf("kill 0 of a stopped container: exit %d, want 1", r.code)
	}
}

func TestKillErrors(t *testing.T) {
	e := newEnv(t)
	id, _ := e.create(withArgs("true"))
	e.mustFail([]string{"unknown signal"}, "kill", id, "NOSUCHSIG")
	if st := e.state(id); st.Status != specs.StateCreated {
		t.Errorf("an invalid signal changed the container: status %q", st.Status)
	}
	e.mustRun("start", id)
	e.waitStatus(id, specs.StateStopped)

	if r := e.mustFail([]string{"container not running"}, "kill", id, "KILL"); r.code != 1 {
		t.Errorf("kill of a stopped container: exit %d, want 1", r.code)
	}
	// --all is how shims clean up after a container whose init has exited.
	if r := e.run("kill", "--all", id, "KILL"); r.code != 0 {
		t.Errorf("kill --all of a stopped container: %s", r)
	}
	e.mustFail([]string{"does not exist"}, "kill", e.newID(), "KILL")
}

func TestDelete(t *testing.T) {
	t.Run("force unknown id", func(t *testing.T) {
		e := newEnv(t)
		if r := e.run("delete", "--force", e.newID()); r.code != 0 {
			t.Errorf("delete --force of an unknown id: %s", r)
		}
	})
	t.Run("unknown id", func(t *testing.T) {
		e := newEnv(t)
		e.mustFail([]string{"does not exist"}, "delete", e.newID())
	})
	t.Run("running", func(t *testing.T) {
		e := newEnv(t)
		id, _ := e.startSleeper()
		st := e.state(id)
		cgroups := containerCgroups(t, st.Pid)

		e.mustFail([]string{"running"}, "delete", id)
		if st2 := e.state(id); st2.Status != specs.StateRunning || nodecheck.Gone(st.Pid) {
			t.Fatalf("failed delete harmed the container: %+v", st2)
		}

		e.mustRun("delete", "--force", id)
		e.assertGone(id)
		waitProcessGone(t, st.Pid)
		assertCgroupsGone(t, cgroups)
	})
	t.Run("created", func(t *testing.T) {
		// runc deletes a created (never started) container without --force.
		e := newEnv(t)
		id, _ := e.create(withArgs("sleep", "100"))
		st := e.state(id)
		cgroups := containerCgroups(t, st.Pid)
		e.mustRun("delete", id)
		e.assertGone(id)
		waitProcessGone(t, st.Pid)
		assertCgroupsGone(t, cgroups)
	})
}

func TestPidFile(t *testing.T) {
	e := newEnv(t)
	id, bundle := e.newID(), e.bundle(withArgs("sleep", "100"))
	// A relative --pid-file is relative to the caller's cwd, not the bundle.
	dir := t.TempDir()
	e.mustRunIn(dir, "create", "--bundle", bundle, "--pid-file", "init.pid", id)
	st := e.state(id)
	if _, err := os.Stat(filepath.Join(bundle, "init.pid")); err == nil {
		t.Errorf("pid file was written relative to the bundle")
	}
	if got := nodecheck.ReadFile(t, filepath.Join(dir, "init.pid")); got != strconv.Itoa(st.Pid) {
		t.Errorf("pid file has %q, want %q (no newline, as runc writes it)", got, strconv.Itoa(st.Pid))
	}
	// Written to a temp file and renamed, so readers never see it partial
	// and nothing else may be left in the directory.
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 {
		var names []string
		for _, d := range ents {
			names = append(names, d.Name())
		}
		t.Errorf("pid file dir holds %v, want only init.pid", names)
	}
}
