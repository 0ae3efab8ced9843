package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/wrunc/wrunc/tests/nodecheck"
)

// TestConcurrentSameID races creates of one id, then storms the container
// with every command at once: the per-id locks must let exactly one create
// win and keep the state whole whatever interleaves.
func TestConcurrentSameID(t *testing.T) {
	e := newEnv(t)
	id, bundle := e.newID(), e.bundle(withArgs("sleep", "100"))
	const workers = 8
	results := make([]result, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() { results[i], errs[i] = e.try("create", "--bundle", bundle, id) })
	}
	wg.Wait()
	created := 0
	for i, r := range results {
		switch {
		case errs[i] != nil:
			t.Error(errs[i])
		case r.code == 0:
			created++
		case !strings.Contains(r.stderr, "container with id exists: "+id):
			t.Errorf("a losing create: %s\nwant %q", r, "container with id exists")
		default:
			assertOneErrorLine(t, r)
		}
	}
	if created != 1 {
		t.Fatalf("%d of %d concurrent creates of one id succeeded, want 1", created, workers)
	}
	e.mustRun("start", id)
	if r := e.mustRun("exec", id, "echo", "works"); r.stdout != "works\n" {
		t.Errorf("exec printed %q", r.stdout)
	}
	pid := e.state(id).Pid
	cgroups := containerCgroups(t, pid)

	// Each command either does its work or fails saying why in the words
	// engines match; anything else means some command saw a torn state.
	expected := map[string][]string{
		"create": {"container with id exists"},
		"start":  {"does not exist", "cannot start a container that has stopped", "cannot start an already running container"},
		"kill":   {"does not exist", "container not running"},
		"state":  {"does not exist"},
		"delete": nil,
	}
	storm := [][]string{
		{"create", "--bundle", bundle, id}, {"start", id}, {"kill", id, "KILL"},
		{"state", id}, {"delete", "--force", id},
	}
	var mu sync.Mutex
	failf := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		t.Errorf(format, args...)
	}
	for i := range workers {
		wg.Go(func() {
			for j := range 12 {
				args := storm[(i+j*3)%len(storm)]
				r, err := e.try(args...)
				if err != nil {
					failf("%v", err)
					return
				}
				if r.code != 0 && !slices.ContainsFunc(expected[args[0]], func(w string) bool { return strings.Contains(r.stderr, w) }) {
					failf("%v during the storm: %s", args, r)
				}
				var st containerState
				if args[0] == "state" && r.code == 0 && (json.Unmarshal([]byte(r.stdout), &st) != nil || st.ID != id) {
					failf("state during the storm printed %q", r.stdout)
				}
			}
		})
	}
	wg.Wait()
	e.mustRun("delete", "--force", id)
	e.assertClean(id)
	waitProcessGone(t, pid)
	assertCgroupsGone(t, cgroups)
}

// TestStress runs the lifecycle of many native and wasm containers from
// parallel workers, SIGKILLing wrunc at random points of create and delete,
// as a node's crashes and impatient engines do; `delete --force` must then
// remove each container and leave the node as it was.
func TestStress(t *testing.T) {
	e := newSerialEnv(t)
	const (
		containers = 100
		workers    = 8
		killOdds   = 0.3 // of a create, and of a delete, being killed
	)
	// The ids share a random prefix, which finds anything left of them.
	prefix := strings.TrimSuffix(e.newID(), "-") + "-"
	s := e.sleepers()
	dir, warmCache, native, wasm := s.dir, s.warmCache, s.native, s.wasm
	t.Cleanup(func() {
		if !t.Failed() {
			return // the sweep below removed them all, as checked
		}
		for i := range containers {
			e.run("delete", "--force", prefix+strconv.Itoa(i))
		}
		reapCgroups(t, prefix)
	})

	caches := []string{warmCache}
	var createKills, deleteKills atomic.Int32
	var mu sync.Mutex
	var failures []string
	failf := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		failures = append(failures, fmt.Sprintf(format, args...))
	}
	// lifecycle runs container i through create, start, kill and delete,
	// leaving it to the final sweep once a create is killed.
	lifecycle := func(i int) error {
		id, bundle, cache := prefix+strconv.Itoa(i), native, warmCache
		// The create of a wasm container with a warm cache takes ~10 ms, so a
		// few compile into a fresh cache (~1.5 s), for kills to come while
		// an entry is locked or written too.
		maxDelay := 30 * time.Millisecond
		if i%2 == 1 {
			bundle = wasm
			if i%40 == 1 {
				cache, maxDelay = filepath.Join(dir, "cache-"+strconv.Itoa(i)), 2*time.Second
				mu.Lock()
				caches = append(caches, cache)
				mu.Unlock()
			}
		}
		run := func(args ...string) error {
			r, err := e.try(append([]string{"--cache-dir", cache}, args...)...)
			if err == nil && r.code != 0 {
				err = fmt.Errorf("%v: %s", args, r)
			}
			return err
		}
		create := []string{"create", "--bundle", bundle, id}
		if rand.Float64() < killOdds {
			killed, err := e.runKilled(rand.N(maxDelay), append([]string{"--cache-dir", cache}, create...)...)
			if killed {
				createKills.Add(1)
			}
			if killed || err != nil {
				return err
			}
		} else if err := run(create...); err != nil {
			return err
		}
		if err := run("start", id); err != nil {
			return err
		}
		if err := run("kill", id, "KILL"); err != nil {
			return err
		}
		if err := waitStopped(e, id); err != nil {
			return err
		}
		if rand.Float64() < killOdds {
			killed, err := e.runKilled(rand.N(30*time.Millisecond), "delete", id)
			if killed {
				deleteKills.Add(1)
			}
			return err
		}
		return run("delete", id)
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				if err := lifecycle(i); err != nil {
					failf("container %d: %v", i, err)
				}
			}
		})
	}
	for i := range containers {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, f := range failures {
		t.Error(f)
	}

	for i := range containers {
		if r := e.run("delete", "--force", prefix+strconv.Itoa(i)); r.code != 0 {
			t.Errorf("sweep: %s", r)
		}
	}
	leaks := assertNoLeaks(t, e, prefix, dir, caches)
	t.Logf("stress: %d containers, %d create kills, %d delete kills, leaks: %s", containers, createKills.Load(), deleteKills.Load(), leaks)
}

// assertNoLeaks checks that nothing is left on the node of the containers
// whose ids start with prefix, once they are all deleted: nothing under e's
// root, no cgroup in any hierarchy, no mount or process that mentions them,
// their root or dir (where their rootfs and wasm caches are), no temp file
// or orphaned lock in the caches. It returns the count of each, as a line
// for the log.
func assertNoLeaks(t *testing.T, e *env, prefix, dir string, caches []string) string {
	t.Helper()
	var cacheTemps []string
	for _, c := range caches {
		e.mustRun("--cache-dir", c, "cache", "prune")
		cacheTemps = append(cacheTemps, cacheLeftovers(t, c)...)
	}
	var states []string
	_ = filepath.WalkDir(e.root, func(path string, d os.DirEntry, err error) error {
		if err == nil && path != e.root {
			rel, _ := filepath.Rel(e.root, path)
			states = append(states, rel)
		}
		return nil
	})
	leaks := []struct {
		kind  string
		found []string
	}{
		{"state", states},
		{"cgroups", cgroupsNamed(t, prefix)},
		{"mounts", mountsMentioning(t, prefix, e.root+"/", dir+"/")},
		// Including wasm runners, by the cgroups that name their ids.
		{"processes", processesMentioning(prefix, e.root+"/", dir+"/")},
		{"cachetmp", cacheTemps},
	}
	var summary []string
	for _, l := range leaks {
		summary = append(summary, fmt.Sprintf("%s=%d", l.kind, len(l.found)))
		if len(l.found) > 0 {
			t.Errorf("%s leaked: %v", l.kind, l.found)
		}
	}
	return strings.Join(summary, " ")
}

// sleepers are a native and a wasm bundle sleeping for 100 s in a busybox
// rootfs that holds probe.wasm, with a cache where it is compiled, all in a
// dir of their own, so that anything left of them is found by its path.
type sleepers struct {
	dir, warmCache string
	native, wasm   string
}

func (e *env) sleepers() sleepers {
	e.t.Helper()
	s := sleepers{dir: e.t.TempDir()}
	rootfs := filepath.Join(s.dir, "rootfs")
	if err := buildRootfs(rootfs, true); err != nil {
		e.t.Fatal(err)
	}
	copyGuest(e.t, "probe.wasm", filepath.Join(rootfs, "probe.wasm"))
	s.warmCache = filepath.Join(s.dir, "cache")
	e.mustRun("--cache-dir", s.warmCache, "precompile", filepath.Join(rootfs, "probe.wasm"))
	s.native = e.bundle(withRootfs(rootfs), withReadonlyRoot(), withArgs("sleep", "100"))
	s.wasm = e.bundle(withRootfs(rootfs), withReadonlyRoot(), wasmHandler, withArgs("/probe.wasm", "sleep", "100"))
	return s
}

// runKilled starts wrunc with args and SIGKILLs it after delay; killed says
// whether that ended it, rather than it finishing first.
func (e *env) runKilled(delay time.Duration, args ...string) (killed bool, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd, collect := e.command(ctx, args...)
	if err := cmd.Start(); err != nil {
		return false, err
	}
	time.Sleep(delay)
	// Not yet waited for, so the pid can't have been reused.
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	r := collect()
	if r.code == -int(syscall.SIGKILL) {
		return true, nil
	}
	if r.code != 0 {
		return false, fmt.Errorf("%v: %s", args, r)
	}
	return false, nil
}

// waitStopped is waitStatus for goroutines other than the test's.
func waitStopped(e *env, id string) error {
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		r, err := e.try("state", id)
		if err != nil {
			return err
		}
		var st containerState
		if json.Unmarshal([]byte(r.stdout), &st) == nil && st.Status == specs.StateStopped {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("container %s not stopped: %s", id, r)
		}
	}
}

// cacheLeftovers lists what a writer killed half-way leaves in a wasm cache:
// temp files, and locks of entries that don't exist.
func cacheLeftovers(t *testing.T, dir string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	// And what wrunc remembers for the boot (see handler/wasm's memo).
	memos, err := filepath.Glob(filepath.Join(dir, "memo", "*"))
	if err != nil {
		t.Fatal(err)
	}
	names = append(names, memos...)
	var found []string
	for _, n := range names {
		base, isLock := strings.CutSuffix(n, ".lock")
		if strings.Contains(n, ".tmp") {
			found = append(found, n)
		} else if _, err := os.Stat(base + ".cwasm"); isLock && err != nil {
			found = append(found, n)
		}
	}
	return found
}

var oomKilled = regexp.MustCompile(`(?m)^oom_kill [1-9]`)

// TestInitKilledFromOutside checks that a container whose init was killed
// by something else than wrunc, the OOM killer or a host's kill, reads as
// stopped and that a plain delete removes it.
func TestInitKilledFromOutside(t *testing.T) {
	limit := int64(32 << 20)
	cases := []struct {
		name  string
		start func(e *env) (id string, pid int)
		oom   bool
	}{
		{"native SIGKILL", func(e *env) (string, int) {
			id, _ := e.startSleeper()
			return id, e.state(id).Pid
		}, false},
		{"wasm SIGKILL", func(e *env) (string, int) { return e.startWasmSleeper() }, false},
		// The shell doubles a string until the memory cgroup's OOM killer
		// ends it; with memsw at the limit there's no swap to escape to.
		{"native OOM", func(e *env) (string, int) {
			id, _ := e.create(withArgs("sh", "-c", "x=0123456789abcdef; while :; do x=$x$x; done"),
				withResources(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit, Swap: &limit}}))
			pid := e.state(id).Pid
			e.mustRun("start", id)
			return id, pid
		}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			id, pid := c.start(e)
			cgroups := containerCgroups(t, pid)
			if !c.oom {
				if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
			}
			e.waitStatus(id, specs.StateStopped)
			waitProcessGone(t, pid)
			if oom := nodecheck.ReadFile(t, filepath.Join(cgroups["memory"], "memory.oom_control")); c.oom && !oomKilled.MatchString(oom) {
				t.Errorf("the init stopped but the memory cgroup's OOM killer never ran: %q", oom)
			}
			e.mustRun("delete", id)
			e.assertClean(id)
			assertCgroupsGone(t, cgroups)
		})
	}
}
