// Package bridge turns OCI bundles and CLI options into libcontainer
// containers and processes. It is the only package that talks to libcontainer.
package bridge

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// SpecConfig is the name of the OCI configuration inside a bundle.
const SpecConfig = "config.json"

// LoadSpec reads and validates the bundle's config.json. Every check that can
// fail without side effects happens here, so that a bad bundle is refused
// before any state directory or cgroup exists.
func LoadSpec(bundle string) (*specs.Spec, error) {
	path := filepath.Join(bundle, SpecConfig)
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("bundle %s: %s not found", bundle, SpecConfig)
		}
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	spec, err := parseSpec(data, bundle)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return spec, nil
}

func parseSpec(data []byte, bundle string) (*specs.Spec, error) {
	var spec specs.Spec
	if err := json.Unmarshal(data, &spec); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if err := validateSpec(&spec, bundle); err != nil {
		return nil, err
	}
	return &spec, nil
}

func validateSpec(spec *specs.Spec, bundle string) error {
	if major, _, _ := strings.Cut(spec.Version, "."); major != "1" {
		return fmt.Errorf("unsupported ociVersion %q: want 1.x", spec.Version)
	}
	if spec.Root == nil || spec.Root.Path == "" {
		return errors.New("root.path must be set")
	}
	rootfs := RootfsPath(spec, bundle)
	st, err := os.Stat(rootfs)
	if err != nil {
		return fmt.Errorf("rootfs %s: %w", rootfs, errors.Unwrap(err))
	}
	if !st.IsDir() {
		return fmt.Errorf("rootfs %s is not a directory", rootfs)
	}
	// libcontainer refuses such a rootfs too, but only after the handler has
	// been chosen by reading the image: through a symlink that would read
	// wherever it points on the host.
	if real, err := filepath.EvalSymlinks(rootfs); err != nil || real != rootfs {
		return fmt.Errorf("rootfs %s: not an absolute path, or a symlink", rootfs)
	}
	if spec.Linux == nil {
		return errors.New("linux section must be set")
	}
	return ValidateProcess(spec.Process)
}

// ValidateProcess checks what libcontainer assumes of a process spec.
func ValidateProcess(p *specs.Process) error {
	switch {
	case p == nil:
		return errors.New("process must be set")
	case len(p.Args) == 0:
		return errors.New("process.args must not be empty")
	case p.Cwd == "":
		return errors.New("process.cwd must not be empty")
	case !filepath.IsAbs(p.Cwd):
		return fmt.Errorf("process.cwd %q must be an absolute path", p.Cwd)
	}
	return nil
}

// RootfsPath returns the absolute host path of the container's root, which the
// spec may give relative to the bundle.
func RootfsPath(spec *specs.Spec, bundle string) string {
	if filepath.IsAbs(spec.Root.Path) {
		return filepath.Clean(spec.Root.Path)
	}
	return filepath.Join(bundle, spec.Root.Path)
}
