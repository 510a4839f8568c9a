package sandbox_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/podbox/podbox/internal/printers"
	"github.com/podbox/podbox/sandbox"
	corev1 "k8s.io/api/core/v1"
)

// Run returns once the app containers run.
func TestRunReturnsRunningPod(t *testing.T) {
	e := newEnv(t)
	p := e.run(`{apiVersion: v1, kind: Pod, metadata: {name: quick}, spec: {containers: [{name: a, image: ` + testImage + `, command: [sleep, "100"]}, {name: b, image: ` + testImage + `, command: [sleep, "100"]}]}}`)
	if p.Status.Phase != corev1.PodRunning {
		t.Fatalf("phase %s right after Run", p.Status.Phase)
	}
	for _, cs := range p.Status.ContainerStatuses {
		if cs.State.Running == nil || !cs.Ready || cs.ContainerID == "" || cs.ImageID == "" {
			t.Errorf("container %s right after Run: %+v", cs.Name, cs)
		}
	}
	row := printers.Row(p, time.Now())
	if row.Ready != "2/2" || row.Status != "Running" || row.Restarts != "0" {
		t.Errorf("row %+v", row)
	}
	if p.UID == "" || p.CreationTimestamp.IsZero() || p.Spec.RestartPolicy != corev1.RestartPolicyAlways ||
		p.Spec.Containers[0].ImagePullPolicy != corev1.PullIfNotPresent || p.Status.StartTime == nil {
		t.Errorf("pod not defaulted like the API server would: %+v", p.ObjectMeta)
	}
}

// Stop sends SIGTERM, waits the grace period, then SIGKILLs; the pod stays
// listed with its final status and its sandbox is gone.
func TestStopGracePeriod(t *testing.T) {
	e := newEnv(t)
	e.run(`
apiVersion: v1
kind: Pod
metadata: {name: graceful}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: polite
    image: ` + testImage + `
    command: ["sh", "-c", "trap 'echo bye; exit 0' TERM; echo up; while true; do sleep 0.1; done"]
  - name: stubborn
    image: ` + testImage + `
    command: ["sleep", "1000"]
`)
	e.wait("graceful", sandbox.PodReady)
	start := time.Now()
	if err := e.rt.Stop(context.Background(), "default", "graceful", sandbox.StopOptions{}); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	if took < 2*time.Second || took > 6*time.Second {
		t.Errorf("stop took %v, want about the 2s grace period (sleep as PID 1 ignores SIGTERM)", took)
	}
	p, err := e.rt.Get(context.Background(), "default", "graceful")
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]int32{}
	for _, cs := range p.Status.ContainerStatuses {
		if cs.State.Terminated == nil {
			t.Fatalf("%s not terminated after stop: %+v", cs.Name, cs.State)
		}
		codes[cs.Name] = cs.State.Terminated.ExitCode
	}
	if codes["polite"] != 0 || codes["stubborn"] != 137 {
		t.Errorf("exit codes %v, want polite 0 (SIGTERM handled) and stubborn 137 (SIGKILL)", codes)
	}
	if p.Status.Phase != corev1.PodFailed {
		t.Errorf("phase %s after stop, want Failed", p.Status.Phase)
	}
	var logs strings.Builder
	_ = e.rt.Logs(context.Background(), "default", "graceful", sandbox.LogOptions{Container: "polite", Tail: -1}, &logs)
	if logs.String() != "up\nbye\n" {
		t.Errorf("polite's log %q", logs.String())
	}
	// The sandbox is gone but the pod is listed until deleted.
	if l := e.sandboxLeaks("graceful"); len(l) > 0 {
		t.Errorf("stopped pod still holds: %v", l)
	}
	// Stopping again is a no-op; grace 0 kills at once.
	if err := e.rt.Stop(context.Background(), "default", "graceful", sandbox.StopOptions{}); err != nil {
		t.Errorf("second stop: %v", err)
	}
}

func TestStopGraceZero(t *testing.T) {
	e := newEnv(t)
	e.run(`{apiVersion: v1, kind: Pod, metadata: {name: now}, spec: {containers: [{name: a, image: ` + testImage + `, command: [sleep, "1000"]}]}}`)
	zero := int64(0)
	start := time.Now()
	if err := e.rt.Delete(context.Background(), "default", "now", sandbox.DeleteOptions{GracePeriod: &zero}); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("delete with grace 0 took %v", took)
	}
	e.assertClean()
}

// Init containers run one at a time, in order, before the app containers.
func TestInitContainersInOrder(t *testing.T) {
	e := newEnv(t)
	e.run(`
apiVersion: v1
kind: Pod
metadata: {name: inits}
spec:
  initContainers:
  - {name: one, image: ` + testImage + `, command: ["sh", "-c", "sleep 0.3; echo one >> /dev/shm/order"]}
  - {name: two, image: ` + testImage + `, command: ["sh", "-c", "echo two >> /dev/shm/order"]}
  containers:
  - {name: app, image: ` + testImage + `, command: ["sh", "-c", "echo app >> /dev/shm/order; cat /dev/shm/order; sleep 1000"]}
`)
	p := e.wait("inits", sandbox.PodReady)
	out, _ := e.exec("inits", "app", "cat", "/dev/shm/order")
	if out != "one\ntwo\napp\n" {
		t.Errorf("order %q", out)
	}
	one, two := p.Status.InitContainerStatuses[0].State.Terminated, p.Status.InitContainerStatuses[1].State.Terminated
	app := p.Status.ContainerStatuses[0].State.Running
	if one == nil || two == nil || app == nil || two.StartedAt.Before(&one.FinishedAt) || app.StartedAt.Before(&two.FinishedAt) {
		t.Errorf("init containers did not run one after the other before the app: %+v", p.Status)
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodInitialized && c.Status != corev1.ConditionTrue {
			t.Errorf("Initialized %s", c.Status)
		}
	}
}

// A failed init container with restartPolicy Never fails the pod; the app
// containers never start.
func TestInitFailureNever(t *testing.T) {
	e := newEnv(t)
	e.run(`
apiVersion: v1
kind: Pod
metadata: {name: badinit}
spec:
  restartPolicy: Never
  initContainers:
  - {name: fails, image: ` + testImage + `, command: ["sh", "-c", "exit 7"]}
  containers:
  - {name: app, image: ` + testImage + `, command: ["sleep", "1000"]}
`)
	p := e.wait("badinit", sandbox.PodFinished)
	if p.Status.Phase != corev1.PodFailed {
		t.Errorf("phase %s", p.Status.Phase)
	}
	if st := printers.Row(p, time.Now()).Status; st != "Init:Error" {
		t.Errorf("STATUS %q, want Init:Error", st)
	}
	if app := p.Status.ContainerStatuses[0]; app.State.Waiting == nil || app.State.Waiting.Reason != "PodInitializing" {
		t.Errorf("app container state %+v", app.State)
	}
}

// restartPolicy Always restarts a failing container with back-off and keeps
// the previous instance's log.
func TestRestartWithBackOff(t *testing.T) {
	e := newEnv(t)
	e.run(`{apiVersion: v1, kind: Pod, metadata: {name: crash}, spec: {containers: [{name: a, image: ` + testImage + `, command: [sh, -c, "date +%s%N; exit 1"]}]}}`)
	var p *corev1.Pod
	eventually(t, 10*time.Second, func() string {
		p, _ = e.rt.Get(context.Background(), "default", "crash")
		if p.Status.ContainerStatuses[0].RestartCount < 3 {
			return "fewer than 3 restarts"
		}
		return ""
	})
	cs := p.Status.ContainerStatuses[0]
	if last := cs.LastTerminationState.Terminated; last == nil || last.ExitCode != 1 || last.Reason != "Error" {
		t.Errorf("lastState %+v", cs.LastTerminationState)
	}
	if p.Status.Phase != corev1.PodRunning {
		t.Errorf("phase %s, want Running (restartPolicy Always)", p.Status.Phase)
	}
	var prev strings.Builder
	if err := e.rt.Logs(context.Background(), "default", "crash", sandbox.LogOptions{Container: "a", Previous: true, Tail: -1}, &prev); err != nil || prev.Len() == 0 {
		t.Errorf("previous log %q: %v", prev.String(), err)
	}
	// The back-off shows as CrashLoopBackOff while waiting.
	eventually(t, 5*time.Second, func() string {
		p, _ = e.rt.Get(context.Background(), "default", "crash")
		if st := printers.Row(p, time.Now()).Status; st != "CrashLoopBackOff" {
			return "STATUS " + st
		}
		return ""
	})
}

// A stop right after Run must reach the container's program, not
// libcontainer's init that is about to exec it (whose Go runtime, as PID 1,
// would exit 2 on SIGTERM).
func TestStopRightAfterRun(t *testing.T) {
	e := newEnv(t)
	names := []string{"early-a", "early-b", "early-c"}
	for _, n := range names {
		e.run(`{apiVersion: v1, kind: Pod, metadata: {name: ` + n + `}, spec: {terminationGracePeriodSeconds: 1, containers: [{name: a, image: ` + testImage + `, command: [sleep, "1000"]}]}}`)
	}
	errs := make(chan error, len(names))
	for _, n := range names {
		go func() { errs <- e.rt.Stop(context.Background(), "default", n, sandbox.StopOptions{}) }()
	}
	for range names {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range names {
		p, err := e.rt.Get(context.Background(), "default", n)
		if err != nil {
			t.Fatal(err)
		}
		if term := p.Status.ContainerStatuses[0].State.Terminated; term == nil || term.ExitCode != 137 {
			t.Errorf("%s: %+v, want exit 137 (sleep as PID 1 ignores SIGTERM, then SIGKILL)", n, p.Status.ContainerStatuses[0].State)
		}
	}
}

// The shim stays in the host's namespaces: pinning the pod's namespaces and
// libcontainer's mount-namespace threads must not leave it (through its
// main thread, which /proc/<pid> shows) in a pod's.
func TestShimStaysInHostNamespaces(t *testing.T) {
	e := newEnv(t)
	e.run(`{apiVersion: v1, kind: Pod, metadata: {name: nsless}, spec: {containers: [{name: a, image: ` + testImage + `, command: [sleep, "1000"]}, {name: b, image: ` + testImage + `, command: [sleep, "1000"]}]}}`)
	e.wait("nsless", sandbox.PodReady)
	pid := readShimPID(t, e, "nsless")
	for _, ns := range []string{"mnt", "net", "ipc", "uts", "pid"} {
		host, _ := os.Readlink("/proc/self/ns/" + ns)
		shim, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, ns))
		if err != nil || shim != host {
			t.Errorf("shim %s namespace %q, want the host's %q (%v)", ns, shim, host, err)
		}
	}
}
