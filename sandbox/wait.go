package sandbox

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/podbox/podbox/internal/podstate"
	"golang.org/x/sys/unix"
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

// Wait waits until cond holds for a pod, the condition becomes
// unreachable, or ctx ends. It returns the pod as it was when cond held.
// It looks again whenever the pod's shim writes its status or lets go of
// the pod (inotify on the pod's directory), and at least every 100ms.
func (r *Runtime) Wait(ctx context.Context, namespace, name string, cond Condition) (*corev1.Pod, error) {
	_, dir, err := r.podDir(namespace, name)
	if err != nil {
		return nil, err
	}
	w := watchPod(dir)
	defer w.close()
	for {
		pod, err := r.Get(ctx, namespace, name)
		if err != nil {
			return nil, err
		}
		ok, err := cond(pod)
		if ok || err != nil {
			return pod, err
		}
		if err := w.next(ctx); err != nil {
			return pod, fmt.Errorf("wait for pod %s/%s: %w", pod.Namespace, name, err)
		}
	}
}

// podWatch wakes a waiter when something happens in a pod's directory: a
// status written (renamed into place), a lock released (closed after
// writing), the directory removed. Without inotify it polls.
type podWatch struct {
	fd    int // inotify, -1 without
	delay time.Duration
}

// watchEvents are the changes that can change what Get returns.
const watchEvents = unix.IN_MOVED_TO | unix.IN_CLOSE_WRITE | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_IGNORED

func watchPod(dir podstate.Dir) *podWatch {
	w := &podWatch{fd: -1, delay: 2 * time.Millisecond}
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return w
	}
	if _, err := unix.InotifyAddWatch(fd, string(dir), watchEvents); err != nil {
		unix.Close(fd)
		return w
	}
	w.fd = fd
	return w
}

// next waits for the next change (or 100ms), or ctx's end.
func (w *podWatch) next(ctx context.Context) error {
	if w.fd < 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(w.delay):
		}
		w.delay = min(2*w.delay, 20*time.Millisecond)
		return nil
	}
	// Slices of at most 100ms: ctx is checked between them.
	timeout := 100 * time.Millisecond
	if d, ok := ctx.Deadline(); ok {
		timeout = min(timeout, max(time.Until(d), 0))
	}
	fds := []unix.PollFd{{Fd: int32(w.fd), Events: unix.POLLIN}}
	n, err := unix.Poll(fds, int(timeout.Milliseconds())+1)
	if n > 0 {
		// Drain: one look at the pod covers every event so far.
		buf := make([]byte, 4096)
		for {
			if m, err := unix.Read(w.fd, buf); m <= 0 || err != nil {
				break
			}
		}
	} else if err != nil && !errors.Is(err, unix.EINTR) {
		return err
	}
	return ctx.Err()
}

func (w *podWatch) close() {
	if w.fd >= 0 {
		unix.Close(w.fd)
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
