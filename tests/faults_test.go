package tests

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/wrunc/wrunc/tests/nodecheck"
)

// TestFaultInjection runs native and wasm containers through create, start,
// exec, kill and delete, SIGKILLing the create, start, exec or delete at a
// random moment, as an engine's timeouts and a node's crashes do. After
// each kill what `state` says must hold: a created container starts, a
// running one refuses a second start at once, an interrupted create says
// so and refuses to start. At the end, whatever `list` shows is deleted,
// and the node must be as it was: no state, cgroup, mount, process or cache
// temp file left, although the test forgets its ids and trusts `list`.
func TestFaultInjection(t *testing.T) {
	e := newSerialEnv(t)
	const (
		cycles   = 36
		killOdds = 0.4 // of each of a cycle's create, start, exec and delete
	)
	prefix := strings.TrimSuffix(e.newID(), "-") + "-"
	s := e.sleepers()
	dir, warm := s.dir, s.warmCache
	f := &faults{e: e, killOdds: killOdds, native: s.native, wasm: s.wasm, kills: map[string]int{}}
	caches := []string{warm}
	t.Cleanup(func() {
		if t.Failed() {
			for i := range cycles {
				e.run("delete", "--force", prefix+strconv.Itoa(i))
			}
			reapCgroups(t, prefix)
		}
	})

	for i := range cycles {
		c := cycle{id: prefix + strconv.Itoa(i), bundle: f.native, cache: warm, maxDelay: 40 * time.Millisecond}
		if i%2 == 1 {
			c.bundle, c.wasm = f.wasm, true
			// A warm create takes milliseconds; some compile into a
			// new cache (a second or so), where most kills land while
			// the runner waits for its artifact.
			if i%6 == 1 {
				c.cache, c.maxDelay = filepath.Join(dir, "cache-"+strconv.Itoa(i)), 1500*time.Millisecond
				caches = append(caches, c.cache)
			}
		}
		if err := f.run(c); err != nil {
			t.Errorf("cycle %d (%s): %v", i, c.bundle, err)
		}
	}

	// The sweep: by what list shows, not by the ids the test knows.
	r := e.mustRun("list", "--format", "json")
	var listed []containerState
	if err := json.Unmarshal([]byte(r.stdout), &listed); err != nil {
		t.Fatalf("list --format json: %v: %q", err, r.stdout)
	}
	for _, st := range listed {
		f.statuses = append(f.statuses, string(st.Status))
		if r := e.run("delete", "--force", st.ID); r.code != 0 {
			t.Errorf("sweep: %s", r)
		}
	}
	if r := e.mustRun("list", "-q"); r.stdout != "" {
		t.Errorf("list after the sweep: %q", r.stdout)
	}
	leaks := assertNoLeaks(t, e, prefix, dir, caches)
	t.Logf("faults: %d cycles, kills %v, left for the sweep %v, leaks: %s", cycles, f.kills, f.statuses, leaks)
}

// faults is the fault-injection run: its bundles and what it counts.
type faults struct {
	e            *env
	killOdds     float64
	native, wasm string
	kills        map[string]int // per command
	statuses     []string       // of what the sweep deleted
}

// cycle is one container's lifecycle.
type cycle struct {
	id, bundle, cache string
	wasm              bool
	maxDelay          time.Duration // of a create's kill
}

// run takes c's container through its lifecycle, checking what state says
// after each kill; a container whose create was killed is left for the
// sweep.
func (f *faults) run(c cycle) error {
	killed, err := f.step(c, c.maxDelay, "create", "--bundle", c.bundle, c.id)
	if err != nil {
		return err
	}
	if killed {
		ended := false
		err := f.afterKill("create", c.id, map[specs.ContainerState]func() error{
			gone:               func() error { ended = true; return nil }, // nothing made yet
			createInterrupted:  func() error { ended = true; return f.refusedStart(c.id, "interrupted") },
			specs.StateCreated: func() error { return nil }, // so it must start
		})
		if err != nil || ended {
			return err
		}
	}
	if killed, err = f.step(c, 30*time.Millisecond, "start", c.id); err != nil {
		return err
	}
	if killed {
		ended := false
		err := f.afterKill("start", c.id, map[specs.ContainerState]func() error{
			specs.StateCreated: func() error {
				_, err := f.step(cycle{cache: c.cache}, 0, "start", c.id)
				return err
			},
			specs.StateRunning: func() error { return f.refusedStart(c.id, "already running") },
			// A start killed after it opened the exec fifo and before it
			// read the init's word: the init's write fails (EPIPE) and it
			// exits without running the program, as under runc.
			specs.StateStopped: func() error {
				ended = true
				_, err := f.step(cycle{cache: c.cache}, 0, "delete", c.id)
				return err
			},
		})
		if err != nil || ended {
			return err
		}
	}
	if err := f.runs(c); err != nil {
		return err
	}

	exec := []string{"exec", c.id, "true"}
	if c.wasm {
		exec = []string{"exec", c.id, "/probe.wasm", "args"}
	}
	if _, err := f.step(c, 30*time.Millisecond, exec...); err != nil {
		return err
	}
	if st, err := f.state(c.id); err != nil || st == nil || st.Status != specs.StateRunning {
		return fmt.Errorf("after an exec, state says %+v (%v), want running", st, err)
	}

	if _, err := f.step(cycle{cache: c.cache}, 0, "kill", c.id, "KILL"); err != nil {
		return err
	}
	if err := waitStopped(f.e, c.id); err != nil {
		return err
	}
	_, err = f.step(c, 30*time.Millisecond, "delete", c.id)
	return err
}

// step runs wrunc with c's cache and args, SIGKILLed at a random moment
// before maxDelay with the run's odds (never when maxDelay is 0).
func (f *faults) step(c cycle, maxDelay time.Duration, args ...string) (killed bool, err error) {
	args = append([]string{"--cache-dir", c.cache}, args...)
	if maxDelay > 0 && rand.Float64() < f.killOdds {
		killed, err = f.e.runKilled(rand.N(maxDelay), args...)
		if killed {
			f.kills[args[2]]++
		}
		return killed, err
	}
	r, err := f.e.try(args...)
	if err == nil && r.code != 0 {
		err = fmt.Errorf("%v: %s", args, r)
	}
	return false, err
}

// gone is afterKill's status of a container that does not exist.
const gone = specs.ContainerState("gone")

// afterKill checks what `state` says of id once its cmd was killed: each
// status that may be said then maps to a check of what must then hold.
func (f *faults) afterKill(cmd, id string, checks map[specs.ContainerState]func() error) error {
	st, err := f.state(id)
	if err != nil {
		return err
	}
	status := gone
	if st != nil {
		status = st.Status
	}
	check, ok := checks[status]
	if !ok {
		return fmt.Errorf("after a killed %s, state says %q", cmd, status)
	}
	if err := check(); err != nil {
		return fmt.Errorf("after a killed %s, %s: %w", cmd, status, err)
	}
	return nil
}

// state returns what `state` says of id, nil if it does not exist.
func (f *faults) state(id string) (*containerState, error) {
	r, err := f.e.try("state", id)
	switch {
	case err != nil:
		return nil, err
	case r.code != 0 && strings.Contains(r.stderr, "does not exist"):
		return nil, nil
	case r.code != 0:
		return nil, fmt.Errorf("state %s: %s", id, r)
	}
	var st containerState
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		return nil, fmt.Errorf("state %s: %v: %s", id, err, r)
	}
	return &st, nil
}

// refusedStart wants a start of id to fail, saying why in one line.
func (f *faults) refusedStart(id, why string) error {
	r, err := f.e.try("start", id)
	if err != nil {
		return err
	}
	if r.code == 0 || !strings.Contains(r.stderr, why) || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
		return fmt.Errorf("start of %s: %s, want a one-line failure saying %q", id, r, why)
	}
	return nil
}

// runs checks that c's started container runs its program: a wasm runner
// whose create never handed it its artifact would die at once.
func (f *faults) runs(c cycle) error {
	st, err := f.state(c.id)
	if err != nil || st == nil || st.Status != specs.StateRunning {
		return fmt.Errorf("after start, state says %+v (%v), want running", st, err)
	}
	if !c.wasm {
		return nil
	}
	loaded := nodecheck.Until(15*time.Second, func() bool {
		_, mapped := artifactMappedFrom(st.Pid, c.cache)
		return mapped || nodecheck.Gone(st.Pid)
	})
	if st, err := f.state(c.id); !loaded || err != nil || st == nil || st.Status != specs.StateRunning || nodecheck.Gone(st.Pid) {
		return fmt.Errorf("the started wasm container does not run its module: %+v (%v)", st, err)
	}
	return nil
}
