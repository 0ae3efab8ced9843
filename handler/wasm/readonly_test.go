package wasm

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// What a process that reaches an artifact's descriptor could try on the
// host's file through /proc/<pid>/fd; the kernel must refuse each, even to
// root.
func TestOpenReadOnlyRefusesChanges(t *testing.T) {
	path := filepath.Join(t.TempDir(), "artifact")
	if err := os.WriteFile(path, []byte("compiled"), 0o444); err != nil {
		t.Fatal(err)
	}
	f, err := openReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	link := "/proc/self/fd/" + strconv.Itoa(int(f.Fd()))
	attempts := map[string]func() error{
		"open for writing": func() error {
			w, err := os.OpenFile(link, os.O_WRONLY|os.O_APPEND, 0)
			if err == nil {
				w.Close()
			}
			return err
		},
		"truncate": func() error { return os.Truncate(link, 0) },
		"chtimes":  func() error { return os.Chtimes(link, time.Unix(0, 0), time.Unix(0, 0)) },
		"chmod":    func() error { return os.Chmod(link, 0o666) },
		"chown":    func() error { return os.Chown(link, 1000, 1000) },
		"setxattr": func() error { return unix.Setxattr(link, "user.x", []byte("y"), 0) },
	}
	for name, try := range attempts {
		if err := try(); err == nil {
			t.Errorf("%s through the descriptor succeeded", name)
		}
	}
	if b, err := os.ReadFile(link); err != nil || string(b) != "compiled" {
		t.Errorf("read back %q, %v; want the artifact readable", b, err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "compiled" {
		t.Errorf("the file now holds %q, %v", b, err)
	}
}
