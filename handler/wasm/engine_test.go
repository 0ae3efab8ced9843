package wasm

import (
	"bytes"
	"debug/elf"
	"os"
	"path/filepath"
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

// sections lists the ELF sections of a serialized artifact.
func sections(t *testing.T, artifact []byte) map[string]bool {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(artifact))
	if err != nil {
		t.Fatalf("artifact is not ELF: %v", err)
	}
	names := map[string]bool{}
	for _, s := range f.Sections {
		names[s.Name] = true
	}
	return names
}

// The runner's engine must load what the host compiles, so both leave out
// native unwind information; wasmtime's default engine would emit it.
func TestArtifactsCarryNoNativeUnwindInfo(t *testing.T) {
	module, err := os.ReadFile(filepath.Join(guests, "exit42.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		engine  *wasmtime.Engine
		ehFrame bool
	}{
		{"wasmtime's default engine", wasmtime.NewEngine(), true},
		{"wrunc's engine", NewEngine(), false},
	} {
		artifact, err := compile(tc.engine, module, "/exit42.wasm")
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		names := sections(t, artifact)
		if !names[".text"] {
			t.Fatalf("%s: artifact without .text: %v", tc.name, names)
		}
		if names[".eh_frame"] != tc.ehFrame {
			t.Errorf("%s: .eh_frame in artifact = %v, want %v", tc.name, names[".eh_frame"], tc.ehFrame)
		}
	}
}
