// Test guests, built for GOOS=wasip1 GOARCH=wasm by build.sh. A module of
// their own keeps them out of wrunc's module and its dependency graph.
module github.com/wrunc/wrunc/testdata

go 1.26

require github.com/stealthrocket/net v0.2.1
