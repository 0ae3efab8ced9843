package wasm

import (
	"errors"
	"fmt"
)

// ModuleFacts are what the runner needs to know of a module beyond its
// compiled code, to bound what the guest can allocate in total: wasmtime's
// store limits bound each linear memory and each table on its own, so the
// runner divides the guest's share among them.
type ModuleFacts struct {
	Memories uint32 // linear memories the module defines
	Tables   uint32 // tables the module defines
}

// Section ids of the core module binary format.
const (
	tableSectionID  = 4
	memorySectionID = 5
)

var errMalformedModule = errors.New("malformed module")

// moduleFacts reads the facts off a core module's sections. It only walks
// the section headers and reads two vector lengths; the compile that follows
// validates the whole module, so a module this accepts may still be refused
// there. Imported memories and tables need not be counted: the runner's
// linker provides functions only, so a module importing either fails the
// link check at create.
func moduleFacts(module []byte) (ModuleFacts, error) {
	var facts ModuleFacts
	if len(module) < 8 || string(module[:4]) != "\x00asm" {
		return facts, errMalformedModule
	}
	r := moduleReader{b: module, off: 8}
	for r.off < len(r.b) {
		id, err := r.byte()
		if err != nil {
			return facts, err
		}
		size, err := r.u32()
		if err != nil {
			return facts, err
		}
		if uint64(size) > uint64(len(r.b)-r.off) {
			return facts, fmt.Errorf("%w: section %d runs past the end", errMalformedModule, id)
		}
		body := moduleReader{b: r.b[r.off : r.off+int(size)]}
		r.off += int(size)
		switch id {
		case tableSectionID:
			if facts.Tables, err = body.u32(); err != nil {
				return facts, err
			}
		case memorySectionID:
			if facts.Memories, err = body.u32(); err != nil {
				return facts, err
			}
		}
	}
	return facts, nil
}

// moduleReader reads the binary format's bytes and LEB128 integers.
type moduleReader struct {
	b   []byte
	off int
}

func (r *moduleReader) byte() (byte, error) {
	if r.off >= len(r.b) {
		return 0, fmt.Errorf("%w: unexpected end", errMalformedModule)
	}
	c := r.b[r.off]
	r.off++
	return c, nil
}

// u32 reads an unsigned LEB128 of at most 32 bits, as the format allows
// (5 bytes, the last one's high bits clear).
func (r *moduleReader) u32() (uint32, error) {
	var v uint32
	for shift := 0; shift < 35; shift += 7 {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		if shift == 28 && c > 0x0f {
			return 0, fmt.Errorf("%w: integer too large", errMalformedModule)
		}
		v |= uint32(c&0x7f) << shift
		if c&0x80 == 0 {
			return v, nil
		}
	}
	return 0, fmt.Errorf("%w: integer too long", errMalformedModule)
}
