package shim

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/podbox/podbox/cgroups"
	"github.com/podbox/podbox/internal/nsutil"
	"github.com/podbox/podbox/internal/runtime"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
)

// shmSize is the size of a pod's /dev/shm (Docker's and the kubelet's
// default).
const shmSize = "67108864"

// etcFiles are the per-pod files bind-mounted read-only into every
// container.
type etcFiles struct{ hosts, hostname, resolv string }

func (e etcFiles) binds() []runtime.Bind {
	return []runtime.Bind{
		{Source: e.hosts, Destination: "/etc/hosts", ReadOnly: true},
		{Source: e.hostname, Destination: "/etc/hostname", ReadOnly: true},
		{Source: e.resolv, Destination: "/etc/resolv.conf", ReadOnly: true},
	}
}

// createSandbox makes the pod cgroup, pins the pod's namespaces, writes the
// per-pod /etc files and mounts /dev/shm. Containers need only these to
// start; pause starts after them (see launchPause), except for a pod whose
// containers share pause's PID namespace. On error the caller tears down
// what was made.
func (s *shim) createSandbox() error {
	pod := s.pod
	cg, err := cgroups.CreatePod(s.rec.CgroupParent, string(pod.UID))
	if err != nil {
		return err
	}
	s.cg = cg
	if err := s.applyPodLimits(); err != nil {
		return err
	}
	if s.hostname, err = PodHostname(pod); err != nil {
		return err
	}
	if err := nsutil.Pin(s.dir.NsDir(), nsutil.PinOptions{
		Net: !pod.Spec.HostNetwork, IPC: !pod.Spec.HostIPC, UTS: !pod.Spec.HostNetwork, Hostname: s.hostname,
		Sysctls: podSysctls(pod), Sysfs: hasPrivileged(pod),
	}); err != nil {
		return err
	}
	s.ns = s.namespaces()
	if err := s.writeEtc(); err != nil {
		return err
	}
	if err := s.mountShm(); err != nil {
		return err
	}
	s.startNetwork()
	s.log.Debug("timing: sandbox made", "t", time.Since(s.startTime.Time).String())
	s.pauseReady = make(chan struct{})
	if s.sharesPID() {
		s.launchPause()
	}
	return nil
}

// namespaces are the pod's pinned namespaces (or the host's).
func (s *shim) namespaces() runtime.Namespaces {
	spec := &s.pod.Spec
	pinned := func(host bool, name string) runtime.NS {
		if host {
			return runtime.NS{Host: true}
		}
		return runtime.NS{Path: filepath.Join(s.dir.NsDir(), name)}
	}
	return runtime.Namespaces{
		Net: pinned(spec.HostNetwork, nsutil.Net),
		IPC: pinned(spec.HostIPC, nsutil.IPC),
		UTS: pinned(spec.HostNetwork, nsutil.UTS),
		PID: runtime.NS{Host: spec.HostPID},
	}
}

// sharesPID reports whether containers join pause's PID namespace.
func (s *shim) sharesPID() bool {
	sp := s.pod.Spec.ShareProcessNamespace
	return sp != nil && *sp && !s.pod.Spec.HostPID
}

// pauseDelay is how long an init container runs before pause is launched
// next to it.
const pauseDelay = 100 * time.Millisecond

// pauseDue reports whether it is time to launch pause (the caller checked
// that no container start is under way): once the app containers have
// started, or while no init container runs (a back-off, a pull), or once
// the running one has run for pauseDelay; until then a timer wakes the
// loop. Starting pause while the next container could start would only
// make that one wait for the CPU.
func (s *shim) pauseDue() bool {
	if s.initDone || s.pauseLaunched {
		return true
	}
	for _, c := range s.ctrs {
		if !c.init || c.inst == nil {
			continue
		}
		d := pauseDelay - time.Since(c.inst.started)
		if d <= 0 {
			return true
		}
		if s.pauseTimer == nil {
			s.pauseTimer = time.AfterFunc(d, func() { s.send(pauseDueEv{}) })
		}
		return false
	}
	return true
}

// pauseDueEv wakes the loop to launch pause (see pauseDue).
type pauseDueEv struct{}

func (pauseDueEv) handle(s *shim) { s.pauseTimer = nil }

// launchPause starts pause in the background, once. Pause holds the pod's
// PID namespace and reaps its orphans; containers that do not share that
// namespace need nothing from it to start, so it is launched after the
// first containers are started: on a small host, starting it alongside them
// only makes them wait for the CPU.
func (s *shim) launchPause() {
	if s.pauseLaunched {
		return
	}
	s.pauseLaunched = true
	s.workers.Add(1)
	go func() {
		defer s.workers.Done()
		s.pauseErr = s.startPause()
		close(s.pauseReady)
		s.send(pauseStartedEv{})
	}()
}

// etcPaths sets where the pod's /etc files are.
func (s *shim) etcPaths() {
	dir := s.dir.EtcDir()
	s.etc = etcFiles{
		hosts:    filepath.Join(dir, "hosts"),
		hostname: filepath.Join(dir, "hostname"),
		resolv:   filepath.Join(dir, "resolv.conf"),
	}
}

// writeHosts writes the pod's /etc/hosts again, with its addresses, in
// place (containers bind-mount the file).
func (s *shim) writeHosts(ips []string) error {
	if err := os.WriteFile(s.etc.hosts, HostsFile(s.pod, s.hostname, ips), 0o644); err != nil {
		return fmt.Errorf("write pod hosts: %w", err)
	}
	return nil
}

// writeEtc writes the pod's /etc/hosts, /etc/hostname and
// /etc/resolv.conf, which containers bind-mount.
func (s *shim) writeEtc() error {
	if err := os.MkdirAll(s.dir.EtcDir(), 0o755); err != nil {
		return fmt.Errorf("create pod etc directory: %w", err)
	}
	s.etcPaths()
	var hosts []byte
	if s.pod.Spec.HostNetwork {
		host, _ := os.ReadFile("/etc/hosts")
		hosts = HostNetworkHostsFile(s.pod, host)
	} else {
		hosts = HostsFile(s.pod, s.hostname, s.podIPs)
	}
	hostResolv, _ := os.ReadFile("/etc/resolv.conf")
	dns, warning := PodDNS(s.pod, ParseResolvConf(bytes.NewReader(hostResolv)))
	if warning != "" {
		s.log.Warn(warning)
	}
	for path, data := range map[string][]byte{
		s.etc.hosts:    hosts,
		s.etc.hostname: []byte(s.hostname + "\n"),
		s.etc.resolv:   dns.ResolvConf(),
	} {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return fmt.Errorf("write pod %s: %w", filepath.Base(path), err)
		}
	}
	return nil
}

// mountShm mounts the pod's /dev/shm tmpfs (POSIX shm is file based, so IPC
// sharing needs one tmpfs for the whole pod), or uses the host's for
// hostIPC pods.
func (s *shim) mountShm() error {
	if s.pod.Spec.HostIPC {
		s.shm = "/dev/shm"
		return nil
	}
	dir := s.dir.ShmDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create pod shm: %w", err)
	}
	if err := unix.Mount("shm", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=1777,size="+shmSize); err != nil {
		return fmt.Errorf("mount pod shm on %s: %w", dir, err)
	}
	s.shm = dir
	return nil
}

// startPause starts the pause container and pins its PID namespace.
func (s *shim) startPause() error {
	rootfs, err := PauseRootfs(s.roots.Root, s.rec.PauseBinary)
	if err != nil {
		return err
	}
	c, err := runtime.Create(s.dir.RuncRoot(), pauseSpec(rootfs, s.cg.ContainerPath(pauseID), s.ns))
	if err != nil {
		return err
	}
	s.pause = c
	done := s.reap.starting()
	p, err := c.Start(pauseProcess, runtime.Stdio{Stderr: os.Stderr})
	if err == nil {
		s.reap.own(p.Pid())
	}
	done()
	if err != nil {
		return fmt.Errorf("start pause: %w", err)
	}
	s.pauseP = p
	s.log.Debug("timing: pause started", "t", time.Since(s.startTime.Time).String())
	s.pauseExited = make(chan struct{})
	s.workers.Add(1)
	go func() {
		defer s.workers.Done()
		_, _ = p.Wait()
		s.reap.disown(p.Pid())
		close(s.pauseExited)
		s.send(pauseExitedEv{})
	}()
	if !s.pod.Spec.HostPID {
		if err := nsutil.PinPID(s.dir.NsDir(), p.Pid()); err != nil {
			select {
			case <-s.pauseExited:
				return fmt.Errorf("pause (%s) exited as soon as it started: see %s", s.rec.PauseBinary, s.dir.ShimLog())
			case <-time.After(100 * time.Millisecond):
			}
			return err
		}
	}
	return nil
}

// pidPin waits for pause and returns the pinned path of its PID namespace.
func (s *shim) pidPin() string {
	<-s.pauseReady
	if s.pauseErr != nil {
		return filepath.Join(s.dir.NsDir(), "pid-unavailable")
	}
	return filepath.Join(s.dir.NsDir(), nsutil.PID)
}

type pauseExitedEv struct{}

// handle reacts to pause dying (killed, OOM, a bug) as the kubelet reacts to
// a sandbox that is gone: every container is killed and, once they are all
// gone, a new sandbox is made and the pod starts over, init containers
// first (rebuildSandbox). A pod that restarts nothing (restartPolicy Never
// with containers that ran) is not recreated: it stops and ends Failed or
// Succeeded.
func (pauseExitedEv) handle(s *shim) {
	if s.stopping || s.recreating {
		return
	}
	s.log.Warn("pause exited: the pod sandbox is gone")
	s.sandboxGone()
}

// sandboxGone kills every container of a pod whose sandbox is gone and has
// the loop make a new one once they are all gone (see pauseExitedEv).
func (s *shim) sandboxGone() {
	s.setCondition(corev1.PodReadyToStartContainers, false, "", "")
	if s.pod.Spec.RestartPolicy == corev1.RestartPolicyNever && s.anyRan() {
		s.event(corev1.EventTypeNormal, "SandboxChanged", "", "Pod sandbox changed, it will be killed; restartPolicy Never: it is not re-created.")
		s.stop(s.gracePeriod(nil), false)
		return
	}
	s.event(corev1.EventTypeNormal, "SandboxChanged", "", "Pod sandbox changed, it will be killed and re-created.")
	s.recreating = true
	grace := s.gracePeriod(nil)
	for _, c := range s.ctrs {
		if c.timer != nil {
			c.timer.Stop()
			c.timer = nil
		}
		if inst := c.inst; inst != nil {
			s.event(corev1.EventTypeNormal, "Killing", objectOf(c), "Stopping container "+c.spec.Name)
			s.workers.Add(1)
			go func() { defer s.workers.Done(); s.killInstance(inst, grace) }()
		}
	}
	s.pullCancel()
}

// anyRan reports whether any container has had an instance.
func (s *shim) anyRan() bool {
	for _, c := range s.ctrs {
		if c.runs > 0 {
			return true
		}
	}
	return false
}

// allIdle reports whether no container runs, starts or waits.
func (s *shim) allIdle() bool {
	for _, c := range s.ctrs {
		if !c.idle() {
			return false
		}
	}
	return true
}

// rebuildSandbox replaces a dead sandbox with a new one (new namespaces,
// /dev/shm, pause) and starts the pod over: every init container runs
// again, then the app containers; their restart counts go on from where
// they were.
func (s *shim) rebuildSandbox() {
	s.dismantleSandbox()
	s.pullCtx, s.pullCancel = context.WithCancel(s.ctx)
	if err := s.createSandbox(); err != nil {
		if s.netReady != nil {
			<-s.netReady
		}
		s.log.Error("re-create sandbox", "err", err)
		s.event(corev1.EventTypeWarning, "FailedCreatePodSandBox", "", "Failed to create pod sandbox: "+err.Error())
		s.recreating = false
		s.stop(0, false)
		return
	}
	s.recreating = false
	if !usesCNI(s.rec) {
		s.setCondition(corev1.PodReadyToStartContainers, true, "", "")
	}
	s.initDone = false
	for _, c := range s.ctrs {
		c.done = false
		c.sandboxRuns = 0
		c.sidecarUp = false
	}
	s.advance()
}

// dismantleSandbox removes what createSandbox made, except the pod cgroup,
// once its containers are gone and pause is dead.
func (s *shim) dismantleSandbox() {
	s.waitCleanups()
	s.killPause()
	if s.pause == nil {
		// Pause's state may be left by a shim that died.
		if c, err := runtime.Load(s.dir.RuncRoot(), pauseID); err == nil {
			s.pause = c
		} else {
			// Not loadable (a start cut short before libcontainer wrote
			// its state): what is there is of no use.
			_ = os.RemoveAll(filepath.Join(s.dir.RuncRoot(), pauseID))
		}
	}
	if s.pause != nil {
		if err := s.pause.Destroy(2 * time.Second); err != nil {
			s.log.Warn("destroy pause", "err", err)
		}
	}
	s.pause, s.pauseP, s.pauseErr, s.pauseExited, s.pauseLaunched, s.pauseUp = nil, nil, nil, nil, false, false
	if s.pauseTimer != nil {
		s.pauseTimer.Stop()
		s.pauseTimer = nil
	}
	if s.netReady != nil {
		<-s.netReady
	}
	if err := detachNetwork(s.dir, s.rec, s.startChild); err != nil {
		s.log.Warn("detach pod network", "err", err)
	}
	s.podIPs = nil
	if err := nsutil.Unpin(s.dir.NsDir()); err != nil {
		s.log.Warn("unpin namespaces", "err", err)
	}
	if err := unmountAll(s.dir.ShmDir()); err != nil {
		s.log.Warn("unmount shm", "err", err)
	}
	if err := nsutil.RemoveAllBusy(s.dir.ShmDir()); err != nil {
		s.log.Warn("remove shm", "err", err)
	}
}

// teardownSandbox stops pause and removes everything the sandbox made
// (containers are already gone).
func (s *shim) teardownSandbox() {
	if s.netReady != nil {
		<-s.netReady // an ADD still running would attach after the DEL
	}
	// The app containers are gone: the network is detached while their
	// clean-ups and pause end (teardown's own DEL is then a no-op, or
	// tries again).
	netDone := make(chan error, 1)
	go func() { netDone <- detachNetwork(s.dir, s.rec, s.startChild) }()
	s.waitCleanups()
	s.killPause()
	if err := <-netDone; err != nil {
		s.log.Warn("detach pod network", "err", err)
	}
	if err := teardown(s.dir, s.rec, s.startChild); err != nil {
		s.log.Error("tear down sandbox", "err", err)
	}
}

// killPause kills pause, if it was started, and waits for its end.
func (s *shim) killPause() {
	if s.pauseLaunched {
		<-s.pauseReady
	}
	switch {
	case s.pauseP != nil:
		_ = s.pauseP.Signal(unix.SIGKILL)
	case s.pause != nil: // adopted from a shim that died
		_ = s.pause.Signal(unix.SIGKILL, false)
	default:
		return
	}
	if s.pauseExited != nil {
		<-s.pauseExited
	}
}

type pauseStartedEv struct{}

// handle reacts to the end of a pause start. A failure is reported to the
// CLI if it still waits (run fails); later, it is handled as a dead
// sandbox (made again), once: a second failure in a row stops the pod.
func (pauseStartedEv) handle(s *shim) {
	if s.pauseErr == nil {
		s.pauseUp, s.pauseFailures = true, 0
		return
	}
	if s.stopping || s.recreating {
		return
	}
	s.log.Error("start pause", "err", s.pauseErr)
	s.event(corev1.EventTypeWarning, "FailedCreatePodSandBox", "", "Failed to create pod sandbox: "+s.pauseErr.Error())
	s.pauseFailures++
	if s.ready != nil || s.pauseFailures > 1 {
		if s.ready != nil && s.failed == nil {
			s.failed = s.pauseErr
		}
		s.stop(0, false)
		return
	}
	s.sandboxGone()
}
