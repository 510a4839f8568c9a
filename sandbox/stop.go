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
	if namespace == "" {
		namespace = "default"
	}
	dir := r.roots.Pod(namespace, name)
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
		err := shim.Request(dir, op, grace, g+time.Minute)
		if err == nil || !errors.Is(err, shim.ErrShimGone) {
			return err
		}
	}
	// The shim is gone: signal what still runs, wait out the grace period,
	// then remove everything.
	stopOrphans(ctx, dir, g)
	if err := shim.Teardown(dir, rec); err != nil {
		return fmt.Errorf("stop pod %s/%s: %w", rec.Pod.Namespace, rec.Pod.Name, err)
	}
	return nil
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
