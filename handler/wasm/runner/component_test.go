package runner

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The test guests as wasi:cli/command components (testdata/build.sh): the
// preview 1 ones adapted by jco, and a JavaScript one (componentize-js).
// Each runs with the contract of a core module.

func TestRunComponent(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "in"), []byte("content"), 0o600); err != nil {
		t.Fatal(err)
	}
	inDir := func(args ...string) outcome {
		cmd := guestCmd(t, "probe.component.wasm", nil, args...)
		cmd.Dir = dir
		return runGuest(t, cmd)
	}
	env := []string{"A=1", "B=x=y", "EMPTY=", "PATH=/bin"}
	for _, tc := range []struct {
		name string
		got  outcome
		want outcome
	}{
		{"Go hello", runGuest(t, guestCmd(t, "hello.component.wasm", nil)), outcome{0, "hello from wasm\n", ""}},
		{"args", runGuest(t, guestCmd(t, "probe.component.wasm", nil, "args", "two words", "", "-x")),
			outcome{0, "probe.component.wasm\nargs\ntwo words\n\n-x\n", ""}},
		{"env", runGuest(t, guestCmd(t, "probe.component.wasm", env, "env")), outcome{0, strings.Join(env, "\n") + "\n", ""}},
		{"cwd", inDir("cwd"), outcome{0, dir + "\n", ""}},
		{"relative read", inDir("read", "in"), outcome{0, "content", ""}},
		{"relative write", inDir("write", "out", "written"), outcome{0, "", ""}},
		{"exit 0", runGuest(t, guestCmd(t, "probe.component.wasm", nil, "exit", "0")), outcome{0, "", ""}},
		// The preview 1 adapter turns proc_exit(n) into exit(err) for any
		// n but 0: the status of a command that failed.
		{"exit 7", runGuest(t, guestCmd(t, "probe.component.wasm", nil, "exit", "7")), outcome{1, "", ""}},
		{"JavaScript", runGuest(t, guestCmd(t, "hello-js.component.wasm", nil, "a b", "c")),
			outcome{0, "hello from JavaScript: hello-js.component.wasm a b c\n", ""}},
		{"JavaScript exit(err)", runGuest(t, guestCmd(t, "hello-js.component.wasm", nil, "fail")),
			outcome{1, "hello from JavaScript: hello-js.component.wasm fail\n", ""}},
		{"JavaScript exit-with-code", runGuest(t, guestCmd(t, "hello-js.component.wasm", nil, "exit", "7")),
			outcome{7, "hello from JavaScript: hello-js.component.wasm exit 7\n", ""}},
		// As for a core module's proc_exit, 126 and up are the runner's.
		{"JavaScript exit-with-code 200", runGuest(t, guestCmd(t, "hello-js.component.wasm", nil, "exit", "200")),
			outcome{1, "hello from JavaScript: hello-js.component.wasm exit 200\n",
				"wrunc: /hello-js.component.wasm: exit with invalid exit status outside of [0..126): 200\n"}},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, tc.got, tc.want)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "out")); err != nil || string(b) != "written" {
		t.Errorf("out holds %q, %v; want \"written\"", b, err)
	}
}

func TestRunComponentTrap(t *testing.T) {
	got := runGuest(t, guestCmd(t, "trap.component.wasm", nil))
	if got.status != 134 || !strings.Contains(got.stderr, "/trap.component.wasm") ||
		!strings.Contains(got.stderr, "unreachable") {
		t.Errorf("got %+v, want status 134 and the trap on stderr", got)
	}
}

// A component's memories share the guest's bound as a module's do: the Go
// probe gets 16 MiB more under 64 MiB of guest memory, not 64.
func TestRunComponentMemoryLimit(t *testing.T) {
	guestMemory, err := GuestMemory(64 << 20)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		mib  string
		want int
	}{{"16", 0}, {"64", 1}} {
		cmd := guestCmd(t, "probe.component.wasm", nil)
		cmd.Args = Invocation{HandoffFD: 3, Module: "/probe.component.wasm", GuestMemory: guestMemory}.Args([]string{"probe.component.wasm", "grow", c.mib})
		got := runGuest(t, cmd)
		if got.status != c.want || (c.want != 0 && !strings.Contains(got.stderr, "out of memory")) {
			t.Errorf("grow %s MiB: got %+v, want exit status %d", c.mib, got, c.want)
		}
	}
}
