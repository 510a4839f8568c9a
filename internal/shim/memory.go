package shim

import (
	"runtime/debug"
	"time"
)

// steadyGCPercent is the shim's GOGC once its pod is up. Go's default (100,
// with a 4 MiB minimum heap goal) lets the heap of a process that keeps
// about 1.5 MiB live grow to 4 MiB; a shim runs beside every pod, so that
// is paid per pod. Half of it costs a few more collections of a heap that
// hardly changes once the pod runs.
const steadyGCPercent = 50

// trimDelay is how long after the pod's first containers started the shim
// gives its memory back: the start-up's garbage is garbage by then.
const trimDelay = time.Second

// trimMemory lowers the shim's heap goal and returns the memory the pod's
// start-up used to the kernel (a collection, then the scavenger at once
// rather than over minutes), trimDelay from now. It leaves the start path
// alone: the CLI has had its answer.
func trimMemory() {
	time.AfterFunc(trimDelay, func() {
		debug.SetGCPercent(steadyGCPercent)
		debug.FreeOSMemory()
	})
}
