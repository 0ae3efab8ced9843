// Command httpserver is a guest HTTP server on WasmEdge's socket extension
// (github.com/stealthrocket/net): it listens on its first argument (default
// [::]:8080, both IPv4 and IPv6), prints "listening ADDR" when it accepts
// connections, and answers every request with "hello from wasm PATH".
// Built for Linux instead (the native side of `make bench`'s requests per
// second), the same handler listens with the standard library and answers
// the same bytes.
package main

import (
	"fmt"
	"net/http"
	"os"
)

func main() {
	addr := "[::]:8080"
	if len(os.Args) > 1 {
		addr = os.Args[1]
	}
	l, err := listen(addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "httpserver:", err)
		os.Exit(1)
	}
	fmt.Println("listening", l.Addr())
	err = http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from wasm %s\n", r.URL.Path)
	}))
	fmt.Fprintln(os.Stderr, "httpserver:", err)
	os.Exit(1)
}
