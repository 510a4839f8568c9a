package cgroups

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// QOSClass is the pod's quality of service class by the kubelet's rule
// (ComputePodQOS, without pod-level resources, which podbox refuses):
//
//   - BestEffort: no container (init or app) requests or limits cpu or
//     memory;
//   - Guaranteed: every container has non-zero cpu and memory limits, and
//     the pod's summed requests equal its summed limits for both;
//   - Burstable: anything else.
//
// Only cpu and memory count; zero quantities count as unset. Requests
// default to limits (the API server's defaulting, kube.SetDefaults) before
// this is asked.
func QOSClass(pod *corev1.Pod) corev1.PodQOSClass {
	requests, limits := corev1.ResourceList{}, corev1.ResourceList{}
	guaranteed := true
	add := func(to corev1.ResourceList, name corev1.ResourceName, q resource.Quantity) {
		if cur, ok := to[name]; ok {
			q = q.DeepCopy()
			q.Add(cur)
		}
		to[name] = q
	}
	for _, cs := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
		for i := range cs {
			r := &cs[i].Resources
			for name, q := range r.Requests {
				if qosResource(name) && q.Sign() > 0 {
					add(requests, name, q)
				}
			}
			found := 0
			for name, q := range r.Limits {
				if qosResource(name) && q.Sign() > 0 {
					found++
					add(limits, name, q)
				}
			}
			if found < 2 {
				guaranteed = false
			}
		}
	}
	if len(requests) == 0 && len(limits) == 0 {
		return corev1.PodQOSBestEffort
	}
	if guaranteed {
		for name, req := range requests {
			if lim, ok := limits[name]; !ok || lim.Cmp(req) != 0 {
				guaranteed = false
				break
			}
		}
	}
	if guaranteed && len(requests) == len(limits) {
		return corev1.PodQOSGuaranteed
	}
	return corev1.PodQOSBurstable
}

func qosResource(name corev1.ResourceName) bool {
	return name == corev1.ResourceCPU || name == corev1.ResourceMemory
}

// The kubelet's oom_score_adj values (pkg/kubelet/qos).
const (
	guaranteedOOMScoreAdj = -997
	bestEffortOOMScoreAdj = 1000
)

// OOMScoreAdj is the oom_score_adj the kubelet gives container c of pod on
// a host with memCapacity bytes of memory: -997 for Guaranteed pods, 1000
// for BestEffort ones, and for Burstable ones 1000 minus the container's
// share of the host's memory in its request (per mille), within [3, 999].
// For a sidecar the kubelet also considers the app containers' requests;
// podbox uses the sidecar's own. The caller clamps the result to what it may
// set (lowering it needs CAP_SYS_RESOURCE).
func OOMScoreAdj(pod *corev1.Pod, c *corev1.Container, memCapacity int64) int {
	switch QOSClass(pod) {
	case corev1.PodQOSGuaranteed:
		return guaranteedOOMScoreAdj
	case corev1.PodQOSBestEffort:
		return bestEffortOOMScoreAdj
	}
	if memCapacity <= 0 {
		return bestEffortOOMScoreAdj - 1
	}
	req := value(c.Resources.Requests, corev1.ResourceMemory)
	adj := 1000 - 1000*req/memCapacity
	switch {
	case adj < 1000+guaranteedOOMScoreAdj:
		return 1000 + guaranteedOOMScoreAdj
	case adj >= bestEffortOOMScoreAdj:
		return bestEffortOOMScoreAdj - 1
	}
	return int(adj)
}
