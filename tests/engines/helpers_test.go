package engines

import (
	"bufio"
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
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
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
	for deadline := time.Now().Add(waitTimeout); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %v waiting for %s", waitTimeout, what)
		}
	}
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
		eventually(t, "the processes of "+id+" to exit", func() bool { return len(processesMentioning(id)) == 0 })
		if dirs := cgroupsNamed(id); len(dirs) > 0 {
			t.Errorf("cgroups of %s left behind: %v", id, dirs)
		}
		for _, m := range mountsUnder("/") {
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

// processesMentioning returns the pids, other than ours, whose command
// line contains s.
func processesMentioning(s string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(cmdline), s) && !isZombie(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func isZombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && len(s) > i+2 && s[i+2] == 'Z'
}

func describeProcesses(pids []int) string {
	var out []string
	for _, pid := range pids {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		out = append(out, fmt.Sprintf("%d %s", pid, strings.ReplaceAll(strings.TrimRight(string(b), "\x00"), "\x00", " ")))
	}
	return strings.Join(out, "; ")
}

func killAndWait(pids []int) {
	for _, pid := range pids {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, pid := range pids {
		for !isZombie(pid) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// mountsUnder returns the mount points at or below dir, deepest first.
func mountsUnder(dir string) []string {
	var ms []string
	for _, f := range mountinfo() {
		if mp := unescapeMount(f[4]); mp == dir || strings.HasPrefix(mp, strings.TrimSuffix(dir, "/")+"/") {
			ms = append(ms, mp)
		}
	}
	slices.SortFunc(ms, func(a, b string) int { return len(b) - len(a) })
	return ms
}

// mountinfo returns the fields of each line of /proc/self/mountinfo.
func mountinfo() [][]string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) > 9 {
			out = append(out, fields)
		}
	}
	return out
}

// unescapeMount undoes mountinfo's octal escapes of spaces and the like.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// cgroupRoots returns the mount point of every cgroup hierarchy, v1 and v2.
func cgroupRoots() []string {
	var roots []string
	for _, f := range mountinfo() {
		sep := slices.Index(f, "-")
		if sep > 0 && sep+1 < len(f) && (f[sep+1] == "cgroup" || f[sep+1] == "cgroup2") && !slices.Contains(roots, f[4]) {
			roots = append(roots, f[4])
		}
	}
	return roots
}

// cgroupsNamed finds the cgroups below the suite's parent whose name
// contains id.
func cgroupsNamed(id string) []string {
	var found []string
	for _, root := range cgroupRoots() {
		filepath.WalkDir(filepath.Join(root, cgroupParent), func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() && strings.Contains(d.Name(), id) {
				found = append(found, p)
			}
			return nil
		})
	}
	return found
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
	var errs []error
	for _, root := range cgroupRoots() {
		var dirs []string
		filepath.WalkDir(filepath.Join(root, rel), func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		slices.Reverse(dirs)
		for _, d := range dirs {
			if procs, _ := os.ReadFile(filepath.Join(d, "cgroup.procs")); len(strings.TrimSpace(string(procs))) > 0 {
				var pids []int
				for _, f := range strings.Fields(string(procs)) {
					if pid, err := strconv.Atoi(f); err == nil {
						pids = append(pids, pid)
					}
				}
				errs = append(errs, fmt.Errorf("processes left in cgroup %s: %s", d, describeProcesses(pids)))
				killAndWait(pids)
			}
			err := os.Remove(d)
			// A killed process holds its cgroup until it is reaped.
			for deadline := time.Now().Add(10 * time.Second); errors.Is(err, syscall.EBUSY) && time.Now().Before(deadline); err = os.Remove(d) {
				time.Sleep(50 * time.Millisecond)
			}
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("remove cgroup: %w", err))
			}
		}
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

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
