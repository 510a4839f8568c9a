package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/podbox/podbox/internal/shim"
)

// DeleteOptions tune Delete.
type DeleteOptions struct {
	// GracePeriod overrides the pod's terminationGracePeriodSeconds.
	GracePeriod *int64
	// Force kills at once (grace period 0) and removes the pod even if its
	// shim cannot be reached or parts of it are already gone.
	Force bool
}

// Delete stops a pod (as Stop does) and removes every trace of it: its
// containers, sandbox, cgroup, mounts, state, data and logs. It works
// whether or not the pod's shim is alive.
func (r *Runtime) Delete(ctx context.Context, namespace, name string, opts DeleteOptions) error {
	if namespace == "" {
		namespace = "default"
	}
	dir := r.roots.Pod(namespace, name)
	rec, err := dir.ReadRecord()
	if errors.Is(err, os.ErrNotExist) {
		if _, serr := os.Stat(string(dir)); serr == nil && opts.Force {
			// A pod directory without a record: a run cut short.
			return os.RemoveAll(string(dir))
		}
		return notFound(namespace, name)
	}
	if err != nil {
		if !opts.Force {
			return err
		}
		return os.RemoveAll(string(dir))
	}
	grace := opts.GracePeriod
	if opts.Force {
		zero := int64(0)
		grace = &zero
	}
	if err := r.stop(ctx, dir, rec, "delete", grace); err != nil && !opts.Force {
		return fmt.Errorf("delete pod %s/%s: %w", namespace, name, err)
	}
	// Whatever the shim did, make sure nothing is left.
	if err := shim.Teardown(dir, rec); err != nil {
		return fmt.Errorf("delete pod %s/%s: %w", namespace, name, err)
	}
	if err := os.RemoveAll(r.roots.LogPodDir(namespace, name, string(rec.Pod.UID))); err != nil {
		return fmt.Errorf("delete pod %s/%s: remove logs: %w", namespace, name, err)
	}
	if err := os.RemoveAll(string(dir)); err != nil {
		return fmt.Errorf("delete pod %s/%s: %w", namespace, name, err)
	}
	_ = os.Remove(r.roots.DataDir(string(rec.Pod.UID)))
	return nil
}
