package handler

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

const (
	elfHeader       = "\x7fELF\x02\x01\x01\x00"
	coreHeader      = wasmMagic + coreVersion
	componentHeader = wasmMagic + componentVersion
)

// newRootfs builds a rootfs under a temp dir from path -> content; content
// "-> target" makes a symlink, a path ending in "/" a directory. It also
// plants a wasm module next to the rootfs, which nothing may reach.
func newRootfs(t testing.TB, tree map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "outside.wasm"), []byte(coreHeader), 0o755); err != nil {
		t.Fatal(err)
	}
	rootfs := filepath.Join(dir, "rootfs")
	for p, content := range tree {
		host := filepath.Join(rootfs, p)
		if err := os.MkdirAll(filepath.Dir(host), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		switch target, isLink := strings.CutPrefix(content, "-> "); {
		case isLink:
			err = os.Symlink(target, host)
		case strings.HasSuffix(p, "/"):
			err = os.MkdirAll(host, 0o755)
		default:
			err = os.WriteFile(host, []byte(content), 0o755)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return rootfs
}

// testRootfs is the tree every table test below runs against.
func testRootfs(t *testing.T) string {
	return newRootfs(t, map[string]string{
		"/hello.wasm":          coreHeader + "rest of module",
		"/app.wat":             "(module)\n",
		"/comp.wasm":           componentHeader,
		"/fake.wasm":           elfHeader,
		"/empty.wasm":          "",
		"/old.wasm":            wasmMagic + "\x0c\x00\x01\x00",
		"/entry.sh":            "#!/bin/sh\nexec sleep 1\n",
		"/bin/sh":              elfHeader,
		"/usr/local/bin/tool":  elfHeader,
		"/usr/bin/tool":        coreHeader,
		"/usr/bin/busybox":     elfHeader,
		"/bin/ash":             "-> ../usr/bin/busybox",
		"/work/rel.wasm":       coreHeader,
		"/etc/passwd":          "root:x:0:0:root:/root:/bin/sh\n",
		"/app":                 "-> /hello.wasm",
		"/passwd":              "-> /etc/passwd",
		"/up":                  "-> ../outside.wasm",
		"/deep/up":             "-> ../../../../../../outside.wasm",
		"/loop":                "-> /loop",
		"/dir.wasm/":           "",
		"/usr/local/sbin/dir/": "",
	})
}

func TestSniff(t *testing.T) {
	for _, tc := range []struct {
		name, file, header string
		want               Format
	}{
		{"core module", "m", coreHeader, CoreModule},
		{"core module with more bytes", "m.wasm", coreHeader + "\x01\x02", CoreModule},
		{"component", "c.wasm", componentHeader, Component},
		{"older component layer is not runnable", "c.wasm", wasmMagic + "\x0c\x00\x01\x00", NotWasm},
		{"wat by name", "app.wat", "(module)", WatText},
		{"wat name on a core module", "app.wat", coreHeader, CoreModule},
		{"wat name on an unknown wasm version", "app.wat", wasmMagic + "\x02\x00\x00\x00", NotWasm},
		{"wasm suffix on ELF", "app.wasm", elfHeader, NotWasm},
		{"truncated magic", "app.wasm", wasmMagic + "\x01", NotWasm},
		{"empty", "app.wasm", "", NotWasm},
		{"wat is a suffix, not a substring", "app.wat.sh", "#!/bin/sh", NotWasm},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Sniff(tc.file, []byte(tc.header)); got != tc.want {
				t.Errorf("Sniff(%q, %q) = %v, want %v", tc.file, tc.header, got, tc.want)
			}
		})
	}
}

func TestResolveEntrypoint(t *testing.T) {
	rootfs := testRootfs(t)
	for _, tc := range []struct {
		name, args0, cwd string
		env              []string
		want             string // ContainerPath
		format           Format
		err              string // substring; "" means success
		notExist         bool
	}{
		{name: "absolute", args0: "/hello.wasm", want: "/hello.wasm", format: CoreModule},
		{name: "relative to cwd", args0: "./rel.wasm", cwd: "/work", want: "/work/rel.wasm", format: CoreModule},
		{name: "relative without cwd is from the root", args0: "work/rel.wasm", want: "/work/rel.wasm", format: CoreModule},
		{name: "PATH from env", args0: "tool", env: []string{"PATH=/usr/bin:/bin"}, want: "/usr/bin/tool", format: CoreModule},
		{name: "default PATH", args0: "tool", env: []string{"HOME=/root"}, want: "/usr/local/bin/tool", format: NotWasm},
		{name: "last PATH wins", args0: "tool", env: []string{"PATH=/usr/bin", "PATH=/usr/local/bin"}, want: "/usr/local/bin/tool", format: NotWasm},
		{name: "PATH skips directories", args0: "dir", env: []string{"PATH=/usr/local/sbin:/usr/bin"}, err: "not found in PATH=/usr/local/sbin:/usr/bin", notExist: true},
		{name: "PATH skips relative entries", args0: "rel.wasm", cwd: "/work", env: []string{"PATH=.:work"}, err: "not found in PATH", notExist: true},
		{name: "relative symlink", args0: "/bin/ash", want: "/usr/bin/busybox", format: NotWasm},
		{name: "absolute symlink", args0: "/app", want: "/hello.wasm", format: CoreModule},
		{name: "absolute symlink stays in rootfs", args0: "/passwd", want: "/etc/passwd", format: NotWasm},
		{name: "relative symlink cannot escape", args0: "/up", err: "no such file in rootfs", notExist: true},
		{name: "deep relative symlink cannot escape", args0: "/deep/up", err: "no such file in rootfs", notExist: true},
		{name: "dotdot cannot escape", args0: "/../outside.wasm", err: "no such file in rootfs", notExist: true},
		{name: "dotdot cannot escape via cwd", args0: "../../outside.wasm", cwd: "/work", err: "no such file in rootfs", notExist: true},
		{name: "missing", args0: "/nope.wasm", err: "entrypoint /nope.wasm: no such file in rootfs", notExist: true},
		{name: "component of a file", args0: "/bin/sh/x", err: "no such file in rootfs", notExist: true},
		{name: "directory", args0: "/dir.wasm", err: "entrypoint /dir.wasm: not a regular file"},
		{name: "symlink loop", args0: "/loop", err: "too many levels of symbolic links"},
		{name: "empty", args0: "", err: "entrypoint is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ep, err := ResolveEntrypoint(rootfs, tc.args0, tc.cwd, tc.env)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.err)
				}
				if errors.Is(err, fs.ErrNotExist) != tc.notExist {
					t.Errorf("errors.Is(%v, fs.ErrNotExist) = %v, want %v", err, !tc.notExist, tc.notExist)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := Entrypoint{ContainerPath: tc.want, HostPath: filepath.Join(rootfs, tc.want), Format: tc.format, rootfs: rootfs}
			if *ep != want {
				t.Errorf("got %+v, want %+v", *ep, want)
			}
			// What create reads must be that same file.
			f, err := ep.Open()
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if got, _ := f.Stat(); !os.SameFile(got, mustStat(t, want.HostPath)) {
				t.Errorf("Open opened %s, want %s", f.Name(), want.HostPath)
			}
		})
	}
}

func TestSelect(t *testing.T) {
	rootfs := testRootfs(t)
	const (
		handler = AnnotationHandler
		variant = AnnotationVariant
	)
	for _, tc := range []struct {
		name     string
		ann      map[string]string
		process  *specs.Process // used as is when args0 is empty
		args0    string
		env      []string
		kind     Kind
		want     string // Entrypoint.ContainerPath when kind is Wasm
		err      string // exact error; "" means success
		warnings []string
	}{
		{name: "no annotation", args0: "/hello.wasm", kind: Native},
		{name: "no annotation and no process", kind: Native},
		{name: "empty value counts as absent", ann: map[string]string{handler: ""}, args0: "/hello.wasm", kind: Native},
		{name: "sandbox beats handler=wasm", ann: map[string]string{AnnotationContainerType: "sandbox", handler: "wasm"}, args0: "/bin/sh", kind: Native},
		{name: "CRI-O sandbox beats variant=compat", ann: map[string]string{AnnotationCRIOContainerType: "sandbox", variant: "compat"}, args0: "/bin/sh", kind: Native},
		{name: "container type container does not matter", ann: map[string]string{AnnotationContainerType: "container", variant: "compat"}, args0: "/hello.wasm", kind: Wasm, want: "/hello.wasm"},

		{name: "handler=wasm", ann: map[string]string{handler: "wasm"}, args0: "/hello.wasm", kind: Wasm, want: "/hello.wasm"},
		{name: "handler=wasm on ELF", ann: map[string]string{handler: "wasm"}, args0: "/bin/sh", err: "run.oci.handler=wasm: entrypoint /bin/sh is not a wasm module (ELF executable)"},
		{name: "handler=wasm-smart on wasm", ann: map[string]string{handler: "wasm-smart"}, args0: "/app", kind: Wasm, want: "/hello.wasm"},
		{name: "handler=wasm-smart on ELF", ann: map[string]string{handler: "wasm-smart"}, args0: "/bin/sh", kind: Native},

		{name: "variant=compat", ann: map[string]string{variant: "compat"}, args0: "/hello.wasm", kind: Wasm, want: "/hello.wasm"},
		{name: "variant=compat on wat", ann: map[string]string{variant: "compat"}, args0: "/app.wat", kind: Wasm, want: "/app.wat"},
		{name: "variant=compat on component", ann: map[string]string{variant: "compat"}, args0: "/comp.wasm", kind: Wasm, want: "/comp.wasm"},
		{name: "compat-smart on component", ann: map[string]string{variant: "compat-smart"}, args0: "/comp.wasm", kind: Wasm, want: "/comp.wasm"},
		{name: "wasm-smart on component", ann: map[string]string{handler: "wasm-smart"}, args0: "/comp.wasm", kind: Wasm, want: "/comp.wasm"},
		{name: "variant=compat via PATH", ann: map[string]string{variant: "compat"}, args0: "tool", env: []string{"PATH=/usr/bin:/bin"}, kind: Wasm, want: "/usr/bin/tool"},
		{name: "variant=compat-smart on wasm", ann: map[string]string{variant: "compat-smart"}, args0: "/hello.wasm", kind: Wasm, want: "/hello.wasm"},
		{name: "variant=compat-smart sidecar", ann: map[string]string{variant: "compat-smart"}, args0: "/bin/sh", kind: Native},
		{name: "variant=compat-smart missing file", ann: map[string]string{variant: "compat-smart"}, args0: "/nope", kind: Native},
		{name: "variant=compat-smart symlink out of rootfs", ann: map[string]string{variant: "compat-smart"}, args0: "/up", kind: Native},

		{name: "handler wins over variant", ann: map[string]string{handler: "wasm-smart", variant: "compat"}, args0: "/bin/sh", kind: Native,
			warnings: []string{`annotation module.wasm.image/variant="compat" ignored: run.oci.handler="wasm-smart" takes precedence`}},
		{name: "agreeing annotations do not warn", ann: map[string]string{handler: "wasm", variant: "compat"}, args0: "/hello.wasm", kind: Wasm, want: "/hello.wasm"},
		{name: "unknown handler value", ann: map[string]string{handler: "krun"}, args0: "/hello.wasm", kind: Native,
			warnings: []string{`annotation run.oci.handler has unknown value "krun", running natively`}},
		{name: "unknown variant value", ann: map[string]string{variant: "wasi"}, args0: "/hello.wasm", kind: Native,
			warnings: []string{`annotation module.wasm.image/variant has unknown value "wasi", running natively`}},
		{name: "unknown handler value still wins", ann: map[string]string{handler: "krun", variant: "compat"}, args0: "/hello.wasm", kind: Native,
			warnings: []string{
				`annotation run.oci.handler has unknown value "krun", running natively`,
				`annotation module.wasm.image/variant="compat" ignored: run.oci.handler="krun" takes precedence`,
			}},

		{name: "compat on ELF", ann: map[string]string{variant: "compat"}, args0: "/bin/sh", err: "module.wasm.image/variant=compat: entrypoint /bin/sh is not a wasm module (ELF executable)"},
		{name: "compat on ELF via PATH and symlink", ann: map[string]string{variant: "compat"}, args0: "ash", err: "module.wasm.image/variant=compat: entrypoint ash (/usr/bin/busybox) is not a wasm module (ELF executable)"},
		{name: "compat on script", ann: map[string]string{variant: "compat"}, args0: "/entry.sh", err: "module.wasm.image/variant=compat: entrypoint /entry.sh is not a wasm module (script)"},
		{name: "compat on ELF named .wasm", ann: map[string]string{variant: "compat"}, args0: "/fake.wasm", err: "module.wasm.image/variant=compat: entrypoint /fake.wasm is not a wasm module (ELF executable)"},
		{name: "compat on empty file", ann: map[string]string{variant: "compat"}, args0: "/empty.wasm", err: "module.wasm.image/variant=compat: entrypoint /empty.wasm is not a wasm module (empty file)"},
		{name: "compat on unknown wasm version", ann: map[string]string{variant: "compat"}, args0: "/old.wasm", err: "module.wasm.image/variant=compat: entrypoint /old.wasm is not a wasm module (wasm binary with unsupported version 0c 00 01 00)"},
		{name: "compat on absolute symlink out", ann: map[string]string{variant: "compat"}, args0: "/passwd", err: "module.wasm.image/variant=compat: entrypoint /passwd (/etc/passwd) is not a wasm module (unknown format)"},
		{name: "compat on missing file", ann: map[string]string{variant: "compat"}, args0: "/nope.wasm", err: "module.wasm.image/variant=compat: entrypoint /nope.wasm: no such file in rootfs"},
		{name: "wasm not in PATH", ann: map[string]string{handler: "wasm"}, args0: "hello.wasm", env: []string{"PATH=/usr/bin:/bin"}, err: "run.oci.handler=wasm: entrypoint hello.wasm: not found in PATH=/usr/bin:/bin"},
		{name: "compat with empty args", ann: map[string]string{variant: "compat"}, process: &specs.Process{}, err: "module.wasm.image/variant=compat: process.args is empty, no entrypoint to run"},
		{name: "compat-smart with no process", ann: map[string]string{variant: "compat-smart"}, err: "module.wasm.image/variant=compat-smart: process.args is empty, no entrypoint to run"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := &specs.Spec{Annotations: tc.ann, Process: tc.process}
			if tc.args0 != "" {
				spec.Process = &specs.Process{Args: []string{tc.args0, "arg"}, Env: tc.env, Cwd: "/"}
			}
			d, err := Select(spec, rootfs)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("err = %v\nwant  %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.Kind != tc.kind || d.Reason == "" {
				t.Errorf("Kind = %q (reason %q), want %q", d.Kind, d.Reason, tc.kind)
			}
			if got := strings.Join(d.Warnings, "\n"); got != strings.Join(tc.warnings, "\n") {
				t.Errorf("Warnings = %q, want %q", d.Warnings, tc.warnings)
			}
			switch {
			case tc.kind == Native && d.Entrypoint != nil:
				t.Errorf("native decision has Entrypoint %+v", *d.Entrypoint)
			case tc.kind == Wasm && (d.Entrypoint == nil || d.Entrypoint.ContainerPath != tc.want):
				t.Errorf("Entrypoint = %+v, want ContainerPath %s", d.Entrypoint, tc.want)
			}
		})
	}
}

func TestSelectReason(t *testing.T) {
	rootfs := newRootfs(t, map[string]string{"/app.wasm": coreHeader})
	spec := &specs.Spec{
		Annotations: map[string]string{AnnotationVariant: "compat-smart"},
		Process:     &specs.Process{Args: []string{"/app.wasm"}},
	}
	d, err := Select(spec, rootfs)
	if err != nil {
		t.Fatal(err)
	}
	if want := "annotation module.wasm.image/variant=compat-smart and /app.wasm is a wasm module"; d.Reason != want {
		t.Errorf("Reason = %q, want %q", d.Reason, want)
	}
}

func TestSelectNilSpec(t *testing.T) {
	if _, err := Select(nil, t.TempDir()); err == nil {
		t.Error("Select(nil) succeeded")
	}
}

func mustStat(t *testing.T, path string) os.FileInfo {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi
}

// Open resolves again inside the rootfs: whatever the image swapped in
// since the entrypoint was resolved must neither lead out of the rootfs nor
// be opened when it is not a regular file (a FIFO would hang create, a
// device's open has effects of its own).
func TestEntrypointOpenAfterSwap(t *testing.T) {
	for _, tc := range []struct {
		name string
		swap func(t *testing.T, rootfs, host string)
		// inRootfs: Open may succeed, with the rootfs's own file of that
		// name; else it must fail.
		inRootfs bool
	}{
		{"nothing swapped", func(*testing.T, string, string) {}, true},
		{"entrypoint for a symlink to the host", func(t *testing.T, rootfs, host string) {
			replace(t, filepath.Join(rootfs, "app/app.wasm"), func(p string) error { return os.Symlink(host, p) })
		}, false},
		{"directory for a symlink to the host", func(t *testing.T, rootfs, host string) {
			replace(t, filepath.Join(rootfs, "app"), func(p string) error { return os.Symlink(filepath.Dir(host), p) })
		}, false},
		{"directory for a relative symlink climbing out", func(t *testing.T, rootfs, host string) {
			rel, err := filepath.Rel(rootfs, filepath.Dir(host))
			if err != nil {
				t.Fatal(err)
			}
			replace(t, filepath.Join(rootfs, "app"), func(p string) error { return os.Symlink(rel, p) })
		}, false},
		{"entrypoint for a FIFO", func(t *testing.T, rootfs, _ string) {
			replace(t, filepath.Join(rootfs, "app/app.wasm"), func(p string) error { return unix.Mkfifo(p, 0o644) })
		}, false},
		{"entrypoint for a device", func(t *testing.T, rootfs, _ string) {
			replace(t, filepath.Join(rootfs, "app/app.wasm"), func(p string) error {
				return unix.Mknod(p, unix.S_IFCHR|0o644, int(unix.Mkdev(1, 3)))
			})
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hostDir := t.TempDir()
			host := filepath.Join(hostDir, "app.wasm")
			if err := os.WriteFile(host, []byte(coreHeader+"host"), 0o644); err != nil {
				t.Fatal(err)
			}
			rootfs := newRootfs(t, map[string]string{"app/app.wasm": coreHeader})
			ep, err := ResolveEntrypoint(rootfs, "/app/app.wasm", "/", nil)
			if err != nil {
				t.Fatal(err)
			}
			tc.swap(t, rootfs, host)
			done := make(chan struct{})
			var f *os.File
			go func() { defer close(done); f, err = ep.Open() }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("Open hangs")
			}
			if err != nil {
				if tc.inRootfs {
					t.Fatalf("Open: %v", err)
				}
				return
			}
			defer f.Close()
			got, _ := f.Stat()
			switch {
			case os.SameFile(got, mustStat(t, host)):
				t.Fatalf("Open led out of the rootfs to %s", host)
			case !tc.inRootfs:
				t.Fatalf("Open opened %v, want an error", got.Mode())
			case !os.SameFile(got, mustStat(t, filepath.Join(rootfs, "app/app.wasm"))):
				t.Fatal("Open opened another file than the rootfs's app.wasm")
			}
		})
	}
}

// readHeader sniffs the entrypoint where the container would find it: a
// directory on its path that is (by now) a symlink out of the rootfs must
// not lead to a host file, nor a device be opened to be read.
func TestReadHeaderStaysInRootfs(t *testing.T) {
	hostDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(hostDir, "app.wasm"), []byte(coreHeader), 0o644); err != nil {
		t.Fatal(err)
	}
	rootfs := newRootfs(t, map[string]string{"app": "-> " + hostDir, "bin/": ""})
	if h, err := readHeader(rootfs, "/app/app.wasm"); err == nil {
		t.Errorf("read %q through a symlinked directory out of the rootfs", h)
	}
	dev := filepath.Join(rootfs, "bin/null")
	if err := unix.Mknod(dev, unix.S_IFCHR|0o644, int(unix.Mkdev(1, 3))); err != nil {
		t.Fatal(err)
	}
	if _, err := readHeader(rootfs, "/bin/null"); !errors.Is(err, errNotRegular) {
		t.Errorf("read the header of a device: %v, want %v", err, errNotRegular)
	}
}

// replace swaps the file at p for what create makes there.
func replace(t *testing.T, p string, create func(string) error) {
	t.Helper()
	if err := os.RemoveAll(p); err != nil {
		t.Fatal(err)
	}
	if err := create(p); err != nil {
		t.Fatal(err)
	}
}
