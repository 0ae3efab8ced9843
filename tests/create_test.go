package tests

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestCreateExistingID(t *testing.T) {
	e := newEnv(t)
	id, bundle := e.create(withArgs("sleep", "100"))
	pid := e.state(id).Pid
	// runc says "container with given ID already exists".
	e.mustFail([]string{"container with", "exists"}, "create", "--bundle", e.bundle(withArgs("true")), id)

	st := e.state(id)
	if st.Status != specs.StateCreated || st.Pid != pid || st.Bundle != bundle {
		t.Fatalf("the failed create changed the first container: %+v", st)
	}
	e.mustRun("start", id)
	e.waitStatus(id, specs.StateRunning)
}

// TestCreateErrors checks each failure's message and that it leaves no
// state dir, no container in list and no cgroup behind.
func TestCreateErrors(t *testing.T) {
	cases := []struct {
		name  string
		setup func(e *env) string // returns the bundle
		wants []string
	}{
		{"no bundle dir", func(e *env) string {
			return filepath.Join(e.t.TempDir(), "missing")
		}, []string{"no such file or directory"}},
		{"no config.json", func(e *env) string { return e.t.TempDir() },
			[]string{"config.json", "not found"}},
		{"invalid JSON", func(e *env) string {
			b := e.bundle()
			if err := os.WriteFile(filepath.Join(b, "config.json"), []byte("{bad"), 0o644); err != nil {
				e.t.Fatal(err)
			}
			return b
		}, []string{"invalid character"}},
		{"missing rootfs", func(e *env) string {
			return e.bundle(func(s *specs.Spec) { s.Root.Path = filepath.Join(e.t.TempDir(), "nope") })
		}, []string{"rootfs", "no such file or directory"}},
		{"nonexistent entrypoint", func(e *env) string {
			return e.bundle(withArgs("/nonexistent"))
		}, []string{"/nonexistent", "no such file or directory"}},
		{"entrypoint not in PATH", func(e *env) string {
			return e.bundle(withArgs("no-such-command"))
		}, []string{"no-such-command", "executable file not found"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			id := e.newID()
			e.mustFail(c.wants, "create", "--bundle", c.setup(e), id)
			e.assertNothingLeft(id)
			if dirs := cgroupsNamed(t, id); len(dirs) > 0 {
				t.Errorf("leftover cgroups: %v", dirs)
			}
		})
	}
}

func TestCreateInvalidID(t *testing.T) {
	e := newEnv(t)
	bundle := e.bundle(withArgs("true"))
	// ".." would name the state dir's parent, which exists.
	for _, id := range []string{"../x", "a/b", ".."} {
		// runc says "invalid container ID format".
		e.mustFail([]string{"invalid container"}, "create", "--bundle", bundle, id)
	}
	if _, err := os.Lstat(filepath.Join(e.root, "..", "x")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("create ../x wrote outside the state dir (err=%v)", err)
	}
	e.assertNothingLeft("x")
}

// assertNothingLeft checks what a failed create may leave: no state, no
// container dir, nothing in list.
func (e *env) assertNothingLeft(id string) {
	e.t.Helper()
	e.assertGone(id)
	if r := e.mustRun("list", "-q"); r.stdout != "" {
		e.t.Errorf("list after failed create: %q", r.stdout)
	}
	ents, err := os.ReadDir(e.root)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		e.t.Fatal(err)
	}
	for _, d := range ents {
		if d.IsDir() {
			e.t.Errorf("state dir %s has leftover %s", e.root, d.Name())
		}
	}
}

// TestFailureWording checks that a failed create or run is said in runc's
// words, with the runtime's name (`runc run failed: unable to start
// container process: ...`), which tools and scripts match on; exec keeps
// runc's `exec failed: ...`.
func TestFailureWording(t *testing.T) {
	e := newEnv(t)
	name := "wrunc"
	if filepath.Base(wruncBin) == "runc" {
		name = "runc"
	}
	notFound := e.bundle(withArgs("no-such-command"))
	running, _ := e.startSleeper()
	badWasm := e.wasmBundle([]string{"badimport.wasm"})
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"create", "--bundle", notFound, e.newID()}, `msg="` + name + ` create failed: unable to start container process: `},
		{[]string{"run", "--bundle", notFound, e.newID()}, `msg="` + name + ` run failed: unable to start container process: `},
		{[]string{"create", "--bundle", notFound, running}, `msg="` + name + ` create failed: container with id exists: ` + running + `"`},
		{[]string{"exec", running, "no-such-command"}, `msg="exec failed: unable to start container process: `},
	} {
		r := e.mustFailOneLine([]string{c.want}, c.args...)
		if r.code == 0 {
			t.Errorf("%v: %s", c.args, r)
		}
	}
	if name == "wrunc" {
		id := e.newID()
		r := e.mustFailOneLine([]string{`msg="wrunc run failed: `, "badimport.wasm"}, "run", "--bundle", badWasm, id)
		if strings.Contains(r.stderr, "run "+id+":") || strings.Contains(r.stderr, "create "+id+":") {
			t.Errorf("the cause of a failed wasm run repeats what failed: %s", r)
		}
	}
}
