// Package cgroups manages a pod's cgroup: one directory per pod
// (<parent>/pod<uid>, parent "/podbox" by default) with the pause process and
// every container in leaves below it, on cgroup v1 (legacy or hybrid) and v2
// hosts alike, through github.com/opencontainers/cgroups.
//
// Container leaves are created and removed by libcontainer; this package
// creates the pod level, removes the whole subtree (killing whatever is still
// in it, so nothing outlives a pod), and reports what the host offers.
package cgroups
