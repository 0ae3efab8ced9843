// Command compilealone prints, in milliseconds, how long compiling a wasm
// module takes within one process, with the engine settings wrunc compiles
// with, writing nothing: what a runtime that compiles in place (crun's
// wasmtime handler) pays on every start, and what `make bench` sets wrunc's
// first start beside.
//
// Usage: compilealone MODULE.wasm
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/bytecodealliance/wasmtime-go/v39"

	"github.com/wrunc/wrunc/handler/wasm"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: compilealone MODULE.wasm")
		os.Exit(2)
	}
	module, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	start := time.Now()
	if _, err := wasmtime.NewModule(wasm.NewEngine(), module); err != nil {
		fmt.Fprintf(os.Stderr, "compile %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
	fmt.Printf("%.3f\n", float64(time.Since(start).Microseconds())/1000)
}
