package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/podbox/podbox/internal/podstate"
	"github.com/podbox/podbox/internal/shim"
	"golang.org/x/sys/unix"
)

// supervisors are a pod's keeper and shims as found on the host, held by
// pidfds so that a reused PID is never signalled. The keeper is frozen
// (SIGSTOP) while they are held: it starts no new shim, and it keeps the
// spare read ends of the containers' output pipes open, so that a
// container still running writes without dying of SIGPIPE until it is
// stopped.
type supervisors struct {
	dir    podstate.Dir
	keeper int   // pidfd, -1 if no keeper runs
	shims  []int // pidfds
}

// freezeSupervisors freezes the pod's keeper (keeperPID, or the one its
// pid file names) and finds the pod's shims: the keeper's children that
// are shims of the pod, and shimPID if it still is one. The caller kills
// the shims and, when the pod is torn down, the keeper.
func freezeSupervisors(dir podstate.Dir, keeperPID, shimPID int) *supervisors {
	s := &supervisors{dir: dir, keeper: -1}
	if keeperPID <= 0 {
		keeperPID = pidFromFile(dir.KeeperPIDFile())
	}
	if fd := openIf(keeperPID, func(args []string) bool { return isKeeper(args, dir) }); fd >= 0 {
		if unix.PidfdSendSignal(fd, unix.SIGSTOP, nil, 0) == nil {
			waitStopped(keeperPID)
		}
		s.keeper = fd
	}
	pids := []int{shimPID}
	if s.keeper >= 0 {
		pids = append(pids, children(keeperPID)...)
	}
	seen := map[int]bool{}
	for _, pid := range pids {
		if seen[pid] {
			continue
		}
		seen[pid] = true
		if fd := openIf(pid, func(args []string) bool { return isShim(args, dir) }); fd >= 0 {
			s.shims = append(s.shims, fd)
		}
	}
	return s
}

// killShims SIGKILLs the shims and waits until they are gone and the pod's
// shim lock is free; it fails if a shim still holds it.
func (s *supervisors) killShims() error {
	for _, fd := range s.shims {
		_ = unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, fd := range s.shims {
		waitPidfd(fd, deadline)
		unix.Close(fd)
	}
	s.shims = nil
	for s.dir.ShimAlive() {
		if time.Now().After(deadline) {
			return fmt.Errorf("a shim of pod %s still runs after SIGKILL (see %s)", s.dir, s.dir.ShimLog())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

// killKeeper SIGKILLs the keeper (and any shim still held) and waits for
// its end.
func (s *supervisors) killKeeper() {
	if len(s.shims) > 0 {
		_ = s.killShims()
	}
	if s.keeper < 0 {
		return
	}
	_ = unix.PidfdSendSignal(s.keeper, unix.SIGKILL, nil, 0)
	waitPidfd(s.keeper, time.Now().Add(5*time.Second))
	unix.Close(s.keeper)
	s.keeper = -1
}

// keeperAlive reports whether the pod has a live keeper (which restarts a
// dead shim by itself) and returns its PID.
func keeperAlive(dir podstate.Dir) (int, bool) {
	if !dir.KeeperAlive() {
		return 0, false
	}
	pid := pidFromFile(dir.KeeperPIDFile())
	args, err := cmdline(pid)
	return pid, err == nil && isKeeper(args, dir)
}

// openIf returns a pidfd of process pid if its command line passes check
// (checked after the pidfd is open: the pidfd then refers to that
// process), else -1.
func openIf(pid int, check func(args []string) bool) int {
	if pid <= 0 {
		return -1
	}
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return -1
	}
	if args, err := cmdline(pid); err != nil || !check(args) {
		unix.Close(fd)
		return -1
	}
	return fd
}

// isShim: args are those of a shim of the pod (`NAME shim DIR`).
func isShim(args []string, dir podstate.Dir) bool {
	return len(args) == 3 && args[1] == shim.Arg && args[2] == string(dir)
}

// isKeeper: args are those of the pod's keeper (`NAME keep -- SHIM... DIR`).
func isKeeper(args []string, dir podstate.Dir) bool {
	return len(args) >= 4 && args[1] == shim.KeeperArg && args[len(args)-1] == string(dir)
}

func cmdline(pid int) ([]string, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return nil, err
	}
	return strings.Split(strings.TrimSuffix(string(data), "\x00"), "\x00"), nil
}

func pidFromFile(path string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return 0
	}
	return pid
}

// children lists the children of process pid, forked by any of its
// threads.
func children(pid int) []int {
	files, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/children")
	var pids []int
	for _, f := range files {
		data, _ := os.ReadFile(f)
		for _, field := range strings.Fields(string(data)) {
			if n, err := strconv.Atoi(field); err == nil {
				pids = append(pids, n)
			}
		}
	}
	return pids
}

// waitStopped waits (up to a second) until process pid is stopped, so that
// it forks nothing more.
func waitStopped(pid int) {
	path := "/proc/" + strconv.Itoa(pid) + "/stat"
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		data, err := os.ReadFile(path)
		if err != nil {
			return
		}
		// pid (comm) STATE ...
		if i := strings.LastIndexByte(string(data), ')'); i < 0 || i+2 >= len(data) || data[i+2] == 'T' {
			return
		}
	}
}

// waitPidfd waits until the process of a pidfd has ended, or the deadline.
func waitPidfd(fd int, deadline time.Time) {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for time.Now().Before(deadline) {
		n, err := unix.Poll(fds, int(time.Until(deadline).Milliseconds())+1)
		if !errors.Is(err, unix.EINTR) || n > 0 {
			return
		}
	}
}
