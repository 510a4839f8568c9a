package main

// The keeper: `pause keep -- SHIM ARGV...` runs a pod's shim as its child and
// outlives it, so that a shim that dies (killed, OOM, a bug) costs the pod
// nothing:
//
//   - it is a child subreaper above the shim: the containers a dead shim
//     leaves behind are reparented to it, it reaps them and keeps their
//     exit status for the next shim ("wait PID"), which therefore reports
//     real exit codes instead of unknown ones;
//   - it holds a spare read end of every container's stdout and stderr pipe
//     ("hold KEY" with the descriptors): while no shim reads them, a
//     container that writes blocks once the pipe is full instead of dying of
//     SIGPIPE, and the next shim gets them back ("get KEY");
//   - it starts a new shim when one dies without saying "bye" (at once the
//     first time, then with a back-off), or at once on SIGUSR1.
//
// It talks to the shim over a SOCK_SEQPACKET socket pair, one short text
// message per packet, descriptors as SCM_RIGHTS. Its environment is the
// shim's; it adds the socket's fd number (EnvKeeperFD) and passes the ready
// pipe and the lock to the first shim only.

import (
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The environment the keeper and the shim share (see internal/shim).
const (
	envPodDir   = "_PODBOX_SHIM_POD_DIR"
	envReadyFD  = "_PODBOX_SHIM_READY_FD"
	envLockFD   = "_PODBOX_SHIM_LOCK_FD"
	envKeeperFD = "_PODBOX_SHIM_KEEPER_FD"
	envExeFD    = "_PODBOX_KEEPER_EXE_FD"
)

// Exit codes of the keeper.
const (
	exitKeeperBusy = 5 // another keeper holds the pod's keeper lock
	exitPodGone    = 6 // the pod's directory was removed or reused
)

// Respawn back-off: the first restart is immediate, then 1s doubling to
// 30s; a shim that ran a minute starts the count over.
const (
	respawnBase  = time.Second
	respawnMax   = 30 * time.Second
	respawnReset = time.Minute
)

// maxReaped bounds the exit statuses kept for pids nobody asked about.
const maxReaped = 4096

type keeper struct {
	dir     string
	uid     string // the pod's UID as its record had it when the keeper started
	exe     int    // fd of the shim binary
	argv    []string
	env     []string
	ready   int // the first shim's ready pipe and lock, -1 once handed over
	lock    int
	sock    int // our end of the current shim's socket, -1 without a shim
	gen     int // counts shims: packets of an earlier one are dropped
	msgs    chan packet
	shimPid int
	started int64 // monotonic ns when the shim started
	bye     bool
	stop    bool // asked to stop: no more respawns
	fails   int  // shims that died in a row (a minute of running resets it)
	timer   *time.Timer
	// A shim has ended when it was reaped (exited) and its socket's last
	// packet was read (eof): what it said just before it died (a bye, a
	// hold) counts. drain bounds the wait for the end of the socket.
	exited bool
	status syscall.WaitStatus
	eof    bool
	drain  *time.Timer

	held    map[string][]int
	waiting map[int]bool
	reaped  map[int]syscall.WaitStatus
	order   []int
}

type packet struct {
	gen  int // the shim it came from
	sock int
	text string
	fds  []int
	eof  bool
}

func keep(args []string) int {
	if len(args) < 2 || args[0] != "--" {
		os.Stderr.WriteString("usage: pause keep -- SHIM [ARGS...]\n")
		return exitUsage
	}
	k := &keeper{
		dir: os.Getenv(envPodDir), argv: args[1:], exe: envFD(envExeFD),
		ready: envFD(envReadyFD), lock: envFD(envLockFD), sock: -1,
		msgs: make(chan packet, 16), held: map[string][]int{},
		waiting: map[int]bool{}, reaped: map[int]syscall.WaitStatus{},
	}
	if k.dir == "" || k.exe < 0 {
		os.Stderr.WriteString("pause keep: " + envPodDir + " and " + envExeFD + " must be set\n")
		return exitUsage
	}
	// Inherited descriptors reach a shim only where spawn puts them.
	for _, fd := range []int{k.exe, k.ready, k.lock} {
		if fd >= 0 {
			unix.CloseOnExec(fd)
		}
	}
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, envReadyFD+"=") && !strings.HasPrefix(e, envLockFD+"=") &&
			!strings.HasPrefix(e, envKeeperFD+"=") && !strings.HasPrefix(e, envExeFD+"=") {
			k.env = append(k.env, e)
		}
	}
	k.uid = podUID(k.dir)
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return k.fail(exitSetup, "set child subreaper: "+err.Error())
	}
	lock, err := unix.Open(k.dir+"/keeper.lock", unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return k.fail(exitSetup, "open keeper lock: "+err.Error())
	}
	if !flockRetry(lock) {
		return k.fail(exitKeeperBusy, "another keeper runs for "+k.dir)
	}
	if err := writePid(k.dir+"/keeper.pid", os.Getpid()); err != nil {
		return k.fail(exitSetup, "write keeper.pid: "+err.Error())
	}
	sigs := make(chan os.Signal, 32)
	signal.Notify(sigs, unix.SIGCHLD, unix.SIGUSR1, unix.SIGTERM, unix.SIGINT)
	signal.Ignore(unix.SIGHUP, unix.SIGPIPE)
	if err := k.spawn(); err != nil {
		return k.fail(exitSetup, "start shim: "+err.Error())
	}
	k.reapAll()
	for {
		var tick, drained <-chan time.Time
		if k.timer != nil {
			tick = k.timer.C
		}
		if k.drain != nil {
			drained = k.drain.C
		}
		select {
		case p := <-k.msgs:
			k.handle(p)
		case <-drained:
			// The dead shim's socket did not end (something inherited
			// it): go on without its last packets.
			k.drain = nil
			k.eof = true
			k.shimEnded()
		case sig := <-sigs:
			switch sig {
			case unix.SIGCHLD:
				k.reapAll()
			case unix.SIGUSR1:
				if k.shimPid == 0 && k.drain == nil && !k.stop {
					if k.timer != nil {
						k.timer.Stop()
						k.timer = nil
					}
					k.respawn()
				}
			default:
				k.stop = true
				if k.shimPid > 0 {
					_ = unix.Kill(k.shimPid, unix.SIGTERM)
				}
			}
		case <-tick:
			k.timer = nil
			k.respawn()
		}
		if k.shimPid == 0 && k.timer == nil && k.drain == nil {
			// Nothing to keep: the shim said bye, or we were told to stop,
			// or the pod is gone.
			k.closeHeld()
			if k.bye || k.stop {
				return exitOK
			}
			return exitPodGone
		}
	}
}

// fail reports a setup error to the CLI waiting on the ready pipe (the shim
// would have) and on stderr, and returns code.
func (k *keeper) fail(code int, msg string) int {
	os.Stderr.WriteString("pause keep: " + msg + "\n")
	if k.ready >= 0 {
		_, _ = unix.Write(k.ready, []byte("error: "+msg+"\n"))
	}
	return code
}

// spawn starts a shim with a new socket pair; the first one also gets the
// ready pipe and the lock (then closed here: the lock must die with it).
func (k *keeper) spawn() error {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	files := []uintptr{0, 1, 2, uintptr(fds[1])}
	env := append(append([]string{}, k.env...), envKeeperFD+"=3")
	if k.ready >= 0 {
		files = append(files, uintptr(k.ready))
		env = append(env, envReadyFD+"="+itoa(len(files)-1))
	}
	if k.lock >= 0 {
		files = append(files, uintptr(k.lock))
		env = append(env, envLockFD+"="+itoa(len(files)-1))
	}
	// Through our fd table, not the child's: its fd 3 is the socket by the
	// time it execs.
	pid, err := syscall.ForkExec("/proc/"+itoa(os.Getpid())+"/fd/"+itoa(k.exe), k.argv, &syscall.ProcAttr{
		Dir: "/", Env: env, Files: files,
	})
	_ = unix.Close(fds[1])
	if err != nil {
		// The ready pipe stays open: fail reports on it.
		_ = unix.Close(fds[0])
		return err
	}
	if k.ready >= 0 {
		_ = unix.Close(k.ready)
		k.ready = -1
	}
	if k.lock >= 0 {
		_ = unix.Close(k.lock)
		k.lock = -1
	}
	k.gen++
	k.shimPid, k.sock, k.started, k.bye = pid, fds[0], monotonic(), false
	k.exited, k.eof = false, false
	go read(fds[0], k.gen, k.msgs)
	return nil
}

// respawn starts a new shim unless the pod is gone.
func (k *keeper) respawn() {
	if cur := podUID(k.dir); cur == "" || cur != k.uid {
		os.Stderr.WriteString("pause keep: the pod is gone; not starting a new shim\n")
		return
	}
	if err := k.spawn(); err != nil {
		os.Stderr.WriteString("pause keep: start shim: " + err.Error() + "\n")
		k.fails++
		k.backOff()
	}
}

// backOff schedules the next respawn: 1s after the second failure in a
// row, doubling up to 30s.
func (k *keeper) backOff() {
	d := respawnBase
	for i := 2; i < k.fails && d < respawnMax; i++ {
		d *= 2
	}
	d = min(d, respawnMax)
	os.Stderr.WriteString("pause keep: starting a new shim in " + itoa(int(d/time.Second)) + "s\n")
	k.timer = time.NewTimer(d)
}

// read forwards the packets of one shim's socket until it ends. The socket
// is closed when its end is handled, after the last read: its number cannot
// be reused under a read.
func read(sock, gen int, out chan<- packet) {
	buf := make([]byte, 512)
	oob := make([]byte, syscall.CmsgSpace(8*4))
	for {
		n, oobn, _, _, err := syscall.Recvmsg(sock, buf, oob, syscall.MSG_CMSG_CLOEXEC)
		if err == syscall.EINTR {
			continue
		}
		if err != nil || (n == 0 && oobn == 0) {
			out <- packet{gen: gen, sock: sock, eof: true}
			return
		}
		var fds []int
		if msgs, err := syscall.ParseSocketControlMessage(oob[:oobn]); err == nil {
			for _, m := range msgs {
				if got, err := syscall.ParseUnixRights(&m); err == nil {
					fds = append(fds, got...)
				}
			}
		}
		out <- packet{gen: gen, text: string(buf[:n]), fds: fds}
	}
}

// handle carries out one message of the shim.
func (k *keeper) handle(p packet) {
	if p.eof {
		// Every packet of that shim has been read.
		_ = unix.Close(p.sock)
		if p.gen == k.gen {
			k.sock = -1
			k.eof = true
			k.shimEnded()
		}
		return
	}
	if p.gen != k.gen || k.sock < 0 {
		closeAll(p.fds) // from a shim that is gone
		return
	}
	verb, arg, _ := strings.Cut(p.text, " ")
	switch verb {
	case "hold":
		closeAll(k.held[arg])
		k.held[arg] = p.fds
		return
	case "drop":
		closeAll(k.held[arg])
		delete(k.held, arg)
	case "get":
		if fds, ok := k.held[arg]; ok && len(fds) > 0 {
			_ = syscall.Sendmsg(k.sock, []byte("fds "+arg), syscall.UnixRights(fds...), nil, unix.MSG_DONTWAIT)
		} else {
			k.send("none " + arg)
		}
	case "wait":
		pid := atoi(arg)
		var si unix.Siginfo
		if pid > 0 && unix.Waitid(unix.P_PID, pid, &si, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil) == nil {
			// Our child, alive or not yet reaped: an older status kept
			// for the same PID belongs to an earlier process.
			delete(k.reaped, pid)
			k.waiting[pid] = true
			k.reapAll()
			break
		}
		if ws, ok := k.reaped[pid]; ok {
			delete(k.reaped, pid)
			k.send("exit " + arg + " " + itoa(int(ws)))
			break
		}
		k.send("unknown " + arg) // not our child: its exit will not reach us
	case "bye":
		k.bye = true
	default:
		os.Stderr.WriteString("pause keep: unknown message " + "\"" + p.text + "\"\n")
	}
	closeAll(p.fds)
}

func (k *keeper) send(text string) {
	if k.sock >= 0 {
		// Never block on a shim that does not read: it would stop the
		// keeper from reaping.
		_ = syscall.Sendmsg(k.sock, []byte(text), nil, nil, unix.MSG_DONTWAIT)
	}
}

// reapAll collects every exited child: the shim, or a container its
// predecessor left to us (its status goes to whoever waits for it, or is
// kept until asked for).
func (k *keeper) reapAll() {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if err == syscall.EINTR {
			continue
		}
		if pid <= 0 || err != nil {
			return
		}
		if pid == k.shimPid {
			k.shimExited(ws)
			continue
		}
		if k.waiting[pid] {
			delete(k.waiting, pid)
			k.send("exit " + itoa(pid) + " " + itoa(int(ws)))
			continue
		}
		k.reaped[pid] = ws
		k.order = append(k.order, pid)
		for len(k.order) > maxReaped {
			delete(k.reaped, k.order[0])
			k.order = k.order[1:]
		}
	}
}

// shimExited records that the shim was reaped; what happens next is
// decided once its socket has been read to the end too (shimEnded).
func (k *keeper) shimExited(ws syscall.WaitStatus) {
	k.shimPid = 0
	k.exited, k.status = true, ws
	k.waiting = map[int]bool{} // the next shim asks again
	if !k.eof {
		k.drain = time.NewTimer(time.Second)
	}
	k.shimEnded()
}

// shimEnded reacts to the end of the shim, once it is reaped and its last
// packets are read: done if it said bye (or we were told to stop), else a
// new one is started (at once the first time, then with a back-off).
func (k *keeper) shimEnded() {
	if !k.exited || !k.eof {
		return
	}
	k.exited = false
	if k.drain != nil {
		k.drain.Stop()
		k.drain = nil
	}
	if k.bye || k.stop {
		return
	}
	ws := k.status
	how := "exited " + itoa(ws.ExitStatus())
	if ws.Signaled() {
		how = "was killed by signal " + itoa(int(ws.Signal()))
	}
	os.Stderr.WriteString("pause keep: the shim " + how + "\n")
	if monotonic()-k.started > int64(respawnReset) {
		k.fails = 0
	}
	k.fails++
	if k.fails == 1 {
		k.respawn()
		return
	}
	k.backOff()
}

func (k *keeper) closeHeld() {
	for key, fds := range k.held {
		closeAll(fds)
		delete(k.held, key)
	}
}

// flockRetry takes an exclusive flock on fd, retrying for a second: a
// podbox command checking whether the lock is held takes it for a moment.
func flockRetry(fd int) bool {
	for i := 0; ; i++ {
		err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return true
		}
		if err != unix.EWOULDBLOCK || i == 100 {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func closeAll(fds []int) {
	for _, fd := range fds {
		_ = unix.Close(fd)
	}
}

// podUID reads the pod's UID from its record, "" if it has none.
func podUID(dir string) string {
	data, err := os.ReadFile(dir + "/pod.json")
	if err != nil {
		return ""
	}
	// The record is JSON written by podbox; the UID is the first "uid".
	s := string(data)
	i := strings.Index(s, `"uid":"`)
	if i < 0 {
		return ""
	}
	s = s[i+len(`"uid":"`):]
	j := strings.IndexByte(s, '"')
	if j < 0 {
		return ""
	}
	return s[:j]
}

func writePid(path string, pid int) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(itoa(pid)+"\n"), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func envFD(name string) int {
	v := os.Getenv(name)
	if v == "" {
		return -1
	}
	return atoi(v)
}

// atoi parses a non-negative decimal number, -1 if s is not one.
func atoi(s string) int {
	if s == "" {
		return -1
	}
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' || n > 1<<30 {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// monotonic is CLOCK_MONOTONIC in nanoseconds (time.Time would cost the
// binary its formatting code).
func monotonic() int64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}
