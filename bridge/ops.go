package bridge

import (
	"errors"
	"fmt"

	"github.com/opencontainers/runc/libcontainer"
)

// Processes returns the pids of every process in the container's cgroup.
func (r *Runtime) Processes(id string) ([]int, error) {
	c, err := r.Load(id)
	if err != nil {
		return nil, err
	}
	pids, err := c.Processes()
	if err != nil {
		return nil, fmt.Errorf("processes of %s: %w", id, err)
	}
	return pids, nil
}

// Pause freezes every process of the container through the freezer cgroup.
func (r *Runtime) Pause(id string) error {
	c, err := r.Load(id)
	if err != nil {
		return err
	}
	// Under the id's lock, so not half-way through a create or a start,
	// which would wait for good on the frozen init, and hold the lock (and
	// so any delete) as long.
	lock, err := r.lockID(id)
	if err != nil {
		return err
	}
	defer r.releaseIfGone(id, lock)
	if err := c.Pause(); err != nil {
		if errors.Is(err, libcontainer.ErrNotRunning) {
			return errors.New("container not running")
		}
		return fmt.Errorf("pause %s: %w", id, err)
	}
	return nil
}

// Resume thaws a paused container.
func (r *Runtime) Resume(id string) error {
	c, err := r.Load(id)
	if err != nil {
		return err
	}
	if err := c.Resume(); err != nil {
		if errors.Is(err, libcontainer.ErrNotPaused) {
			return errors.New("container not paused")
		}
		return fmt.Errorf("resume %s: %w", id, err)
	}
	return nil
}
