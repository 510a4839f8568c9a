package shim

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/podbox/podbox/cgroups"
	"github.com/podbox/podbox/internal/podstate"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// send hands an event to the loop unless the shim is shutting down.
func (s *shim) send(ev event) {
	select {
	case s.events <- ev:
	case <-s.ctx.Done():
	}
}

// terminal reports whether the pod reached Succeeded or Failed.
func (s *shim) terminal() bool {
	p := s.computePhase()
	return p == corev1.PodSucceeded || p == corev1.PodFailed
}

func (s *shim) statuses() (initSt, appSt []corev1.ContainerStatus) {
	for _, c := range s.ctrs {
		st := *c.status.DeepCopy()
		if c.init {
			initSt = append(initSt, st)
		} else {
			appSt = append(appSt, st)
		}
	}
	return initSt, appSt
}

func (s *shim) computePhase() corev1.PodPhase {
	initSt, appSt := s.statuses()
	return PodPhase(s.pod, append(appSt, initSt...), s.stopping)
}

// setCondition sets a pod condition, keeping its transition time when its
// status does not change.
func (s *shim) setCondition(t corev1.PodConditionType, ok bool, reason, msg string) {
	st := corev1.ConditionFalse
	if ok {
		st = corev1.ConditionTrue
	}
	old, had := s.conds[t]
	c := corev1.PodCondition{Type: t, Status: st, Reason: reason, Message: msg, LastTransitionTime: metav1.Now()}
	if had && old.Status == st {
		c.LastTransitionTime = old.LastTransitionTime
	}
	s.conds[t] = c
}

// podStatus builds the pod's v1 status from the supervisor's state.
func (s *shim) podStatus() corev1.PodStatus {
	initSt, appSt := s.statuses()
	phase := PodPhase(s.pod, append(append([]corev1.ContainerStatus{}, appSt...), initSt...), s.stopping)
	if s.deadlineExceeded && phase != corev1.PodSucceeded {
		phase = corev1.PodFailed
	}
	s.phase = phase

	s.setCondition(corev1.PodScheduled, true, "", "")
	if _, ok := s.conds[corev1.PodReadyToStartContainers]; !ok {
		s.setCondition(corev1.PodReadyToStartContainers, false, "", "")
	}
	if phase == corev1.PodSucceeded || phase == corev1.PodFailed {
		s.setCondition(corev1.PodReadyToStartContainers, false, "", "")
	}
	okI, reasonI, msgI := initializedCondition(s.pod, initSt, appSt, phase)
	s.setCondition(corev1.PodInitialized, okI, reasonI, msgI)
	okC, reasonC, msgC := containersReadyCondition(s.pod, initSt, appSt, phase)
	s.setCondition(corev1.ContainersReady, okC, reasonC, msgC)
	s.setCondition(corev1.PodReady, okC, reasonC, msgC)

	st := corev1.PodStatus{
		Phase:                 phase,
		StartTime:             &s.startTime,
		QOSClass:              cgroups.QOSClass(s.pod),
		InitContainerStatuses: initSt,
		ContainerStatuses:     appSt,
		HostIP:                s.hostIP,
	}
	if s.deadlineExceeded {
		st.Reason, st.Message = reasonDeadlineExceeded, messageDeadlineExceeded
	}
	if s.hostIP != "" {
		st.HostIPs = []corev1.HostIP{{IP: s.hostIP}}
	}
	ips := s.podIPs
	if s.pod.Spec.HostNetwork && s.hostIP != "" {
		ips = []string{s.hostIP} // the kubelet reports the node's
	}
	for _, ip := range ips {
		st.PodIPs = append(st.PodIPs, corev1.PodIP{IP: ip})
	}
	if len(st.PodIPs) > 0 {
		st.PodIP = st.PodIPs[0].IP
	}
	for _, t := range []corev1.PodConditionType{
		corev1.PodReadyToStartContainers, corev1.PodInitialized, corev1.PodReady,
		corev1.ContainersReady, corev1.PodScheduled,
	} {
		st.Conditions = append(st.Conditions, s.conds[t])
	}
	return st
}

// writeStatus writes status.json; final marks the shim's last word.
func (s *shim) writeStatus(final bool) {
	st := &podstate.Status{
		Pod:               s.podStatus(),
		Containers:        map[string]*podstate.Container{},
		DeletionTimestamp: s.deleting,
		Final:             final,
		ShimPID:           os.Getpid(),
		Updated:           time.Now(),
	}
	sup := &podstate.Supervisor{
		KeeperPID: s.keeper.PID(), InitDone: s.initDone, Stopping: s.stopping, StopDeadline: s.stopDeadline,
		Recreating: s.recreating, DeadlineExceeded: s.deadlineExceeded, SidecarsEnding: s.sidecarsEnding, PauseLaunched: s.pauseLaunched, PauseStarted: s.pauseUp, BackOff: map[string]podstate.BackOffEntry{},
	}
	for k, e := range s.backoff.entries {
		sup.BackOff[k] = podstate.BackOffEntry{Delay: e.delay, LastUpdate: e.lastUpdate}
	}
	st.Supervisor = sup
	for _, c := range s.ctrs {
		pc := &podstate.Container{Restarts: int(c.status.RestartCount), Runs: c.runs, SandboxRuns: c.sandboxRuns, Done: c.done}
		if c.exec != nil {
			pc.LogPath = c.exec.logPath
		}
		if inst := c.inst; inst != nil {
			pc.ID = inst.id
			pc.Running = true
			pc.Exec = &podstate.ExecDefaults{
				Env: inst.exec.env, EnvFile: inst.exec.envFile, Cwd: inst.exec.cwd,
				UID: inst.exec.user.UID, GID: inst.exec.user.GID, AdditionalGIDs: inst.exec.user.AdditionalGIDs,
			}
			if inst.exec.envFile != "" {
				pc.Exec.Env = nil // it holds values from Secrets: only on the secret tmpfs
			}
			pc.Instance = &podstate.Instance{
				ID: inst.id, Restart: inst.restart, ContainerID: inst.containerID, ImageName: inst.imageName,
				ImageID: inst.imageID, StopSignal: int(inst.stopSignal), Dir: inst.dir, LogPath: inst.logPath,
				CgroupPath: inst.cgroupPath, Pid: inst.pid, Started: inst.started,
				StdoutIno: inst.outIno, StderrIno: inst.errIno,
			}
		}
		st.Containers[c.spec.Name] = pc
	}
	// Events first: whoever sees the new status finds the events that
	// led to it.
	s.writeEvents()
	if err := s.dir.WriteStatus(st); err != nil {
		s.log.Error("write status", "err", err)
		if errors.Is(err, os.ErrNotExist) && !s.stopping {
			// The pod's directory is gone (removed behind our back): nothing
			// can be recorded any more, so stop everything.
			s.stop(0, true)
		}
	}
}

// PodPhase is the kubelet's getPhase: the phase of a pod given the status
// of all its containers (init and app). podIsTerminal is set for a pod that
// is being stopped: its containers will not be restarted.
func PodPhase(pod *corev1.Pod, all []corev1.ContainerStatus, podIsTerminal bool) corev1.PodPhase {
	byName := map[string]*corev1.ContainerStatus{}
	for i := range all {
		byName[all[i].Name] = &all[i]
	}
	pendingInit, failedInit := 0, 0
	for _, c := range pod.Spec.InitContainers {
		if isSidecar(&c) {
			continue
		}
		cs, ok := byName[c.Name]
		switch {
		case !ok:
			pendingInit++
		case cs.State.Running != nil:
			pendingInit++
		case cs.State.Terminated != nil:
			if cs.State.Terminated.ExitCode != 0 {
				failedInit++
			}
		case cs.State.Waiting != nil:
			if cs.LastTerminationState.Terminated != nil {
				if cs.LastTerminationState.Terminated.ExitCode != 0 {
					failedInit++
				}
			} else {
				pendingInit++
			}
		default:
			pendingInit++
		}
	}
	unknown, running, waiting, stopped, succeeded := 0, 0, 0, 0, 0
	for _, c := range pod.Spec.InitContainers {
		if !isSidecar(&c) {
			continue
		}
		cs, ok := byName[c.Name]
		switch {
		case !ok:
			unknown++
		case cs.State.Running != nil:
			if cs.Started == nil || !*cs.Started {
				pendingInit++
			}
			running++
		case cs.State.Terminated != nil:
		case cs.State.Waiting != nil:
			if cs.LastTerminationState.Terminated == nil {
				pendingInit++
				waiting++
			}
		default:
			pendingInit++
			unknown++
		}
	}
	anyRegularStarted := false
	for _, c := range pod.Spec.Containers {
		cs, ok := byName[c.Name]
		if !ok {
			unknown++
			continue
		}
		switch {
		case cs.State.Running != nil:
			running++
			anyRegularStarted = true
		case cs.State.Terminated != nil:
			stopped++
			anyRegularStarted = true
			if cs.State.Terminated.ExitCode == 0 {
				succeeded++
			}
		case cs.State.Waiting != nil:
			if cs.LastTerminationState.Terminated != nil {
				stopped++
				anyRegularStarted = true
			} else {
				waiting++
			}
		default:
			unknown++
		}
	}
	if failedInit > 0 && pod.Spec.RestartPolicy == corev1.RestartPolicyNever {
		return corev1.PodFailed
	}
	switch {
	case pendingInit > 0 && !anyRegularStarted, waiting > 0:
		if podIsTerminal && running == 0 {
			return terminalPhase(stopped, succeeded, failedInit)
		}
		return corev1.PodPending
	case running > 0 && unknown == 0:
		return corev1.PodRunning
	case running == 0 && stopped > 0 && unknown == 0:
		if podIsTerminal {
			return terminalPhase(stopped, succeeded, failedInit)
		}
		if pod.Spec.RestartPolicy == corev1.RestartPolicyAlways {
			return corev1.PodRunning
		}
		if stopped == succeeded {
			return corev1.PodSucceeded
		}
		if pod.Spec.RestartPolicy == corev1.RestartPolicyNever {
			return corev1.PodFailed
		}
		return corev1.PodRunning
	default:
		return corev1.PodPending
	}
}

// terminalPhase is the phase of a pod that will run nothing more.
func terminalPhase(stopped, succeeded, failedInit int) corev1.PodPhase {
	if stopped > 0 && stopped == succeeded && failedInit == 0 {
		return corev1.PodSucceeded
	}
	return corev1.PodFailed
}

func isSidecar(c *corev1.Container) bool {
	return c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}

// initializedCondition is the kubelet's Initialized condition.
func initializedCondition(pod *corev1.Pod, initSt, appSt []corev1.ContainerStatus, phase corev1.PodPhase) (bool, string, string) {
	if phase == corev1.PodSucceeded {
		return true, "PodCompleted", ""
	}
	if len(pod.Spec.InitContainers) == 0 {
		return true, "", ""
	}
	// Once a regular container has run, the pod stays initialized (a
	// sidecar restarting later does not undo that).
	for _, cs := range appSt {
		if cs.State.Running != nil || cs.State.Terminated != nil {
			return true, "", ""
		}
	}
	var incomplete []string
	for _, c := range pod.Spec.InitContainers {
		cs := findStatus(initSt, c.Name)
		if isSidecar(&c) {
			if cs == nil || cs.Started == nil || !*cs.Started {
				incomplete = append(incomplete, c.Name)
			}
			continue
		}
		if cs == nil || !cs.Ready { // an init container is ready once it succeeded
			incomplete = append(incomplete, c.Name)
		}
	}
	if len(incomplete) == 0 {
		return true, "", ""
	}
	return false, "ContainersNotInitialized", fmt.Sprintf("containers with incomplete status: [%s]", strings.Join(incomplete, " "))
}

// containersReadyCondition is the kubelet's ContainersReady (and, with no
// readiness gates, Ready) condition: every sidecar and app container ready.
func containersReadyCondition(pod *corev1.Pod, initSt, appSt []corev1.ContainerStatus, phase corev1.PodPhase) (bool, string, string) {
	switch phase {
	case corev1.PodSucceeded:
		return false, "PodCompleted", ""
	case corev1.PodFailed:
		return false, "PodFailed", ""
	}
	var unready []string
	for _, c := range pod.Spec.InitContainers {
		if isSidecar(&c) {
			if cs := findStatus(initSt, c.Name); cs == nil || !cs.Ready {
				unready = append(unready, c.Name)
			}
		}
	}
	for _, c := range pod.Spec.Containers {
		if cs := findStatus(appSt, c.Name); cs == nil || !cs.Ready {
			unready = append(unready, c.Name)
		}
	}
	if len(unready) == 0 {
		return true, "", ""
	}
	return false, "ContainersNotReady", fmt.Sprintf("containers with unready status: [%s]", strings.Join(unready, " "))
}

func findStatus(sts []corev1.ContainerStatus, name string) *corev1.ContainerStatus {
	for i := range sts {
		if sts[i].Name == name {
			return &sts[i]
		}
	}
	return nil
}

// HostIP is the address the kubelet would report as the node's: the first
// global unicast IPv4 address of an interface that is up (else IPv6).
func HostIP() string {
	ifs, err := net.Interfaces()
	if err != nil {
		return ""
	}
	var v6 string
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok || !ipn.IP.IsGlobalUnicast() {
				continue
			}
			if ipn.IP.To4() != nil {
				return ipn.IP.String()
			}
			if v6 == "" {
				v6 = ipn.IP.String()
			}
		}
	}
	return v6
}
