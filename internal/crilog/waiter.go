package crilog

import (
	"context"
	"errors"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// waiter sleeps until a followed log file changes or a poll interval
// passes. It uses inotify when it can and plain polling otherwise (inotify
// instances are a limited resource).
type waiter struct {
	ino *os.File // non-blocking inotify descriptor; nil when polling
	buf []byte
}

func newWaiter(path string) *waiter {
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return &waiter{}
	}
	const mask = unix.IN_MODIFY | unix.IN_CLOSE_WRITE | unix.IN_ATTRIB | unix.IN_MOVE_SELF | unix.IN_DELETE_SELF
	if _, err := unix.InotifyAddWatch(fd, path, mask); err != nil {
		unix.Close(fd)
		return &waiter{}
	}
	// A non-blocking descriptor goes to the runtime poller, so reads
	// honour deadlines.
	return &waiter{ino: os.NewFile(uintptr(fd), "inotify"), buf: make([]byte, 4096)}
}

// wait returns after the file changed, after d, or with ctx's error once
// ctx is done.
func (w *waiter) wait(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if w.ino == nil {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			return nil
		}
	}
	if err := w.ino.SetReadDeadline(time.Now().Add(d)); err != nil {
		w.fallBack()
		return nil
	}
	stop := context.AfterFunc(ctx, func() {
		// Wake the read below at once.
		_ = w.ino.SetReadDeadline(time.Unix(1, 0))
	})
	_, err := w.ino.Read(w.buf)
	stop()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
		w.fallBack() // inotify broke (queue overflow is not an error); poll
	}
	return nil
}

func (w *waiter) fallBack() {
	w.close()
	w.ino = nil
}

func (w *waiter) close() {
	if w.ino != nil {
		_ = w.ino.Close()
	}
}
