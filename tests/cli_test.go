package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
	"github.com/wrunc/wrunc/tests/nodecheck"
)

func TestSpec(t *testing.T) {
	e := newEnv(t)
	load := func(dir string) *specs.Spec {
		t.Helper()
		var s specs.Spec
		if err := json.Unmarshal([]byte(nodecheck.ReadFile(t, filepath.Join(dir, "config.json"))), &s); err != nil {
			t.Fatal(err)
		}
		return &s
	}
	hasUserNS := func(s *specs.Spec) bool {
		for _, ns := range s.Linux.Namespaces {
			if ns.Type == specs.UserNamespace {
				return true
			}
		}
		return false
	}

	dir := t.TempDir()
	// From elsewhere, so that a spec written to the cwd would be missed.
	e.mustRunIn(t.TempDir(), "spec", "--bundle", dir)
	s := load(dir)
	if s.Process == nil || !reflect.DeepEqual(s.Process.Args, []string{"sh"}) || !s.Process.Terminal {
		t.Errorf("spec process %+v, want args [sh] with a terminal", s.Process)
	}
	if s.Root == nil || s.Root.Path != "rootfs" || s.Linux == nil || hasUserNS(s) {
		t.Errorf("spec root %+v linux %+v", s.Root, s.Linux)
	}

	before := nodecheck.ReadFile(t, filepath.Join(dir, "config.json"))
	e.mustFail([]string{"config.json exists"}, "spec", "--bundle", dir)
	if nodecheck.ReadFile(t, filepath.Join(dir, "config.json")) != before {
		t.Errorf("spec overwrote an existing config.json")
	}

	rootless := t.TempDir()
	e.mustRun("spec", "--rootless", "--bundle", rootless)
	if s := load(rootless); s.Linux == nil || !hasUserNS(s) || len(s.Linux.UIDMappings) == 0 || len(s.Linux.GIDMappings) == 0 {
		t.Errorf("spec --rootless lacks a user namespace with mappings: %+v", s.Linux)
	}
}

func TestFeatures(t *testing.T) {
	e := newEnv(t)
	r := e.mustRun("features")
	var f features.Features
	if err := json.Unmarshal([]byte(r.stdout), &f); err != nil {
		t.Fatalf("features: %v\n%s", err, r.stdout)
	}
	if f.OCIVersionMin == "" || f.OCIVersionMax == "" {
		t.Errorf("features lacks ociVersionMin/Max: %s", r.stdout)
	}
	for _, h := range []string{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"} {
		if f.Hooks != nil && !slices.Contains(f.Hooks, h) {
			t.Errorf("features hooks %v lack %s", f.Hooks, h)
		}
	}
}

func TestVersion(t *testing.T) {
	e := newEnv(t)
	for _, flag := range []string{"--version", "-v"} {
		r := e.mustRun(flag)
		lines := strings.Split(strings.TrimRight(r.stdout, "\n"), "\n")
		if !regexp.MustCompile(`^\S+ version \S+$`).MatchString(lines[0]) {
			t.Errorf("%s: first line %q, want `<name> version X`", flag, lines[0])
		}
		for _, prefix := range []string{"spec: ", "go: ", "libseccomp: "} {
			found := false
			for _, l := range lines[1:] {
				found = found || strings.HasPrefix(l, prefix) && len(l) > len(prefix)
			}
			if !found {
				t.Errorf("%s: no %q line in %q", flag, prefix, r.stdout)
			}
		}
	}
}

func TestLogFile(t *testing.T) {
	for _, cmd := range [][]string{{"kill"}, {"start"}, {"state"}} {
		t.Run(cmd[0], func(t *testing.T) {
			e := newEnv(t)
			logJSON := filepath.Join(t.TempDir(), "log.json")
			id := e.newID()
			r := e.mustFail([]string{"does not exist"}, append([]string{"--log", logJSON, "--log-format", "json"}, append(cmd, id)...)...)
			if n := strings.Count(strings.TrimRight(r.stderr, "\n"), "\n"); n != 0 {
				t.Errorf("stderr has %d lines, want 1: %q", n+1, r.stderr)
			}
			var found bool
			for _, l := range strings.Split(strings.TrimSpace(nodecheck.ReadFile(t, logJSON)), "\n") {
				var entry struct{ Level, Msg, Time string }
				if err := json.Unmarshal([]byte(l), &entry); err != nil {
					t.Errorf("log line %q is not JSON: %v", l, err)
					continue
				}
				found = found || entry.Level == "error" && strings.Contains(entry.Msg, "does not exist") && entry.Time != ""
			}
			if !found {
				t.Errorf("no error entry in the JSON log: %q", nodecheck.ReadFile(t, logJSON))
			}

			logText := filepath.Join(t.TempDir(), "log.txt")
			e.mustFail([]string{"does not exist"}, append([]string{"--log", logText, "--log-format", "text"}, append(cmd, id)...)...)
			text := nodecheck.ReadFile(t, logText)
			if !regexp.MustCompile(`(?m)^time="[^"]+" level=error msg=".*does not exist.*"$`).MatchString(text) {
				t.Errorf("text log %q lacks a logfmt error line", text)
			}
		})
	}
}

// TestLogFileAppends checks that --log adds to an existing file: callers
// such as containerd share one log file between invocations.
func TestLogFileAppends(t *testing.T) {
	e := newEnv(t)
	log := filepath.Join(t.TempDir(), "log.json")
	if err := os.WriteFile(log, []byte("{\"msg\":\"earlier\"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.mustFail(nil, "--log", log, "--log-format", "json", "kill", e.newID())
	if got := nodecheck.ReadFile(t, log); !strings.HasPrefix(got, "{\"msg\":\"earlier\"}\n") || !strings.Contains(got, "does not exist") {
		t.Errorf("log %q: want the old line kept and the new error appended", got)
	}
}

// TestArgCount checks runc's usage errors, which callers match on.
func TestArgCount(t *testing.T) {
	e := newEnv(t)
	e.mustFail([]string{"state", "requires exactly 1 argument(s)"}, "state")
	e.mustFail([]string{"kill", "requires a minimum of 1 argument(s)"}, "kill")
	e.mustFail([]string{"kill", "requires a maximum of 2 argument(s)"}, "kill", "a", "b", "c")
}
