GO      ?= go
TAGS    := seccomp netgo osusergo urfave_cli_no_docs
COMMIT  := $(shell git rev-parse --short HEAD 2>/dev/null)
LDFLAGS := -X main.gitCommit=$(COMMIT) -linkmode external -extldflags "-static"
SOURCES := $(shell find . \( -name '*.go' -o -name '*.c' -o -name '*.h' \) -not -path './tests/*' -not -path './testdata/*') go.mod go.sum
SHELL   := /bin/bash

.PHONY: all test unit integration conformance engines lint demo bench clean

all: bin/wrunc

# glibc's static-link warnings concern NSS functions wrunc never calls
# (osusergo and netgo keep Go's own lookups), so they are filtered.
bin/wrunc: $(SOURCES)
	set -o pipefail; CGO_ENABLED=1 $(GO) build -trimpath -tags '$(TAGS)' -ldflags '$(LDFLAGS)' -o $@ . 2>&1 \
		| { grep -v -e 'in statically linked applications requires at runtime' -e ': in function ' -e '^# ' || true; }
	@ldd $@ 2>&1 | grep -q 'not a dynamic executable' || { echo "bin/wrunc is not static" >&2; exit 1; }

test: unit integration

unit:
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

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); [ -z "$$out" ] || { echo "gofmt needed: $$out" >&2; exit 1; }
	CGO_ENABLED=1 $(GO) vet -tags '$(TAGS)' ./...

demo: bin/wrunc
	./scripts/demo.sh

clean:
	rm -rf bin

bench: bin/wrunc
	./scripts/bench.sh
