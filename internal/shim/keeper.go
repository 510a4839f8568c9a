package shim

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// keeperConn is the shim's end of the socket to its keeper, the pause
// binary run as `pause keep` above the shim (see pause/keeper.go): it holds
// a spare read end of every container's output pipes, reaps and reports
// the containers a dead shim left behind, and starts a new shim when one
// dies. One short text message per packet; descriptors as SCM_RIGHTS.
//
// A nil *keeperConn (no keeper) is valid: holds do nothing, gets find
// nothing, waits report the exit as unknown.
type keeperConn struct {
	fd  int
	pid int

	mu    sync.Mutex
	waits map[int][]chan keeperExit
	gets  map[string][]chan []*os.File
	dead  bool
}

// keeperExit is what the keeper says of a process it was asked to wait for:
// its wait status, or that it cannot know (the process is not its child).
type keeperExit struct {
	status syscall.WaitStatus
	known  bool
}

// dialKeeper takes over the inherited socket fd and starts reading it.
func dialKeeper(fd int) *keeperConn {
	unix.CloseOnExec(fd)
	k := &keeperConn{fd: fd, pid: os.Getppid(), waits: map[int][]chan keeperExit{}, gets: map[string][]chan []*os.File{}}
	go k.read()
	return k
}

// PID is the keeper's PID, 0 without one.
func (k *keeperConn) PID() int {
	if k == nil {
		return 0
	}
	return k.pid
}

func (k *keeperConn) send(text string, files ...*os.File) {
	if k == nil {
		return
	}
	var rights []byte
	if len(files) > 0 {
		fds := make([]int, len(files))
		for i, f := range files {
			fds[i] = int(f.Fd())
		}
		rights = unix.UnixRights(fds...)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.dead {
		// Never block the shim on a keeper that does not read (stopped
		// by a teardown); the keeper drains its socket all the time.
		_ = unix.Sendmsg(k.fd, []byte(text), rights, nil, unix.MSG_DONTWAIT)
	}
}

// hold gives the keeper copies of files to keep under key (an instance's
// output pipes: while they are held, no shim reading them is needed for
// the container's writes to succeed).
func (k *keeperConn) hold(key string, files ...*os.File) { k.send("hold "+key, files...) }

// drop makes the keeper close what it holds under key.
func (k *keeperConn) drop(key string) { k.send("drop " + key) }

// bye tells the keeper the shim ends on purpose: no new shim is wanted.
func (k *keeperConn) bye() { k.send("bye") }

// get asks the keeper for the files it holds under key; nil if it holds
// none (or does not answer within timeout).
func (k *keeperConn) get(key string, timeout time.Duration) []*os.File {
	if k == nil {
		return nil
	}
	ch := make(chan []*os.File, 1)
	k.mu.Lock()
	if k.dead {
		k.mu.Unlock()
		return nil
	}
	k.gets[key] = append(k.gets[key], ch)
	k.mu.Unlock()
	k.send("get " + key)
	select {
	case files := <-ch:
		return files
	case <-time.After(timeout):
	}
	// Give up on the answer; one that comes in meanwhile is closed.
	k.mu.Lock()
	chs := k.gets[key]
	for i, c := range chs {
		if c == ch {
			chs = append(chs[:i], chs[i+1:]...)
			break
		}
	}
	if len(chs) == 0 {
		delete(k.gets, key)
	} else {
		k.gets[key] = chs
	}
	k.mu.Unlock()
	select {
	case files := <-ch:
		for _, f := range files {
			f.Close()
		}
	default:
	}
	return nil
}

// wait asks the keeper to report the exit of pid, a process the previous
// shim left behind (now the keeper's child). The channel gets one value.
func (k *keeperConn) wait(pid int) <-chan keeperExit {
	ch := make(chan keeperExit, 1)
	if k == nil {
		ch <- keeperExit{}
		return ch
	}
	k.mu.Lock()
	if k.dead {
		k.mu.Unlock()
		ch <- keeperExit{}
		return ch
	}
	k.waits[pid] = append(k.waits[pid], ch)
	k.mu.Unlock()
	k.send("wait " + strconv.Itoa(pid))
	return ch
}

// read dispatches the keeper's answers until its socket ends; then every
// question still open is answered with "unknown" or nothing.
func (k *keeperConn) read() {
	buf := make([]byte, 512)
	oob := make([]byte, unix.CmsgSpace(8*4))
	for {
		n, oobn, _, _, err := unix.Recvmsg(k.fd, buf, oob, unix.MSG_CMSG_CLOEXEC)
		if err == unix.EINTR {
			continue
		}
		if err != nil || (n == 0 && oobn == 0) {
			break
		}
		var files []*os.File
		if msgs, err := unix.ParseSocketControlMessage(oob[:oobn]); err == nil {
			for _, m := range msgs {
				if fds, err := unix.ParseUnixRights(&m); err == nil {
					for _, fd := range fds {
						files = append(files, os.NewFile(uintptr(fd), "kept"))
					}
				}
			}
		}
		k.answer(string(buf[:n]), files)
	}
	k.mu.Lock()
	k.dead = true
	for pid, chs := range k.waits {
		for _, ch := range chs {
			ch <- keeperExit{}
		}
		delete(k.waits, pid)
	}
	for key, chs := range k.gets {
		for _, ch := range chs {
			ch <- nil
		}
		delete(k.gets, key)
	}
	k.mu.Unlock()
}

func (k *keeperConn) answer(text string, files []*os.File) {
	f := strings.Fields(text)
	k.mu.Lock()
	defer k.mu.Unlock()
	switch {
	case len(f) == 2 && (f[0] == "fds" || f[0] == "none"):
		chs := k.gets[f[1]]
		if len(chs) == 0 {
			break
		}
		chs[0] <- files
		files = nil
		if k.gets[f[1]] = chs[1:]; len(chs) == 1 {
			delete(k.gets, f[1])
		}
	case len(f) >= 2 && (f[0] == "exit" || f[0] == "unknown"):
		pid, _ := strconv.Atoi(f[1])
		ex := keeperExit{}
		if f[0] == "exit" && len(f) == 3 {
			ws, _ := strconv.Atoi(f[2])
			ex = keeperExit{status: syscall.WaitStatus(ws), known: true}
		}
		for _, ch := range k.waits[pid] {
			ch <- ex
		}
		delete(k.waits, pid)
	}
	for _, f := range files {
		f.Close()
	}
}
