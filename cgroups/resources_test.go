package cgroups

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	ocg "github.com/opencontainers/cgroups"
	"github.com/podbox/podbox/internal/testutil"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestMilliCPUToShares(t *testing.T) {
	for _, tt := range []struct {
		milli int64
		want  uint64
	}{
		{0, 2}, {1, 2}, {2, 2}, {3, 3}, {100, 102}, {250, 256}, {500, 512}, {1000, 1024}, {1500, 1536},
		{256000, 262144}, {300000, 262144},
	} {
		if got := MilliCPUToShares(tt.milli); got != tt.want {
			t.Errorf("MilliCPUToShares(%d) = %d, want %d", tt.milli, got, tt.want)
		}
	}
}

func TestMilliCPUToQuota(t *testing.T) {
	for _, tt := range []struct {
		milli, period, want int64
	}{
		{0, 100000, 0}, {1, 100000, 1000}, {5, 100000, 1000}, {10, 100000, 1000}, {11, 100000, 1100},
		{250, 100000, 25000}, {500, 100000, 50000}, {1000, 100000, 100000}, {2500, 100000, 250000},
		{500, 50000, 25000},
	} {
		if got := MilliCPUToQuota(tt.milli, tt.period); got != tt.want {
			t.Errorf("MilliCPUToQuota(%d, %d) = %d, want %d", tt.milli, tt.period, got, tt.want)
		}
	}
}

// The kubelet's KEP-2254 conversion: 2 -> 1, 1024 -> 39, 262144 -> 10000.
func TestSharesToWeight(t *testing.T) {
	for _, tt := range []struct{ shares, want uint64 }{
		{0, 0}, {1, 1}, {2, 1}, {102, 4}, {512, 20}, {1024, 39}, {2048, 79}, {262144, 10000}, {500000, 10000},
	} {
		if got := SharesToWeight(tt.shares); got != tt.want {
			t.Errorf("SharesToWeight(%d) = %d, want %d", tt.shares, got, tt.want)
		}
	}
}

func rl(pairs ...string) corev1.ResourceList {
	l := corev1.ResourceList{}
	for i := 0; i < len(pairs); i += 2 {
		l[corev1.ResourceName(pairs[i])] = resource.MustParse(pairs[i+1])
	}
	return l
}

func ctr(req, lim corev1.ResourceList) corev1.Container {
	return corev1.Container{Resources: corev1.ResourceRequirements{Requests: req, Limits: lim}}
}

func TestContainerLimits(t *testing.T) {
	for _, tt := range []struct {
		name string
		c    corev1.Container
		want Limits
	}{
		{"none", ctr(nil, nil), Limits{CPUShares: 2, OOMGroup: true}},
		{"cpu request", ctr(rl("cpu", "250m"), nil), Limits{CPUShares: 256, OOMGroup: true}},
		{"cpu limit only", ctr(nil, rl("cpu", "500m")), Limits{CPUShares: 512, CPUQuota: 50000, CPUPeriod: 100000, OOMGroup: true}},
		{"request and limit", ctr(rl("cpu", "100m", "memory", "16Mi"), rl("cpu", "2", "memory", "32Mi")),
			Limits{CPUShares: 102, CPUQuota: 200000, CPUPeriod: 100000, Memory: 32 << 20, OOMGroup: true}},
		{"memory only", ctr(rl("memory", "1Gi"), rl("memory", "1G")), Limits{CPUShares: 2, Memory: 1e9, OOMGroup: true}},
		{"tiny limit", ctr(nil, rl("cpu", "1m")), Limits{CPUShares: 2, CPUQuota: 1000, CPUPeriod: 100000, OOMGroup: true}},
		{"ephemeral storage ignored", ctr(rl("ephemeral-storage", "1Gi"), rl("ephemeral-storage", "2Gi")), Limits{CPUShares: 2, OOMGroup: true}},
	} {
		if diff := cmp.Diff(tt.want, ContainerLimits(&tt.c)); diff != "" {
			t.Errorf("%s: ContainerLimits (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestPodLimits(t *testing.T) {
	always := corev1.ContainerRestartPolicyAlways
	sidecar := func(c corev1.Container) corev1.Container { c.RestartPolicy = &always; return c }
	full := func(cpu, mem string) corev1.Container {
		return ctr(rl("cpu", cpu, "memory", mem), rl("cpu", cpu, "memory", mem))
	}
	for _, tt := range []struct {
		name       string
		init, apps []corev1.Container
		pids       int64
		want       Limits
	}{
		{"best effort", nil, []corev1.Container{ctr(nil, nil)}, 0, Limits{CPUShares: 2, Pids: DefaultPodPidsLimit}},
		{"guaranteed sum", nil, []corev1.Container{full("500m", "32Mi"), full("250m", "16Mi")}, 100,
			Limits{CPUShares: 768, CPUQuota: 75000, CPUPeriod: 100000, Memory: 48 << 20, Pids: 100}},
		{"burstable, one container without limits", nil,
			[]corev1.Container{full("500m", "32Mi"), ctr(rl("cpu", "100m"), nil)}, -1,
			Limits{CPUShares: 614}},
		{"burstable, cpu limits everywhere, memory not", nil,
			[]corev1.Container{ctr(rl("cpu", "1"), rl("cpu", "1")), ctr(rl("cpu", "1", "memory", "1Mi"), rl("cpu", "2", "memory", "1Mi"))}, -1,
			Limits{CPUShares: 2048, CPUQuota: 300000, CPUPeriod: 100000}},
		{"init container larger than the sum", []corev1.Container{full("2", "1Gi")},
			[]corev1.Container{full("500m", "32Mi"), full("500m", "32Mi")}, -1,
			Limits{CPUShares: 2048, CPUQuota: 200000, CPUPeriod: 100000, Memory: 1 << 30}},
		{"init container smaller than the sum", []corev1.Container{full("100m", "8Mi")},
			[]corev1.Container{full("500m", "32Mi"), full("500m", "32Mi")}, -1,
			Limits{CPUShares: 1024, CPUQuota: 100000, CPUPeriod: 100000, Memory: 64 << 20}},
		{"init container without limits", []corev1.Container{ctr(nil, nil)},
			[]corev1.Container{full("500m", "32Mi")}, -1,
			Limits{CPUShares: 512}},
		{"sidecar adds to the apps and to later init containers",
			[]corev1.Container{sidecar(full("1", "100Mi")), full("1500m", "10Mi")},
			[]corev1.Container{full("1", "100Mi")}, -1,
			Limits{CPUShares: 2560, CPUQuota: 250000, CPUPeriod: 100000, Memory: 200 << 20}},
	} {
		pod := &corev1.Pod{Spec: corev1.PodSpec{InitContainers: tt.init, Containers: tt.apps}}
		if diff := cmp.Diff(tt.want, PodLimits(pod, tt.pids)); diff != "" {
			t.Errorf("%s: PodLimits (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestLimitsResources(t *testing.T) {
	l := Limits{CPUShares: 1024, CPUQuota: 50000, CPUPeriod: 100000, Memory: 32 << 20, Pids: 64}
	pids := int64(64)
	if diff := cmp.Diff(&ocg.Resources{CpuShares: 1024, CpuQuota: 50000, CpuPeriod: 100000, Memory: 32 << 20,
		MemorySwap: 32 << 20, PidsLimit: &pids}, l.resources(false, true)); diff != "" {
		t.Errorf("v1 (-want +got):\n%s", diff)
	}
	l.OOMGroup = true
	if diff := cmp.Diff(&ocg.Resources{CpuWeight: 39, CpuQuota: 50000, CpuPeriod: 100000, Memory: 32 << 20,
		PidsLimit: &pids, Unified: map[string]string{"memory.oom.group": "1"}}, l.resources(true, false)); diff != "" {
		t.Errorf("v2 without swap accounting (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(&ocg.Resources{CpuShares: 2}, Limits{CPUShares: 2, OOMGroup: true}.resources(false, true)); diff != "" {
		t.Errorf("no limits (-want +got):\n%s", diff)
	}
}

func TestQOSClass(t *testing.T) {
	for _, tt := range []struct {
		name       string
		init, apps []corev1.Container
		want       corev1.PodQOSClass
	}{
		{"nothing", nil, []corev1.Container{ctr(nil, nil)}, corev1.PodQOSBestEffort},
		{"zero quantities", nil, []corev1.Container{ctr(rl("cpu", "0"), rl("memory", "0"))}, corev1.PodQOSBestEffort},
		{"other resources only", nil, []corev1.Container{ctr(rl("ephemeral-storage", "1Gi"), nil)}, corev1.PodQOSBestEffort},
		{"equal requests and limits", nil, []corev1.Container{ctr(rl("cpu", "1", "memory", "1Gi"), rl("cpu", "1000m", "memory", "1Gi"))}, corev1.PodQOSGuaranteed},
		{"two guaranteed containers", nil, []corev1.Container{
			ctr(rl("cpu", "1", "memory", "1Gi"), rl("cpu", "1", "memory", "1Gi")),
			ctr(rl("cpu", "100m", "memory", "10Mi"), rl("cpu", "100m", "memory", "10Mi"))}, corev1.PodQOSGuaranteed},
		{"limits only (requests not defaulted)", nil, []corev1.Container{ctr(nil, rl("cpu", "1", "memory", "1Gi"))}, corev1.PodQOSBurstable},
		{"cpu only", nil, []corev1.Container{ctr(rl("cpu", "1"), rl("cpu", "1"))}, corev1.PodQOSBurstable},
		{"request below limit", nil, []corev1.Container{ctr(rl("cpu", "1", "memory", "1Gi"), rl("cpu", "2", "memory", "1Gi"))}, corev1.PodQOSBurstable},
		{"guaranteed and best effort", nil, []corev1.Container{ctr(rl("cpu", "1", "memory", "1Gi"), rl("cpu", "1", "memory", "1Gi")), ctr(nil, nil)}, corev1.PodQOSBurstable},
		{"best effort init container", []corev1.Container{ctr(nil, nil)}, []corev1.Container{ctr(rl("cpu", "1", "memory", "1Gi"), rl("cpu", "1", "memory", "1Gi"))}, corev1.PodQOSBurstable},
		{"requests only", nil, []corev1.Container{ctr(rl("memory", "10Mi"), nil)}, corev1.PodQOSBurstable},
	} {
		pod := &corev1.Pod{Spec: corev1.PodSpec{InitContainers: tt.init, Containers: tt.apps}}
		if got := QOSClass(pod); got != tt.want {
			t.Errorf("%s: QOSClass = %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestUsageOf(t *testing.T) {
	st := ocg.NewStats()
	st.CpuStats.CpuUsage.TotalUsage = 5e9
	st.MemoryStats.Usage = ocg.MemoryData{Usage: 100 << 20, Limit: 1 << 63}
	st.MemoryStats.Stats = map[string]uint64{"total_inactive_file": 30 << 20, "inactive_file": 10 << 20}
	st.PidsStats.Current = 3
	at := time.Unix(100, 0)
	want := Usage{Time: at, CPU: 5e9, Memory: 70 << 20, MemoryUsage: 100 << 20, Pids: 3}
	if diff := cmp.Diff(want, usageOf(st, at, false)); diff != "" {
		t.Errorf("v1 (-want +got):\n%s", diff)
	}
	st.MemoryStats.Usage.Limit = 64 << 20
	want.Memory, want.MemoryLimit = 90<<20, 64<<20
	if diff := cmp.Diff(want, usageOf(st, at, true)); diff != "" {
		t.Errorf("v2 (-want +got):\n%s", diff)
	}
	b := want
	b.Time, b.CPU = at.Add(2*time.Second), 6e9
	if got := MilliCPU(want, b); got != 500 {
		t.Errorf("MilliCPU = %d, want 500", got)
	}
	if got := MilliCPU(b, want); got != 0 {
		t.Errorf("MilliCPU backwards = %d, want 0", got)
	}
}

func TestOOMScoreAdj(t *testing.T) {
	g := ctr(rl("cpu", "1", "memory", "1Gi"), rl("cpu", "1", "memory", "1Gi"))
	half := ctr(rl("memory", "4Gi"), nil)
	none := ctr(nil, nil)
	all := ctr(rl("memory", "8Gi"), nil)
	const capacity = 8 << 30
	for _, tt := range []struct {
		name string
		apps []corev1.Container
		want int
	}{
		{"guaranteed", []corev1.Container{g}, -997},
		{"best effort", []corev1.Container{none}, 1000},
		{"burstable, half the memory", []corev1.Container{half, none}, 500},
		{"burstable, no memory request", []corev1.Container{none, half}, 999},
		{"burstable, all the memory", []corev1.Container{all}, 3},
	} {
		pod := &corev1.Pod{Spec: corev1.PodSpec{Containers: tt.apps}}
		if got := OOMScoreAdj(pod, &pod.Spec.Containers[0], capacity); got != tt.want {
			t.Errorf("%s: OOMScoreAdj = %d, want %d", tt.name, got, tt.want)
		}
	}
}

// ReadUsage reads an empty pod cgroup (nothing below it yet) and refuses a
// missing one; limits set on a pod show in its files.
func TestReadUsageAndSetLimits(t *testing.T) {
	testutil.RequireRoot(t)
	parent := testParent(t)
	p, err := CreatePod(parent, "u1")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := p.Destroy(); err != nil {
			t.Error(err)
		}
	}()
	if err := p.SetLimits(Limits{CPUShares: 512, CPUQuota: 50000, CPUPeriod: QuotaPeriod, Memory: 64 << 20, Pids: 42}); err != nil {
		t.Fatal(err)
	}
	u, err := ReadUsage(p.Path())
	if err != nil {
		t.Fatalf("ReadUsage of an empty pod cgroup: %v", err)
	}
	if u.MemoryLimit != 64<<20 || u.Time.IsZero() {
		t.Errorf("usage %+v, want the 64 MiB limit", u)
	}
	file := func(ctl, v1, v2 string) string {
		f := filepath.Join("/sys/fs/cgroup", ctl, p.Path(), v1)
		if V2() {
			f = filepath.Join("/sys/fs/cgroup", p.Path(), v2)
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	if got := file("pids", "pids.max", "pids.max"); got != "42" {
		t.Errorf("pids.max = %s, want 42", got)
	}
	if V2() {
		if got := file("", "", "cpu.max"); got != "50000 100000" {
			t.Errorf("cpu.max = %s", got)
		}
	} else if got := file("cpu", "cpu.cfs_quota_us", ""); got != "50000" {
		t.Errorf("cpu.cfs_quota_us = %s", got)
	}
	if _, err := ReadUsage(PodPath(parent, "nosuch")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadUsage of a missing cgroup: %v, want ErrNotExist", err)
	}
}
