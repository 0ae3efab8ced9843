GO      ?= go
TAGS    := seccomp netgo osusergo urfave_cli_no_docs
COMMIT  := $(shell git rev-parse --short HEAD 2>/dev/null)
LDFLAGS := -X main.gitCommit=$(COMMIT) -linkmode external -extldflags "-static"

# cgo can only name include directories inside this module, so the C API
# headers of the wasmtime-go version in go.mod are copied out of the module
# cache next to runner.c (git-ignored). Every target that builds the runner
# package depends on them.
WASMTIME_GO      := github.com/bytecodealliance/wasmtime-go/v39
WASMTIME_INCLUDE := handler/wasm/runner/include
HEADERS          := $(WASMTIME_INCLUDE)/wasmtime.h

SOURCES := $(shell find . \( -name '*.go' -o -name '*.c' -o -name '*.h' \) -not -path './tests/*' -not -path './testdata/*' -not -path './$(WASMTIME_INCLUDE)/*') go.mod go.sum
SHELL   := /bin/bash

.PHONY: all headers test unit integration conformance engines lint demo bench clean

all: bin/wrunc

headers: $(HEADERS)

# Only the C headers: the module's empty.go files would make the copy a Go
# package. install gives them a writable mode, the module cache's is not.
$(HEADERS): go.mod go.sum
	$(GO) mod download $(WASMTIME_GO)
	rm -rf $(WASMTIME_INCLUDE) $(WASMTIME_INCLUDE).tmp
	cd "$$($(GO) list -m -f '{{.Dir}}' $(WASMTIME_GO))/build/include" && \
		find . -name '*.h' -exec install -D -m 0644 {} $(CURDIR)/$(WASMTIME_INCLUDE).tmp/{} \;
	mv $(WASMTIME_INCLUDE).tmp $(WASMTIME_INCLUDE)

# glibc's static-link warnings concern NSS functions wrunc never calls
# (osusergo and netgo keep Go's own lookups), so they are filtered.
bin/wrunc: $(SOURCES) $(HEADERS)
	set -o pipefail; CGO_ENABLED=1 $(GO) build -trimpath -tags '$(TAGS)' -ldflags '$(LDFLAGS)' -o $@ . 2>&1 \
		| { grep -v -e 'in statically linked applications requires at runtime' -e ': in function ' -e '^# ' || true; }
	@ldd $@ 2>&1 | grep -q 'not a dynamic executable' || { echo "bin/wrunc is not static" >&2; exit 1; }

test: unit integration

unit: $(HEADERS)
	CGO_ENABLED=1 $(GO) test -tags '$(TAGS)' -count=1 $$($(GO) list ./... | grep -v /tests)

integration: bin/wrunc
	CGO_ENABLED=1 $(GO) test -tags '$(TAGS)' -count=1 -timeout 45m ./tests/

# wrunc under real engines: podman through conmon, containerd through its
# runc v2 shim (ctr and the CRI), each started privately by the suite.
engines: bin/wrunc
	CGO_ENABLED=1 $(GO) test -tags '$(TAGS)' -count=1 -timeout 30m ./tests/engines/

# The OCI runtime-tools validation programs, against the expected failures
# listed in conformance/expected-failures.txt.
conformance: bin/wrunc
	./scripts/conformance.sh

lint: $(HEADERS)
	@out=$$(gofmt -l $$(git ls-files '*.go')); [ -z "$$out" ] || { echo "gofmt needed: $$out" >&2; exit 1; }
	CGO_ENABLED=1 $(GO) vet -tags '$(TAGS)' ./...

demo: bin/wrunc
	./scripts/demo.sh

clean:
	rm -rf bin $(WASMTIME_INCLUDE) $(WASMTIME_INCLUDE).tmp

bench: bin/wrunc
	./scripts/bench.sh
