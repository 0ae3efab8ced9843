package nodecheck

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// SkipUnlessRoot returns "" as root, else reason, which it also prints: a
// suite that starts containers skips as another user rather than fail.
func SkipUnlessRoot(reason string) string {
	if os.Geteuid() == 0 {
		return ""
	}
	fmt.Fprintln(os.Stderr, "SKIP:", reason)
	return reason
}

// Wrunc returns the absolute path of the binary under test: $WRUNC_BIN, or
// else the repository's bin/wrunc at repo (relative to the test's package).
func Wrunc(repo string) (string, error) {
	bin := os.Getenv("WRUNC_BIN")
	if bin == "" {
		bin = filepath.Join(repo, "bin", "wrunc")
	}
	bin, err := filepath.Abs(bin)
	if err != nil {
		return "", fmt.Errorf("wrunc binary: %w", err)
	}
	if fi, err := os.Stat(bin); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		return "", fmt.Errorf("wrunc binary %s not found or not executable: run `make` in the repository root, or set WRUNC_BIN", bin)
	}
	return bin, nil
}

// Until polls cond until it holds or timeout has passed, and reports
// whether it held; the timeout only bounds a hang.
func Until(timeout time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(timeout); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}

// Eventually fails t unless cond holds within timeout, for what happens
// asynchronously.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if !Until(timeout, cond) {
		t.Fatalf("gave up after %v waiting for %s", timeout, what)
	}
}

// ReadFile returns the content of the file at path, failing t if it cannot
// be read.
func ReadFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
