package bridge

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/utils"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/wrunc/wrunc/handler"
)

// handlerLabel records the handler chosen at create in libcontainer's own
// state. It has no '=' so that libcontainer never reports it as an annotation.
const handlerLabel = "wrunc.handler:"

// State is what `state` and `list --format json` print: the OCI state plus
// runc's extra fields, and the handler that runs the container.
type State struct {
	OCIVersion  string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Pid         int               `json:"pid"`
	Status      string            `json:"status"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     time.Time         `json:"created"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Owner       string            `json:"owner"`
	Handler     handler.Kind      `json:"handler"`
}

// Load opens an existing container, with runc's error wording on which
// engines match ("does not exist").
func (r *Runtime) Load(id string) (*libcontainer.Container, error) {
	if id == "" {
		return nil, errors.New("container id cannot be empty")
	}
	c, err := libcontainer.Load(r.Root, id)
	if err != nil {
		if errors.Is(err, libcontainer.ErrNotExist) || errors.Is(err, libcontainer.ErrInvalidID) {
			return nil, &notExistError{id: id, err: err}
		}
		return nil, fmt.Errorf("load %s: %w", id, err)
	}
	return c, nil
}

// notExistError keeps libcontainer's cause while saying it in runc's words.
type notExistError struct {
	id  string
	err error
}

func (e *notExistError) Error() string { return "container " + e.id + " does not exist" }
func (e *notExistError) Unwrap() error { return e.err }

// HandlerOf returns the handler recorded for c at create.
func HandlerOf(c *libcontainer.Container) handler.Kind {
	return handlerOfLabels(c.Config().Labels)
}

func handlerOfLabels(labels []string) handler.Kind {
	for _, l := range labels {
		if k, ok := strings.CutPrefix(l, handlerLabel); ok {
			return handler.Kind(k)
		}
	}
	return handler.Native
}

// StateOf reports c's state.
func (r *Runtime) StateOf(c *libcontainer.Container) (*State, error) {
	status, err := r.statusOf(c, false)
	if err != nil {
		return nil, err
	}
	st, err := c.State()
	if err != nil {
		return nil, fmt.Errorf("state of %s: %w", c.ID(), err)
	}
	pid := st.InitProcessPid
	if status.Status == libcontainer.Stopped {
		pid = 0
	}
	bundle, annotations := utils.Annotations(st.Config.Labels)
	return &State{
		OCIVersion:  st.Config.Version,
		ID:          st.ID,
		Pid:         pid,
		Status:      status.String(),
		Bundle:      bundle,
		Rootfs:      st.Config.Rootfs,
		Created:     st.Created,
		Annotations: annotations,
		Owner:       r.owner(c.ID()),
		Handler:     HandlerOf(c),
	}, nil
}

func (r *Runtime) owner(id string) string {
	fi, err := os.Stat(filepath.Join(r.Root, id))
	if err != nil {
		return ""
	}
	uid := strconv.Itoa(int(fi.Sys().(*syscall.Stat_t).Uid))
	if u, err := user.LookupId(uid); err == nil {
		return u.Username
	}
	return "#" + uid
}

// List returns the state of every container under the root, and of what
// creates killed before they saved a state left (see leftover), skipping
// entries that vanish or are not containers.
func (r *Runtime) List() ([]*State, error) {
	entries, err := os.ReadDir(r.Root)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("list %s: %w", r.Root, err)
	}
	var states []*State
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		c, err := libcontainer.Load(r.Root, e.Name())
		if errors.Is(err, libcontainer.ErrNotExist) {
			if st := r.listLeftover(e.Name()); st != nil {
				states = append(states, st)
			}
			continue
		}
		if err != nil {
			continue
		}
		st, err := r.StateOf(c)
		if err != nil {
			continue
		}
		states = append(states, st)
	}
	// Records and locks of ids without a state directory, which killed
	// commands left: tidied.
	ids, err := r.ownIDs()
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", r.Root, err)
	}
	for _, id := range ids {
		if _, err := os.Lstat(filepath.Join(r.Root, id)); errors.Is(err, os.ErrNotExist) && ValidateID(id) == nil {
			if err := r.removeEmptyLeftover(id); err != nil {
				logrus.Warnf("list: %v", err)
			}
		}
	}
	return states, nil
}

// listLeftover is leftover for List, which lists what it can: a leftover it
// cannot read or tidy is said in a warning.
func (r *Runtime) listLeftover(id string) *State {
	st, err := r.leftover(id)
	if err != nil {
		logrus.Warnf("list: %v", err)
	}
	return st
}

// Start runs the user process of a created container.
func (r *Runtime) Start(id string) error {
	lock, err := r.lockID(id)
	if err != nil {
		return err
	}
	defer lock.release()
	c, err := r.Load(id)
	if err != nil {
		if st, lerr := r.leftoverState(id); lerr == nil && st != nil {
			return errCreateInterrupted(id)
		}
		lock.releaseGone()
		return err
	}
	status, err := r.statusOf(c, true)
	if err != nil {
		return err
	}
	switch {
	case status.interrupted:
		return errCreateInterrupted(id)
	case status.staleFifo:
		// What the killed start would have done next, so that
		// libcontainer too sees the container running.
		if err := os.Remove(filepath.Join(r.Root, id, "exec.fifo")); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("start %s: %w", id, err)
		}
	}
	switch status.Status {
	case libcontainer.Created:
		if err := c.Exec(); err != nil {
			return fmt.Errorf("start %s: %w", id, err)
		}
		return nil
	case libcontainer.Stopped:
		return errors.New("cannot start a container that has stopped")
	case libcontainer.Running:
		return errors.New("cannot start an already running container")
	}
	return fmt.Errorf("cannot start a container in the %s state", status)
}

// Kill sends sig to the container's init, or with all to every process in
// its cgroup (what engines ask for when the container shares the host's pid
// namespace and killing init would not take the others with it).
func (r *Runtime) Kill(id string, sig unix.Signal, all bool) error {
	c, err := r.Load(id)
	if err != nil {
		return err
	}
	if all && !c.Config().Namespaces.IsPrivate(configs.NEWPID) {
		err = signalEach(c, sig)
	} else if err = c.Signal(sig); errors.Is(err, libcontainer.ErrNotRunning) {
		if all {
			return nil
		}
		return errors.New("container not running")
	}
	if err == nil && sig == unix.SIGKILL {
		err = thawKilled(c)
	}
	return err
}

// thawKilled thaws c if it is paused, so that the processes just SIGKILLed
// die: on cgroup v1 a frozen process cannot, and libcontainer thaws only
// after signalling the init, not after killing the processes of a shared pid
// namespace (through cgroup.kill, or one by one).
func thawKilled(c *libcontainer.Container) error {
	if err := c.Resume(); err != nil && !errors.Is(err, libcontainer.ErrNotPaused) {
		return fmt.Errorf("thaw %s for its killed processes to die: %w", c.ID(), err)
	}
	return nil
}

func signalEach(c *libcontainer.Container, sig unix.Signal) error {
	pids, err := c.Processes()
	if err != nil {
		return fmt.Errorf("processes of %s: %w", c.ID(), err)
	}
	for _, pid := range pids {
		if err := unix.Kill(pid, sig); err != nil && err != unix.ESRCH {
			return fmt.Errorf("signal %d: %w", pid, err)
		}
	}
	return nil
}

// Delete removes a stopped (or, with force, any) container and everything
// it holds: processes, cgroups, state.
func (r *Runtime) Delete(id string, force bool) error {
	if err := ValidateID(id); err != nil {
		if force {
			return nil // names nothing, so nothing is left of it
		}
		return &notExistError{id: id, err: err}
	}
	lock, err := r.lockID(id)
	if err != nil {
		return err
	}
	defer lock.release()
	c, err := r.Load(id)
	if err != nil {
		if errors.Is(err, libcontainer.ErrNotExist) && (force || r.hasLeftover(id)) {
			// Perhaps a create killed before it saved the state.
			if err := r.removeHalfCreated(id); err != nil {
				return err
			}
			lock.releaseGone()
			return nil
		}
		if errors.Is(err, libcontainer.ErrNotExist) {
			lock.releaseGone()
		}
		return err
	}
	st, err := r.statusOf(c, true)
	if err != nil {
		return err
	}
	switch status := st.Status; {
	case status == libcontainer.Stopped:
	case force || status == libcontainer.Created:
		err = killInit(c)
	default:
		return fmt.Errorf("cannot delete container %s that is not stopped: %s", id, status)
	}
	if err == nil {
		err = r.destroy(c, lock)
	}
	if err != nil {
		return fmt.Errorf("delete %s: %w", id, err)
	}
	return nil
}

// destroy removes c and, once its state is gone, its id's lock and any
// pending record of its create (a create killed after libcontainer saved the
// state, while it waited for the wasm artifact, leaves one): Destroy reports
// a failing poststop hook after it has removed the container.
func (r *Runtime) destroy(c *libcontainer.Container, lock *idLock) error {
	err := c.Destroy()
	r.releaseIfGone(c.ID(), lock)
	return err
}

// releaseIfGone releases id's lock, and removes it with any pending record
// if the container is gone.
func (r *Runtime) releaseIfGone(id string, lock *idLock) {
	if _, err := os.Stat(filepath.Join(r.Root, id)); errors.Is(err, os.ErrNotExist) {
		r.dropPending(id)
		lock.releaseGone()
	}
	lock.release()
}

// killInit SIGKILLs c's init and waits for it to be gone.
func killInit(c *libcontainer.Container) error {
	_ = c.Signal(unix.SIGKILL) // fails once the init is gone, as below
	thawErr := thawKilled(c)
	for range 100 {
		if err := c.Signal(unix.Signal(0)); err != nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.Join(errors.New("container init still running after SIGKILL"), thawErr)
}
