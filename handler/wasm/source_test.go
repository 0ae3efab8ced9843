package wasm

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckModuleFile(t *testing.T) {
	dir := t.TempDir()
	dense := make([]byte, 1<<20)
	copy(dense, "\x00asm\x01\x00\x00\x00")
	cases := []struct {
		name    string
		make    func(path string) error
		maxSize int64
		want    string // "" for accepted
	}{
		{"dense", func(p string) error { return os.WriteFile(p, dense, 0o644) }, 2 << 20, ""},
		{"dense, no limit", func(p string) error { return os.WriteFile(p, dense, 0o644) }, 0, ""},
		{"empty", func(p string) error { return os.WriteFile(p, nil, 0o644) }, 2 << 20, ""},
		{"over the limit", func(p string) error { return os.WriteFile(p, dense, 0o644) }, 512 << 10,
			"module /m.wasm is 1MiB, over the limit of 512KiB (--max-module-size, $WRUNC_MAX_MODULE_SIZE)"},
		{"sparse", func(p string) error {
			if err := os.WriteFile(p, dense[:8], 0o644); err != nil {
				return err
			}
			return os.Truncate(p, 64<<20)
		}, 128 << 20, "module /m.wasm is a sparse file (64MiB with holes): refused"},
		{"hole in the middle", func(p string) error {
			f, err := os.Create(p)
			if err != nil {
				return err
			}
			defer f.Close()
			if _, err := f.Write(dense); err != nil {
				return err
			}
			_, err = f.WriteAt(dense, 8<<20)
			return err
		}, 128 << 20, "is a sparse file"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, string(rune('a'+i)))
			if err := c.make(path); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			err = checkModuleFile(f, "/m.wasm", c.maxSize)
			switch {
			case c.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("err = %v, want %q", err, c.want)
			}
		})
	}
}
