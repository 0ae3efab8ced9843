package wasm

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wrunc/wrunc/handler"
)

// The link check at create accepts what the runner provides, under each
// signature it provides a name with, and names them all when it refuses.
func TestCheckLinkableSignatures(t *testing.T) {
	start := `(func (export "_start"))`
	for _, tc := range []struct{ name, imports, err string }{
		{"WasmEdge's socket extension", `
			(import "wasi_snapshot_preview1" "sock_open" (func (param i32 i32 i32) (result i32)))
			(import "wasi_snapshot_preview1" "sock_getaddrinfo" (func (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
			(import "wasi_snapshot_preview1" "sock_recv_from" (func (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))`, ""},
		{"WasmEdge's older signatures", `
			(import "wasi_snapshot_preview1" "sock_accept" (func (param i32 i32) (result i32)))
			(import "wasi_snapshot_preview1" "sock_getlocaladdr" (func (param i32 i32 i32 i32) (result i32)))`, ""},
		{"preview 0", `
			(import "wasi_unstable" "fd_seek" (func (param i32 i64 i32 i32) (result i32)))
			(import "wasi_unstable" "poll_oneoff" (func (param i32 i32 i32 i32) (result i32)))`, ""},
		{"no such signature", `(import "wasi_snapshot_preview1" "sock_accept" (func (param i32) (result i32)))`,
			"imports wasi_snapshot_preview1.sock_accept as func[i32] -> [i32], but wrunc provides " +
				"func[i32 i32 i32] -> [i32] or func[i32 i32] -> [i32]"},
		{"not in preview 0", `(import "wasi_unstable" "sock_accept" (func (param i32 i32 i32) (result i32)))`,
			"imports wasi_unstable.sock_accept, which wrunc does not provide"},
		{"a memory", `(import "wasi_snapshot_preview1" "fd_write" (memory 1))`,
			"imports wasi_snapshot_preview1.fd_write as a non-function, but wrunc provides func[i32 i32 i32 i32] -> [i32]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "m.wat")
			if err := os.WriteFile(path, []byte("(module "+tc.imports+start+")"), 0o600); err != nil {
				t.Fatal(err)
			}
			c := &Cache{Dir: t.TempDir()}
			f, err := c.Artifact(openModule(t, path), path, handler.WatText)
			if err == nil {
				f.Close()
			}
			switch {
			case tc.err == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Errorf("error %v, want one containing %q", err, tc.err)
			}
		})
	}
}
