package runtime

import (
	"os"
	"strconv"
	"strings"

	"github.com/opencontainers/runc/libcontainer/configs"
)

// applyResources puts the spec's cgroup limits (next to the device rules
// already there) and oom_score_adj into the config. The oom_score_adj is
// never set below this process's own: lowering it needs CAP_SYS_RESOURCE,
// and a refused write kills the container's init.
func applyResources(c *configs.Config, s *Spec) {
	if s.Resources != nil {
		r := s.Resources.Resources()
		r.Devices = c.Cgroups.Devices
		c.Cgroups.Resources = r
	}
	if s.OOMScoreAdj != nil {
		adj := max(*s.OOMScoreAdj, ownOOMScoreAdj())
		c.OomScoreAdj = &adj
	}
}

// ownOOMScoreAdj is this process's oom_score_adj (0 if unknown).
func ownOOMScoreAdj() int {
	b, err := os.ReadFile("/proc/self/oom_score_adj")
	if err != nil {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0
	}
	return n
}
