package shim

import (
	"runtime/debug"
	"testing"
	"time"
)

// Once the pod is up, the shim lowers its heap goal and gives its start-up
// memory back (trimMemory).
func TestTrimMemory(t *testing.T) {
	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)
	trimMemory()
	deadline := time.Now().Add(trimDelay + 5*time.Second)
	for {
		// SetGCPercent returns the setting it replaces: put 100 back
		// until trimMemory has run.
		if p := debug.SetGCPercent(100); p == steadyGCPercent {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GOGC still 100 %s after trimMemory", trimDelay+5*time.Second)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
