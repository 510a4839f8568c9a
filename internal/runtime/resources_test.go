package runtime

import (
	"testing"

	"github.com/podbox/podbox/cgroups"
)

func TestNewConfigResources(t *testing.T) {
	s := baseSpec(t)
	c := newConfig(t, s)
	if r := c.Cgroups.Resources; r.Memory != 0 || r.CpuShares != 0 || r.CpuWeight != 0 || r.CpuQuota != 0 || len(r.Devices) == 0 {
		t.Errorf("no limits: resources = %+v, want device rules only", r)
	}
	if c.OomScoreAdj != nil {
		t.Errorf("no limits: OomScoreAdj = %d, want unset", *c.OomScoreAdj)
	}

	s.Resources = &cgroups.Limits{CPUShares: 512, CPUQuota: 50000, CPUPeriod: 100000, Memory: 32 << 20}
	adj, low := 500, -999
	s.OOMScoreAdj = &adj
	c = newConfig(t, s)
	r := c.Cgroups.Resources
	if r.Memory != 32<<20 || r.CpuQuota != 50000 || r.CpuPeriod != 100000 || len(r.Devices) == 0 {
		t.Errorf("resources = %+v, want the limits and the device rules", r)
	}
	if cgroups.V2() {
		if r.CpuWeight != cgroups.SharesToWeight(512) {
			t.Errorf("cpu weight = %d, want %d", r.CpuWeight, cgroups.SharesToWeight(512))
		}
	} else if r.CpuShares != 512 {
		t.Errorf("cpu shares = %d, want 512", r.CpuShares)
	}
	if c.OomScoreAdj == nil || *c.OomScoreAdj != 500 {
		t.Errorf("OomScoreAdj = %v, want 500", c.OomScoreAdj)
	}
	// Never below this process's own: nobody here may lower it.
	s.OOMScoreAdj = &low
	c = newConfig(t, s)
	if own := ownOOMScoreAdj(); c.OomScoreAdj == nil || *c.OomScoreAdj != own {
		t.Errorf("OomScoreAdj = %v, want this process's %d", c.OomScoreAdj, own)
	}
}
