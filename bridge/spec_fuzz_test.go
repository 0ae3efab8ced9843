package bridge

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wrunc/wrunc/handler"
)

// FuzzSpec feeds arbitrary config.json bytes through what create does
// before touching the system: parse, validate, choose the handler. None of
// it may panic, and an accepted spec must satisfy what libcontainer assumes.
func FuzzSpec(f *testing.F) {
	bundle := f.TempDir()
	rootfs := filepath.Join(bundle, "rootfs")
	if err := os.MkdirAll(rootfs, 0o755); err != nil {
		f.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rootfs, "app.wasm"), []byte("\x00asm\x01\x00\x00\x00"), 0o644); err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		`{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"args":["/app.wasm"],"cwd":"/"},"linux":{},"annotations":{"module.wasm.image/variant":"compat"}}`,
		`{"ociVersion":"1.2.0","root":{"path":"rootfs","readonly":true},"process":{"args":["sh"],"cwd":"/","env":["PATH=/bin"]},"linux":{}}`,
		`{"ociVersion":"2.0.0","root":{"path":"rootfs"},"process":{"args":["x"],"cwd":"/"},"linux":{}}`,
		`{"ociVersion":"1.0.0","root":{"path":"rootfs"},"process":{"args":[],"cwd":"/"},"linux":{}}`,
		`{"ociVersion":"1.0.0","root":{"path":"/nonexistent"},"process":{"args":["a"],"cwd":"rel"}}`,
		`{"ociVersion":"1.0.0"`,
		`null`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, err := parseSpec(data, bundle)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
			return
		}
		if spec.Process == nil || len(spec.Process.Args) == 0 || !filepath.IsAbs(spec.Process.Cwd) || spec.Root == nil || spec.Linux == nil {
			t.Fatalf("accepted a spec libcontainer cannot run: %s", data)
		}
		_, _ = handler.Select(spec, RootfsPath(spec, bundle))
	})
}
