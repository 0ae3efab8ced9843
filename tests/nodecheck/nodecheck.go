// Package nodecheck inspects the node for what containers leave behind:
// processes, mounts and cgroups. The integration suites check with it that
// a removed container is gone, and remove what a broken runtime leaked so
// that it does not spill into the next test or run. It also holds what the
// suites share to start (the root check, the binary under test) and to wait.
package nodecheck

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Gone reports whether pid has exited; a zombie counts as gone because the
// runtime isn't its parent and can't reap it.
func Gone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && len(s) > i+2 && s[i+2] == 'Z'
}

// Processes returns the live processes but ours whose command line contains
// any of needles.
func Processes(needles ...string) []int {
	return processes(needles, "cmdline")
}

// ProcessesUsing returns the live processes but ours whose command line,
// cgroups, working directory, open files or mappings mention any of
// needles: a container's processes, and also a runtime's orphaned children
// that never reached the container's cgroup.
func ProcessesUsing(needles ...string) []int {
	return processes(needles, "cmdline", "cgroup", "maps", "cwd", "fd")
}

// processes matches needles against what each process's /proc files (and,
// for the symlinks cwd and the entries of fd, their targets) say.
func processes(needles []string, files ...string) []int {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var pids []int
	for _, dir := range dirs {
		pid, err := strconv.Atoi(filepath.Base(dir))
		if err != nil || pid == os.Getpid() || Gone(pid) {
			continue
		}
		var seen []string
		for _, f := range files {
			switch f {
			case "cwd":
				target, _ := os.Readlink(filepath.Join(dir, f))
				seen = append(seen, target)
			case "fd":
				links, _ := filepath.Glob(filepath.Join(dir, f, "*"))
				for _, l := range links {
					target, _ := os.Readlink(l)
					seen = append(seen, target)
				}
			default:
				b, _ := os.ReadFile(filepath.Join(dir, f))
				seen = append(seen, strings.ReplaceAll(string(b), "\x00", " "))
			}
		}
		if containsAny(strings.Join(seen, "\n"), needles) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// Describe returns each pid with its command line, for failure messages.
func Describe(pids []int) []string {
	var out []string
	for _, pid := range pids {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		out = append(out, fmt.Sprintf("%d %q", pid, strings.ReplaceAll(strings.TrimRight(string(b), "\x00"), "\x00", " ")))
	}
	return out
}

// Kill SIGKILLs pids and waits until they are gone.
func Kill(pids []int) error {
	for _, pid := range pids {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	var alive []int
	for _, pid := range pids {
		if !Until(10*time.Second, func() bool { return Gone(pid) }) {
			alive = append(alive, pid)
		}
	}
	if len(alive) > 0 {
		return fmt.Errorf("killed processes still alive: %v", alive)
	}
	return nil
}

// Mounts returns the lines of our mountinfo that mention any of needles
// anywhere: mount point, root, source or options.
func Mounts(needles ...string) ([]string, error) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	var found []string
	for _, l := range strings.Split(string(b), "\n") {
		if containsAny(l, needles) {
			found = append(found, l)
		}
	}
	return found, nil
}

// MountsUnder returns the mount points at or below dir, deepest first, the
// order to unmount them in.
func MountsUnder(dir string) ([]string, error) {
	mounts, err := mountinfo()
	if err != nil {
		return nil, err
	}
	var found []string
	for _, m := range mounts {
		if m.point == dir || strings.HasPrefix(m.point, strings.TrimSuffix(dir, "/")+"/") {
			found = append(found, m.point)
		}
	}
	slices.SortFunc(found, func(a, b string) int { return len(b) - len(a) })
	return found, nil
}

// CgroupMounts maps each v1 controller (e.g. "pids", "name=systemd"), and ""
// for the unified hierarchy, to its mount point.
func CgroupMounts() (map[string]string, error) {
	mounts, err := mountinfo()
	if err != nil {
		return nil, err
	}
	ctrls := map[string]string{}
	for _, m := range mounts {
		switch m.fstype {
		case "cgroup2":
			ctrls[""] = m.point
		case "cgroup":
			for _, o := range strings.Split(m.superOpts, ",") {
				if o != "rw" && o != "ro" && !strings.HasPrefix(o, "release_agent") &&
					o != "clone_children" && o != "noprefix" && o != "xattr" {
					ctrls[o] = m.point
				}
			}
		}
	}
	return ctrls, nil
}

// CgroupRoots returns the mount point of every cgroup hierarchy, v1 and v2.
func CgroupRoots() ([]string, error) {
	mounts, err := mountinfo()
	if err != nil {
		return nil, err
	}
	var roots []string
	for _, m := range mounts {
		if (m.fstype == "cgroup" || m.fstype == "cgroup2") && !slices.Contains(roots, m.point) {
			roots = append(roots, m.point)
		}
	}
	return roots, nil
}

// Cgroups returns the cgroups at or below parent (a path from a hierarchy's
// root) whose name contains substr, in every hierarchy. Ids are random, so
// a match of one belongs to that container.
func Cgroups(parent, substr string) ([]string, error) {
	roots, err := CgroupRoots()
	if err != nil {
		return nil, err
	}
	var found []string
	for _, root := range roots {
		filepath.WalkDir(filepath.Join(root, parent), func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() && strings.Contains(d.Name(), substr) {
				found = append(found, p)
			}
			return nil
		})
	}
	return found, nil
}

// CgroupProcs returns the processes in the cgroup at dir.
func CgroupProcs(dir string) []int {
	b, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// RemoveCgroup removes the cgroup at dir; one already gone is fine. A
// killed process keeps its cgroup busy until it has been reaped, which the
// removal waits for.
func RemoveCgroup(dir string) error {
	err := os.Remove(dir)
	for deadline := time.Now().Add(10 * time.Second); errors.Is(err, syscall.EBUSY) && time.Now().Before(deadline); err = os.Remove(dir) {
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove cgroup: %w", err)
	}
	return nil
}

type mount struct{ point, fstype, superOpts string }

// mountinfo parses /proc/self/mountinfo.
func mountinfo() ([]mount, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var mounts []mount
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// id parent maj:min root mountpoint opts [optional...] - fstype source superopts
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		pf, qf := strings.Fields(pre), strings.Fields(post)
		if ok && len(pf) >= 5 && len(qf) >= 3 {
			mounts = append(mounts, mount{point: unescape(pf[4]), fstype: qf[0], superOpts: qf[2]})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading mountinfo: %w", err)
	}
	return mounts, nil
}

// unescape undoes mountinfo's octal escapes of spaces and the like.
func unescape(s string) string {
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

func containsAny(s string, needles []string) bool {
	for _, n := range needles {
		if strings.Contains(s, n) {
			return true
		}
	}
	return false
}
