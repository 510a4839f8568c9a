package shim

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/podbox/podbox/cgroups"
	"github.com/podbox/podbox/image"
	"github.com/podbox/podbox/internal/nsutil"
	"github.com/podbox/podbox/internal/podstate"
	"github.com/podbox/podbox/internal/runtime"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// recover takes a pod over from a shim that died, starting from what that
// shim left: its last status (restart counts, states, back-off), the pod's
// events, libcontainer's state of the containers, the pinned namespaces;
// and from what the keeper kept: the containers' output pipes and the exit
// status of those that ended meanwhile. Running containers are adopted, not
// restarted; their logs go on in the same files. An exit nobody observed is
// reported as ContainerStatusUnknown, never invented. Whatever cannot be
// adopted is killed and cleaned up, and a sandbox that did not survive is
// made again (as when pause dies).
func (s *shim) recover(prev *podstate.Status) {
	sup := prev.Supervisor
	if evs, err := s.dir.ReadEvents(); err == nil {
		s.evlog = evs
	}
	s.startTime = metav1.Now()
	if prev.Pod.StartTime != nil {
		s.startTime = *prev.Pod.StartTime
	}
	s.hostIP = HostIP()
	// The network was attached by the dead shim (its DEL comes with the
	// sandbox's end).
	s.netReady = make(chan struct{})
	close(s.netReady)
	if usesCNI(s.rec) {
		for _, ip := range prev.Pod.PodIPs {
			s.podIPs = append(s.podIPs, ip.IP)
		}
	}
	s.setNetIPs(s.netReady, s.podIPs)
	for _, c := range prev.Pod.Conditions {
		s.conds[c.Type] = c
	}
	s.initDone, s.deleting, s.deadlineExceeded = sup.InitDone, prev.DeletionTimestamp, sup.DeadlineExceeded
	for k, e := range sup.BackOff {
		s.backoff.entries[k] = &backOffEntry{delay: e.Delay, lastUpdate: e.LastUpdate}
	}
	old := map[string]corev1.ContainerStatus{}
	for _, cs := range append(append([]corev1.ContainerStatus{}, prev.Pod.InitContainerStatuses...), prev.Pod.ContainerStatuses...) {
		old[cs.Name] = cs
	}
	for _, c := range s.ctrs {
		if cs, ok := old[c.spec.Name]; ok {
			c.status = cs
		}
		if pc := prev.Containers[c.spec.Name]; pc != nil {
			c.runs, c.sandboxRuns, c.done = pc.Runs, pc.SandboxRuns, pc.Done
			if pc.LogPath != "" {
				c.exec = &execInfo{id: pc.ID, logPath: pc.LogPath}
			}
		}
	}

	sandboxOK := s.reattachSandbox(sup)
	adopted, kept := 0, map[string]bool{pauseID: true}
	for _, c := range s.ctrs {
		pc := prev.Containers[c.spec.Name]
		if pc == nil || pc.Instance == nil {
			continue
		}
		kept[pc.Instance.ID] = true
		if s.adopt(c, pc.Instance, pc.Exec) {
			adopted++
		}
	}
	s.removeStrays(kept)
	s.log.Warn("took over from a shim that died", "adopted", adopted)
	s.event(corev1.EventTypeWarning, "ShimRestarted", "",
		fmt.Sprintf("The pod's shim died and was replaced; %d running container(s) adopted", adopted))

	switch {
	case sup.Stopping:
		grace := max(time.Until(sup.StopDeadline), 0)
		s.stop(grace, prev.DeletionTimestamp != nil)
	case sup.Recreating || !sandboxOK:
		s.sandboxGone()
	default:
		s.sidecarsEnding = sup.SidecarsEnding
		for _, c := range s.ctrs {
			s.resume(c)
		}
		if s.sidecarsEnding {
			// The dead shim was stopping the sidecars: finish that.
			s.stopSidecars(time.Now().Add(s.gracePeriod(nil)))
		} else {
			s.endSidecarsIfDone()
		}
	}
}

// reattachSandbox finds the sandbox the dead shim made: cgroup, pinned
// namespaces, /etc files, /dev/shm, pause. It reports whether the sandbox is
// whole; if not, the pod is made again (sandboxGone).
func (s *shim) reattachSandbox(sup *podstate.Supervisor) bool {
	pod := s.pod
	s.pauseReady = make(chan struct{})
	ok := true
	cg, err := cgroups.CreatePod(s.rec.CgroupParent, string(pod.UID))
	if err != nil {
		s.log.Error("pod cgroup", "err", err)
		return false
	}
	s.cg = cg
	if err := s.applyPodLimits(); err != nil {
		s.log.Error("pod cgroup limits", "err", err)
		return false
	}
	if s.hostname, err = PodHostname(pod); err != nil {
		s.log.Error("pod hostname", "err", err)
		return false
	}
	s.ns = s.namespaces()
	for _, p := range []runtime.NS{s.ns.Net, s.ns.IPC, s.ns.UTS} {
		if !p.Host && nsutil.Path(filepath.Dir(p.Path), filepath.Base(p.Path)) == "" {
			s.log.Error("pod namespace is not pinned any more", "path", p.Path)
			ok = false
		}
	}
	// Running containers have the /etc files bind-mounted: they are kept
	// as they are, and only written again if one is missing.
	s.etcPaths()
	for _, f := range []string{s.etc.hosts, s.etc.hostname, s.etc.resolv} {
		if _, err := os.Stat(f); err != nil {
			if err := s.writeEtc(); err != nil {
				s.log.Error("pod /etc files", "err", err)
				ok = false
			}
			break
		}
	}
	if usesCNI(s.rec) {
		// An ADD the dead shim had not finished: the network is made again
		// with the sandbox (the DEL undoes what it did).
		if _, err := os.Stat(s.dir.NetworkFile()); err != nil || len(s.podIPs) == 0 {
			s.log.Error("the pod's network attachment did not finish")
			ok = false
		}
	}
	s.shm = "/dev/shm"
	if !pod.Spec.HostIPC {
		s.shm = s.dir.ShmDir()
		if mounts, _ := MountsUnder(s.shm); len(mounts) == 0 {
			s.log.Error("pod /dev/shm is not mounted any more", "path", s.shm)
			ok = false
		}
	}
	// Pause is adopted if it runs, whatever the last status says (the dead
	// shim may have launched it after writing that). One that never
	// started (the shim died while starting it) is started again when its
	// time comes; one that started and is gone is a dead sandbox.
	c, err := runtime.Load(s.dir.RuncRoot(), pauseID)
	if errors.Is(err, runtime.ErrNotExist) && !sup.PauseStarted {
		// A start cut short may have left a directory without state.
		if err := os.RemoveAll(filepath.Join(s.dir.RuncRoot(), pauseID)); err != nil {
			s.log.Warn("remove the state of pause that never started", "err", err)
		}
		if err := nsutil.UnpinPID(s.dir.NsDir()); err != nil {
			s.log.Warn("unpin the PID namespace of pause that never started", "err", err)
		}
		if s.sharesPID() {
			s.launchPause()
		}
		return ok
	}
	if err != nil {
		s.log.Error("pause", "err", err)
		s.pauseLaunched = true
		close(s.pauseReady)
		return false
	}
	pid := c.InitPid()
	pidfd, perr := unix.PidfdOpen(pid, 0)
	if perr != nil || !c.Running() || c.InitPid() != pid {
		if perr == nil {
			unix.Close(pidfd)
		}
		if !sup.PauseStarted {
			if err := c.Destroy(2 * time.Second); err != nil {
				s.log.Warn("destroy pause that never started", "err", err)
			}
			if err := nsutil.UnpinPID(s.dir.NsDir()); err != nil {
				s.log.Warn("unpin the PID namespace of pause that never started", "err", err)
			}
			if s.sharesPID() {
				s.launchPause()
			}
			return ok
		}
		s.log.Error("pause is gone")
		s.pause, s.pauseLaunched = c, true
		close(s.pauseReady)
		return false
	}
	s.pause, s.pauseLaunched, s.pauseUp = c, true, true
	close(s.pauseReady)
	s.pauseExited = make(chan struct{})
	s.workers.Add(1)
	go func() {
		defer s.workers.Done()
		s.waitAdopted(pid, pidfd)
		unix.Close(pidfd)
		close(s.pauseExited)
		s.send(pauseExitedEv{})
	}()
	return ok
}

// adopt takes over a container instance the dead shim started. It reports
// whether the instance was still running; one that ended meanwhile is
// reported as exited, with its status if the keeper saw it.
func (s *shim) adopt(c *ctr, pi *podstate.Instance, ex *podstate.ExecDefaults) bool {
	inst := &instance{
		id: pi.ID, restart: pi.Restart, containerID: pi.ContainerID, imageName: pi.ImageName,
		imageID: pi.ImageID, stopSignal: unix.Signal(pi.StopSignal), dir: pi.Dir, logPath: pi.LogPath,
		cgroupPath: pi.CgroupPath, pid: pi.Pid, pidfd: -1, started: pi.Started,
		outIno: pi.StdoutIno, errIno: pi.StderrIno, exited: make(chan struct{}), cleaned: make(chan struct{}),
		ctr: c,
	}
	if inst.stopSignal == 0 {
		inst.stopSignal = unix.SIGTERM
	}
	if ex != nil {
		inst.exec = execDefaults{env: ex.Env, cwd: ex.Cwd, envFile: ex.EnvFile,
			user: runtime.User{UID: ex.UID, GID: ex.GID, AdditionalGIDs: ex.AdditionalGIDs}}
		if ex.EnvFile != "" {
			// The environment holds Secrets: it is on the pod's secret
			// tmpfs, not in the status (probes and hooks exec with it).
			if env, err := ReadEnvFile(ex.EnvFile); err == nil {
				inst.exec.env = env
			} else {
				s.log.Warn("read the container's environment", "container", pi.ID, "err", err)
			}
		}
	}
	lc, err := runtime.Load(s.dir.RuncRoot(), pi.ID)
	if err == nil {
		inst.lc = lc
	}
	// The pidfd is taken before the liveness check: if the check passes,
	// it is the container's init and not a process that reused its PID.
	running := false
	if fd, err := unix.PidfdOpen(pi.Pid, 0); err == nil {
		running = lc != nil && lc.Running() && lc.InitPid() == pi.Pid
		if running {
			inst.pidfd = fd
		} else {
			unix.Close(fd) // maybe another process by now
		}
	}
	// What it wrote while no shim read its output is still in the pipes:
	// the keeper kept them open.
	if files := s.keeper.get(pi.ID, 2*time.Second); len(files) == 2 {
		err = s.copyOutput(inst, files[0], files[1])
	} else {
		for _, f := range files {
			f.Close()
		}
		err = s.reopenOutput(inst, running)
	}
	if err != nil {
		s.log.Warn("container output", "container", pi.ID, "err", err)
	}
	c.inst = inst
	c.exec = &execInfo{id: inst.id, logPath: inst.logPath}
	inst.podIPs = s.podIPs
	if running {
		// Readiness is probed again from its initial result, as after a
		// kubelet restart; a container that had started stays started (its
		// startup probe is not run again).
		started := c.status.Started != nil && *c.status.Started
		if c.spec.ReadinessProbe != nil {
			c.status.Ready = false
		}
		// A sidecar that had started lets the next init container go.
		c.sidecarUp = c.sidecar() && started
		s.startProbes(c, inst)
	}
	s.workers.Add(1)
	go func() { defer s.workers.Done(); s.wait(c, inst) }()
	return running
}

// reopenOutput opens the output pipes of a running instance through its
// init's /proc entries, for when the keeper does not hold them (a new
// keeper): only if they still are the pipes the instance was given.
func (s *shim) reopenOutput(inst *instance, running bool) error {
	if !running {
		return nil
	}
	open := func(fd int, ino uint64) *os.File {
		path := "/proc/" + strconv.Itoa(inst.pid) + "/fd/" + strconv.Itoa(fd)
		var st unix.Stat_t
		if ino == 0 || unix.Stat(path, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO || st.Ino != ino {
			return nil
		}
		f, err := os.OpenFile(path, os.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil
		}
		return f
	}
	outR, errR := open(1, inst.outIno), open(2, inst.errIno)
	if outR == nil || errR == nil {
		if outR != nil {
			outR.Close()
		}
		if errR != nil {
			errR.Close()
		}
		return errors.New("its output pipes are gone: its output is not logged any more")
	}
	s.keeper.hold(inst.id, outR, errR)
	return s.copyOutput(inst, outR, errR)
}

// removeStrays destroys libcontainer containers the dead shim was still
// setting up (not recorded as any container's instance) and unmounts their
// root file systems; their numbers are not used again.
func (s *shim) removeStrays(kept map[string]bool) {
	ids, err := runtime.List(s.dir.RuncRoot())
	if err != nil {
		s.log.Warn("list containers", "err", err)
	}
	for _, id := range ids {
		if kept[id] {
			continue
		}
		if lc, err := runtime.Load(s.dir.RuncRoot(), id); err == nil {
			if err := lc.Destroy(2 * time.Second); err != nil {
				s.log.Warn("destroy stray container", "container", id, "err", err)
			}
		} else {
			_ = os.RemoveAll(filepath.Join(s.dir.RuncRoot(), id))
		}
		s.keeper.drop(id)
		s.bumpRuns(id)
	}
	dirs, _ := filepath.Glob(filepath.Join(s.roots.DataDir(string(s.pod.UID)), "containers", "*"))
	for _, d := range dirs {
		if kept[filepath.Base(d)] {
			continue
		}
		if err := image.Unmount(d); err != nil {
			s.log.Warn("unmount stray container rootfs", "dir", d, "err", err)
		}
		s.bumpRuns(filepath.Base(d))
	}
}

// bumpRuns makes sure the next instance of the container a stray ID
// (<name>.<restart>) belongs to gets a number of its own.
func (s *shim) bumpRuns(id string) {
	name, n, ok := strings.Cut(id, ".")
	restart, err := strconv.Atoi(n)
	if c := s.byName[name]; ok && err == nil && c != nil && c.runs <= restart {
		c.runs = restart + 1
	}
}

// resume decides what comes next for a container that has no live
// instance after a take-over, as the dead shim would have.
func (s *shim) resume(c *ctr) {
	if c.inst != nil || c.done {
		return
	}
	if c.sidecar() && s.sidecarsEnding {
		c.done = true // it was being stopped for good
		return
	}
	st := c.status.State
	switch {
	case st.Running != nil:
		// Recorded as running but no instance was recorded: it cannot be
		// found, so its end is unknown.
		now := metav1.Now()
		c.status.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			ExitCode: unknownExitCode, Reason: reasonStatusUnknown, StartedAt: st.Running.StartedAt, FinishedAt: now,
			ContainerID: c.status.ContainerID, Message: "The container could not be found when its shim was replaced",
		}}
		s.resumeTerminated(c, c.status.State.Terminated)
	case st.Terminated != nil:
		s.resumeTerminated(c, st.Terminated)
	case st.Waiting != nil && st.Waiting.Reason == "CrashLoopBackOff" && c.status.LastTerminationState.Terminated != nil:
		// In back-off: start when it ends.
		finished := c.status.LastTerminationState.Terminated.FinishedAt.Time
		wait := s.backoff.wait(backOffKey(c), finished, time.Now())
		c.timer = s.after(wait, c)
	default:
		// Waiting to be created (or for its image): advance starts it when
		// its turn comes.
		c.sandboxRuns = 0
		c.sidecarUp = false
	}
}

// resumeTerminated applies the restart policy to a container whose last
// instance ended before the take-over.
func (s *shim) resumeTerminated(c *ctr, t *corev1.ContainerStateTerminated) {
	code := int(t.ExitCode)
	if t.Reason == reasonStatusUnknown {
		code = unknownExitCode
	}
	if (c.init && !c.sidecar() && code == 0) || !s.restarts(c, code) {
		c.done = true
		return
	}
	s.scheduleRestart(c, t.FinishedAt.Time)
}

// waitAdopted waits for the end of a process a dead shim left behind. The
// keeper, now its parent, reports its wait status; if it cannot (it is not
// the parent: the keeper died too), the pidfd tells when the process ended
// but not how, and the exit is unknown.
func (s *shim) waitAdopted(pid, pidfd int) (runtime.Exit, bool) {
	if ex := <-s.keeper.wait(pid); ex.known {
		return runtime.ExitOf(syscall.WaitStatus(ex.status)), false
	}
	if pidfd >= 0 {
		fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
		for {
			if _, err := unix.Poll(fds, -1); err != unix.EINTR {
				break
			}
		}
	}
	return runtime.Exit{Code: unknownExitCode}, true
}
