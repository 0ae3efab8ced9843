package bridge

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/utils"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/wrunc/wrunc/lockfile"
)

// What a wrunc killed half-way through a command leaves, reported as it is.
//
// A create holds its id's lock, and keeps a pending record (guard.go), from
// before libcontainer makes anything until the container is whole: its
// state saved, a wasm runner's artifact handed over, its pid file written. A
// record whose lock nobody holds is what a create killed half-way left: a
// state directory and cgroups, and, once libcontainer saved the state, an
// init that waits for a start that cannot run the container as asked (a
// wasm runner without its artifact, a terminal nobody holds).

// statusCreateInterrupted is the status of such a container: `start`
// refuses it, `delete` removes it, with or without --force.
const statusCreateInterrupted = "create-interrupted"

// status is a container's status as wrunc reports it.
type status struct {
	libcontainer.Status      // libcontainer's, corrected (see statusOf)
	interrupted         bool // its create was killed before it finished
	// staleFifo: the init has gone ahead, but the exec fifo that tells
	// libcontainer a container is still created is there (a start was
	// killed between letting the init go and removing it).
	staleFifo bool
}

func (s status) String() string {
	if s.interrupted {
		return statusCreateInterrupted
	}
	return s.Status.String()
}

// statusOf returns c's status. locked says that the caller holds c's id lock
// (so no create of it can be under way).
func (r *Runtime) statusOf(c *libcontainer.Container, locked bool) (status, error) {
	st, err := c.Status()
	if err != nil {
		return status{}, fmt.Errorf("status of %s: %w", c.ID(), err)
	}
	s := status{Status: st}
	if st != libcontainer.Created {
		return s, nil
	}
	// libcontainer tells created from running by the exec fifo alone.
	waiting, err := r.initAwaitsStart(c)
	if err != nil {
		// Cannot tell (the init exited just now, or the kernel's fdinfo
		// shows no inodes): libcontainer's answer.
		logrus.Debugf("whether %s waits for a start: %v", c.ID(), err)
		waiting = true
	}
	if !waiting {
		// Unless the init died meanwhile and its pid was reused.
		if st, err = c.Status(); err != nil {
			return s, fmt.Errorf("status of %s: %w", c.ID(), err)
		}
		if st != libcontainer.Created {
			return status{Status: st}, nil
		}
		return status{Status: libcontainer.Running, staleFifo: true}, nil
	}
	s.interrupted, err = r.createInterrupted(c.ID(), locked)
	return s, err
}

// createInterrupted reports whether a create of id was killed before it
// finished. locked says that the caller holds id's lock.
func (r *Runtime) createInterrupted(id string, locked bool) (bool, error) {
	if _, err := os.Lstat(r.pendingPath(id)); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return false, nil
		}
		return false, fmt.Errorf("container %s: %w", id, err)
	}
	if locked {
		return true, nil
	}
	busy, err := lockfile.Busy(r.lockPath(id))
	if err != nil {
		return false, fmt.Errorf("container %s: %w", id, err)
	}
	return !busy, nil
}

func errCreateInterrupted(id string) error {
	return fmt.Errorf("cannot start container %s: its create was interrupted before it finished; delete it", id)
}

// initAwaitsStart reports whether c's init still waits for a start. Until it
// lets the container's program run, the init holds the state directory's
// exec fifo open, which its program, in the container, cannot reach: an fd
// of the init on the same mount and inode as the fifo. Both are read from
// the kernel's fdinfo, never through the fds themselves, which could lead
// to a filesystem the container serves (and so to a wait without end).
func (r *Runtime) initAwaitsStart(c *libcontainer.Container) (bool, error) {
	fifo, err := os.OpenFile(filepath.Join(r.Root, c.ID(), "exec.fifo"), unix.O_PATH|unix.O_CLOEXEC, 0)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil // removed since: started
	}
	if err != nil {
		return false, fmt.Errorf("container %s: exec fifo: %w", c.ID(), err)
	}
	defer fifo.Close()
	want, err := fileOfFD("/proc/self/fdinfo/" + strconv.Itoa(int(fifo.Fd())))
	if err != nil {
		return false, fmt.Errorf("container %s: exec fifo: %w", c.ID(), err)
	}
	st, err := c.State()
	if err != nil {
		return false, fmt.Errorf("state of %s: %w", c.ID(), err)
	}
	dir := fmt.Sprintf("/proc/%d/fdinfo", st.InitProcessPid)
	fds, err := os.ReadDir(dir)
	if err != nil {
		return false, fmt.Errorf("container %s: fds of its init: %w", c.ID(), err)
	}
	for _, fd := range fds {
		f, err := fileOfFD(filepath.Join(dir, fd.Name()))
		if errors.Is(err, os.ErrNotExist) {
			continue // closed meanwhile
		}
		if err != nil {
			return false, fmt.Errorf("container %s: fds of its init: %w", c.ID(), err)
		}
		if f == want {
			return true, nil
		}
	}
	return false, nil
}

// openFile names the file an fd is open on: its mount (ids are unique across
// mount namespaces) and inode.
type openFile struct{ mount, inode string }

// fileOfFD reads an fdinfo file of /proc.
func fileOfFD(path string) (openFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return openFile{}, err
	}
	defer f.Close()
	var of openFile
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, value, _ := strings.Cut(sc.Text(), ":")
		switch key {
		case "mnt_id":
			of.mount = strings.TrimSpace(value)
		case "ino":
			of.inode = strings.TrimSpace(value)
		}
	}
	if err := sc.Err(); err != nil {
		return openFile{}, err
	}
	if of.mount == "" || of.inode == "" {
		return openFile{}, fmt.Errorf("%s: no mnt_id or ino (an older kernel?)", path)
	}
	return of, nil
}

// State reports the container id, or what a create of it killed before it
// saved the state left (see leftover).
func (r *Runtime) State(id string) (*State, error) {
	c, err := r.Load(id)
	if err == nil {
		return r.StateOf(c)
	}
	if !errors.Is(err, libcontainer.ErrNotExist) {
		return nil, err
	}
	st, lerr := r.leftover(id)
	if lerr != nil {
		return nil, lerr
	}
	if st == nil {
		return nil, err
	}
	return st, nil
}

// leftover returns the state of what a create of id killed before
// libcontainer saved the container's state left: its state directory and
// pending record, which hold cgroups and perhaps processes for `delete` to
// remove. It returns nil when there is none, or when a command is at work
// on id. What holds nothing (a directory made before the record, a record
// whose directory a killed delete already removed) it removes.
func (r *Runtime) leftover(id string) (*State, error) {
	if ValidateID(id) != nil {
		return nil, nil
	}
	_, dirErr := os.Lstat(filepath.Join(r.Root, id))
	_, recordErr := os.Lstat(r.pendingPath(id))
	if dirErr != nil && recordErr != nil {
		return nil, nil // nothing of id: the usual case, which writes nothing
	}
	if busy, err := lockfile.Busy(r.lockPath(id)); err != nil || busy {
		return nil, err
	}
	st, err := r.leftoverState(id)
	if err != nil || st != nil {
		return st, err
	}
	return nil, r.removeEmptyLeftover(id)
}

// leftoverState is leftover's state of id, once no command holds id's lock.
func (r *Runtime) leftoverState(id string) (*State, error) {
	dir := filepath.Join(r.Root, id)
	if _, err := os.Lstat(filepath.Join(dir, "state.json")); !errors.Is(err, os.ErrNotExist) {
		return nil, nil // a container after all (saved since), or unreadable
	}
	if _, err := os.Lstat(dir); err != nil {
		return nil, nil
	}
	p, err := r.readPending(id)
	if err != nil {
		return nil, fmt.Errorf("container %s: %w", id, err)
	}
	if p == nil {
		return nil, nil
	}
	bundle, annotations := utils.Annotations(p.Labels)
	return &State{
		OCIVersion:  p.Version,
		ID:          id,
		Status:      statusCreateInterrupted,
		Bundle:      bundle,
		Rootfs:      p.Rootfs,
		Created:     p.Created,
		Annotations: annotations,
		Owner:       r.owner(id),
		Handler:     handlerOfLabels(p.Labels),
	}, nil
}

// removeEmptyLeftover removes, under id's lock, a state directory that
// holds no state and no record, or a record whose state directory is gone,
// and the lock of an id that has neither: nothing runs or is held there.
func (r *Runtime) removeEmptyLeftover(id string) error {
	lock, err := r.lockIDWith(id, unix.LOCK_EX|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) {
		return nil // someone is at work on it: theirs to finish
	}
	if err != nil {
		return err
	}
	defer lock.release()
	dir := filepath.Join(r.Root, id)
	_, dirErr := os.Lstat(dir)
	_, stateErr := os.Lstat(filepath.Join(dir, "state.json"))
	p, err := r.readPending(id)
	if err != nil || !errors.Is(stateErr, os.ErrNotExist) {
		return err // a container, or a record unreadable: left as they are
	}
	switch {
	case dirErr == nil && p == nil:
		_ = os.Remove(r.pendingPath(id) + ".tmp")
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("remove the state of %s: %w", id, err)
		}
	case errors.Is(dirErr, os.ErrNotExist) && p != nil:
		r.dropPending(id)
	case errors.Is(dirErr, os.ErrNotExist):
	default:
		return nil // a leftover that holds something: see leftoverState
	}
	lock.releaseGone()
	return nil
}

// ownIDs returns the ids that have a pending record or a lock file.
func (r *Runtime) ownIDs() ([]string, error) {
	var ids []string
	for _, pattern := range []string{"creating/*.json", "locks/*"} {
		names, err := filepath.Glob(filepath.Join(r.Root, ownDir, pattern))
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			ids = append(ids, strings.TrimSuffix(filepath.Base(n), ".json"))
		}
	}
	return ids, nil
}

// hasLeftover reports, to a caller holding id's lock, whether a create of id
// killed before it saved the state left anything.
func (r *Runtime) hasLeftover(id string) bool {
	for _, path := range []string{filepath.Join(r.Root, id), r.pendingPath(id), r.pendingPath(id) + ".tmp"} {
		if _, err := os.Lstat(path); err == nil {
			return true
		}
	}
	return false
}
