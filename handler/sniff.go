package handler

import (
	"fmt"
	"strings"
)

// Format is the kind of an entrypoint file.
type Format int

const (
	NotWasm Format = iota
	CoreModule
	Component
	WatText
)

func (f Format) String() string {
	switch f {
	case NotWasm:
		return "not wasm"
	case CoreModule:
		return "wasm module"
	case Component:
		return "wasm component"
	case WatText:
		return "wasm text module"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

const (
	// headerLen is how much of a file Sniff needs.
	headerLen = 8

	wasmMagic = "\x00asm"
	// The four bytes after the magic: a little-endian u32 version for core
	// modules; for the component model a u16 version (0x0d) then a u16
	// layer (1 = component).
	coreVersion      = "\x01\x00\x00\x00"
	componentVersion = "\x0d\x00\x01\x00"
)

// Sniff reports the Format of a file from its first bytes and its name.
// Only the first 8 bytes of header matter.
func Sniff(name string, header []byte) Format {
	h := string(header[:min(len(header), headerLen)])
	switch {
	case h == wasmMagic+coreVersion:
		return CoreModule
	case h == wasmMagic+componentVersion:
		return Component
	case strings.HasPrefix(h, wasmMagic):
		// A binary we cannot run; the .wat name must not make it text.
		return NotWasm
	case strings.HasSuffix(name, ".wat"):
		return WatText
	}
	return NotWasm
}

// describe says what a NotWasm header looks like, so errors tell the user
// what they pointed the wasm annotation at.
func describe(header []byte) string {
	h := string(header[:min(len(header), headerLen)])
	switch {
	case h == "":
		return "empty file"
	case strings.HasPrefix(h, "\x7fELF"):
		return "ELF executable"
	case strings.HasPrefix(h, "#!"):
		return "script"
	case len(h) < headerLen && strings.HasPrefix(h, wasmMagic):
		return "truncated wasm header"
	case strings.HasPrefix(h, wasmMagic):
		return fmt.Sprintf("wasm binary with unsupported version % x", h[len(wasmMagic):])
	}
	return "unknown format"
}
