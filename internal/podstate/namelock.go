package podstate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// NameLock serialises the operations that create or remove the pod of one
// namespace and name (run, stop, delete), across processes: without it a
// slow delete could tear down a pod of the same name created meanwhile.
type NameLock struct {
	path string
	f    *os.File
}

// LockName takes the lock of a pod name, waiting for whoever holds it
// (until ctx ends). The lock file is pods/<ns>/.<name>.lock.
func (r Roots) LockName(ctx context.Context, namespace, name string) (*NameLock, error) {
	dir := filepath.Join(r.PodsDir(), namespace)
	if err := os.MkdirAll(dir, 0o711); err != nil {
		return nil, fmt.Errorf("lock pod %s/%s: %w", namespace, name, err)
	}
	path := filepath.Join(dir, "."+name+".lock")
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
		if err != nil {
			return nil, fmt.Errorf("lock pod %s/%s: %w", namespace, name, err)
		}
		if err := flockCtx(ctx, f); err != nil {
			f.Close()
			return nil, fmt.Errorf("lock pod %s/%s: %w", namespace, name, err)
		}
		// The holder may have removed the file (the pod is gone) while we
		// waited: then we hold a lock nobody else can see. Start over.
		var held, now unix.Stat_t
		if unix.Fstat(int(f.Fd()), &held) == nil && unix.Stat(path, &now) == nil && held.Ino == now.Ino && held.Dev == now.Dev {
			return &NameLock{path: path, f: f}, nil
		}
		f.Close()
	}
}

func flockCtx(ctx context.Context, f *os.File) error {
	delay := time.Millisecond
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		if delay < 50*time.Millisecond {
			delay *= 2
		}
	}
}

// Unlock releases the lock. With remove (the pod is gone) the lock file is
// removed first, so nothing of the pod is left.
func (l *NameLock) Unlock(remove bool) {
	if l == nil || l.f == nil {
		return
	}
	if remove {
		_ = os.Remove(l.path)
	}
	l.f.Close()
	l.f = nil
}
