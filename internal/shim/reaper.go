package shim

import (
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// reaper collects orphans the shim inherits as a child subreaper (processes
// of hostPID containers whose parent died) without stealing the exit status
// of the children the shim waits for itself. libcontainer's short-lived
// setup processes are unknown to us, so nothing is reaped while a container
// starts (starts hold mu for reading); children we wait for are "owned".
type reaper struct {
	mu    sync.RWMutex // read-held by starts, write-held while reaping
	omu   sync.Mutex   // guards owned
	owned map[int]bool
}

func newReaper() *reaper { return &reaper{owned: map[int]bool{}} }

// starting must be held around every start of a child the shim will wait
// for, up to and including own().
func (r *reaper) starting() func() {
	r.mu.RLock()
	return r.mu.RUnlock
}

// own marks pid as waited for by its starter. Call with starting held.
func (r *reaper) own(pid int) {
	r.omu.Lock()
	r.owned[pid] = true
	r.omu.Unlock()
}

// disown forgets pid once its owner has waited for it.
func (r *reaper) disown(pid int) {
	r.omu.Lock()
	delete(r.owned, pid)
	r.omu.Unlock()
}

// run reaps orphans on every SIGCHLD and on a tick (an owned zombie at the
// head of the queue hides orphans behind it) until stop is closed.
func (r *reaper) run(stop <-chan struct{}) {
	sigc := make(chan os.Signal, 16)
	signal.Notify(sigc, unix.SIGCHLD)
	defer signal.Stop(sigc)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-sigc:
		case <-tick.C:
		}
		r.reapOrphans()
	}
}

func (r *reaper) reapOrphans() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		var si unix.Siginfo
		if err := unix.Waitid(unix.P_ALL, 0, &si, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil); err != nil {
			return
		}
		pid := siginfoPid(&si)
		r.omu.Lock()
		owned := r.owned[pid]
		r.omu.Unlock()
		if pid == 0 || owned {
			return
		}
		var ws unix.WaitStatus
		_, _ = unix.Wait4(pid, &ws, unix.WNOHANG, nil)
	}
}

// siginfoPid reads si_pid from a siginfo_t (offset 16 on Linux, after
// si_signo, si_errno, si_code and padding).
func siginfoPid(si *unix.Siginfo) int {
	return int(*(*int32)(unsafe.Pointer(uintptr(unsafe.Pointer(si)) + 16)))
}

// startChild starts cmd as a child the orphan reaper leaves alone, and
// returns how to wait for it: for every process the shim waits for itself
// (pull helpers, CNI plugins), whose exit status the reaper would
// otherwise take.
func (s *shim) startChild(cmd *exec.Cmd) (func() error, error) {
	done := s.reap.starting()
	err := cmd.Start()
	if err == nil {
		s.reap.own(cmd.Process.Pid)
	}
	done()
	if err != nil {
		return nil, err
	}
	return func() error {
		err := cmd.Wait()
		s.reap.disown(cmd.Process.Pid)
		return err
	}, nil
}
