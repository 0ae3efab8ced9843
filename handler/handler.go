// Package handler decides at create time whether a container runs natively
// (libcontainer, like runc) or as WebAssembly, from its annotations and the
// entrypoint found in its root filesystem.
package handler

import (
	"errors"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Kind is the handler a container runs under.
type Kind string

const (
	Native Kind = "native"
	Wasm   Kind = "wasm"
)

// Annotations read by Select.
const (
	AnnotationHandler       = "run.oci.handler"
	AnnotationVariant       = "module.wasm.image/variant"
	AnnotationContainerType = "io.kubernetes.cri.container-type"
	// CRI-O marks its pause container with this key instead of the containerd
	// one, and copies pod annotations such as run.oci.handler onto it.
	AnnotationCRIOContainerType = "io.kubernetes.cri-o.ContainerType"
)

// Decision is the outcome of Select.
type Decision struct {
	Kind       Kind
	Reason     string      // human-readable justification, for logs
	Entrypoint *Entrypoint // set when Kind == Wasm
	Warnings   []string    // for the caller to log
}

// mode is how an annotation value asks for wasm.
type mode int

const (
	native mode = iota // also what an unknown value gets
	force              // wasm, and a non-wasm entrypoint is an error
	smart              // wasm only if the entrypoint is wasm, so sidecars keep working
)

// modes is the rule table. Keys are listed in precedence order in
// wasmAnnotations; a value missing from its key's map is unknown.
var modes = map[string]map[string]mode{
	AnnotationHandler: {"wasm": force, "wasm-smart": smart},
	AnnotationVariant: {"compat": force, "compat-smart": smart},
}

// run.oci.handler comes first: it names the runtime handler explicitly,
// while the variant is only a hint carried by the image.
var wasmAnnotations = []string{AnnotationHandler, AnnotationVariant}

// request is one wasm annotation present on the container.
type request struct {
	key, value string
	mode       mode
	known      bool
}

func (r request) String() string { return r.key + "=" + r.value }

// Select decides the handler. rootfs is the absolute host path of the
// container's root filesystem.
func Select(spec *specs.Spec, rootfs string) (Decision, error) {
	if spec == nil {
		return Decision{}, errors.New("select handler: nil spec")
	}
	if key, ok := sandbox(spec.Annotations); ok {
		// The pause image is native whatever the pod asks of its workloads.
		return Decision{Kind: Native, Reason: "annotation " + key + "=sandbox: pod sandboxes always run natively"}, nil
	}
	req, warnings := governing(spec.Annotations)
	d := Decision{Kind: Native, Warnings: warnings}
	switch {
	case req.key == "":
		d.Reason = "no wasm annotation"
		return d, nil
	case !req.known:
		d.Reason = fmt.Sprintf("annotation %s has unknown value %q", req.key, req.value)
		return d, nil
	}

	p := spec.Process
	if p == nil || len(p.Args) == 0 {
		return Decision{}, fmt.Errorf("%s: process.args is empty, no entrypoint to run", req)
	}
	ep, header, err := resolve(rootfs, p.Args[0], p.Cwd, p.Env)
	if err != nil {
		if req.mode == smart {
			// Let libcontainer report the exec failure the way runc would.
			d.Reason = fmt.Sprintf("annotation %s but %v", req, err)
			return d, nil
		}
		return Decision{}, fmt.Errorf("%s: %w", req, err)
	}
	name := displayName(p.Args[0], ep)
	switch ep.Format {
	case NotWasm:
		if req.mode == force {
			return Decision{}, fmt.Errorf("%s: entrypoint %s is not a wasm module (%s)", req, name, describe(header))
		}
		d.Reason = fmt.Sprintf("annotation %s and %s is not wasm (%s)", req, name, describe(header))
		return d, nil
	}
	d.Kind, d.Entrypoint = Wasm, ep
	d.Reason = fmt.Sprintf("annotation %s and %s is a %s", req, name, ep.Format)
	return d, nil
}

// sandbox reports whether the container is a pod's pause container, and
// under which annotation.
func sandbox(ann map[string]string) (string, bool) {
	for _, key := range []string{AnnotationContainerType, AnnotationCRIOContainerType} {
		if ann[key] == "sandbox" {
			return key, true
		}
	}
	return "", false
}

// governing returns the wasm annotation that decides (zero if none) and
// warnings about values that are unknown or overridden. An empty value counts
// as absent, as templating tools often emit empty annotations.
func governing(ann map[string]string) (request, []string) {
	var reqs []request
	for _, key := range wasmAnnotations {
		if value := ann[key]; value != "" {
			m, known := modes[key][value]
			reqs = append(reqs, request{key: key, value: value, mode: m, known: known})
		}
	}
	if len(reqs) == 0 {
		return request{}, nil
	}
	req, warnings := reqs[0], []string(nil)
	if !req.known {
		warnings = append(warnings, fmt.Sprintf("annotation %s has unknown value %q, running natively", req.key, req.value))
	}
	for _, other := range reqs[1:] {
		if other.mode != req.mode {
			warnings = append(warnings, fmt.Sprintf("annotation %s=%q ignored: %s=%q takes precedence", other.key, other.value, req.key, req.value))
		}
	}
	return req, warnings
}

// displayName names the entrypoint as the user wrote it, plus where it
// really led when PATH lookup or symlinks took it elsewhere.
func displayName(args0 string, ep *Entrypoint) string {
	if args0 == ep.ContainerPath {
		return args0
	}
	return args0 + " (" + ep.ContainerPath + ")"
}
