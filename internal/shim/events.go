package shim

import (
	"errors"
	"fmt"
	"time"

	"github.com/podbox/podbox/internal/runtime"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ctr is the supervisor's view of one container of the pod across all its
// instances (restarts).
type ctr struct {
	spec   *corev1.Container
	init   bool
	index  int
	status corev1.ContainerStatus

	inst     *instance   // the live instance, if any
	starting bool        // a start is in flight
	timer    *time.Timer // a back-off wait is pending
	done     bool        // will not run again in this sandbox (init: succeeded; app: not restarted)
	runs     int         // instances created so far (the next one's restartCount)
	// sandboxRuns counts the instances started in the current sandbox: a
	// recreated sandbox runs every container again from the first.
	sandboxRuns int
	exec        *execInfo
	// gate, if set, holds the next start back until it is closed (the
	// previous container's postStart hook ran); hookDone is closed once
	// this container's start and postStart hook are over, for the next.
	gate, hookDone chan struct{}
	// sidecarUp: this sidecar (an init container with restartPolicy
	// Always) has started in the current sandbox, so the next init
	// container may go.
	sidecarUp bool
}

// sidecar reports whether c is a native sidecar.
func (c *ctr) sidecar() bool { return c.init && isSidecar(c.spec) }

type execInfo struct {
	id      string
	logPath string
}

// idle reports whether nothing is running, starting or scheduled for c.
func (c *ctr) idle() bool { return c.inst == nil && !c.starting && c.timer == nil }

// event is something the loop must react to.
type event interface{ handle(s *shim) }

type startedEv struct {
	c    *ctr
	inst *instance
	// reason and err: the instance could not be created (a waiting reason
	// such as CreateContainerConfigError) or could not start (StartError).
	reason string
	err    error
}

type exitedEv struct {
	c    *ctr
	inst *instance
	exit runtime.Exit
	oom  bool
	// unknown: the instance was adopted from a shim that died and its exit
	// status could not be observed (exit carries no code).
	unknown bool
	at      time.Time
	// message is the container's termination message.
	message string
}

type timerEv struct{ c *ctr }

type requestEv struct {
	req   request
	reply chan<- response
}

// inFlight counts starts under way (the first wave is done when it is 0).
func (s *shim) inFlight() int {
	n := 0
	for _, c := range s.ctrs {
		if c.starting {
			n++
		}
	}
	return n
}

// advance starts whatever should run now: the next init container, or,
// once every init container succeeded, all app containers together.
func (s *shim) advance() {
	if s.stopping || s.recreating {
		return
	}
	if !s.initDone {
		for _, c := range s.ctrs {
			if !c.init || c.done {
				continue
			}
			if c.sidecar() && c.sidecarUp {
				continue // started: it runs beside what comes next
			}
			if c.idle() && c.sandboxRuns == 0 {
				s.startCtr(c)
			}
			return // one init container at a time (a sidecar until it started)
		}
		// The app containers stay PodInitializing until they exist (the
		// kubelet's default waiting state in a pod with init containers).
		s.initDone = true
	}
	// App containers start together, except that one after a container
	// with a postStart hook waits for that hook, as on a node (the kubelet
	// starts them in order and runs each postStart hook before the next).
	var gate chan struct{}
	for _, c := range s.ctrs {
		if !c.init && !c.done && c.idle() && c.sandboxRuns == 0 {
			c.gate = gate
			if c.spec.Lifecycle != nil && c.spec.Lifecycle.PostStart != nil {
				c.hookDone = make(chan struct{})
				gate = c.hookDone
			}
			s.startCtr(c)
		}
	}
}

// startCtr starts a new instance of c in the background.
func (s *shim) startCtr(c *ctr) {
	c.starting = true
	restart := c.runs
	c.runs++
	c.sandboxRuns++
	ready := s.netReady // this sandbox's network
	// The program starts once the network is up and the gate (a previous
	// container's postStart hook) open.
	gate := c.gate
	c.gate = nil
	s.workers.Add(1)
	go func() {
		defer s.workers.Done()
		inst, reason, err := s.startInstance(c, restart, ready, gate)
		s.send(startedEv{c: c, inst: inst, reason: reason, err: err})
	}()
}

func (e startedEv) handle(s *shim) {
	c := e.c
	c.starting = false
	hookDone := c.hookDone
	c.hookDone = nil
	if e.err != nil || e.inst == nil || s.stopping || s.recreating || c.spec.Lifecycle == nil || c.spec.Lifecycle.PostStart == nil {
		if hookDone != nil {
			close(hookDone)
		}
	}
	switch {
	case errors.Is(e.err, errStopping):
		c.runs-- // nothing was created; the state stays as it was
		c.sandboxRuns--
		return
	case e.err != nil && e.inst == nil:
		// Not created: no run happened, so no restart is counted.
		c.runs--
		c.sandboxRuns--
		c.status.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: e.reason, Message: e.err.Error()}}
		s.log.Warn("create container", "container", c.spec.Name, "reason", e.reason, "err", e.err)
		switch {
		case e.reason == reasonContainerCreating: // a volume could not be set up
			s.event(corev1.EventTypeWarning, "FailedMount", "", e.err.Error())
		case !imageProblem(e.reason) && e.reason != reasonInvalidImageName:
			s.event(corev1.EventTypeWarning, "Failed", objectOf(c), "Error: "+e.err.Error())
		}
		switch {
		case s.stopping || s.recreating || e.reason == reasonInvalidImageName:
			// Nothing to retry: the name will not parse next time either.
		case imageProblem(e.reason):
			s.retryImage(c, e.reason)
		default:
			s.retryCreate(c)
		}
		return
	case e.err != nil:
		// Created but the process could not start: like containerd, a
		// terminated state with reason StartError and exit code 128.
		s.setRunning(c, e.inst)
		s.log.Warn("start container", "container", c.spec.Name, "err", e.err)
		s.event(corev1.EventTypeWarning, "Failed", objectOf(c), "Error: "+e.err.Error())
		exitedEv{c: c, inst: e.inst, exit: runtime.Exit{Code: 128}, at: time.Now()}.finish(s, "StartError", e.err.Error())
		return
	}
	s.setRunning(c, e.inst)
	s.event(corev1.EventTypeNormal, "Started", objectOf(c), "Started container "+c.spec.Name)
	if s.stopping || s.recreating || c.sidecar() && s.sidecarsEnding {
		s.workers.Add(1)
		go func() { defer s.workers.Done(); s.killInstance(e.inst, 0) }()
		return
	}
	if c.spec.Lifecycle != nil && c.spec.Lifecycle.PostStart != nil {
		s.startPostStart(c, e.inst, hookDone)
	}
	s.startProbes(c, e.inst)
	s.sidecarMaybeUp(c, e.inst)
}

// setRunning records a new live instance of c.
func (s *shim) setRunning(c *ctr, inst *instance) {
	c.inst = inst
	c.exec = &execInfo{id: inst.id, logPath: inst.logPath}
	if inst.restart > 0 && c.status.State.Terminated != nil {
		c.status.LastTerminationState = corev1.ContainerState{Terminated: c.status.State.Terminated}
	}
	c.status.RestartCount = int32(inst.restart)
	c.status.ContainerID = inst.containerID
	c.status.ImageID = inst.imageID
	c.status.Image = inst.imageName
	c.status.State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(inst.started)}}
	c.status.User = statusUser(inst.exec.user)
	// Started and ready at once unless a startup or readiness probe says
	// otherwise (probeEv).
	started := c.spec.StartupProbe == nil
	c.status.Started = &started
	c.status.Ready = (!c.init || c.sidecar()) && started && c.spec.ReadinessProbe == nil
}

func (e exitedEv) handle(s *shim) {
	reason := "Completed"
	if e.exit.Code != 0 {
		reason = "Error"
	}
	if e.oom {
		reason = "OOMKilled"
	}
	if e.unknown {
		e.finish(s, reasonStatusUnknown, "The container exited while no shim was watching it: its exit status could not be observed")
		return
	}
	e.finish(s, reason, e.message)
}

// reasonStatusUnknown is the kubelet's reason for a container whose end it
// could not observe. Its exit code is unknownExitCode, never an invented
// one; restart policies count it as a failure.
const (
	reasonStatusUnknown = "ContainerStatusUnknown"
	unknownExitCode     = -1
)

// finish records the end of an instance and decides what comes next.
func (e exitedEv) finish(s *shim, reason, message string) {
	c := e.c
	c.inst = nil
	s.cleaning = append(s.cleaning, e.inst)
	term := &corev1.ContainerStateTerminated{
		ExitCode:    int32(e.exit.Code),
		Signal:      int32(e.exit.Signal),
		Reason:      reason,
		Message:     message,
		FinishedAt:  metav1.NewTime(e.at),
		ContainerID: e.inst.containerID,
	}
	if !e.inst.started.IsZero() {
		term.StartedAt = metav1.NewTime(e.inst.started)
	}
	c.status.State = corev1.ContainerState{Terminated: term}
	f := false
	c.status.Started = &f
	c.status.Ready = c.init && !c.sidecar() && e.exit.Code == 0
	s.log.Info("container exited", "container", c.spec.Name, "code", e.exit.Code, "reason", reason)
	if s.stopping || s.recreating {
		c.done = true
		return
	}
	if c.init && !c.sidecar() && e.exit.Code == 0 {
		c.done = true
		s.advance()
		s.endSidecarsIfDone()
		return
	}
	if !s.restarts(c, e.exit.Code) {
		c.done = true
		s.endSidecarsIfDone()
		return
	}
	s.scheduleRestart(c, e.at)
}

// restarts applies the restart policy: init containers restart on failure
// unless the policy is Never; app containers by the policy.
func (s *shim) restarts(c *ctr, code int) bool {
	if c.sidecar() {
		return !s.sidecarsEnding // whatever the pod's policy
	}
	switch s.pod.Spec.RestartPolicy {
	case corev1.RestartPolicyNever:
		return false
	case corev1.RestartPolicyOnFailure:
		return code != 0
	default:
		return !c.init || code != 0
	}
}

func backOffKey(c *ctr) string { return c.spec.Name }

// scheduleRestart restarts c now if it is not in back-off, else shows
// CrashLoopBackOff and waits.
func (s *shim) scheduleRestart(c *ctr, finished time.Time) {
	now := time.Now()
	key := backOffKey(c)
	wait := s.backoff.wait(key, finished, now)
	if wait <= 0 {
		s.backoff.next(key, now)
		s.startCtr(c)
		return
	}
	c.status.LastTerminationState = corev1.ContainerState{Terminated: c.status.State.Terminated}
	c.status.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{
		Reason: "CrashLoopBackOff",
		Message: fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s(%s)",
			s.backoff.current(key), c.spec.Name, s.pod.Name, s.pod.Namespace, s.pod.UID),
	}}
	s.event(corev1.EventTypeWarning, "BackOff", objectOf(c), fmt.Sprintf("Back-off restarting failed container %s in pod %s_%s(%s)",
		c.spec.Name, s.pod.Name, s.pod.Namespace, s.pod.UID))
	c.timer = s.after(wait, c)
}

// retryCreate retries a container that could not be created, with the
// back-off, without counting a restart.
func (s *shim) retryCreate(c *ctr) {
	key := "create/" + backOffKey(c)
	now := time.Now()
	s.backoff.next(key, now)
	c.timer = s.after(s.backoff.current(key), c)
}

func (s *shim) after(d time.Duration, c *ctr) *time.Timer {
	return time.AfterFunc(d, func() {
		s.send(timerEv{c: c})
	})
}

func (e timerEv) handle(s *shim) {
	c := e.c
	if c.timer == nil {
		return
	}
	c.timer = nil
	if s.stopping || s.recreating {
		return
	}
	if c.status.State.Waiting != nil && c.status.State.Waiting.Reason == "CrashLoopBackOff" {
		s.backoff.next(backOffKey(c), time.Now())
	}
	s.startCtr(c)
}

// stop stops every container (stop signal, then SIGKILL after grace) and
// makes the loop finish once they are all gone.
func (s *shim) stop(grace time.Duration, deleting bool) {
	if deleting && s.deleting == nil {
		now := metav1.Now()
		s.deleting = &now
	}
	deadline := time.Now().Add(grace)
	if s.stopping {
		// A second request with a shorter grace period (delete --force
		// during a graceful stop) cuts the wait short, as on a node.
		if deadline.Before(s.stopDeadline) {
			s.stopDeadline = deadline
			for _, c := range s.ctrs {
				if inst := c.inst; inst != nil {
					s.workers.Add(1)
					go func() { defer s.workers.Done(); s.killInstance(inst, grace) }()
				}
			}
		}
		return
	}
	s.stopping = true
	s.stopDeadline = deadline
	s.pullCancel() // pulls under way end; their starts report errStopping
	s.log.Info("stopping pod", "grace", grace)
	for _, c := range s.ctrs {
		if c.timer != nil {
			c.timer.Stop()
			c.timer = nil
			if c.status.LastTerminationState.Terminated != nil && c.status.State.Waiting != nil {
				c.status.State = c.status.LastTerminationState
			}
		}
		if c.inst != nil && !c.sidecar() {
			inst := c.inst
			s.event(corev1.EventTypeNormal, "Killing", objectOf(c), "Stopping container "+c.spec.Name)
			s.workers.Add(1)
			go func() { defer s.workers.Done(); s.killInstance(inst, grace) }()
		}
	}
	s.stopSidecars(deadline)
}
