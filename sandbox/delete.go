package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/podbox/podbox/internal/podstate"

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
	namespace, dir, err := r.podDir(namespace, name)
	if err != nil {
		return err
	}
	rec, err := dir.ReadRecord()
	if errors.Is(err, os.ErrNotExist) {
		return r.deleteRemains(ctx, namespace, name, dir, opts.Force)
	}
	if err != nil {
		return err
	}
	grace := opts.GracePeriod
	if opts.Force {
		zero := int64(0)
		grace = &zero
	}
	if err := r.stop(ctx, dir, rec, "delete", grace); err != nil && !opts.Force {
		return fmt.Errorf("delete pod %s/%s: %w", namespace, name, err)
	}
	// Removal happens under the name's lock, and only of this pod: a
	// concurrent delete may have removed it, a run may have made a new one.
	lock, err := r.roots.LockName(ctx, namespace, name)
	if err != nil {
		return err
	}
	gone := false
	defer func() { lock.Unlock(gone) }()
	if cur, err := dir.ReadRecord(); err != nil || cur.Pod.UID != rec.Pod.UID {
		return nil
	}
	// Whatever the shim did, make sure nothing is left.
	if err := shim.Teardown(dir, rec); err != nil {
		return fmt.Errorf("delete pod %s/%s: %w", namespace, name, err)
	}
	if err := os.RemoveAll(r.roots.LogPodDir(namespace, name, string(rec.Pod.UID))); err != nil {
		return fmt.Errorf("delete pod %s/%s: remove logs: %w", namespace, name, err)
	}
	if err := r.removeStateDir(dir); err != nil {
		return fmt.Errorf("delete pod %s/%s: %w", namespace, name, err)
	}
	_ = os.Remove(r.roots.DataDir(string(rec.Pod.UID)))
	gone = true
	return nil
}

// deleteRemains handles a pod directory without a record: what a delete
// cut short left. Without a record there is no UID to find cgroups or data
// by, so only --force removes it (unmounted first).
func (r *Runtime) deleteRemains(ctx context.Context, namespace, name string, dir podstate.Dir, force bool) error {
	if _, err := os.Stat(string(dir)); err != nil || !force {
		return notFound(namespace, name)
	}
	lock, err := r.roots.LockName(ctx, namespace, name)
	if err != nil {
		return err
	}
	if _, err := dir.ReadRecord(); err == nil {
		lock.Unlock(false)
		return fmt.Errorf("delete pod %s/%s: a pod of that name was just created; delete again", namespace, name)
	}
	if err := r.removeStateDir(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		lock.Unlock(false)
		return fmt.Errorf("delete pod %s/%s: %w", namespace, name, err)
	}
	lock.Unlock(true)
	return nil
}

// removeStateDir removes a pod's state directory: first renamed out of the
// way in one step (a delete cut short must not leave a directory without
// its record under the pod's name), then removed.
func (r *Runtime) removeStateDir(dir podstate.Dir) error {
	if err := shim.UnmountAll(string(dir)); err != nil {
		return err
	}
	trash := filepath.Join(filepath.Dir(string(dir)), ".deleted_"+filepath.Base(string(dir))+"_"+strconv.FormatInt(time.Now().UnixNano(), 36))
	if err := os.Rename(string(dir), trash); err != nil {
		return fmt.Errorf("remove %s: %w", dir, err)
	}
	if err := os.RemoveAll(trash); err != nil {
		return fmt.Errorf("remove %s: %w", trash, err)
	}
	return nil
}
