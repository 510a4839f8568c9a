// Package podstate is the on-disk layout of podbox's pods and the records
// kept there: where a pod's state, data and logs live, the pod record the CLI
// writes once, the status the shim rewrites atomically after every change,
// and whether a pod's shim is alive (it holds an flock for its whole life).
//
// Reads never need the shim: everything `get`, `logs` and `delete --force`
// need is in these files.
package podstate
