package shim

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// minPreStopGrace is what the kubelet leaves a container after its preStop
// hook used up the grace period: two seconds to handle the stop signal.
const minPreStopGrace = 2 * time.Second

// runHook runs a lifecycle handler (postStart or preStop) against a live
// instance, for at most timeout, and returns why it failed ("" if it did
// not). A sleep handler sleeps, cut short if the instance exits.
func (s *shim) runHook(c *ctr, inst *instance, h *corev1.LifecycleHandler, timeout time.Duration) string {
	if h.Sleep != nil {
		select {
		case <-time.After(time.Duration(h.Sleep.Seconds) * time.Second):
		case <-inst.exited:
		case <-s.ctx.Done():
		}
		return ""
	}
	res := s.runHandler(c, inst, corev1.ProbeHandler{Exec: h.Exec, HTTPGet: h.HTTPGet, TCPSocket: h.TCPSocket}, timeout)
	if res.ok {
		return ""
	}
	switch {
	case h.Exec != nil:
		return fmt.Sprintf("Exec lifecycle hook (%v) for Container %q in Pod %q failed - error: %s",
			h.Exec.Command, c.spec.Name, s.podRef(), strings.TrimSpace(res.output))
	case h.HTTPGet != nil:
		return fmt.Sprintf("HTTP lifecycle hook (%s) for Container %q in Pod %q failed - error: %s",
			h.HTTPGet.Path, c.spec.Name, s.podRef(), strings.TrimSpace(res.output))
	}
	return fmt.Sprintf("lifecycle hook for Container %q in Pod %q failed - error: %s", c.spec.Name, s.podRef(), strings.TrimSpace(res.output))
}

// podRef names the pod as the kubelet's messages do: name_namespace(uid).
func (s *shim) podRef() string {
	return fmt.Sprintf("%s_%s(%s)", s.pod.Name, s.pod.Namespace, s.pod.UID)
}

// hookTimeout bounds a postStart hook, which the kubelet does not bound:
// long enough for anything reasonable, short of for ever.
const hookTimeout = 24 * time.Hour

// postStartEv reports the end of an instance's postStart hook.
type postStartEv struct {
	c    *ctr
	inst *instance
	err  string
}

// startPostStart runs the instance's postStart hook in the background;
// done is closed when it ends (the next container's start waits for it).
func (s *shim) startPostStart(c *ctr, inst *instance, done chan struct{}) {
	h := c.spec.Lifecycle.PostStart
	s.workers.Add(1)
	go func() {
		defer s.workers.Done()
		msg := s.runHook(c, inst, h, hookTimeout)
		if done != nil {
			close(done)
		}
		s.send(postStartEv{c: c, inst: inst, err: msg})
	}()
}

func (e postStartEv) handle(s *shim) {
	c, inst := e.c, e.inst
	if c.inst != inst {
		return
	}
	if e.err == "" {
		inst.postStartOK = true
		s.sidecarMaybeUp(c, inst) // a sidecar's hook holds the next container back
		return
	}
	// As the kubelet: a failed postStart hook kills the container, which
	// then restarts by the policy.
	s.event(corev1.EventTypeWarning, "FailedPostStartHook", objectOf(c), e.err)
	s.log.Warn("postStart hook failed", "container", c.spec.Name, "err", e.err)
	s.workers.Add(1)
	go func() { defer s.workers.Done(); s.killInstance(inst, s.gracePeriod(nil)) }()
}

// preStop runs the instance's preStop hook, once, before its stop signal,
// and returns the grace left for the signal: what the hook did not use,
// but at least minPreStopGrace.
func (s *shim) preStop(inst *instance, grace time.Duration) time.Duration {
	c := inst.ctr
	if c == nil || c.spec.Lifecycle == nil || c.spec.Lifecycle.PreStop == nil || inst.lc == nil {
		return grace
	}
	if !inst.preStopRun.CompareAndSwap(false, true) {
		return grace // another stop ran it, or runs it
	}
	start := time.Now()
	done := make(chan string, 1)
	go func() { done <- s.runHook(c, inst, c.spec.Lifecycle.PreStop, grace) }()
	select {
	case msg := <-done:
		if msg != "" {
			s.event(corev1.EventTypeWarning, "FailedPreStopHook", objectOf(c), msg)
			s.writeEvents()
		}
	case <-time.After(grace):
		s.event(corev1.EventTypeWarning, "FailedPreStopHook", objectOf(c),
			fmt.Sprintf("PreStop hook for Container %q in Pod %q did not complete in %s", c.spec.Name, s.podRef(), grace))
		s.writeEvents()
	case <-inst.exited:
	}
	return max(grace-time.Since(start), minPreStopGrace)
}

// waitGate waits until gate (nil: none) is open; false if the pod is being
// stopped meanwhile.
func (s *shim) waitGate(gate chan struct{}) bool {
	if gate == nil {
		return true
	}
	select {
	case <-gate:
		return true
	case <-s.pullCtx.Done():
		return false
	}
}
