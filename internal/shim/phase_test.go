package shim

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Builders for pods and container statuses used by the phase and condition
// tests.

func ptrTo[T any](v T) *T { return &v }

func testPod(policy corev1.RestartPolicy, inits []corev1.Container, apps ...string) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default", UID: "uid-1"},
		Spec:       corev1.PodSpec{RestartPolicy: policy, InitContainers: inits},
	}
	for _, a := range apps {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: a})
	}
	return p
}

func inits(names ...string) []corev1.Container {
	var out []corev1.Container
	for _, n := range names {
		out = append(out, corev1.Container{Name: n})
	}
	return out
}

func sidecar(name string) corev1.Container {
	return corev1.Container{Name: name, RestartPolicy: ptrTo(corev1.ContainerRestartPolicyAlways)}
}

func stRunning(name string) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}, Started: ptrTo(true)}
}

// stStarting is a running container whose startup is not complete (started
// false), such as a sidecar whose startupProbe has not succeeded.
func stStarting(name string) corev1.ContainerStatus {
	s := stRunning(name)
	s.Started = ptrTo(false)
	return s
}

func stTerm(name string, code int32) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code}}, Started: ptrTo(false)}
}

// stWaiting is a container that never ran (ContainerCreating, PodInitializing).
func stWaiting(name string) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "PodInitializing"}}}
}

// stCrash is a container waiting in CrashLoopBackOff after exiting with code.
func stCrash(name string, code int32) corev1.ContainerStatus {
	return corev1.ContainerStatus{
		Name:                 name,
		State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code}},
		Started:              ptrTo(false),
	}
}

// stNone is a status with no state at all.
func stNone(name string) corev1.ContainerStatus { return corev1.ContainerStatus{Name: name} }

func ready(s corev1.ContainerStatus) corev1.ContainerStatus {
	s.Ready = true
	return s
}

func statuses(s ...corev1.ContainerStatus) []corev1.ContainerStatus { return s }

const (
	always    = corev1.RestartPolicyAlways
	onFailure = corev1.RestartPolicyOnFailure
	never     = corev1.RestartPolicyNever
)

// TestPodPhase table-tests PodPhase against the kubelet's getPhase
// (pkg/kubelet/kubelet_pods.go), branch by branch.
func TestPodPhase(t *testing.T) {
	sc := []corev1.Container{sidecar("sc")}
	tests := []struct {
		name     string
		pod      *corev1.Pod
		st       []corev1.ContainerStatus
		terminal bool
		want     corev1.PodPhase
	}{
		// Regular init containers.
		{"init without status", testPod(always, inits("i"), "a"), statuses(stWaiting("a")), false, corev1.PodPending},
		{"init without any status", testPod(always, inits("i"), "a"), nil, false, corev1.PodPending},
		{"init running", testPod(always, inits("i"), "a"), statuses(stRunning("i"), stWaiting("a")), false, corev1.PodPending},
		{"init waiting, never ran", testPod(always, inits("i"), "a"), statuses(stWaiting("i"), stWaiting("a")), false, corev1.PodPending},
		{"init with empty state", testPod(always, inits("i"), "a"), statuses(stNone("i"), stWaiting("a")), false, corev1.PodPending},
		{"second init running", testPod(always, inits("i1", "i2"), "a"), statuses(stTerm("i1", 0), stRunning("i2"), stWaiting("a")), false, corev1.PodPending},
		{"init done, app running", testPod(always, inits("i"), "a"), statuses(stTerm("i", 0), stRunning("a")), false, corev1.PodRunning},
		{"init done, app creating", testPod(always, inits("i"), "a"), statuses(stTerm("i", 0), stWaiting("a")), false, corev1.PodPending},
		{"init failed, Never", testPod(never, inits("i"), "a"), statuses(stTerm("i", 1), stWaiting("a")), false, corev1.PodFailed},
		{"init failed, Never, no app status", testPod(never, inits("i"), "a"), statuses(stTerm("i", 1)), false, corev1.PodFailed},
		{"init failed, OnFailure", testPod(onFailure, inits("i"), "a"), statuses(stTerm("i", 1), stWaiting("a")), false, corev1.PodPending},
		{"init failed, Always", testPod(always, inits("i"), "a"), statuses(stTerm("i", 1), stWaiting("a")), false, corev1.PodPending},
		{"init failed, OnFailure, no app status", testPod(onFailure, inits("i"), "a"), statuses(stTerm("i", 1)), false, corev1.PodPending},
		{"init crash loop, Never", testPod(never, inits("i"), "a"), statuses(stCrash("i", 2), stWaiting("a")), false, corev1.PodFailed},
		{"init crash loop, OnFailure", testPod(onFailure, inits("i"), "a"), statuses(stCrash("i", 2), stWaiting("a")), false, corev1.PodPending},
		{"init crash loop, Always", testPod(always, inits("i"), "a"), statuses(stCrash("i", 2), stWaiting("a")), false, corev1.PodPending},
		{"init waiting after success, app running", testPod(always, inits("i"), "a"), statuses(stCrash("i", 0), stRunning("a")), false, corev1.PodRunning},

		// Sidecars (init containers with restartPolicy Always).
		{"sidecar started, app running", testPod(always, sc, "a"), statuses(stRunning("sc"), stRunning("a")), false, corev1.PodRunning},
		{"sidecar not started yet", testPod(always, sc, "a"), statuses(stStarting("sc"), stWaiting("a")), false, corev1.PodPending},
		{"sidecar started=nil", testPod(always, sc, "a"), statuses(func() corev1.ContainerStatus { s := stRunning("sc"); s.Started = nil; return s }(), stWaiting("a")), false, corev1.PodPending},
		{"sidecar restarting after apps started", testPod(always, sc, "a"), statuses(stStarting("sc"), stRunning("a")), false, corev1.PodRunning},
		{"sidecar without status", testPod(always, sc, "a"), statuses(stRunning("a")), false, corev1.PodPending},
		{"sidecar waiting, never ran", testPod(always, sc, "a"), statuses(stWaiting("sc"), stWaiting("a")), false, corev1.PodPending},
		{"sidecar crash loop, app running", testPod(always, sc, "a"), statuses(stCrash("sc", 1), stRunning("a")), false, corev1.PodRunning},
		{"sidecar with empty state", testPod(always, sc, "a"), statuses(stNone("sc"), stRunning("a")), false, corev1.PodPending},
		{"sidecar running, app succeeded, Never", testPod(never, sc, "a"), statuses(stRunning("sc"), stTerm("a", 0)), false, corev1.PodRunning},
		{"sidecar stopped, app succeeded, Never", testPod(never, sc, "a"), statuses(stTerm("sc", 137), stTerm("a", 0)), false, corev1.PodSucceeded},
		{"sidecar stopped, app failed, Never", testPod(never, sc, "a"), statuses(stTerm("sc", 0), stTerm("a", 3)), false, corev1.PodFailed},
		{"sidecar then init", testPod(always, []corev1.Container{sidecar("sc"), {Name: "i"}}, "a"), statuses(stRunning("sc"), stRunning("i"), stWaiting("a")), false, corev1.PodPending},
		{"sidecar then init done", testPod(always, []corev1.Container{sidecar("sc"), {Name: "i"}}, "a"), statuses(stRunning("sc"), stTerm("i", 0), stRunning("a")), false, corev1.PodRunning},

		// App containers.
		{"app running, Always", testPod(always, nil, "a"), statuses(stRunning("a")), false, corev1.PodRunning},
		{"app running, OnFailure", testPod(onFailure, nil, "a"), statuses(stRunning("a")), false, corev1.PodRunning},
		{"app running, Never", testPod(never, nil, "a"), statuses(stRunning("a")), false, corev1.PodRunning},
		{"no statuses", testPod(always, nil, "a"), nil, false, corev1.PodPending},
		{"app creating", testPod(always, nil, "a"), statuses(stWaiting("a")), false, corev1.PodPending},
		{"app with empty state", testPod(always, nil, "a"), statuses(stNone("a")), false, corev1.PodPending},
		{"one creating, one running", testPod(always, nil, "a", "b"), statuses(stWaiting("a"), stRunning("b")), false, corev1.PodPending},
		{"one running, one unknown", testPod(always, nil, "a", "b"), statuses(stRunning("a")), false, corev1.PodPending},
		{"app crash loop, Always", testPod(always, nil, "a"), statuses(stCrash("a", 1)), false, corev1.PodRunning},
		{"app crash loop, OnFailure", testPod(onFailure, nil, "a"), statuses(stCrash("a", 1)), false, corev1.PodRunning},
		{"app waiting after exit 0, OnFailure", testPod(onFailure, nil, "a"), statuses(stCrash("a", 0)), false, corev1.PodRunning},
		{"app succeeded, Always", testPod(always, nil, "a"), statuses(stTerm("a", 0)), false, corev1.PodRunning},
		{"app succeeded, OnFailure", testPod(onFailure, nil, "a"), statuses(stTerm("a", 0)), false, corev1.PodSucceeded},
		{"app succeeded, Never", testPod(never, nil, "a"), statuses(stTerm("a", 0)), false, corev1.PodSucceeded},
		{"app failed, Never", testPod(never, nil, "a"), statuses(stTerm("a", 1)), false, corev1.PodFailed},
		{"app failed, OnFailure", testPod(onFailure, nil, "a"), statuses(stTerm("a", 1)), false, corev1.PodRunning},
		{"app failed, Always", testPod(always, nil, "a"), statuses(stTerm("a", 1)), false, corev1.PodRunning},
		{"one succeeded, one failed, Never", testPod(never, nil, "a", "b"), statuses(stTerm("a", 0), stTerm("b", 1)), false, corev1.PodFailed},
		{"one running, one failed, Never", testPod(never, nil, "a", "b"), statuses(stRunning("a"), stTerm("b", 1)), false, corev1.PodRunning},
		{"both succeeded, Never", testPod(never, nil, "a", "b"), statuses(stTerm("a", 0), stTerm("b", 0)), false, corev1.PodSucceeded},
		{"one stopped, one unknown", testPod(never, nil, "a", "b"), statuses(stTerm("a", 0)), false, corev1.PodPending},

		// A terminal pod: nothing will be restarted.
		{"terminal, app succeeded, Always", testPod(always, nil, "a"), statuses(stTerm("a", 0)), true, corev1.PodSucceeded},
		{"terminal, app killed, Always", testPod(always, nil, "a"), statuses(stTerm("a", 137)), true, corev1.PodFailed},
		{"terminal, app failed, OnFailure", testPod(onFailure, nil, "a"), statuses(stTerm("a", 1)), true, corev1.PodFailed},
		{"terminal, app crash loop, Always", testPod(always, nil, "a"), statuses(stCrash("a", 1)), true, corev1.PodFailed},
		{"terminal, app still running", testPod(always, nil, "a"), statuses(stRunning("a")), true, corev1.PodRunning},
		{"terminal, sidecar stopped, app succeeded", testPod(always, sc, "a"), statuses(stTerm("sc", 143), stTerm("a", 0)), true, corev1.PodSucceeded},
		// podbox extension (the kubelet says Pending here): a pod that is
		// being stopped and runs nothing is terminal even when a container
		// never started.
		{"terminal, app never started", testPod(always, nil, "a"), statuses(stWaiting("a")), true, corev1.PodFailed},
		{"terminal, init failed, OnFailure", testPod(onFailure, inits("i"), "a"), statuses(stTerm("i", 1), stWaiting("a")), true, corev1.PodFailed},
		{"terminal, one creating, one running", testPod(always, nil, "a", "b"), statuses(stWaiting("a"), stRunning("b")), true, corev1.PodPending},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PodPhase(tt.pod, tt.st, tt.terminal); got != tt.want {
				t.Errorf("PodPhase = %s, want %s", got, tt.want)
			}
		})
	}
}

// TestPodPhaseOrderIndependent checks that the phase does not depend on the
// order of the statuses (the shim passes app statuses first, then init).
func TestPodPhaseOrderIndependent(t *testing.T) {
	pod := testPod(never, []corev1.Container{{Name: "i"}, sidecar("sc")}, "a", "b")
	st := statuses(stTerm("i", 0), stRunning("sc"), stTerm("a", 0), stRunning("b"))
	want := PodPhase(pod, st, false)
	rev := make([]corev1.ContainerStatus, len(st))
	for i := range st {
		rev[len(st)-1-i] = st[i]
	}
	if got := PodPhase(pod, rev, false); got != want {
		t.Errorf("PodPhase with reversed statuses = %s, want %s", got, want)
	}
}

// cond is one pod condition reduced to what the kubelet computes.
type cond struct {
	OK              bool
	Reason, Message string
}

// conditions runs the shim's status assembly (podStatus, which calls
// PodPhase, initializedCondition and containersReadyCondition) for a pod
// whose containers have the given statuses.
func conditions(t *testing.T, pod *corev1.Pod, st []corev1.ContainerStatus, terminal bool) (corev1.PodPhase, map[corev1.PodConditionType]cond) {
	t.Helper()
	s := &shim{pod: pod, conds: map[corev1.PodConditionType]corev1.PodCondition{}, stopping: terminal, byName: map[string]*ctr{}}
	byName := map[string]corev1.ContainerStatus{}
	for _, cs := range st {
		byName[cs.Name] = cs
	}
	add := func(c *corev1.Container, init bool) {
		cs, ok := byName[c.Name]
		if !ok {
			t.Fatalf("no status for container %s", c.Name)
		}
		s.ctrs = append(s.ctrs, &ctr{spec: c, init: init, status: cs})
	}
	for i := range pod.Spec.InitContainers {
		add(&pod.Spec.InitContainers[i], true)
	}
	for i := range pod.Spec.Containers {
		add(&pod.Spec.Containers[i], false)
	}
	ps := s.podStatus()
	out := map[corev1.PodConditionType]cond{}
	for _, c := range ps.Conditions {
		if _, dup := out[c.Type]; dup {
			t.Errorf("condition %s reported twice", c.Type)
		}
		out[c.Type] = cond{OK: c.Status == corev1.ConditionTrue, Reason: c.Reason, Message: c.Message}
	}
	if out[corev1.PodReady] != out[corev1.ContainersReady] {
		t.Errorf("Ready %+v differs from ContainersReady %+v (no readiness gates)", out[corev1.PodReady], out[corev1.ContainersReady])
	}
	if !out[corev1.PodScheduled].OK {
		t.Errorf("PodScheduled = %+v, want True", out[corev1.PodScheduled])
	}
	return ps.Phase, out
}

func checkCond(t *testing.T, got map[corev1.PodConditionType]cond, typ corev1.PodConditionType, want cond) {
	t.Helper()
	if got[typ] != want {
		t.Errorf("%s = %+v, want %+v", typ, got[typ], want)
	}
}

// TestConditions checks the Initialized and ContainersReady (and Ready)
// conditions against the kubelet's status generators
// (pkg/kubelet/status/generate.go).
func TestConditions(t *testing.T) {
	notInit := func(msg string) cond {
		return cond{Reason: "ContainersNotInitialized", Message: "containers with incomplete status: " + msg}
	}
	notReady := func(msg string) cond {
		return cond{Reason: "ContainersNotReady", Message: "containers with unready status: " + msg}
	}
	tests := []struct {
		name            string
		pod             *corev1.Pod
		st              []corev1.ContainerStatus
		phase           corev1.PodPhase
		initialized, cr cond
	}{
		{
			name: "no init containers, all ready", pod: testPod(always, nil, "a", "b"),
			st:    statuses(ready(stRunning("a")), ready(stRunning("b"))),
			phase: corev1.PodRunning, initialized: cond{OK: true}, cr: cond{OK: true},
		},
		{
			name: "one app unready", pod: testPod(always, nil, "x", "y", "z"),
			st:    statuses(stRunning("x"), ready(stRunning("y")), stCrash("z", 1)),
			phase: corev1.PodRunning, initialized: cond{OK: true}, cr: notReady("[x z]"),
		},
		{
			name: "inits incomplete", pod: testPod(always, inits("a", "b"), "app"),
			st:    statuses(stRunning("a"), stWaiting("b"), stWaiting("app")),
			phase: corev1.PodPending, initialized: notInit("[a b]"), cr: notReady("[app]"),
		},
		{
			name: "second init incomplete", pod: testPod(always, inits("a", "b"), "app"),
			st:    statuses(ready(stTerm("a", 0)), stRunning("b"), stWaiting("app")),
			phase: corev1.PodPending, initialized: notInit("[b]"), cr: notReady("[app]"),
		},
		{
			name: "init crash loop", pod: testPod(onFailure, inits("a"), "app"),
			st:    statuses(stCrash("a", 1), stWaiting("app")),
			phase: corev1.PodPending, initialized: notInit("[a]"), cr: notReady("[app]"),
		},
		{
			name: "inits done", pod: testPod(always, inits("a", "b"), "app"),
			st:    statuses(ready(stTerm("a", 0)), ready(stTerm("b", 0)), ready(stRunning("app"))),
			phase: corev1.PodRunning, initialized: cond{OK: true}, cr: cond{OK: true},
		},
		{
			name: "sidecar not started", pod: testPod(always, []corev1.Container{sidecar("sc")}, "app"),
			st:    statuses(stStarting("sc"), stWaiting("app")),
			phase: corev1.PodPending, initialized: notInit("[sc]"), cr: notReady("[sc app]"),
		},
		{
			name: "sidecar started and ready", pod: testPod(always, []corev1.Container{sidecar("sc")}, "app"),
			st:    statuses(ready(stRunning("sc")), ready(stRunning("app"))),
			phase: corev1.PodRunning, initialized: cond{OK: true}, cr: cond{OK: true},
		},
		{
			name: "succeeded, init not marked ready", pod: testPod(onFailure, inits("i"), "a"),
			st:    statuses(stRunning("i"), stTerm("a", 0)),
			phase: corev1.PodSucceeded, initialized: cond{OK: true, Reason: "PodCompleted"}, cr: cond{Reason: "PodCompleted"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			phase, got := conditions(t, tt.pod, tt.st, false)
			if phase != tt.phase {
				t.Fatalf("phase = %s, want %s", phase, tt.phase)
			}
			checkCond(t, got, corev1.PodInitialized, tt.initialized)
			checkCond(t, got, corev1.ContainersReady, tt.cr)
		})
	}
}

// TestConditionsSucceededInitialized: the kubelet reports Initialized True
// with reason PodCompleted for every succeeded pod, with or without init
// containers (GeneratePodInitializedCondition: podPhase == Succeeded and no
// unknown container).
func TestConditionsSucceededInitialized(t *testing.T) {
	for name, pod := range map[string]*corev1.Pod{
		"no init containers": testPod(never, nil, "a"),
		"init containers":    testPod(never, inits("i"), "a"),
	} {
		t.Run(name, func(t *testing.T) {
			st := statuses(stTerm("a", 0))
			if len(pod.Spec.InitContainers) > 0 {
				st = append(st, ready(stTerm("i", 0)))
			}
			phase, got := conditions(t, pod, st, false)
			if phase != corev1.PodSucceeded {
				t.Fatalf("phase = %s, want Succeeded", phase)
			}
			checkCond(t, got, corev1.ContainersReady, cond{Reason: "PodCompleted"})
			checkCond(t, got, corev1.PodInitialized, cond{OK: true, Reason: "PodCompleted"})
		})
	}
}

// TestConditionsFailed: for a Failed pod the kubelet sets ContainersReady
// (and Ready) False with reason PodFailed and no message
// (generateContainersReadyConditionForTerminalPhase).
func TestConditionsFailed(t *testing.T) {
	phase, got := conditions(t, testPod(never, nil, "a", "b"), statuses(stTerm("a", 1), stTerm("b", 0)), false)
	if phase != corev1.PodFailed {
		t.Fatalf("phase = %s, want Failed", phase)
	}
	checkCond(t, got, corev1.ContainersReady, cond{Reason: "PodFailed"})
}

// TestConditionsSidecarReadiness: a sidecar's readiness counts toward
// ContainersReady and Ready (GenerateContainersReadyCondition walks the
// restartable init containers first), so an unready sidecar makes the pod
// unready.
func TestConditionsSidecarReadiness(t *testing.T) {
	pod := testPod(always, []corev1.Container{sidecar("sc")}, "app")
	_, got := conditions(t, pod, statuses(stRunning("sc"), ready(stRunning("app"))), false)
	checkCond(t, got, corev1.ContainersReady, cond{Reason: "ContainersNotReady", Message: "containers with unready status: [sc]"})
}

// TestConditionsSidecarRestartAfterStart: once a regular container has
// started the pod stays Initialized while a sidecar restarts
// (GeneratePodInitializedCondition: HasAnyRegularContainerStarted).
func TestConditionsSidecarRestartAfterStart(t *testing.T) {
	pod := testPod(always, []corev1.Container{sidecar("sc"), {Name: "i"}}, "app")
	_, got := conditions(t, pod, statuses(stCrash("sc", 1), ready(stTerm("i", 0)), ready(stRunning("app"))), false)
	checkCond(t, got, corev1.PodInitialized, cond{OK: true})
}

// TestSetConditionKeepsTransitionTime checks that a condition keeps its
// transition time while its status does not change.
func TestSetConditionKeepsTransitionTime(t *testing.T) {
	s := &shim{conds: map[corev1.PodConditionType]corev1.PodCondition{}}
	s.setCondition(corev1.PodReady, false, "A", "a")
	first := s.conds[corev1.PodReady]
	first.LastTransitionTime = metav1.NewTime(first.LastTransitionTime.Add(-time.Hour))
	s.conds[corev1.PodReady] = first
	s.setCondition(corev1.PodReady, false, "B", "b")
	if got := s.conds[corev1.PodReady]; !got.LastTransitionTime.Equal(&first.LastTransitionTime) || got.Reason != "B" {
		t.Errorf("same status: got %+v, want transition time %v kept and reason B", got, first.LastTransitionTime)
	}
	s.setCondition(corev1.PodReady, true, "", "")
	if got := s.conds[corev1.PodReady]; got.LastTransitionTime.Equal(&first.LastTransitionTime) || got.Status != corev1.ConditionTrue {
		t.Errorf("status change: got %+v, want a new transition time", got)
	}
}
