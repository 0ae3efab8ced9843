package wasm

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// guests is the directory of test guests built by testdata/build.sh.
var guests string

func TestMain(m *testing.M) {
	// The runner tests start this test binary as the runner, as a container
	// starts wrunc.
	if len(os.Args) > 1 && os.Args[1] == RunnerMarker {
		os.Exit(RunnerMain(os.Args))
	}
	os.Exit(buildGuestsAndRun(m))
}

func buildGuestsAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "wrunc-guests-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	build := exec.Command("../../testdata/build.sh", dir)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "build test guests: %v\n", err)
		return 1
	}
	guests = dir
	return m.Run()
}
