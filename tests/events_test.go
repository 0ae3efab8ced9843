package tests

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"slices"
	"testing"

	"github.com/opencontainers/runc/types"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// event is one line of `events`, its data in runc's stats schema.
type event struct {
	Type string      `json:"type"`
	ID   string      `json:"id"`
	Data types.Stats `json:"data"`
}

func decodeEvent(t *testing.T, line []byte) event {
	t.Helper()
	var ev event
	if err := json.Unmarshal(line, &ev); err != nil {
		t.Fatalf("event %q: %v", line, err)
	}
	return ev
}

// stats returns the sample `events --stats` prints.
func (e *env) stats(id string) types.Stats {
	e.t.Helper()
	r := e.mustRun("events", "--stats", id)
	ev := decodeEvent(e.t, []byte(r.stdout))
	if ev.Type != "stats" || ev.ID != id {
		e.t.Fatalf("events --stats: got a %q event for %q, want stats for %s", ev.Type, ev.ID, id)
	}
	return ev.Data
}

func TestEventsStats(t *testing.T) {
	e := newEnv(t)
	id, _ := e.startSleeper()
	r := e.mustRun("events", "--stats", id)
	var raw struct{ Data map[string]json.RawMessage }
	if err := json.Unmarshal([]byte(r.stdout), &raw); err != nil {
		t.Fatalf("events --stats: %v\n%s", err, r)
	}
	for _, k := range []string{"cpu", "memory", "pids", "blkio", "hugetlb"} {
		if _, ok := raw.Data[k]; !ok {
			t.Errorf("events --stats: data lacks %q: %s", k, r.stdout)
		}
	}
	st := e.stats(id)
	if st.Pids.Current < 1 {
		t.Errorf("pids.current %d, want >= 1", st.Pids.Current)
	}
	// The container exec'd sleep, which costs both.
	if st.CPU.Usage.Total == 0 || st.Memory.Usage.Usage == 0 {
		t.Errorf("cpu.usage.total %d, memory.usage.usage %d: want both > 0", st.CPU.Usage.Total, st.Memory.Usage.Usage)
	}

	e.mustFail([]string{"interval"}, "events", "--interval", "0s", id)
	e.mustRun("kill", id, "KILL")
	e.waitStatus(id, specs.StateStopped)
	e.mustFail([]string{"not running"}, "events", "--stats", id)
}

// events streams stats at the interval and OOM kills as they happen, and
// ends by itself when the container is deleted.
func TestEventsStream(t *testing.T) {
	e := newEnv(t)
	mem := &specs.LinuxMemory{Limit: ptr(int64(32 << 20))}
	// Without swap in the limit, a host with swap would page rather than kill.
	if _, err := os.Stat(cgroupMounts(t)["memory"] + "/memory.memsw.limit_in_bytes"); err == nil {
		mem.Swap = mem.Limit
	}
	id, _ := e.startSleeper(withResources(&specs.LinuxResources{Memory: mem}))

	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd, collect := e.command(ctx, "events", "--interval", "200ms", id)
	cmd.Stdout = nil
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
	})
	lines := bufio.NewScanner(out)
	next := func() event {
		t.Helper()
		if !lines.Scan() {
			cancel()
			cmd.Wait()
			t.Fatalf("events ended early: %v\n%s", lines.Err(), collect())
		}
		ev := decodeEvent(t, lines.Bytes())
		if ev.ID != id {
			t.Fatalf("event for %q, want %s", ev.ID, id)
		}
		return ev
	}
	for range 2 {
		if ev := next(); ev.Type != "stats" || ev.Data.Pids.Current < 1 {
			t.Fatalf("got a %q event with pids %+v, want stats of a live container", ev.Type, ev.Data.Pids)
		}
	}

	// dd's 64 MiB buffer does not fit the limit.
	r := e.run("exec", id, "/bin/busybox", "dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1")
	if r.code != 128+9 {
		t.Fatalf("dd past the memory limit: %s, want killed by the OOM killer", r)
	}
	var seen []string
	for ev := next(); ev.Type != "oom"; ev = next() {
		if seen = append(seen, ev.Type); ev.Type != "stats" {
			t.Fatalf("events %v before the oom event, want only stats", seen)
		}
	}

	e.mustRun("delete", "--force", id)
	for lines.Scan() {
		if ev := decodeEvent(t, lines.Bytes()); !slices.Contains([]string{"stats", "oom"}, ev.Type) {
			t.Errorf("unexpected %q event after delete", ev.Type)
		}
	}
	err = cmd.Wait()
	if res := collect(); err != nil || ctx.Err() != nil {
		t.Errorf("events after delete: %v, want it to end by itself with status 0\n%s", err, res)
	}
}
