package bridge

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/cgroups/manager"
	"github.com/opencontainers/runc/libcontainer"
	"golang.org/x/sys/unix"

	"github.com/wrunc/wrunc/lockfile"
)

// Besides libcontainer's directory per container, the root holds wrunc's
// own, under a name no container id can take ('@' is not allowed in ids).
const ownDir = "@wrunc"

// idLock serializes the commands that change a container's existence
// (create, start, delete) for one id.
type idLock struct {
	root, path string
	f          *os.File
}

func (r *Runtime) lockID(id string) (*idLock, error) {
	return r.lockIDWith(id, unix.LOCK_EX)
}

// lockIDWith is lockID with flock's how: with unix.LOCK_NB, an error
// wrapping unix.EWOULDBLOCK says another command holds the lock.
func (r *Runtime) lockIDWith(id string, how int) (*idLock, error) {
	// The id names a file: it must not lead out of the lock directory.
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	l := &idLock{root: r.Root, path: r.lockPath(id)}
	err := r.inOwnDir(l.path, func() (err error) {
		l.f, err = lockfile.Lock(l.path, how)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", id, err)
	}
	return l, nil
}

func (r *Runtime) lockPath(id string) string {
	return filepath.Join(r.Root, ownDir, "locks", id)
}

// inOwnDir runs create, which makes path, once path's directory exists:
// again if another wrunc removed a directory of it in between (tidyOwnDir).
// The bound only guards against a bug; the race is lost a few times at most.
func (r *Runtime) inOwnDir(path string, create func() error) error {
	var err error
	for range 1000 {
		if err = os.MkdirAll(filepath.Dir(path), 0o700); err == nil {
			err = create()
		}
		// MkdirAll says "exists" when the directory it found went away
		// before it could check it was one.
		if !errors.Is(err, os.ErrNotExist) && !errors.Is(err, os.ErrExist) {
			return err
		}
	}
	return err
}

// tidyOwnDir removes wrunc's directories in the root once they are empty,
// so that a node where all containers are gone is as it was.
func tidyOwnDir(root string) {
	for _, dir := range []string{"locks", "creating", ""} {
		_ = os.Remove(filepath.Join(root, ownDir, dir))
	}
}

func (l *idLock) release() {
	if l.f != nil {
		l.f.Close()
		l.f = nil
	}
}

// releaseGone releases the lock of an id that names no container any more,
// and removes its file, which only the holder may do.
func (l *idLock) releaseGone() {
	if l.f != nil {
		_ = os.Remove(l.path)
		l.release()
		tidyOwnDir(l.root)
	}
}

// pending is what a create records before libcontainer makes any cgroup, so
// that if wrunc is killed before the container's state is saved, `delete`
// can still find and remove the cgroups it made. (Killed before the
// record exists, a create leaves at most an empty state directory.)
// The record also says what `state` and `list` show of such a leftover.
type pending struct {
	Cgroup *cgroups.Cgroup   `json:"cgroup"`
	Paths  map[string]string `json:"paths"`

	Version string    `json:"ociVersion,omitempty"`
	Rootfs  string    `json:"rootfs,omitempty"`
	Labels  []string  `json:"labels,omitempty"`
	Created time.Time `json:"created,omitzero"`
}

func (r *Runtime) pendingPath(id string) string {
	return filepath.Join(r.Root, ownDir, "creating", id+".json")
}

func (r *Runtime) recordPending(c *libcontainer.Container) error {
	id := c.ID()
	// The paths as c's cgroup manager resolved them: a relative cgroupsPath
	// is relative to the creating process's cgroup, which the deleting one
	// may not share.
	st, err := c.State()
	if err != nil {
		return fmt.Errorf("create %s: %w", id, err)
	}
	data, err := json.Marshal(pending{
		Cgroup: st.Config.Cgroups, Paths: st.CgroupPaths,
		Version: st.Config.Version, Rootfs: st.Config.Rootfs, Labels: st.Config.Labels, Created: time.Now().UTC(),
	})
	if err != nil {
		return fmt.Errorf("create %s: %w", id, err)
	}
	// By rename, so that the record is whole or absent whenever wrunc dies.
	path := r.pendingPath(id)
	tmp := path + ".tmp"
	err = r.inOwnDir(tmp, func() error { return os.WriteFile(tmp, data, 0o600) })
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("create %s: %w", id, err)
	}
	return nil
}

// readPending returns id's pending record: nil if there is none, or if it
// is torn (a create killed while writing it, before it made anything).
func (r *Runtime) readPending(id string) (*pending, error) {
	data, err := os.ReadFile(r.pendingPath(id))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var p pending
	if json.Unmarshal(data, &p) != nil {
		return nil, nil
	}
	return &p, nil
}

func (r *Runtime) dropPending(id string) {
	_ = os.Remove(r.pendingPath(id))
	tidyOwnDir(r.Root)
}

// removeHalfCreated undoes what a create killed before saving the
// container's state left: processes and cgroups from its record, and the
// state directory.
func (r *Runtime) removeHalfCreated(id string) error {
	p, err := r.readPending(id)
	if err != nil {
		return fmt.Errorf("delete %s: %w", id, err)
	}
	if p != nil && p.Cgroup != nil {
		m, err := manager.NewWithPaths(p.Cgroup, p.Paths)
		if err != nil {
			return fmt.Errorf("delete %s: cgroup manager: %w", id, err)
		}
		if err := killCgroup(m); err != nil {
			return fmt.Errorf("delete %s: %w", id, err)
		}
	}
	// No record, or one torn by a kill while it was written: either way
	// nothing was created from it yet.
	_ = os.Remove(r.pendingPath(id) + ".tmp")
	if err := os.RemoveAll(filepath.Join(r.Root, id)); err != nil {
		return fmt.Errorf("delete %s: %w", id, err)
	}
	r.dropPending(id)
	return nil
}

// killCgroup SIGKILLs everything in m's cgroups and removes them.
func killCgroup(m cgroups.Manager) error {
	_ = m.Freeze(cgroups.Thawed) // a frozen process cannot die
	for range 100 {
		pids, err := m.GetAllPids()
		if err != nil || len(pids) == 0 {
			break
		}
		for _, pid := range pids {
			_ = unix.Kill(pid, unix.SIGKILL)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := m.Destroy(); err != nil {
		return fmt.Errorf("remove cgroups: %w", err)
	}
	return nil
}
