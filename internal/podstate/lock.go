package podstate

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// HoldShimLock takes the pod's shim lock for the life of the calling
// process (the returned file must stay open). It fails if another shim
// holds it. A command checking the lock (ShimAlive) holds it shared for a
// moment, so a busy lock is tried again for up to a second.
func (d Dir) HoldShimLock() (*os.File, error) {
	f, err := os.OpenFile(d.LockFile(), os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open shim lock: %w", err)
	}
	for i := 0; ; i++ {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) || i == 100 {
			f.Close()
			return nil, fmt.Errorf("take shim lock %s: %w", d.LockFile(), err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ShimAlive reports whether a shim holds the pod's lock. The kernel drops
// an flock when its holder dies, so this cannot be fooled by PID reuse.
func (d Dir) ShimAlive() bool { return locked(d.LockFile()) }

// KeeperAlive reports whether a keeper holds the pod's keeper lock.
func (d Dir) KeeperAlive() bool { return locked(d.KeeperLockFile()) }

// locked reports whether a process holds an exclusive flock on path.
func locked(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	err = unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB)
	if err == nil {
		_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
		return false
	}
	return errors.Is(err, unix.EWOULDBLOCK)
}

// ErrExist is returned by CreatePod when the pod's directory exists.
var ErrExist = errors.New("pod exists")

// CreatePod atomically creates a pod's state directory holding its record
// and a shim lock that is already taken: the directory is built under a
// temporary name and renamed into place, so a pod directory always has a
// record and its lock is held from the first moment (the caller hands the
// returned file to the shim, which keeps holding it). The caller holds the
// name's lock (LockName).
func (r Roots) CreatePod(rec *Record) (Dir, *os.File, error) {
	dir := r.Pod(rec.Pod.Namespace, rec.Pod.Name)
	parent := filepath.Dir(string(dir))
	if err := os.MkdirAll(parent, 0o711); err != nil {
		return "", nil, fmt.Errorf("create pod directory: %w", err)
	}
	// What a create or delete of this name cut short left behind ("_"
	// cannot occur in a pod name, so only this name matches). The
	// caller holds the name's lock, so no live operation owns these.
	for _, pattern := range []string{".new_" + rec.Pod.Name + "_*", ".deleted_" + rec.Pod.Name + "_*"} {
		stale, _ := filepath.Glob(filepath.Join(parent, pattern))
		for _, d := range stale {
			_ = os.RemoveAll(d)
		}
	}
	tmp, err := os.MkdirTemp(parent, ".new_"+rec.Pod.Name+"_")
	if err != nil {
		return "", nil, fmt.Errorf("create pod directory: %w", err)
	}
	if err := os.Chmod(tmp, 0o711); err != nil {
		os.RemoveAll(tmp)
		return "", nil, fmt.Errorf("create pod directory: %w", err)
	}
	lock, err := Dir(tmp).HoldShimLock()
	if err == nil {
		err = Dir(tmp).WriteRecord(rec)
	}
	if err == nil {
		err = os.Rename(tmp, string(dir))
		if errors.Is(err, unix.ENOTEMPTY) || errors.Is(err, unix.EEXIST) {
			err = ErrExist
		}
	}
	if err != nil {
		if lock != nil {
			lock.Close()
		}
		os.RemoveAll(tmp)
		if errors.Is(err, ErrExist) {
			return "", nil, err
		}
		return "", nil, fmt.Errorf("create pod directory %s: %w", dir, err)
	}
	return dir, lock, nil
}
