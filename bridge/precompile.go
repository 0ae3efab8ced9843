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
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("precompile: %w", err)
	}
	module, format := path, handler.NotWasm
	if st.IsDir() {
		if path, err = filepath.EvalSymlinks(path); err != nil {
			return "", fmt.Errorf("precompile: %w", err)
		}
		spec, err := LoadSpec(path)
		if err != nil {
			return "", err
		}
		d, err := handler.Select(spec, RootfsPath(spec, path))
		if err != nil {
			return "", err
		}
		if d.Kind != handler.Wasm {
			return "", fmt.Errorf("precompile %s: the bundle runs natively (%s)", path, d.Reason)
		}
		module, format = d.Entrypoint.HostPath, d.Entrypoint.Format
	} else if format, err = sniffFile(path); err != nil {
		return "", err
	}
	switch format {
	case handler.CoreModule, handler.WatText:
	case handler.Component:
		return "", fmt.Errorf("precompile %s: a wasm component: components are not supported yet", module)
	default:
		return "", fmt.Errorf("precompile %s: not a wasm module", module)
	}
	f, err := r.Cache.Artifact(module, module, format == handler.WatText)
	if err != nil {
		return "", err
	}
	return module, f.Close()
}

func sniffFile(path string) (handler.Format, error) {
	f, err := os.Open(path)
	if err != nil {
		return handler.NotWasm, fmt.Errorf("precompile: %w", err)
	}
	defer f.Close()
	header := make([]byte, 8)
	n, err := io.ReadFull(f, header)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return handler.NotWasm, fmt.Errorf("precompile %s: %w", path, err)
	}
	return handler.Sniff(path, header[:n]), nil
}
