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

func TestBusy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l")
	if busy, err := Busy(path); busy || err != nil {
		t.Fatalf("Busy of a missing file: %v, %v; want false, nil", busy, err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Busy created %s (err=%v)", path, err)
	}
	holder, err := Lock(path, unix.LOCK_EX)
	if err != nil {
		t.Fatal(err)
	}
	if busy, err := Busy(path); !busy || err != nil {
		t.Fatalf("Busy while held: %v, %v; want true, nil", busy, err)
	}
	holder.Close()
	if busy, err := Busy(path); busy || err != nil {
		t.Fatalf("Busy once released: %v, %v; want false, nil", busy, err)
	}
	// Busy's own probe must not keep a lock.
	again, err := Lock(path, unix.LOCK_EX|unix.LOCK_NB)
	if err != nil {
		t.Fatalf("lock after Busy: %v", err)
	}
	again.Close()
}
