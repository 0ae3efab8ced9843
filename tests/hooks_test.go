package tests

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/wrunc/wrunc/tests/nodecheck"
)

func TestHooks(t *testing.T) {
	e := newEnv(t)
	hostDir := t.TempDir()
	// startContainer runs after pivot_root, so it only sees the container's
	// filesystem: it reports through a bind mount of the same dir.
	const inDir = "/hooks"
	hook := func(name, dir string) specs.Hook {
		return specs.Hook{
			Path: "/bin/busybox",
			Args: []string{"busybox", "sh", "-c",
				"cat > " + dir + "/" + name + ".json; echo " + name + " >> " + dir + "/order"},
			Env: []string{"PATH=/bin:/usr/bin"},
		}
	}
	hooks := &specs.Hooks{
		Prestart:        []specs.Hook{hook("prestart", hostDir)}, // deprecated, yet runtimes must still run it
		CreateRuntime:   []specs.Hook{hook("createRuntime", hostDir)},
		CreateContainer: []specs.Hook{hook("createContainer", hostDir)},
		StartContainer:  []specs.Hook{hook("startContainer", inDir)},
		Poststart:       []specs.Hook{hook("poststart", hostDir)},
		Poststop:        []specs.Hook{hook("poststop", hostDir)},
	}
	id, bundle := e.newID(), e.bundle(
		withArgs("sh", "-c", "read line < /hooks/go"),
		withHooks(hooks),
		withWritableRootfs(),
		withMounts(specs.Mount{Destination: inDir, Type: "bind", Source: hostDir, Options: []string{"rbind", "rw"}}))
	// The container blocks on a fifo until the hooks of start have been
	// checked, so that it is still running then.
	mkfifo(t, filepath.Join(hostDir, "go"))

	order := func() []string { return strings.Fields(nodecheck.ReadFile(t, filepath.Join(hostDir, "order"))) }
	// startContainer runs in the container just before its process, which
	// can be after `start` has returned: wait a little for the order to settle.
	expect := func(when string, want ...string) {
		t.Helper()
		got := order()
		for deadline := time.Now().Add(2 * time.Second); !reflect.DeepEqual(got, want) && time.Now().Before(deadline); got = order() {
			time.Sleep(10 * time.Millisecond)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("hooks run %s: %v, want %v", when, got, want)
		}
	}

	// As runc (libcontainer) does, and engines expect of it: poststart runs
	// once the init process exists, at create, so before startContainer.
	e.mustRun("create", "--bundle", bundle, id)
	expect("by create", "prestart", "createRuntime", "createContainer", "poststart")
	e.mustRun("start", id)
	expect("by start", "prestart", "createRuntime", "createContainer", "poststart", "startContainer")

	writeFifo(t, filepath.Join(hostDir, "go"))
	e.waitStatus(id, specs.StateStopped)
	expect("before delete", "prestart", "createRuntime", "createContainer", "poststart", "startContainer")
	e.mustRun("delete", id)
	expect("by delete", "prestart", "createRuntime", "createContainer", "poststart", "startContainer", "poststop")

	wantStatus := map[string]specs.ContainerState{
		"prestart":        specs.StateCreating,
		"createRuntime":   specs.StateCreating,
		"createContainer": specs.StateCreating,
		"startContainer":  specs.StateCreated,
		"poststart":       specs.StateCreated,
		"poststop":        specs.StateStopped,
	}
	for name, status := range wantStatus {
		var st specs.State
		raw := nodecheck.ReadFile(t, filepath.Join(hostDir, name+".json"))
		if err := json.Unmarshal([]byte(raw), &st); err != nil {
			t.Errorf("%s hook's stdin is not a state: %v: %q", name, err, raw)
			continue
		}
		if st.ID != id || st.Status != status || st.Bundle != bundle || st.Version == "" {
			t.Errorf("%s hook got %+v, want id %s status %s bundle %s", name, st, id, status, bundle)
		}
		if st.Pid <= 0 && status != specs.StateStopped {
			t.Errorf("%s hook got no pid: %+v", name, st)
		}
	}
}
