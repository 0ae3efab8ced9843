// Package testguests builds the wasm guests of testdata/ for unit tests.
package testguests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// Main builds the guests (testdata/build.sh) into a temporary directory,
// points *dir at it, and runs the tests; it returns their exit status.
func Main(m *testing.M, dir *string) int {
	tmp, err := os.MkdirTemp("", "wrunc-guests-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	_, self, _, _ := runtime.Caller(0)
	build := exec.Command(filepath.Join(filepath.Dir(self), "..", "..", "testdata", "build.sh"), tmp)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "build test guests: %v\n", err)
		return 1
	}
	*dir = tmp
	return m.Run()
}
