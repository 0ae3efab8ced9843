package wasm

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

func TestModuleFacts(t *testing.T) {
	cases := []struct {
		name string
		wat  string
		want ModuleFacts
	}{
		{"none", `(module)`, ModuleFacts{}},
		{"one memory", `(module (memory 1))`, ModuleFacts{Memories: 1}},
		{"memories and tables", `(module (memory 1) (memory 2) (memory 0) (table 1 funcref) (table 0 externref))`,
			ModuleFacts{Memories: 3, Tables: 2}},
		{"sections around", `(module (func $f) (table 1 funcref) (memory 1) (export "f" (func $f)) (data (i32.const 0) "x"))`,
			ModuleFacts{Memories: 1, Tables: 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			module, err := wasmtime.Wat2Wasm(c.wat)
			if err != nil {
				t.Fatal(err)
			}
			got, err := moduleFacts(module)
			if err != nil || got != c.want {
				t.Errorf("moduleFacts = %+v, %v; want %+v", got, err, c.want)
			}
		})
	}
}

func TestModuleFactsOfTestGuests(t *testing.T) {
	for name, want := range map[string]ModuleFacts{
		"hello.wasm":    {Memories: 1, Tables: 1},
		"multimem.wasm": {Memories: 6},
		"bigtable.wasm": {Tables: 1},
	} {
		module, err := os.ReadFile(filepath.Join(guests, name))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := moduleFacts(module); err != nil || got != want {
			t.Errorf("%s: moduleFacts = %+v, %v; want %+v", name, got, err, want)
		}
	}
}

func TestModuleFactsMalformed(t *testing.T) {
	for name, module := range map[string]string{
		"empty":              "",
		"not wasm":           "\x7fELF\x02\x01\x01\x00",
		"section past end":   "\x00asm\x01\x00\x00\x00\x05\x10\x01",
		"truncated size":     "\x00asm\x01\x00\x00\x00\x05\x80",
		"size too long":      "\x00asm\x01\x00\x00\x00\x05\x80\x80\x80\x80\x80\x00",
		"size over 32 bits":  "\x00asm\x01\x00\x00\x00\x05\xff\xff\xff\xff\x1f",
		"empty memory count": "\x00asm\x01\x00\x00\x00\x05\x00",
	} {
		if _, err := moduleFacts([]byte(module)); !errors.Is(err, errMalformedModule) {
			t.Errorf("%s: err = %v, want a malformed module", name, err)
		}
	}
}

// FuzzModuleFacts: any bytes give facts or an error, never a panic.
func FuzzModuleFacts(f *testing.F) {
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x05\x03\x01\x00\x01"))
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x04\x04\x01\x70\x00\x01"))
	f.Fuzz(func(t *testing.T, module []byte) {
		_, _ = moduleFacts(module)
	})
}

// section encodes one section of the binary format: id, LEB128 size, body.
func section(id byte, body []byte) []byte {
	b := []byte{id}
	for n := len(body); ; n >>= 7 {
		if n < 0x80 {
			b = append(b, byte(n))
			break
		}
		b = append(b, byte(n&0x7f|0x80))
	}
	return append(b, body...)
}

func TestComponentFacts(t *testing.T) {
	const header = "\x00asm\x0d\x00\x01\x00"
	module := func(wat string) []byte {
		m, err := wasmtime.Wat2Wasm(wat)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	main := module(`(module (memory 1) (table 1 funcref))`)
	adapter := module(`(module (table 2 funcref) (table 0 funcref))`)
	nested := append([]byte(header), section(coreModuleSectionID, module(`(module (memory 1) (memory 1))`))...)
	component := append([]byte(header), section(coreModuleSectionID, main)...)
	component = append(component, section(coreModuleSectionID, adapter)...)
	component = append(component, section(componentSectionID, nested)...)
	component = append(component, section(0, []byte("\x04name"))...)

	want := ModuleFacts{Memories: 3, Tables: 3, Component: true}
	if got, err := componentFacts(component); err != nil || got != want {
		t.Errorf("componentFacts = %+v, %v; want %+v", got, err, want)
	}
	if _, err := componentFacts(component[:len(component)-2]); !errors.Is(err, errMalformedModule) {
		t.Errorf("componentFacts of a truncated component: %v, want a malformed module", err)
	}
	deep := []byte(header)
	for range maxComponentNesting + 1 {
		deep = append([]byte(header), section(componentSectionID, deep)...)
	}
	if _, err := componentFacts(deep); !errors.Is(err, errMalformedModule) {
		t.Errorf("componentFacts of components nested %d deep: %v, want refused", maxComponentNesting+1, err)
	}
}

func TestComponentFactsOfTestGuests(t *testing.T) {
	// The Go hello adapted: its own memory and table, and the adapter's
	// shim and fixup modules' table.
	component, err := os.ReadFile(filepath.Join(guests, "hello.component.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	want := ModuleFacts{Memories: 1, Tables: 2, Component: true}
	if got, err := componentFacts(component); err != nil || got != want {
		t.Errorf("hello.component.wasm: componentFacts = %+v, %v; want %+v", got, err, want)
	}
}
