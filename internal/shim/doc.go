// Package shim is the per-pod supervisor: the podbox binary re-executed
// with the hidden verb "shim", detached from the terminal and made a child
// subreaper. It builds the pod sandbox (cgroup, pinned namespaces, per-pod
// /etc files and /dev/shm, the pause container), starts the init containers
// one by one and then the app containers together, restarts them by the
// pod's restartPolicy with the kubelet's back-off, copies their output into
// CRI log files, writes the pod's status atomically after every change, and
// answers stop requests on a unix socket. It is the parent of every
// container init, so it gets every exit status.
//
// Teardown (also used by the CLI when a shim is gone) removes everything a
// pod made from what is on disk.
package shim
