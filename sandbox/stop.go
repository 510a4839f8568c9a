package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/podbox/podbox/internal/podstate"
	"github.com/podbox/podbox/internal/runtime"
	"github.com/podbox/podbox/internal/shim"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// StopOptions tune Stop.
type StopOptions struct {
	// GracePeriod overrides the pod's terminationGracePeriodSeconds; 0
	// kills at once.
	GracePeriod *int64
}

// Stop stops every container of a pod (stop signal, then SIGKILL after the
// grace period; pause last) and removes its sandbox. The pod stays listed
// with its final status until deleted. Stopping a stopped pod does nothing.
func (r *Runtime) Stop(ctx context.Context, namespace, name string, opts StopOptions) error {
	namespace, dir, err := r.podDir(namespace, name)
	if err != nil {
		return err
	}
	rec, err := dir.ReadRecord()
	if errors.Is(err, os.ErrNotExist) {
		return notFound(namespace, name)
	}
	if err != nil {
		return err
	}
	return r.stop(ctx, dir, rec, "stop", opts.GracePeriod)
}

// stop asks the shim to stop the pod; without a shim it stops the
// containers itself from what is on disk.
//
// The name's lock is not held while the shim stops the pod (a delete
// --force must be able to cut a long grace period short); requests carry
// the pod's UID, so they never reach a pod created under the same name
// meanwhile. Without a shim, the teardown runs under the name's lock.
func (r *Runtime) stop(ctx context.Context, dir podstate.Dir, rec *podstate.Record, op string, grace *int64) error {
	st, err := dir.ReadStatus()
	if err != nil {
		return err
	}
	if st.Final {
		return nil
	}
	g := r.grace(rec, grace)
	if r.shimAlive(dir, rec) {
		timeout := g + time.Minute
		if g == 0 {
			timeout = 15 * time.Second
		}
		err := shim.Request(dir, string(rec.Pod.UID), op, grace, timeout)
		switch {
		case errors.Is(err, shim.ErrOtherPod):
			return nil // ours is gone already
		case err == nil:
			return nil
		case !errors.Is(err, shim.ErrShimGone) && g > 0:
			return err
		}
		// Gone, or killing at once (delete --force) and the shim does not
		// answer: it goes, and its pod is torn down without it.
	}
	lock, err := r.roots.LockName(ctx, rec.Pod.Namespace, rec.Pod.Name)
	if err != nil {
		return err
	}
	defer lock.Unlock(false)
	if cur, err := dir.ReadRecord(); err != nil || cur.Pod.UID != rec.Pod.UID {
		return nil // deleted (and maybe re-created) meanwhile
	}
	// The pod's keeper may be about to start a new shim (or have just
	// started one), and a shim that does not answer may still run: the
	// keeper is frozen and the shims killed first, so that nothing adopts
	// the containers while they are torn down. The keeper goes last: until
	// then it holds the containers' output pipes open.
	sup := freezeSupervisors(dir, 0, st.ShimPID)
	defer sup.killKeeper()
	if err := sup.killShims(); err != nil {
		return fmt.Errorf("%s pod %s/%s: %w", op, rec.Pod.Namespace, rec.Pod.Name, err)
	}
	if st, err = dir.ReadStatus(); err != nil || st.Final {
		return err
	}
	// The shim is gone: signal what still runs, wait out the grace period,
	// then remove everything.
	stopOrphans(ctx, dir, g)
	if err := shim.Teardown(dir, rec); err != nil {
		return fmt.Errorf("%s pod %s/%s: %w", op, rec.Pod.Namespace, rec.Pod.Name, err)
	}
	return writeLostStatus(dir, st)
}

// writeLostStatus records the end of a pod whose shim died: nobody saw how
// its containers ended, so they read as the kubelet reports containers it
// cannot find any more (ContainerStatusUnknown; the exit code is -1, not an
// invented one), and the pod has failed.
func writeLostStatus(dir podstate.Dir, st *podstate.Status) error {
	now := metav1.Now()
	lost := func(sts []corev1.ContainerStatus) {
		for i := range sts {
			cs := &sts[i]
			cs.Ready = false
			started := false
			cs.Started = &started
			if cs.State.Terminated != nil {
				continue
			}
			term := &corev1.ContainerStateTerminated{
				ExitCode: -1, Reason: "ContainerStatusUnknown", FinishedAt: now, ContainerID: cs.ContainerID,
				Message: "The container was stopped while no shim watched it: its exit status is unknown",
			}
			if cs.State.Running != nil {
				term.StartedAt = cs.State.Running.StartedAt
			}
			cs.State = corev1.ContainerState{Terminated: term}
		}
	}
	lost(st.Pod.InitContainerStatuses)
	lost(st.Pod.ContainerStatuses)
	st.Pod.Phase = corev1.PodFailed
	st.Pod.Message = "the pod's shim died; its containers were stopped without it"
	for i := range st.Pod.Conditions {
		c := &st.Pod.Conditions[i]
		if c.Type != corev1.PodScheduled && c.Type != corev1.PodInitialized {
			c.Status, c.Reason, c.LastTransitionTime = corev1.ConditionFalse, "PodFailed", now
		}
	}
	for _, c := range st.Containers {
		c.Running, c.Exec = false, nil
	}
	st.Final = true
	st.Updated = now.Time
	return dir.WriteStatus(st)
}

func (r *Runtime) grace(rec *podstate.Record, override *int64) time.Duration {
	switch {
	case override != nil:
		return time.Duration(*override) * time.Second
	case rec.Pod.Spec.TerminationGracePeriodSeconds != nil:
		return time.Duration(*rec.Pod.Spec.TerminationGracePeriodSeconds) * time.Second
	default:
		return 30 * time.Second
	}
}

// stopOrphans sends SIGTERM to the containers of a pod whose shim is gone
// and waits up to grace for them to exit (teardown kills the rest).
func stopOrphans(ctx context.Context, dir podstate.Dir, grace time.Duration) {
	if grace <= 0 {
		return
	}
	ids, _ := runtime.List(dir.RuncRoot())
	var live []*runtime.Container
	for _, id := range ids {
		if id == "pause" {
			continue
		}
		c, err := runtime.Load(dir.RuncRoot(), id)
		if err != nil || !c.Running() {
			continue
		}
		_ = c.Signal(unix.SIGTERM, false)
		live = append(live, c)
	}
	deadline := time.Now().Add(grace)
	for len(live) > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
		n := 0
		for _, c := range live {
			if c.Running() {
				live[n] = c
				n++
			}
		}
		live = live[:n]
	}
}
