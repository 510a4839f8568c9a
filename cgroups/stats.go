package cgroups

import (
	"fmt"
	"os"
	"time"

	ocg "github.com/opencontainers/cgroups"
)

// Usage is what a cgroup (and everything below it) has used, read at one
// moment.
type Usage struct {
	// Time is when it was read.
	Time time.Time
	// CPU is the cumulative CPU time, in nanoseconds.
	CPU uint64
	// Memory is the working set in bytes: the memory usage minus the
	// inactive file cache, which the kernel reclaims first (what cAdvisor,
	// metrics-server and so kubectl top report).
	Memory uint64
	// MemoryUsage is the raw usage, page cache included; MemoryLimit the
	// cgroup's limit (0: none).
	MemoryUsage, MemoryLimit uint64
	// Pids is the number of processes and threads.
	Pids uint64
}

// ReadUsage reads the CPU, memory and pids usage of the cgroup at the given
// absolute path. A cgroup that does not exist is an error wrapping
// os.ErrNotExist.
func ReadUsage(cgroupPath string) (Usage, error) {
	mgr, err := newManager(cgroupPath)
	if err != nil {
		return Usage{}, fmt.Errorf("read usage of cgroup %s: %w", cgroupPath, err)
	}
	if !statsExist(mgr) {
		return Usage{}, fmt.Errorf("read usage of cgroup %s: %w", cgroupPath, os.ErrNotExist)
	}
	st, err := mgr.Stats(&ocg.StatsOptions{Controllers: ocg.CPU | ocg.Memory | ocg.Pids})
	if err != nil {
		return Usage{}, fmt.Errorf("read usage of cgroup %s: %w", cgroupPath, err)
	}
	return usageOf(st, time.Now(), V2()), nil
}

// usageOf extracts a Usage from the library's statistics.
func usageOf(st *ocg.Stats, at time.Time, v2 bool) Usage {
	u := Usage{
		Time:        at,
		CPU:         st.CpuStats.CpuUsage.TotalUsage,
		MemoryUsage: st.MemoryStats.Usage.Usage,
		Pids:        st.PidsStats.Current,
	}
	if lim := st.MemoryStats.Usage.Limit; lim > 0 && lim < 1<<62 {
		u.MemoryLimit = lim // v1 says "unlimited" with a huge number
	}
	inactive := st.MemoryStats.Stats["total_inactive_file"]
	if v2 {
		inactive = st.MemoryStats.Stats["inactive_file"]
	}
	u.Memory = u.MemoryUsage
	if inactive < u.Memory {
		u.Memory -= inactive
	} else {
		u.Memory = 0
	}
	return u
}

// MilliCPU is the CPU rate between two readings of one cgroup, in
// millicores (1000 = one CPU busy all the time); 0 if b is not later.
func MilliCPU(a, b Usage) int64 {
	dt := b.Time.Sub(a.Time)
	if dt <= 0 || b.CPU < a.CPU {
		return 0
	}
	return int64(float64(b.CPU-a.CPU) / float64(dt.Nanoseconds()) * 1000)
}

// statsExist reports whether the cgroup exists where its statistics are
// (the manager's own Exists looks at the devices hierarchy on v1, where a
// pod cgroup has no directory until a container is made in it).
func statsExist(mgr ocg.Manager) bool {
	if V2() {
		return mgr.Exists()
	}
	for _, ctl := range []string{"memory", "cpuacct", "cpu"} {
		if dir := mgr.Path(ctl); dir != "" {
			if _, err := os.Stat(dir); err == nil {
				return true
			}
		}
	}
	return false
}
