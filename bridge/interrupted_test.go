package bridge

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

func TestFileOfFD(t *testing.T) {
	cases := []struct {
		name, fdinfo string
		want         openFile
		wantErr      bool
	}{
		{"file", "pos:\t0\nflags:\t0100000\nmnt_id:\t23\nino:\t3\n", openFile{"23", "3"}, false},
		{"with lines of its kind", "pos:\t0\nflags:\t02\nmnt_id:\t15\nino:\t1057\neventfd-count:\t0\neventfd-id: 4\n", openFile{"15", "1057"}, false},
		{"no inode", "pos:\t0\nflags:\t0100000\nmnt_id:\t23\n", openFile{}, true},
		{"no mount", "pos:\t0\nflags:\t0100000\nino:\t3\n", openFile{}, true},
		{"empty", "", openFile{}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "fdinfo")
			if err := os.WriteFile(path, []byte(c.fdinfo), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := fileOfFD(path)
			if (err != nil) != c.wantErr || got != c.want {
				t.Errorf("fileOfFD(%q) = %+v, %v; want %+v, error %v", c.fdinfo, got, err, c.want, c.wantErr)
			}
		})
	}
}

// The fdinfo of two fds on one file agree, and differ from another file's.
func TestFileOfFDNamesTheFile(t *testing.T) {
	dir := t.TempDir()
	open := func(name string) *os.File {
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	of := func(f *os.File) openFile {
		got, err := fileOfFD("/proc/self/fdinfo/" + strconv.Itoa(int(f.Fd())))
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	a, again, b := open("a"), open("a"), open("b")
	if of(a) != of(again) || of(a) == of(b) {
		t.Errorf("a %+v, a again %+v, b %+v: want the two a equal and b different", of(a), of(again), of(b))
	}
}
