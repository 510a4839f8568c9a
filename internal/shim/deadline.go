package shim

import (
	"time"

	corev1 "k8s.io/api/core/v1"
)

// The kubelet's words for a pod that ran past its activeDeadlineSeconds.
const (
	reasonDeadlineExceeded  = "DeadlineExceeded"
	messageDeadlineExceeded = "Pod was active on the node longer than the specified deadline"
)

// deadlineEv is the pod's activeDeadlineSeconds running out.
type deadlineEv struct{}

// armDeadline starts the clock of activeDeadlineSeconds, counted from the
// pod's start time (also for a shim that took over).
func (s *shim) armDeadline() {
	d := s.pod.Spec.ActiveDeadlineSeconds
	if d == nil || s.deadlineExceeded {
		return
	}
	left := time.Until(s.startTime.Add(time.Duration(*d) * time.Second))
	s.deadlineTimer = time.AfterFunc(max(left, 0), func() { s.send(deadlineEv{}) })
}

// handle stops the pod, which then fails with reason DeadlineExceeded, as
// the kubelet does.
func (deadlineEv) handle(s *shim) {
	if s.stopping || s.deadlineExceeded || s.terminal() {
		return
	}
	s.deadlineExceeded = true
	s.event(corev1.EventTypeWarning, reasonDeadlineExceeded, "", messageDeadlineExceeded)
	s.stop(s.gracePeriod(nil), false)
}
