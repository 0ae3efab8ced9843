package runner

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The headers runner.c compiles against are a copy of the wasmtime-go
// module's (cgo can only include from inside this module): they must be the
// ones of the version in go.mod. After a version change, run
// scripts/sync-wasmtime-headers.sh.
func TestHeadersMatchModule(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/bytecodealliance/wasmtime-go/v39").Output()
	if err != nil {
		t.Fatalf("locate wasmtime-go: %v", err)
	}
	module := filepath.Join(strings.TrimSpace(string(out)), "build", "include")
	copies := 0
	err = filepath.WalkDir("include", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		copies++
		ours, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		theirs, err := os.ReadFile(filepath.Join(module, strings.TrimPrefix(path, "include/")))
		if err != nil || !bytes.Equal(ours, theirs) {
			t.Errorf("%s differs from wasmtime-go's (%v): run scripts/sync-wasmtime-headers.sh", path, err)
		}
		return nil
	})
	if err != nil || copies == 0 {
		t.Fatalf("walk include: %d headers, %v", copies, err)
	}
}
