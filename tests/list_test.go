package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestList(t *testing.T) {
	e := newEnv(t)
	if r := e.mustRun("list", "-q"); r.stdout != "" {
		t.Errorf("list -q with no containers printed %q", r.stdout)
	}
	if r := e.mustRun("list", "--format", "json"); r.stdout != "null\n" {
		t.Errorf("list --format json with no containers printed %q, want null as runc does", r.stdout)
	}

	annotations := map[string]string{"org.wrunc.list": "yes"}
	created, createdBundle := e.create(withArgs("sleep", "100"), withAnnotations(annotations))
	running, runningBundle := e.startSleeper()
	want := map[string]struct {
		status, bundle string
		pid            int
	}{
		created: {"created", createdBundle, e.state(created).Pid},
		running: {"running", runningBundle, e.state(running).Pid},
	}

	t.Run("table", func(t *testing.T) {
		e := e.on(t)
		r := e.mustRun("list")
		lines := strings.Split(strings.TrimRight(r.stdout, "\n"), "\n")
		if len(lines) != 3 {
			t.Fatalf("want a header and 2 rows:\n%s", r.stdout)
		}
		if h := strings.Fields(lines[0]); !reflect.DeepEqual(h, []string{"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"}) {
			t.Errorf("header %q", lines[0])
		}
		for _, l := range lines[1:] {
			f := strings.Fields(l)
			if len(f) != 6 {
				t.Errorf("row %q: want 6 columns", l)
				continue
			}
			w, ok := want[f[0]]
			if !ok || f[1] != strconv.Itoa(w.pid) || f[2] != w.status || f[3] != w.bundle || f[5] != "root" {
				t.Errorf("row %q, want %s %+v owner root", l, f[0], w)
			}
			if _, err := time.Parse(time.RFC3339Nano, f[4]); err != nil {
				t.Errorf("row %q: created: %v", l, err)
			}
		}
	})

	t.Run("json", func(t *testing.T) {
		e := e.on(t)
		r := e.mustRun("list", "--format", "json")
		if strings.Count(r.stdout, "\n") != 1 {
			t.Errorf("list --format json printed %q, want one line as runc does", r.stdout)
		}
		var raw []map[string]json.RawMessage
		if err := json.Unmarshal([]byte(r.stdout), &raw); err != nil {
			t.Fatalf("list --format json: %v\n%s", err, r.stdout)
		}
		if len(raw) != 2 {
			t.Fatalf("want 2 entries, got %s", r.stdout)
		}
		for _, obj := range raw {
			for _, k := range []string{"id", "pid", "status", "bundle", "rootfs", "created", "owner"} {
				if _, ok := obj[k]; !ok {
					t.Errorf("entry lacks %q: %v", k, obj)
				}
			}
		}
		var items []containerState
		if err := json.Unmarshal([]byte(r.stdout), &items); err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			w, ok := want[it.ID]
			if !ok || string(it.Status) != w.status || it.Bundle != w.bundle || it.Pid != w.pid ||
				it.Owner != "root" || it.Rootfs != rootfsDir || it.Created.IsZero() {
				t.Errorf("entry %+v, want %+v owner root rootfs %s", it, w, rootfsDir)
			}
			if it.ID == created && !reflect.DeepEqual(it.Annotations, annotations) {
				t.Errorf("annotations %v, want %v", it.Annotations, annotations)
			}
		}
	})

	t.Run("quiet", func(t *testing.T) {
		e := e.on(t)
		for _, flag := range []string{"-q", "--quiet"} {
			r := e.mustRun("list", flag)
			got := strings.Fields(r.stdout)
			sort.Strings(got)
			exp := []string{created, running}
			sort.Strings(exp)
			if !reflect.DeepEqual(got, exp) || !strings.HasSuffix(r.stdout, "\n") {
				t.Errorf("list %s: %q, want one id a line %v", flag, r.stdout, exp)
			}
		}
	})
}

// TestListMissingRoot checks that a --root that names nothing is an error,
// as in runc, rather than an empty list that hides a mistyped path.
func TestListMissingRoot(t *testing.T) {
	e := newEnv(t)
	missing := filepath.Join(t.TempDir(), "missing")
	for _, args := range [][]string{{"list"}, {"list", "-q"}, {"list", "--format", "json"}} {
		r := e.mustFailOneLine([]string{"open " + missing + ": no such file or directory"}, append([]string{"--root", missing}, args...)...)
		if r.code != 1 || r.stdout != "" {
			t.Errorf("--root %s %v: %s, want exit 1 and no output", missing, args, r)
		}
	}
	if _, err := os.Lstat(missing); err == nil {
		t.Errorf("list created the missing root %s", missing)
	}
}
