//go:build wasip1

package main

import (
	"net"

	"github.com/stealthrocket/net/wasip1"
)

// listen opens a TCP listener through WasmEdge's socket extension of WASI.
func listen(addr string) (net.Listener, error) { return wasip1.Listen("tcp", addr) }
