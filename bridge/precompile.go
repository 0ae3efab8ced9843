package bridge

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/wrunc/wrunc/handler"
)

// Precompile warms the wasm cache with a module file, or with the entrypoint
// of a bundle that would run as wasm, so that the first create of it on this
// node does not pay for compilation. It returns the module compiled.
func (r *Runtime) Precompile(path string) (string, error) {
	src, name, format, err := precompileSource(path)
	if err != nil {
		return "", err
	}
	defer src.Close()
	if format == handler.NotWasm {
		return "", fmt.Errorf("precompile %s: not a wasm module or component", name)
	}
	f, err := r.Cache.Artifact(src, name, format)
	if err != nil {
		return "", err
	}
	return name, f.Close()
}

// precompileSource opens the module path names: the file itself, or the
// entrypoint of the bundle at path, opened inside its rootfs as create does.
func precompileSource(path string) (*os.File, string, handler.Format, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, "", 0, fmt.Errorf("precompile: %w", err)
	}
	if !st.IsDir() {
		f, err := os.Open(path)
		if err != nil {
			return nil, "", 0, fmt.Errorf("precompile: %w", err)
		}
		header := make([]byte, 8)
		n, err := io.ReadFull(f, header)
		if err == nil || err == io.ErrUnexpectedEOF || err == io.EOF {
			_, err = f.Seek(0, io.SeekStart)
		}
		if err != nil {
			f.Close()
			return nil, "", 0, fmt.Errorf("precompile %s: %w", path, err)
		}
		return f, path, handler.Sniff(path, header[:n]), nil
	}
	if path, err = filepath.EvalSymlinks(path); err != nil {
		return nil, "", 0, fmt.Errorf("precompile: %w", err)
	}
	spec, err := LoadSpec(path)
	if err != nil {
		return nil, "", 0, err
	}
	d, err := handler.Select(spec, RootfsPath(spec, path))
	if err != nil {
		return nil, "", 0, err
	}
	if d.Kind != handler.Wasm {
		return nil, "", 0, fmt.Errorf("precompile %s: the bundle runs natively (%s)", path, d.Reason)
	}
	f, err := d.Entrypoint.Open()
	if err != nil {
		return nil, "", 0, fmt.Errorf("precompile %s: %w", path, err)
	}
	return f, d.Entrypoint.ContainerPath, d.Entrypoint.Format, nil
}
