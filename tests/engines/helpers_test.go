package engines

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wrunc/wrunc/tests/nodecheck"
)

const (
	cmdTimeout  = 2 * time.Minute
	waitTimeout = 30 * time.Second
)

type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout: %q\nstderr: %q", r.code, r.stdout, r.stderr)
}

// cli is a command-line tool with the arguments and environment that every
// call of it gets.
type cli struct {
	name string
	args []string
	env  []string
}

// proc is a started command; its output goes to files, not pipes, because
// the daemons engines spawn (conmon, shims) inherit them and would keep a
// pipe open long after the command itself is done.
type proc struct {
	cmd            *exec.Cmd
	line           string
	ctx            context.Context
	stdout, stderr *os.File

	exited chan struct{} // closed once res and err are set
	res    result
	err    error
}

func (c cli) start(args ...string) (*proc, error) {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	cmd := exec.CommandContext(ctx, c.name, append(slices.Clone(c.args), args...)...)
	cmd.Env = append(os.Environ(), c.env...)
	p := &proc{cmd: cmd, line: strings.Join(cmd.Args, " "), ctx: ctx, exited: make(chan struct{})}
	var err error
	if p.stdout, err = os.CreateTemp(workDir, "stdout-"); err == nil {
		p.stderr, err = os.CreateTemp(workDir, "stderr-")
	}
	if err == nil {
		cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
		err = cmd.Start()
	}
	if err != nil {
		cancel()
		p.removeFiles()
		return nil, fmt.Errorf("%s: %w", p.line, err)
	}
	go func() {
		defer close(p.exited)
		defer cancel()
		p.res, p.err = p.await()
	}()
	return p, nil
}

// output is what the command printed so far.
func (p *proc) output() string {
	b, _ := os.ReadFile(p.stdout.Name())
	return string(b)
}

// done reports whether the command has exited.
func (p *proc) done() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// wait waits for the command and returns what it printed; the error is
// only for a command that could not run or timed out.
func (p *proc) wait() (result, error) {
	<-p.exited
	return p.res, p.err
}

func (p *proc) await() (result, error) {
	err := p.cmd.Wait()
	timedOut := errors.Is(p.ctx.Err(), context.DeadlineExceeded)
	stderr, _ := os.ReadFile(p.stderr.Name())
	r := result{stdout: p.output(), stderr: string(stderr)}
	p.removeFiles()
	var ee *exec.ExitError
	switch {
	case timedOut:
		return r, fmt.Errorf("%s: timed out after %v\n%s", p.line, cmdTimeout, r)
	case err != nil && !errors.As(err, &ee):
		return r, fmt.Errorf("%s: %w", p.line, err)
	}
	r.code = p.cmd.ProcessState.ExitCode()
	return r, nil
}

func (p *proc) removeFiles() {
	for _, f := range []*os.File{p.stdout, p.stderr} {
		if f != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}
}

// exec runs the command to completion.
func (c cli) exec(args ...string) (result, error) {
	p, err := c.start(args...)
	if err != nil {
		return result{}, err
	}
	return p.wait()
}

// output runs the command and returns its stdout, or an error with all it
// printed unless it exits 0.
func (c cli) output(args ...string) (string, error) {
	r, err := c.exec(args...)
	if err == nil && r.code != 0 {
		err = fmt.Errorf("%s %s: %s", c.name, strings.Join(args, " "), r)
	}
	return r.stdout, err
}

// run runs the command and fails t if it could not run at all.
func (c cli) run(t *testing.T, args ...string) result {
	t.Helper()
	r, err := c.exec(args...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// must runs the command and fails t unless it exits 0.
func (c cli) must(t *testing.T, args ...string) result {
	t.Helper()
	r := c.run(t, args...)
	if r.code != 0 {
		t.Fatalf("%s %s: %s", c.name, strings.Join(args, " "), r)
	}
	return r
}

// eventually polls cond until it holds, for what engines do asynchronously;
// the deadline only bounds a hang.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	nodecheck.Eventually(t, waitTimeout, what, cond)
}

// randomName is a name no other test or run uses.
func randomName(prefix string) string {
	b := make([]byte, 4)
	rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

// assertNoTrace checks that nothing of the containers ids is left: once
// the processes that name them (conmon, shims, the runtime) have exited,
// no cgroup, mount or file below stateDirs may bear their ids.
func assertNoTrace(t *testing.T, ids []string, stateDirs ...string) {
	t.Helper()
	for _, id := range ids {
		eventually(t, "the processes of "+id+" to exit", func() bool { return len(nodecheck.Processes(id)) == 0 })
		dirs, err := nodecheck.Cgroups(cgroupParent, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(dirs) > 0 {
			t.Errorf("cgroups of %s left behind: %v", id, dirs)
		}
		mounts, err := nodecheck.MountsUnder("/")
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mounts {
			if strings.Contains(m, id) {
				t.Errorf("mount of %s left behind: %s", id, m)
			}
		}
		for _, d := range stateDirs {
			filepath.WalkDir(d, func(p string, _ fs.DirEntry, err error) error {
				if err == nil && strings.Contains(filepath.Base(p), id) {
					t.Errorf("state of %s left behind: %s", id, p)
				}
				return nil
			})
		}
	}
}

// cgroupFile reads a control file of the cgroup (relative to a hierarchy's
// root) in the hierarchy mounted at /sys/fs/cgroup/<hierarchy>.
func cgroupFile(t *testing.T, hierarchy, cgroup, file string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("/sys/fs/cgroup", hierarchy, cgroup, file))
	if err != nil {
		t.Fatalf("cgroup file: %v", err)
	}
	return strings.TrimSpace(string(b))
}

// removeCgroupTree removes the cgroup rel in every hierarchy, children
// first. A process still in one is a leak: it is killed and reported.
func removeCgroupTree(rel string) error {
	dirs, err := nodecheck.Cgroups(rel, "")
	errs := []error{err}
	slices.SortFunc(dirs, func(a, b string) int { return len(b) - len(a) })
	for _, d := range dirs {
		if pids := nodecheck.CgroupProcs(d); len(pids) > 0 {
			errs = append(errs, fmt.Errorf("processes left in cgroup %s: %s", d, strings.Join(nodecheck.Describe(pids), "; ")))
			errs = append(errs, nodecheck.Kill(pids))
		}
		errs = append(errs, nodecheck.RemoveCgroup(d))
	}
	return errors.Join(errs...)
}

// wruncState is the part of `wrunc state` the tests look at.
type wruncState struct {
	Status      string            `json:"status"`
	Pid         int               `json:"pid"`
	Handler     string            `json:"handler"`
	Annotations map[string]string `json:"annotations"`
}

// stateOf asks wrunc itself, under the state dir an engine gave it, about
// a container.
func stateOf(t *testing.T, root, id string) wruncState {
	t.Helper()
	r := cli{name: wruncBin, args: []string{"--root", root}}.must(t, "state", id)
	var st wruncState
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		t.Fatalf("wrunc state %s: %v\n%s", id, err, r)
	}
	return st
}
