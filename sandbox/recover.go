package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/podbox/podbox/internal/podstate"
	"github.com/podbox/podbox/internal/shim"
	"golang.org/x/sys/unix"
)

// Recover gives a pod whose shim died a new one, which adopts the running
// containers (their logs and restart counts go on; an exit it could not
// observe is reported as ContainerStatusUnknown). The pod's keeper normally
// does this by itself within moments; Recover is for when the keeper died
// too, or is waiting out its back-off. It reports whether a shim was
// started: false for a pod whose shim is alive or that is finished.
//
// A pod from an earlier boot cannot be recovered (its processes are gone):
// it is marked failed, as after a stop, and what is left of it removed.
func (r *Runtime) Recover(ctx context.Context, namespace, name string) (bool, error) {
	namespace, dir, err := r.podDir(namespace, name)
	if err != nil {
		return false, err
	}
	rec, err := dir.ReadRecord()
	if errors.Is(err, os.ErrNotExist) {
		return false, notFound(namespace, name)
	}
	if err != nil {
		return false, err
	}
	// The shim is asked about before the status is read (see pod).
	if dir.ShimAlive() {
		return false, nil
	}
	if st, err := dir.ReadStatus(); err != nil || st.Final {
		return false, err
	}
	lock, err := r.roots.LockName(ctx, namespace, name)
	if err != nil {
		return false, err
	}
	defer lock.Unlock(false)
	// Under the name's lock: still this pod, still without a shim?
	if cur, err := dir.ReadRecord(); err != nil || cur.Pod.UID != rec.Pod.UID {
		return false, nil
	}
	if dir.ShimAlive() {
		return false, nil
	}
	st, err := dir.ReadStatus()
	if err != nil || st.Final {
		return false, err
	}
	if rec.BootID != podstate.BootID() {
		if err := shim.Teardown(dir, rec); err != nil {
			return false, fmt.Errorf("recover pod %s/%s from an earlier boot: %w", namespace, name, err)
		}
		return false, writeLostStatus(dir, st)
	}
	if st.Supervisor == nil && st.ShimPID != 0 {
		return false, fmt.Errorf("recover pod %s/%s: %w", namespace, name, ErrCannotRecover)
	}
	if kp, ok := keeperAlive(dir); ok {
		// The keeper is alive (waiting out its back-off): have it start a
		// shim now.
		if err := unix.Kill(kp, unix.SIGUSR1); err != nil {
			return false, fmt.Errorf("recover pod %s/%s: signal its keeper: %w", namespace, name, err)
		}
		if err := waitShim(ctx, dir, st.ShimPID, 10*time.Second); err != nil {
			return false, fmt.Errorf("recover pod %s/%s: %w (see %s)", namespace, name, err, dir.ShimLog())
		}
		return true, nil
	}
	pause, err := r.pauseBinary()
	if err != nil {
		pause = rec.PauseBinary
	}
	if rec.ShimEnv == nil {
		rec.ShimEnv = credentialEnv()
	}
	// The shim program now installed, else the one the pod ran with (a
	// record without one ran its shim from the program that ran it: this
	// one serves).
	if bin, err := r.shimBinary(); err == nil && bin != "" {
		rec.ShimBinary = bin
	} else if _, err := os.Stat(rec.ShimBinary); err != nil {
		rec.ShimBinary = ""
	}
	if err := startShim(ctx, dir, rec, nil, pause); err != nil {
		return false, fmt.Errorf("recover pod %s/%s: %w", namespace, name, err)
	}
	return true, nil
}

// waitShim waits until a new shim (not oldPID) runs the pod and has
// written its status.
func waitShim(ctx context.Context, dir podstate.Dir, oldPID int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if dir.ShimAlive() {
			if st, err := dir.ReadStatus(); err == nil && (st.ShimPID != oldPID || st.Final) {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return errors.New("no shim came up")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// RecoverAll recovers every pod of a namespace ("" for all) whose shim
// died, and returns the names of those it gave a new shim.
func (r *Runtime) RecoverAll(ctx context.Context, namespace string) ([]string, error) {
	pods, err := r.List(ctx, namespace)
	if err != nil {
		return nil, err
	}
	var done []string
	var errs []error
	for _, p := range pods {
		ok, err := r.Recover(ctx, p.Namespace, p.Name)
		if err != nil {
			errs = append(errs, err)
		}
		if ok {
			done = append(done, p.Namespace+"/"+p.Name)
		}
	}
	return done, errors.Join(errs...)
}
