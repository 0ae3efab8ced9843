//go:build !wasip1

package main

import "net"

// listen opens a TCP listener with the standard library.
func listen(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }
