package tests

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/wrunc/wrunc/tests/nodecheck"
)

// TestBadCreate checks that create refuses each bad bundle or flag with one
// line of error naming the problem, and leaves nothing of the container.
func TestBadCreate(t *testing.T) {
	compat := withAnnotations(map[string]string{variantKey: "compat"})
	// config writes content as the bundle's config.json.
	config := func(content func(valid []byte) []byte) func(e *env) (string, []string) {
		return func(e *env) (string, []string) {
			b := e.bundle()
			path := filepath.Join(b, "config.json")
			if err := os.WriteFile(path, content([]byte(nodecheck.ReadFile(e.t, path))), 0o644); err != nil {
				e.t.Fatal(err)
			}
			return b, nil
		}
	}
	// bundle is a bundle made of opts, with no extra create flags.
	bundle := func(opts ...specOpt) func(e *env) (string, []string) {
		return func(e *env) (string, []string) { return e.bundle(opts...), nil }
	}
	// wasm is a bundle under compat whose busybox rootfs holds the guests
	// and the files (path to content) of extra, running args.
	wasm := func(extra map[string]string, args []string, opts ...specOpt) func(e *env) (string, []string) {
		return func(e *env) (string, []string) {
			rootfs := e.guestRootfs(true, "probe.wasm", "badimport.wasm")
			for name, content := range extra {
				if err := os.WriteFile(filepath.Join(rootfs, name), []byte(content), 0o755); err != nil {
					e.t.Fatal(err)
				}
			}
			return e.bundle(append([]specOpt{withRootfs(rootfs), compat, withArgs(args...)}, opts...)...), nil
		}
	}
	// terminal is a terminal bundle, its console socket the path socket makes.
	terminal := func(socket func(t *testing.T) string) func(e *env) (string, []string) {
		return func(e *env) (string, []string) {
			return e.bundle(withTerminal()), []string{"--console-socket", socket(e.t)}
		}
	}
	cases := []struct {
		name  string
		setup func(e *env) (bundle string, flags []string)
		wants []string
	}{
		{"malformed config.json", config(func([]byte) []byte {
			return []byte(`{"ociVersion": "1.2.0", "process": {"args": ["sh"],}}`)
		}), []string{"config.json", "invalid character"}},
		{"truncated config.json", config(func(valid []byte) []byte { return valid[:len(valid)/2] }),
			[]string{"config.json", "unexpected end of JSON input"}},
		{"ociVersion 2.0.0", bundle(func(s *specs.Spec) { s.Version = "2.0.0" }),
			[]string{"ociVersion", "2.0.0"}},
		{"missing rootfs", bundle(func(s *specs.Spec) { s.Root.Path = "/nonexistent/rootfs" }),
			[]string{"/nonexistent/rootfs", "no such file or directory"}},
		{"rootfs is a file", bundle(func(s *specs.Spec) { s.Root.Path = "/bin/busybox" }),
			[]string{"/bin/busybox", "not a directory"}},
		{"empty process.args", bundle(withArgs()), []string{"process.args"}},
		{"missing entrypoint", bundle(withArgs("/no/such/entrypoint")),
			[]string{"/no/such/entrypoint", "no such file or directory"}},
		{"pid file in a missing directory", func(e *env) (string, []string) {
			return e.bundle(withArgs("sleep", "100")), []string{"--pid-file", "/nonexistent/dir/pid"}
		}, []string{"pid file", "/nonexistent/dir"}},
		// Bound but not listening: connecting is refused.
		{"console socket refusing", terminal(func(t *testing.T) string {
			path := filepath.Join(t.TempDir(), "console.sock")
			ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
			if err != nil {
				t.Fatal(err)
			}
			ln.SetUnlinkOnClose(false)
			ln.Close()
			return path
		}), []string{"console.sock", "connection refused"}},
		{"console socket missing", terminal(func(t *testing.T) string {
			return filepath.Join(t.TempDir(), "console.sock")
		}), []string{"console.sock", "no such file or directory"}},
		{"garbage .wasm", wasm(map[string]string{"garbage.wasm": "\x00asm garbage"}, []string{"/garbage.wasm"}),
			[]string{"/garbage.wasm"}},
		{"unknown imports", wasm(nil, []string{"/badimport.wasm"}), []string{"/badimport.wasm", "env.foo"}},
		{"memory limit below the runner's", wasm(nil, []string{"/probe.wasm", "args"},
			withResources(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(16 << 20))}})),
			[]string{"leaves no room"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			id := e.newID()
			bundle, flags := c.setup(e)
			e.mustFailOneLine(c.wants, append(append([]string{"create", "--bundle", bundle}, flags...), id)...)
			e.assertClean(id)
		})
	}
}

// TestBadID checks that ids that can't name a directory of their own under
// the root are refused by every command, and that they and an unknown id
// never reach the file system.
func TestBadID(t *testing.T) {
	e := newEnv(t)
	bundle := e.bundle(withArgs("true"))
	unknown := e.newID()
	for _, id := range []string{"", "/", "..", "a/b", strings.Repeat("a", 1100), "a\x01b", unknown} {
		name := idUnsafe.ReplaceAllString(id, "_")
		t.Run(name[:min(len(name), 20)], func(t *testing.T) {
			e := e.on(t)
			commands := [][]string{{"state", id}, {"start", id}, {"kill", id, "KILL"}, {"delete", id}}
			if id != unknown {
				commands = append(commands, []string{"create", "--bundle", bundle, id}, []string{"run", "--bundle", bundle, id})
			}
			for _, args := range commands {
				var wants []string
				switch {
				case args[0] == "create" || args[0] == "run":
					wants = []string{"invalid container"}
				case id == unknown:
					wants = []string{"does not exist"}
				}
				e.mustFailOneLine(wants, args...)
				if ents, _ := os.ReadDir(e.root); len(ents) > 0 {
					t.Errorf("%s left %s in the root", args[0], ents[0].Name())
					os.RemoveAll(filepath.Join(e.root, ents[0].Name()))
				}
				// Whatever it names, it names no container, so none is left.
				e.mustRun("delete", "--force", id)
			}
		})
	}
}

// TestBadRequests sends a running container requests that must be refused,
// each with one line of error, and checks that none of them harmed it.
func TestBadRequests(t *testing.T) {
	e := newEnv(t)
	id, _ := e.startSleeper()
	pid := e.state(id).Pid
	cgroups := containerCgroups(t, pid)

	e.mustFailOneLine([]string{"container with id exists"}, "create", "--bundle", e.bundle(withArgs("true")), id)
	for _, sig := range []string{"NOPE", "65", "-1"} {
		e.mustFailOneLine([]string{"signal", sig}, "kill", id, sig)
	}
	r := e.runStdin("{bad", "update", "--resources", "-", id)
	if r.code == 0 {
		t.Errorf("update with unparsable JSON succeeded: %s", r)
	}
	assertOneErrorLine(t, r)

	if st := e.state(id); st.Status != specs.StateRunning || st.Pid != pid {
		t.Fatalf("after refused requests: status %q pid %d, want running pid %d", st.Status, st.Pid, pid)
	}
	if got := cgroupDirs(t, pid); len(got) != len(cgroups) {
		t.Errorf("the container's cgroups changed: %v, were %v", got, cgroups)
	}
	if r := e.mustRun("exec", id, "echo", "alive"); r.stdout != "alive\n" {
		t.Errorf("exec after refused requests printed %q", r.stdout)
	}
}
