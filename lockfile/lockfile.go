// Package lockfile provides flock(2) locks on files that their holder may
// delete: the lock dies with its process, so a wrunc killed mid-operation
// never leaves a lock behind.
package lockfile

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Lock takes an flock (how: unix.LOCK_EX, possibly |unix.LOCK_NB) on the
// file at path, creating it. Holders remove lock files they are done with,
// so a lock taken on a file unlinked meanwhile guards nothing: it is taken
// again on the file now at path. Close the file to unlock.
func Lock(path string, how int) (*os.File, error) {
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
		if err != nil {
			return nil, fmt.Errorf("open lock: %w", err)
		}
		if err := unix.Flock(int(f.Fd()), how); err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		var held, current unix.Stat_t
		if unix.Fstat(int(f.Fd()), &held) == nil && unix.Stat(path, &current) == nil && held.Ino == current.Ino {
			return f, nil
		}
		f.Close()
	}
}

// Busy reports whether a process holds an flock on the file at path, without
// creating the file or waiting for the lock: a file that is not there is not
// held.
func Busy(path string) (bool, error) {
	for {
		f, err := os.Open(path)
		if errors.Is(err, os.ErrNotExist) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("open lock: %w", err)
		}
		err = unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB)
		if errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return true, nil
		}
		if err != nil {
			f.Close()
			return false, fmt.Errorf("lock %s: %w", path, err)
		}
		// Free, unless this file was replaced at path in between (see Lock).
		var held, current unix.Stat_t
		same := unix.Fstat(int(f.Fd()), &held) == nil && unix.Stat(path, &current) == nil && held.Ino == current.Ino
		f.Close()
		if same {
			return false, nil
		}
	}
}
