// Package cgroups manages a pod's cgroup: one directory per pod
// (<parent>/pod<uid>, parent "/podbox" by default) with the pause process and
// every container in leaves below it, on cgroup v1 (legacy or hybrid) and v2
// hosts alike, through github.com/opencontainers/cgroups.
//
// Container leaves are created and removed by libcontainer; this package
// creates the pod level, removes the whole subtree (killing whatever is still
// in it, so nothing outlives a pod), and reports what the host offers.
//
// It also maps Kubernetes resources to cgroup settings the way the kubelet
// does (ContainerLimits, PodLimits, QOSClass, OOMScoreAdj: cpu requests to
// cpu.shares or cpu.weight, cpu limits to a CFS quota over 100 ms, memory
// limits, a pids limit per pod), counts OOM kills (OOMKillCount) and reads
// CPU and memory use (ReadUsage).
package cgroups
