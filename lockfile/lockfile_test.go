package lockfile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func TestLockExcludes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l")
	first, err := Lock(path, unix.LOCK_EX)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Lock(path, unix.LOCK_EX|unix.LOCK_NB); !errors.Is(err, unix.EWOULDBLOCK) {
		t.Fatalf("second lock while held: %v, want EWOULDBLOCK", err)
	}
	first.Close()
	second, err := Lock(path, unix.LOCK_EX|unix.LOCK_NB)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	second.Close()
}

// A waiter whose file is removed by the holder must not believe it holds the
// lock on the path, where a newcomer may lock a new file.
func TestLockRetakesAfterRemoval(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l")
	holder, err := Lock(path, unix.LOCK_EX)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan *os.File)
	go func() {
		f, err := Lock(path, unix.LOCK_EX)
		if err != nil {
			t.Error(err)
		}
		got <- f
	}()
	os.Remove(path)
	holder.Close()
	waiter := <-got
	defer waiter.Close()
	if _, err := Lock(path, unix.LOCK_EX|unix.LOCK_NB); !errors.Is(err, unix.EWOULDBLOCK) {
		t.Fatalf("newcomer locked %s while the waiter holds it: %v", path, err)
	}
}
