package cgroups

import (
	"fmt"
	"os"
	"path"
	"strings"

	ocg "github.com/opencontainers/cgroups"
	corev1 "k8s.io/api/core/v1"
)

// The kubelet's CPU constants (pkg/kubelet/cm): cpu.shares bounds, the CFS
// period podbox always uses (100 ms) and the smallest quota the kernel takes.
const (
	MinShares     = 2
	MaxShares     = 262144
	SharesPerCPU  = 1024
	QuotaPeriod   = 100000 // µs
	MinQuotaUsec  = 1000   // µs
	milliCPUToCPU = 1000
)

// DefaultPodPidsLimit is the pids limit of a pod cgroup when none is asked
// for. The kubelet's podPidsLimit defaults to unlimited; podbox caps pods
// at what OpenShift's kubelets use, which no ordinary workload reaches and
// which stops a fork bomb from taking the host's PIDs.
const DefaultPodPidsLimit = 4096

// Limits are the cgroup settings of a container or a pod, in the kubelet's
// cgroup v1 terms; Resources turns them into the host's (v1 or v2) values.
// A zero field means "not limited" (CPUShares: the kernel's default).
type Limits struct {
	CPUShares uint64 // cpu.shares (v2: converted to cpu.weight)
	CPUQuota  int64  // µs of CPU time per CPUPeriod (cpu.cfs_quota_us, cpu.max)
	CPUPeriod uint64 // µs (cpu.cfs_period_us)
	Memory    int64  // bytes (memory.limit_in_bytes, memory.max)
	Pids      int64  // pids.max
	// OOMGroup makes the OOM killer kill every process of the cgroup at
	// once (v2 memory.oom.group), as the kubelet asks for containers on
	// v2; v1 has no such setting and kills one process.
	OOMGroup bool
}

// MilliCPUToShares is the kubelet's conversion of a CPU request (in
// millicores) to cpu.shares: 1024 per CPU, at least 2 (also for no
// request), at most 262144.
func MilliCPUToShares(milliCPU int64) uint64 {
	if milliCPU == 0 {
		return MinShares
	}
	shares := milliCPU * SharesPerCPU / milliCPUToCPU
	switch {
	case shares < MinShares:
		return MinShares
	case shares > MaxShares:
		return MaxShares
	}
	return uint64(shares)
}

// MilliCPUToQuota is the kubelet's conversion of a CPU limit (in
// millicores) to a CFS quota for period (µs): 0 (no quota) for no limit,
// else at least 1 ms.
func MilliCPUToQuota(milliCPU int64, period int64) int64 {
	if milliCPU == 0 {
		return 0
	}
	quota := milliCPU * period / milliCPUToCPU
	if quota < MinQuotaUsec {
		quota = MinQuotaUsec
	}
	return quota
}

// SharesToWeight is the kubelet's conversion of cgroup v1 cpu.shares
// ([2, 262144]) to cgroup v2 cpu.weight ([1, 10000]), from KEP-2254; 0
// stays 0 (unset).
func SharesToWeight(shares uint64) uint64 {
	switch {
	case shares == 0:
		return 0
	case shares < MinShares:
		shares = MinShares
	case shares > MaxShares:
		shares = MaxShares
	}
	return (shares-2)*9999/262142 + 1
}

// ContainerLimits are the cgroup settings the kubelet gives a container
// (kuberuntime's calculateLinuxResources): cpu.shares from the CPU request
// (the limit when there is no request; 2 when neither), a CFS quota from
// the CPU limit with a 100 ms period, and the memory limit.
func ContainerLimits(c *corev1.Container) Limits {
	req, lim := c.Resources.Requests, c.Resources.Limits
	cpuReq, cpuLim := milli(req, corev1.ResourceCPU), milli(lim, corev1.ResourceCPU)
	l := Limits{CPUShares: MilliCPUToShares(cpuReq), Memory: value(lim, corev1.ResourceMemory), OOMGroup: true}
	if cpuReq == 0 && cpuLim != 0 {
		l.CPUShares = MilliCPUToShares(cpuLim)
	}
	if cpuLim != 0 {
		l.CPUPeriod = QuotaPeriod
		l.CPUQuota = MilliCPUToQuota(cpuLim, QuotaPeriod)
	}
	return l
}

// PodLimits are the settings of the pod cgroup, by the kubelet's rule
// (ResourceConfigForPod): the pod's requests and limits are the sum over
// the app containers (and sidecars), or the largest init container's when
// that is more; cpu.shares come from the CPU requests (2 for a BestEffort
// pod); the CPU quota is set only when every container has a CPU limit
// and the memory limit only when every container has a memory limit.
// pidsLimit is the pids limit (0: DefaultPodPidsLimit, negative: none).
func PodLimits(pod *corev1.Pod, pidsLimit int64) Limits {
	reqs, limits := PodRequests(pod), PodLimitsSum(pod)
	cpuDeclared, memDeclared := true, true
	for _, cs := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range cs {
			lim := cs[i].Resources.Limits
			if milli(lim, corev1.ResourceCPU) == 0 {
				cpuDeclared = false
			}
			if value(lim, corev1.ResourceMemory) == 0 {
				memDeclared = false
			}
		}
	}
	var l Limits
	switch QOSClass(pod) {
	case corev1.PodQOSBestEffort:
		l.CPUShares = MinShares
	default:
		l.CPUShares = MilliCPUToShares(milli(reqs, corev1.ResourceCPU))
		if cpuDeclared {
			l.CPUPeriod = QuotaPeriod
			l.CPUQuota = MilliCPUToQuota(milli(limits, corev1.ResourceCPU), QuotaPeriod)
		}
		if memDeclared {
			l.Memory = value(limits, corev1.ResourceMemory)
		}
	}
	switch {
	case pidsLimit == 0:
		l.Pids = DefaultPodPidsLimit
	case pidsLimit > 0:
		l.Pids = pidsLimit
	}
	return l
}

// PodRequests is the pod's effective requests (component-helpers'
// PodRequests without pod-level resources or overhead): the sum of the app
// containers' and sidecars', or, per resource, the largest an init
// container needs while it runs (with the sidecars started before it).
func PodRequests(pod *corev1.Pod) corev1.ResourceList {
	return aggregate(pod, func(c *corev1.Container) corev1.ResourceList { return c.Resources.Requests })
}

// PodLimitsSum is the pod's effective limits, aggregated as PodRequests.
// A container without a limit adds nothing: whether every container has
// one is for the caller to check.
func PodLimitsSum(pod *corev1.Pod) corev1.ResourceList {
	return aggregate(pod, func(c *corev1.Container) corev1.ResourceList { return c.Resources.Limits })
}

func aggregate(pod *corev1.Pod, get func(*corev1.Container) corev1.ResourceList) corev1.ResourceList {
	sum := corev1.ResourceList{}
	for i := range pod.Spec.Containers {
		addList(sum, get(&pod.Spec.Containers[i]))
	}
	sidecars, initMax := corev1.ResourceList{}, corev1.ResourceList{}
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		var need corev1.ResourceList
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			addList(sum, get(c))
			addList(sidecars, get(c))
			need = sidecars
		} else {
			need = corev1.ResourceList{}
			addList(need, get(c))
			addList(need, sidecars)
		}
		maxList(initMax, need)
	}
	maxList(sum, initMax)
	return sum
}

func addList(to, from corev1.ResourceList) {
	for name, q := range from {
		cur, ok := to[name]
		if !ok {
			to[name] = q.DeepCopy()
			continue
		}
		cur.Add(q)
		to[name] = cur
	}
}

func maxList(to, from corev1.ResourceList) {
	for name, q := range from {
		if cur, ok := to[name]; !ok || q.Cmp(cur) > 0 {
			to[name] = q.DeepCopy()
		}
	}
}

func milli(l corev1.ResourceList, name corev1.ResourceName) int64 {
	if q, ok := l[name]; ok {
		return q.MilliValue()
	}
	return 0
}

func value(l corev1.ResourceList, name corev1.ResourceName) int64 {
	if q, ok := l[name]; ok {
		return q.Value()
	}
	return 0
}

// Resources turns the limits into opencontainers/cgroups resources for
// this host: cpu.weight instead of cpu.shares on v2, and, as containerd
// does, no swap beyond the memory limit where swap is accounted (v1
// memory.memsw, v2 memory.swap.max).
func (l Limits) Resources() *ocg.Resources {
	return l.resources(V2(), swapAccounted())
}

func (l Limits) resources(v2, swap bool) *ocg.Resources {
	r := &ocg.Resources{
		CpuQuota:  l.CPUQuota,
		CpuPeriod: l.CPUPeriod,
		Memory:    l.Memory,
	}
	if v2 {
		r.CpuWeight = SharesToWeight(l.CPUShares)
	} else {
		r.CpuShares = l.CPUShares
	}
	if l.Memory > 0 && swap {
		r.MemorySwap = l.Memory
	}
	if l.Pids > 0 {
		p := l.Pids
		r.PidsLimit = &p
	}
	if l.OOMGroup && v2 {
		r.Unified = map[string]string{"memory.oom.group": "1"}
	}
	return r
}

// swapAccounted reports whether the host accounts swap per cgroup, so that
// a memory+swap limit can be set.
func swapAccounted() bool {
	if !V2() {
		_, err := os.Stat("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes")
		return err == nil
	}
	// The root cgroup has no memory.swap.max: look at this process's own
	// cgroup (containerd's check), else at podbox's parent.
	for _, dir := range []string{selfCgroupV2(), DefaultParent} {
		if dir == "" || dir == "/" {
			continue
		}
		if _, err := os.Stat(path.Join("/sys/fs/cgroup", dir, "memory.swap.max")); err == nil {
			return true
		}
	}
	return false
}

// selfCgroupV2 is this process's cgroup v2 path ("0::/path").
func selfCgroupV2() string {
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		if p, ok := strings.CutPrefix(line, "0::"); ok {
			return p
		}
	}
	return ""
}

// SetLimits applies the pod-level limits to the pod cgroup.
func (p *Pod) SetLimits(l Limits) error {
	r := l.Resources()
	r.SkipDevices = true
	if err := p.mgr.Set(r); err != nil {
		return fmt.Errorf("set limits of cgroup %s: %w", p.path, err)
	}
	return nil
}
