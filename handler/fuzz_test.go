package handler

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Seeds live in testdata/fuzz/<FuzzName>/.

func FuzzSniff(f *testing.F) {
	f.Fuzz(func(t *testing.T, name string, header []byte) {
		got := Sniff(name, header)
		if short := Sniff(name, header[:min(len(header), headerLen)]); short != got {
			t.Fatalf("Sniff depends on bytes past %d: %v vs %v", headerLen, got, short)
		}
		isWasm := bytes.HasPrefix(header, []byte(wasmMagic))
		switch got {
		case CoreModule, Component:
			if !isWasm {
				t.Fatalf("%v without the wasm magic", got)
			}
		case WatText:
			if isWasm || !strings.HasSuffix(name, ".wat") {
				t.Fatalf("WatText for %q with header %q", name, header)
			}
		case NotWasm:
			if d := describe(header); d == "" || strings.Contains(d, "\n") {
				t.Fatalf("describe(%q) = %q", header, d)
			}
		default:
			t.Fatalf("unknown Format %v", got)
		}
	})
}

func FuzzSelect(f *testing.F) {
	f.Fuzz(func(t *testing.T, handler, variant, args0 string, header []byte) {
		rootfs := newRootfs(t, map[string]string{
			"/entry":     string(header[:min(len(header), 64)]),
			"/entry.wat": string(header[:min(len(header), 64)]),
			"/up":        "-> ../outside.wasm",
			"/abs":       "-> /entry",
		})
		spec := &specs.Spec{
			Annotations: map[string]string{AnnotationHandler: handler, AnnotationVariant: variant},
			Process:     &specs.Process{Args: []string{args0}, Cwd: "/"},
		}
		d, err := Select(spec, rootfs)
		if err != nil {
			if msg := err.Error(); strings.Contains(msg, "\n") && !strings.Contains(args0, "\n") {
				t.Fatalf("multi-line error: %q", msg)
			}
			return
		}
		switch d.Kind {
		case Native:
			if d.Entrypoint != nil {
				t.Fatalf("native decision with entrypoint %+v", *d.Entrypoint)
			}
		case Wasm:
			ep := d.Entrypoint
			if ep == nil || (ep.Format != CoreModule && ep.Format != WatText && ep.Format != Component) {
				t.Fatalf("wasm decision with entrypoint %+v", ep)
			}
			if ep.HostPath != filepath.Join(rootfs, ep.ContainerPath) || !strings.HasPrefix(ep.HostPath, rootfs+"/") {
				t.Fatalf("entrypoint %+v escapes rootfs %s", *ep, rootfs)
			}
		default:
			t.Fatalf("unknown Kind %q", d.Kind)
		}
		if d.Reason == "" {
			t.Fatal("empty Reason")
		}
	})
}
