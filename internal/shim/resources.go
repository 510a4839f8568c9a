package shim

import (
	"strings"

	"github.com/podbox/podbox/cgroups"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
)

// The pod's resources, as the kubelet applies them: the pod cgroup gets the
// pod-level limits (cgroups.PodLimits), each container's leaf its own
// (cgroups.ContainerLimits) and its processes the kubelet's oom_score_adj
// for the pod's QoS class (never below the shim's own), and pause the
// smallest CPU weight, as containerd gives sandboxes.

// applyPodLimits sets the pod cgroup's limits.
func (s *shim) applyPodLimits() error {
	return s.cg.SetLimits(cgroups.PodLimits(s.pod, s.rec.PodPidsLimit))
}

// specOf returns the spec of the container an instance ID (<name>.<restart>)
// belongs to.
func (s *shim) specOf(instID string) *corev1.Container {
	name := instID
	if i := strings.LastIndexByte(instID, '.'); i >= 0 {
		name = instID[:i]
	}
	for _, cs := range [][]corev1.Container{s.pod.Spec.InitContainers, s.pod.Spec.Containers} {
		for i := range cs {
			if cs[i].Name == name {
				return &cs[i]
			}
		}
	}
	return nil
}

// containerLimits are the cgroup limits of an instance's container.
func (s *shim) containerLimits(instID string) *cgroups.Limits {
	c := s.specOf(instID)
	if c == nil {
		return nil
	}
	l := cgroups.ContainerLimits(c)
	return &l
}

// oomScoreAdj is the kubelet's oom_score_adj for an instance's container.
func (s *shim) oomScoreAdj(instID string) *int {
	c := s.specOf(instID)
	if c == nil {
		return nil
	}
	var si unix.Sysinfo_t
	var capacity int64
	if unix.Sysinfo(&si) == nil {
		capacity = int64(si.Totalram) * int64(si.Unit)
	}
	adj := cgroups.OOMScoreAdj(s.pod, c, capacity)
	return &adj
}

// pauseLimits are pause's: the smallest CPU weight, nothing else.
var pauseLimits = &cgroups.Limits{CPUShares: cgroups.MinShares}

// oomKilled reports whether the OOM killer killed a process of the
// instance's container during its life: the main process (which then ends
// by SIGKILL) or a child of it (the main process then exits as it will).
// Like containerd and CRI-O, podbox then reports OOMKilled whatever the
// exit code. The count is read from the instance's own cgroup leaf, made
// fresh for it, before the leaf is removed.
func (s *shim) oomKilled(inst *instance) bool {
	n, err := cgroups.OOMKillCount(inst.cgroupPath)
	if err != nil {
		s.log.Warn("read OOM kill count", "container", inst.id, "err", err)
		return false
	}
	return n > 0
}
