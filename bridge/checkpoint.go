package bridge

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// CriuOptions are the flags `checkpoint` and `restore` share, as runc has
// them.
type CriuOptions struct {
	Criu              string // the criu binary, --criu
	ImagePath         string // default: ./checkpoint
	WorkPath          string // CRIU's logs; default: the image path
	ParentPath        string // relative to ImagePath
	LeaveRunning      bool
	TCPEstablished    bool
	TCPSkipInFlight   bool
	LinkRemap         bool
	ExtUnixSk         bool
	ShellJob          bool
	FileLocks         bool
	PreDump           bool
	AutoDedup         bool
	LazyPages         bool
	StatusFD          int    // -1 for none
	PageServer        string // ADDRESS:PORT
	ManageCgroupsMode string // soft, full, strict, ignore, or "" for CRIU's default
	EmptyNS           []string
	LsmProfile        string
	LsmMountContext   string
}

// Checkpoint dumps a running container's processes with CRIU. Unless asked
// to leave it running (or only pre-dumping), the container is then gone, as
// with runc.
func (r *Runtime) Checkpoint(id string, o CriuOptions) error {
	lock, err := r.lockID(id)
	if err != nil {
		return err
	}
	defer lock.release()
	c, err := r.Load(id)
	if err != nil {
		if errors.Is(err, libcontainer.ErrNotExist) {
			lock.releaseGone()
		}
		return err
	}
	status, err := c.Status()
	if err != nil {
		return fmt.Errorf("status of %s: %w", id, err)
	}
	if status == libcontainer.Created || status == libcontainer.Stopped {
		return fmt.Errorf("Container cannot be checkpointed in %s state", status)
	}
	opts, err := o.criuOpts()
	if err != nil {
		return err
	}
	if err := withCriuLog(opts, "dump.log", func() error { return c.Checkpoint(opts) }); err != nil {
		return fmt.Errorf("checkpoint %s: %w", id, err)
	}
	if !opts.LeaveRunning && !opts.PreDump {
		// The checkpoint is good whatever is left of the container.
		if err := r.destroy(c, lock); err != nil {
			logrus.Warnf("checkpoint %s: remove the dumped container: %v", id, err)
		}
	}
	return nil
}

// Restore creates the container of opts.Bundle with its processes restored
// by CRIU from a checkpoint rather than started; the rest is as `run`.
func (r *Runtime) Restore(opts CreateOptions, o CriuOptions) (int, error) {
	criu, err := o.criuOpts()
	if err != nil {
		return -1, err
	}
	opts.restore = func(c *libcontainer.Container, p *libcontainer.Process) error {
		return withCriuLog(criu, "restore.log", func() error { return c.Restore(p, criu) })
	}
	return r.Create(opts)
}

// criuOpts validates o and converts it for libcontainer, creating the image
// directory.
func (o CriuOptions) criuOpts() (*libcontainer.CriuOpts, error) {
	if err := useCriu(o.Criu); err != nil {
		return nil, err
	}
	if o.ImagePath == "" {
		o.ImagePath = "checkpoint"
	}
	// Absolute, for restore works from the bundle directory.
	images, err := filepath.Abs(o.ImagePath)
	if err != nil {
		return nil, fmt.Errorf("image path: %w", err)
	}
	work := o.WorkPath
	if work != "" {
		if work, err = filepath.Abs(work); err != nil {
			return nil, fmt.Errorf("work path: %w", err)
		}
	}
	if err := os.MkdirAll(images, 0o700); err != nil {
		return nil, fmt.Errorf("image path: %w", err)
	}
	if o.ParentPath != "" {
		if filepath.IsAbs(o.ParentPath) {
			return nil, errors.New("--parent-path must be relative")
		}
		parent := filepath.Join(images, o.ParentPath)
		if fi, err := os.Stat(parent); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("invalid --parent-path: %s is not a directory", parent)
		}
	}
	opts := &libcontainer.CriuOpts{
		ImagesDirectory:         images,
		WorkDirectory:           work,
		ParentImage:             o.ParentPath,
		LeaveRunning:            o.LeaveRunning,
		TcpEstablished:          o.TCPEstablished,
		TcpSkipInFlight:         o.TCPSkipInFlight,
		LinkRemap:               o.LinkRemap,
		ExternalUnixConnections: o.ExtUnixSk,
		ShellJob:                o.ShellJob,
		FileLocks:               o.FileLocks,
		PreDump:                 o.PreDump,
		AutoDedup:               o.AutoDedup,
		LazyPages:               o.LazyPages,
		StatusFd:                o.StatusFD,
		LsmProfile:              o.LsmProfile,
		LsmMountContext:         o.LsmMountContext,
		ManageCgroupsMode:       o.ManageCgroupsMode,
		// libcontainer does not manage network devices, so CRIU must not
		// restore the network namespace's.
		EmptyNs: unix.CLONE_NEWNET,
	}
	if o.PageServer != "" {
		host, port, err := net.SplitHostPort(o.PageServer)
		n, perr := strconv.ParseUint(port, 10, 16)
		if err != nil || host == "" || perr != nil {
			return nil, fmt.Errorf("invalid --page-server %q: want ADDRESS:PORT", o.PageServer)
		}
		opts.PageServer = libcontainer.CriuPageServerInfo{Address: host, Port: int32(n)}
	}
	for _, ns := range o.EmptyNS {
		if specs.LinuxNamespaceType(ns) != specs.NetworkNamespace {
			return nil, fmt.Errorf("namespace %q is not supported", ns)
		}
	}
	return opts, nil
}

// useCriu makes path the criu that libcontainer runs: it always runs
// "criu" from $PATH.
func useCriu(path string) error {
	if path == "" || path == "criu" {
		return nil
	}
	abs, err := exec.LookPath(path)
	if err == nil {
		abs, err = filepath.Abs(abs)
	}
	if err != nil {
		return fmt.Errorf("--criu: %w", err)
	}
	if filepath.Base(abs) != "criu" {
		return fmt.Errorf("--criu %s: the binary must be named criu", path)
	}
	return os.Setenv("PATH", filepath.Dir(abs)+string(os.PathListSeparator)+os.Getenv("PATH"))
}

// withCriuLog runs a CRIU operation and adds to its failure the first error
// CRIU logged and where the log is: libcontainer reports only CRIU's exit.
func withCriuLog(opts *libcontainer.CriuOpts, logName string, op func() error) error {
	dir := opts.WorkDirectory
	if dir == "" {
		dir = opts.ImagesDirectory
	}
	log := filepath.Join(dir, logName)
	before, _ := os.Stat(log)
	err := op()
	if err == nil {
		return nil
	}
	// A log left by an earlier run is not about this failure.
	after, serr := os.Stat(log)
	if serr != nil || before != nil && after.Size() == before.Size() && after.ModTime().Equal(before.ModTime()) {
		return err
	}
	f, ferr := os.Open(log)
	if ferr != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if _, msg, ok := strings.Cut(sc.Text(), "Error ("); ok {
			return fmt.Errorf("%w: Error (%s (criu log: %s)", err, msg, log)
		}
	}
	return fmt.Errorf("%w (criu log: %s)", err, log)
}
