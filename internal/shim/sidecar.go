package shim

import (
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Native sidecars (init containers with restartPolicy Always) start in
// init order (the next init container waits until the sidecar started, or
// its startup probe passed), run beside the app containers, are restarted
// whenever they exit, and stop after the app containers, in reverse order:
// on a stop of the pod, and once the app containers of a pod that does not
// restart them are all done.

// stopSidecars stops the running sidecars once everything else has exited
// (or by deadline), last first, within what is left of the grace period.
func (s *shim) stopSidecars(deadline time.Time) {
	var others, sidecars []*instance
	for _, c := range s.ctrs {
		if c.inst == nil {
			continue
		}
		if c.sidecar() {
			s.event(corev1.EventTypeNormal, "Killing", objectOf(c), "Stopping container "+c.spec.Name)
			sidecars = append(sidecars, c.inst)
		} else {
			others = append(others, c.inst)
		}
	}
	if len(sidecars) == 0 {
		return
	}
	slices.Reverse(sidecars)
	s.workers.Add(1)
	go func() {
		defer s.workers.Done()
		for _, inst := range others {
			select {
			case <-inst.exited:
			case <-time.After(time.Until(deadline)):
			}
		}
		for _, inst := range sidecars {
			s.killInstance(inst, max(time.Until(deadline), 0))
			select {
			case <-inst.exited:
			case <-time.After(max(time.Until(deadline), 0) + 2*time.Second):
			}
		}
	}()
}

// endSidecarsIfDone stops the sidecars once nothing else will run again:
// the app containers of a pod that does not restart them all finished (a
// Job-like pod), or an init container failed for good. The pod then ends
// Succeeded or Failed by its app containers, as on a node.
func (s *shim) endSidecarsIfDone() {
	if s.sidecarsEnding || s.stopping || s.recreating {
		return
	}
	any := false
	for _, c := range s.ctrs {
		if c.sidecar() {
			any = any || !c.idle()
			continue
		}
		if !c.idle() {
			return // something else still runs or will
		}
	}
	if !any || !s.othersOver() {
		return
	}
	s.sidecarsEnding = true
	for _, c := range s.ctrs {
		if c.sidecar() && c.timer != nil {
			c.timer.Stop()
			c.timer = nil
			c.done = true
		}
	}
	s.stopSidecars(time.Now().Add(s.gracePeriod(nil)))
}

// othersOver reports whether every container but the sidecars is done for
// good: the app containers finished and are not restarted, or an init
// container failed under restartPolicy Never.
func (s *shim) othersOver() bool {
	appsDone := true
	for _, c := range s.ctrs {
		if c.init && !c.sidecar() && c.done && c.status.State.Terminated != nil &&
			c.status.State.Terminated.ExitCode != 0 && s.pod.Spec.RestartPolicy == corev1.RestartPolicyNever {
			return true
		}
		if !c.init && !c.done {
			appsDone = false
		}
	}
	return appsDone && s.initDone
}

// sidecarMaybeUp lets the init containers after sidecar c go once its live
// instance has started (its startup probe passed, if any) and its
// postStart hook, if any, succeeded.
func (s *shim) sidecarMaybeUp(c *ctr, inst *instance) {
	if !c.sidecar() || c.sidecarUp || c.inst != inst || c.status.Started == nil || !*c.status.Started {
		return
	}
	if l := c.spec.Lifecycle; l != nil && l.PostStart != nil && !inst.postStartOK {
		return
	}
	c.sidecarUp = true
	s.advance()
}
