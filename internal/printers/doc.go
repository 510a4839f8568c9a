// Package printers computes and prints the columns `kubectl get pods` shows
// for a pod: READY, STATUS, RESTARTS, AGE and, with -o wide, IP, NODE,
// NOMINATED NODE and READINESS GATES.
//
// Row is a port of kubectl's printPod (kubernetes/kubernetes
// pkg/printers/internalversion/printers.go) written against the v1 API
// types: the same walk over init containers (native sidecars with
// restartPolicy Always count toward READY), the same last-to-first walk over
// regular containers, the same Completed→Running/NotReady correction and the
// same Terminating/Unknown rules, so that podbox prints exactly the STATUS
// kubectl would print for the same pod status. PrintTable lays rows out the
// way kubectl's table printer does (k8s.io/cli-runtime/pkg/printers).
//
// Describe writes what `kubectl describe pod` prints, a port of kubectl's
// pod describer (k8s.io/kubectl/pkg/describe) with podbox's folded events
// as the Events table.
//
// Everything here is a pure function of the pod (and events) and the time
// passed in.
package printers
