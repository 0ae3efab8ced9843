package wasm

import (
	"errors"
	"fmt"
	"math"

	"github.com/wrunc/wrunc/handler"
)

// ModuleFacts are what the runner needs to know of a module beyond its
// compiled code, to bound what the guest can allocate in total: wasmtime's
// store limits bound each linear memory and each table on its own, so the
// runner divides the guest's share among them.
type ModuleFacts struct {
	Memories  uint32 // linear memories the module defines (a component: all its core modules)
	Tables    uint32 // tables the module defines (a component: all its core modules)
	Component bool   // a wasi:cli/command component, not a core module
}

// Section ids of the core module binary format.
const (
	tableSectionID  = 4
	memorySectionID = 5
)

// Section ids of the component binary format that hold code: a core
// module, a nested component.
const (
	coreModuleSectionID = 1
	componentSectionID  = 4
)

// maxComponentNesting bounds how deep componentFacts follows nested
// components (wasmtime's validator allows less), so that the walk's depth
// is bounded by more than the file's size.
const maxComponentNesting = 100

var errMalformedModule = errors.New("malformed module")

// moduleFacts reads the facts off a core module's sections. It only walks
// the section headers and reads two vector lengths; the compile that follows
// validates the whole module, so a module this accepts may still be refused
// there. Imported memories and tables need not be counted: the runner's
// linker provides functions only, so a module importing either fails the
// link check at create.
func moduleFacts(module []byte) (ModuleFacts, error) {
	var facts ModuleFacts
	err := eachSection(module, func(id byte, body moduleReader) (err error) {
		switch id {
		case tableSectionID:
			facts.Tables, err = body.u32()
		case memorySectionID:
			facts.Memories, err = body.u32()
		}
		return err
	})
	return facts, err
}

// factsOf reads the facts of a module of kind.
func factsOf(kind handler.Format, module []byte) (ModuleFacts, error) {
	if kind == handler.Component {
		return componentFacts(module)
	}
	return moduleFacts(module)
}

// componentFacts adds up the facts of every core module in a component,
// nested components' included: the memories and tables its instances can
// define. A core module instantiated twice would define more, and the
// runner's count limits (the counts given here) refuse that instance. Like
// moduleFacts, it reads section headers and vector lengths only, before the
// compile validates the whole component.
func componentFacts(component []byte) (ModuleFacts, error) {
	facts := ModuleFacts{Component: true}
	var walk func(b []byte, depth int) error
	walk = func(b []byte, depth int) error {
		if depth > maxComponentNesting {
			return fmt.Errorf("%w: components nested over %d deep", errMalformedModule, maxComponentNesting)
		}
		return eachSection(b, func(id byte, body moduleReader) error {
			switch id {
			case coreModuleSectionID:
				m, err := moduleFacts(body.b)
				if err != nil {
					return err
				}
				facts.Memories = saturatingAdd(facts.Memories, m.Memories)
				facts.Tables = saturatingAdd(facts.Tables, m.Tables)
			case componentSectionID:
				return walk(body.b, depth+1)
			}
			return nil
		})
	}
	return facts, walk(component, 0)
}

func saturatingAdd(a, b uint32) uint32 {
	if a > math.MaxUint32-b {
		return math.MaxUint32
	}
	return a + b
}

// eachSection calls f with the id and body of each section of a core
// module or component binary, in order.
func eachSection(binary []byte, f func(id byte, body moduleReader) error) error {
	if len(binary) < 8 || string(binary[:4]) != "\x00asm" {
		return errMalformedModule
	}
	r := moduleReader{b: binary, off: 8}
	for r.off < len(r.b) {
		id, err := r.byte()
		if err != nil {
			return err
		}
		size, err := r.u32()
		if err != nil {
			return err
		}
		if uint64(size) > uint64(len(r.b)-r.off) {
			return fmt.Errorf("%w: section %d runs past the end", errMalformedModule, id)
		}
		body := moduleReader{b: r.b[r.off : r.off+int(size)]}
		r.off += int(size)
		if err := f(id, body); err != nil {
			return err
		}
	}
	return nil
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
