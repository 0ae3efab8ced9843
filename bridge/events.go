package bridge

import (
	"fmt"
	"time"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/intelrdt"
	"github.com/opencontainers/runc/types"
	"github.com/sirupsen/logrus"
)

// Stats samples the resource usage of a container in runc's event shape.
func (r *Runtime) Stats(id string) (*types.Event, error) {
	c, err := r.loadLive(id)
	if err != nil {
		return nil, err
	}
	return statsEvent(c)
}

// Events hands emit a stats sample of the container every interval and an
// "oom" event whenever the kernel kills in its memory cgroup, until the
// cgroup is removed or emit fails.
func (r *Runtime) Events(id string, interval time.Duration, emit func(*types.Event) error) error {
	c, err := r.loadLive(id)
	if err != nil {
		return err
	}
	oom, err := c.NotifyOOM()
	if err != nil {
		return fmt.Errorf("oom notifications of %s: %w", id, err)
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		var ev *types.Event
		select {
		case _, ok := <-oom:
			if !ok {
				return nil
			}
			ev = &types.Event{Type: "oom", ID: id}
		case <-tick.C:
			if ev, err = statsEvent(c); err != nil {
				// A sample can fail while the container goes away; the
				// closing oom channel ends the stream then.
				logrus.Error(err)
				continue
			}
		}
		if err := emit(ev); err != nil {
			return err
		}
	}
}

// loadLive loads a container that has processes, whose cgroups hold stats.
func (r *Runtime) loadLive(id string) (*libcontainer.Container, error) {
	c, err := r.Load(id)
	if err != nil {
		return nil, err
	}
	status, err := c.Status()
	if err != nil {
		return nil, fmt.Errorf("status of %s: %w", id, err)
	}
	if status == libcontainer.Stopped {
		return nil, fmt.Errorf("container with id %s is not running", id)
	}
	return c, nil
}

func statsEvent(c *libcontainer.Container) (*types.Event, error) {
	s, err := c.Stats()
	if err != nil {
		return nil, fmt.Errorf("stats of %s: %w", c.ID(), err)
	}
	return &types.Event{Type: "stats", ID: c.ID(), Data: eventStats(s)}, nil
}

// eventStats converts libcontainer's stats into runc's stable `events`
// schema, which engines decode.
func eventStats(ls *libcontainer.Stats) *types.Stats {
	cg := ls.CgroupStats
	if cg == nil {
		return nil
	}
	cpu, mem := &cg.CpuStats, &cg.MemoryStats
	s := &types.Stats{
		CPU: types.Cpu{
			Usage: types.CpuUsage{
				Total:        cpu.CpuUsage.TotalUsage,
				Percpu:       cpu.CpuUsage.PercpuUsage,
				PercpuKernel: cpu.CpuUsage.PercpuUsageInKernelmode,
				PercpuUser:   cpu.CpuUsage.PercpuUsageInUsermode,
				Kernel:       cpu.CpuUsage.UsageInKernelmode,
				User:         cpu.CpuUsage.UsageInUsermode,
			},
			Throttling: types.Throttling(cpu.ThrottlingData),
			PSI:        cpu.PSI,
		},
		CPUSet: types.CPUSet(cg.CPUSetStats),
		Memory: types.Memory{
			Cache:     mem.Cache,
			Usage:     memoryEntry(mem.Usage),
			Swap:      memoryEntry(mem.SwapUsage),
			Kernel:    memoryEntry(mem.KernelUsage),
			KernelTCP: memoryEntry(mem.KernelTCPUsage),
			Raw:       mem.Stats,
			PSI:       mem.PSI,
		},
		Pids: types.Pids{Current: cg.PidsStats.Current, Limit: cg.PidsStats.Limit},
		Blkio: types.Blkio{
			IoServiceBytesRecursive: blkioEntries(cg.BlkioStats.IoServiceBytesRecursive),
			IoServicedRecursive:     blkioEntries(cg.BlkioStats.IoServicedRecursive),
			IoQueuedRecursive:       blkioEntries(cg.BlkioStats.IoQueuedRecursive),
			IoServiceTimeRecursive:  blkioEntries(cg.BlkioStats.IoServiceTimeRecursive),
			IoWaitTimeRecursive:     blkioEntries(cg.BlkioStats.IoWaitTimeRecursive),
			IoMergedRecursive:       blkioEntries(cg.BlkioStats.IoMergedRecursive),
			IoTimeRecursive:         blkioEntries(cg.BlkioStats.IoTimeRecursive),
			SectorsRecursive:        blkioEntries(cg.BlkioStats.SectorsRecursive),
			PSI:                     cg.BlkioStats.PSI,
		},
		Hugetlb:           make(map[string]types.Hugetlb, len(cg.HugetlbStats)),
		NetworkInterfaces: ls.Interfaces,
	}
	for size, h := range cg.HugetlbStats {
		s.Hugetlb[size] = types.Hugetlb{Usage: h.Usage, Max: h.MaxUsage, Failcnt: h.Failcnt}
	}
	if rdt := ls.IntelRdtStats; rdt != nil {
		s.IntelRdt = intelRdtStats(rdt)
	}
	return s
}

// intelRdtStats reports only what the host's RDT features make meaningful.
func intelRdtStats(rdt *intelrdt.Stats) types.IntelRdt {
	out := types.IntelRdt{Schemata: rdt.Schemata}
	if intelrdt.IsCATEnabled() {
		if rdt.L3CacheInfo != nil {
			info := types.L3CacheInfo(*rdt.L3CacheInfo)
			out.L3CacheInfo = &info
		}
		out.L3CacheSchemaRoot, out.L3CacheSchema = rdt.L3CacheSchemaRoot, rdt.L3CacheSchema
	}
	if intelrdt.IsMBAEnabled() {
		if rdt.MemBwInfo != nil {
			info := types.MemBwInfo(*rdt.MemBwInfo)
			out.MemBwInfo = &info
		}
		out.MemBwSchemaRoot, out.MemBwSchema = rdt.MemBwSchemaRoot, rdt.MemBwSchema
	}
	if intelrdt.IsMBMEnabled() {
		out.MBMStats = rdt.MBMStats
	}
	if intelrdt.IsCMTEnabled() {
		out.CMTStats = rdt.CMTStats
	}
	return out
}

func memoryEntry(d cgroups.MemoryData) types.MemoryEntry {
	return types.MemoryEntry{Limit: d.Limit, Usage: d.Usage, Max: d.MaxUsage, Failcnt: d.Failcnt}
}

func blkioEntries(in []cgroups.BlkioStatEntry) []types.BlkioEntry {
	out := make([]types.BlkioEntry, len(in))
	for i, e := range in {
		out[i] = types.BlkioEntry(e)
	}
	return out
}
