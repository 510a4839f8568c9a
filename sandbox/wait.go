package sandbox

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Condition is what Wait waits for: it reports whether the pod is there,
// or an error when it can no longer get there.
type Condition func(pod *corev1.Pod) (bool, error)

// ErrUnreachable is returned (wrapped) by Wait when the pod ended in a
// state from which the condition can no longer be met.
var ErrUnreachable = errors.New("condition can no longer be met")

// PodCondition waits for a pod condition (Ready, ContainersReady,
// Initialized, PodScheduled, ...) to be True.
func PodCondition(t corev1.PodConditionType) Condition {
	return func(pod *corev1.Pod) (bool, error) {
		for _, c := range pod.Status.Conditions {
			if c.Type == t && c.Status == corev1.ConditionTrue {
				return true, nil
			}
		}
		if ended(pod) {
			return false, fmt.Errorf("pod %q is %s: %w: %s", pod.Name, pod.Status.Phase, ErrUnreachable, t)
		}
		return false, nil
	}
}

// PodPhase waits for the pod's phase.
func PodPhase(p corev1.PodPhase) Condition {
	return func(pod *corev1.Pod) (bool, error) {
		if pod.Status.Phase == p {
			return true, nil
		}
		if ended(pod) {
			return false, fmt.Errorf("pod %q is %s: %w: phase %s", pod.Name, pod.Status.Phase, ErrUnreachable, p)
		}
		return false, nil
	}
}

// Predefined conditions.
var (
	PodReady     = PodCondition(corev1.PodReady)
	PodRunning   = PodPhase(corev1.PodRunning)
	PodSucceeded = PodPhase(corev1.PodSucceeded)
	PodFailed    = PodPhase(corev1.PodFailed)
	// PodFinished waits for Succeeded or Failed.
	PodFinished Condition = func(pod *corev1.Pod) (bool, error) {
		if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
			return true, nil
		}
		if pod.Status.Phase == corev1.PodUnknown {
			return false, fmt.Errorf("pod %q is Unknown: %w", pod.Name, ErrUnreachable)
		}
		return false, nil
	}
)

// ended: the pod will not change any more (terminal, or nobody supervises
// it).
func ended(pod *corev1.Pod) bool {
	switch pod.Status.Phase {
	case corev1.PodSucceeded, corev1.PodFailed, corev1.PodUnknown:
		return true
	}
	return false
}

// Wait polls a pod until cond holds, the condition becomes unreachable, or
// ctx ends. It returns the pod as it was when cond held.
func (r *Runtime) Wait(ctx context.Context, namespace, name string, cond Condition) (*corev1.Pod, error) {
	delay := 2 * time.Millisecond
	for {
		pod, err := r.Get(ctx, namespace, name)
		if err != nil {
			return nil, err
		}
		ok, err := cond(pod)
		if ok || err != nil {
			return pod, err
		}
		select {
		case <-ctx.Done():
			return pod, fmt.Errorf("wait for pod %s/%s: %w", pod.Namespace, name, ctx.Err())
		case <-time.After(delay):
		}
		if delay < 100*time.Millisecond {
			delay *= 2
		}
	}
}

// WaitDeleted waits until the pod no longer exists.
func (r *Runtime) WaitDeleted(ctx context.Context, namespace, name string) error {
	for {
		if _, err := r.Get(ctx, namespace, name); errors.Is(err, ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for deletion of pod %s/%s: %w", namespace, name, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
