package sandbox_test

// The seed document's scenarios (issue 4, "The seed's scenarios as tests"),
// run on real pods with a fast back-off curve. Scenario 5 (kill -9 of
// pause) is TestKilledPauseRecreatesSandbox in pod_test.go.

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/podbox/podbox/internal/printers"
	"github.com/podbox/podbox/sandbox"
	corev1 "k8s.io/api/core/v1"
)

// seedGet returns a pod and its kubectl STATUS, failing the test if the
// pod cannot be read.
func (e *env) seedGet(name string) (*corev1.Pod, string) {
	e.t.Helper()
	p, err := e.rt.Get(context.Background(), "default", name)
	if err != nil {
		e.t.Fatalf("get %s: %v", name, err)
	}
	return p, printers.Row(p, time.Now()).Status
}

// seedLogs returns a container's current (or previous) log.
func (e *env) seedLogs(name, ctr string, previous bool) string {
	e.t.Helper()
	var b strings.Builder
	if err := e.rt.Logs(context.Background(), "default", name, sandbox.LogOptions{Container: ctr, Previous: previous, Tail: -1}, &b); err != nil {
		e.t.Errorf("logs of %s/%s (previous %v): %v", name, ctr, previous, err)
	}
	return b.String()
}

// seedEvents returns a pod's events.
func (e *env) seedEvents(name string) []sandbox.Event {
	e.t.Helper()
	evs, err := e.rt.Events(context.Background(), "default", name)
	if err != nil {
		e.t.Fatalf("events of %s: %v", name, err)
	}
	return evs
}

// findEvent returns the first event with this reason about object.
func findEvent(evs []sandbox.Event, reason, object string) *sandbox.Event {
	for i := range evs {
		if evs[i].Reason == reason && evs[i].Object == object {
			return &evs[i]
		}
	}
	return nil
}

func statusOf(sts []corev1.ContainerStatus, name string) corev1.ContainerStatus {
	for _, cs := range sts {
		if cs.Name == name {
			return cs
		}
	}
	return corev1.ContainerStatus{Name: name + " (no status)"}
}

func conditionTrue(p *corev1.Pod, t corev1.PodConditionType) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == t {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// statusTrail records the distinct STATUS values a pod goes through, in
// order.
type statusTrail []string

func (s *statusTrail) add(st string) {
	if n := len(*s); n == 0 || (*s)[n-1] != st {
		*s = append(*s, st)
	}
}

// Seed scenario 1: myapp-pod. Two init containers wait, printing "waiting
// for ...", until their condition holds; the test satisfies the first, then
// the second. STATUS goes Init:0/2 -> Init:1/2 -> (PodInitializing) ->
// Running, and the app container is created only at the end.
func TestSeedMyAppPod(t *testing.T) {
	e := newEnv(t)
	e.run(`
apiVersion: v1
kind: Pod
metadata:
  name: myapp-pod
  labels: {app.kubernetes.io/name: MyApp}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: myapp-container
    image: ` + testImage + `
    command: ['sh', '-c', 'echo The app is running! && sleep 3600']
  initContainers:
  - name: init-myservice
    image: ` + testImage + `
    command: ['sh', '-c', 'until [ -e /dev/shm/myservice ]; do echo "waiting for myservice"; sleep 0.1; done']
  - name: init-mydb
    image: ` + testImage + `
    command: ['sh', '-c', 'until [ -e /dev/shm/mydb ]; do echo "waiting for mydb"; sleep 0.1; done']
`)
	var trail statusTrail
	// poll waits until check passes, recording every STATUS seen.
	poll := func(d time.Duration, check func(p *corev1.Pod, st string) string) *corev1.Pod {
		t.Helper()
		var p *corev1.Pod
		eventually(t, d, func() string {
			var st string
			p, st = e.seedGet("myapp-pod")
			trail.add(st)
			return check(p, st)
		})
		return p
	}
	running := func(name string) func(p *corev1.Pod, st string) string {
		return func(p *corev1.Pod, st string) string {
			if cs := statusOf(p.Status.InitContainerStatuses, name); cs.State.Running == nil {
				return fmt.Sprintf("%s is not running: %+v (STATUS %s)", name, cs.State, st)
			}
			return ""
		}
	}

	// The first init container waits; nothing else runs.
	poll(5*time.Second, running("init-myservice"))
	time.Sleep(300 * time.Millisecond) // it keeps waiting
	p := poll(5*time.Second, func(p *corev1.Pod, st string) string {
		if !strings.Contains(e.seedLogs("myapp-pod", "init-myservice", false), "waiting for myservice\n") {
			return "init-myservice has not logged its waiting line yet"
		}
		return ""
	})
	if st := printers.Row(p, time.Now()).Status; st != "Init:0/2" {
		t.Errorf("STATUS %q while the first init container waits, want Init:0/2", st)
	}
	if cs := statusOf(p.Status.InitContainerStatuses, "init-mydb"); cs.State.Running != nil || cs.State.Terminated != nil || cs.ContainerID != "" {
		t.Errorf("init-mydb started before init-myservice succeeded: %+v", cs)
	}
	if cs := statusOf(p.Status.ContainerStatuses, "myapp-container"); cs.State.Waiting == nil || cs.State.Waiting.Reason != "PodInitializing" || cs.ContainerID != "" {
		t.Errorf("app container while initializing: %+v, want waiting PodInitializing and not created", cs)
	}
	if p.Status.Phase != corev1.PodPending || conditionTrue(p, corev1.PodInitialized) {
		t.Errorf("phase %s, Initialized %v while initializing", p.Status.Phase, conditionTrue(p, corev1.PodInitialized))
	}

	// Satisfy the first condition: the second init container runs.
	if out, code := e.exec("myapp-pod", "init-myservice", "touch", "/dev/shm/myservice"); code != 0 {
		t.Fatalf("touch /dev/shm/myservice: exit %d: %s", code, out)
	}
	p = poll(5*time.Second, running("init-mydb"))
	if st := printers.Row(p, time.Now()).Status; st != "Init:1/2" {
		t.Errorf("STATUS %q while the second init container waits, want Init:1/2", st)
	}
	if term := statusOf(p.Status.InitContainerStatuses, "init-myservice").State.Terminated; term == nil || term.ExitCode != 0 || term.Reason != "Completed" {
		t.Errorf("init-myservice after its condition holds: %+v, want terminated 0 Completed", term)
	}
	if cs := statusOf(p.Status.ContainerStatuses, "myapp-container"); cs.State.Waiting == nil || cs.ContainerID != "" {
		t.Errorf("app container created while init-mydb waits: %+v", cs)
	}
	poll(5*time.Second, func(*corev1.Pod, string) string {
		if !strings.Contains(e.seedLogs("myapp-pod", "init-mydb", false), "waiting for mydb\n") {
			return "init-mydb has not logged its waiting line yet"
		}
		return ""
	})

	// Satisfy the second: the app runs.
	if out, code := e.exec("myapp-pod", "init-mydb", "touch", "/dev/shm/mydb"); code != 0 {
		t.Fatalf("touch /dev/shm/mydb: exit %d: %s", code, out)
	}
	// Polled closely: the step between the last init container's exit and
	// the app's start is short.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(2 * time.Millisecond) {
		var st string
		p, st = e.seedGet("myapp-pod")
		trail.add(st)
		if st == "Running" && conditionTrue(p, corev1.PodReady) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("STATUS %s, want Running and Ready (went %v)", st, trail)
		}
	}
	// Init:0/2 may be preceded by nothing else; PodInitializing may show
	// between the last init container's exit and the app's start.
	want := regexp.MustCompile(`^Init:0/2 Init:1/2 (PodInitializing )?Running$`)
	if got := strings.Join(trail, " "); !want.MatchString(got) {
		t.Errorf("STATUS went %q, want Init:0/2 → Init:1/2 → (PodInitializing) → Running: the kubelet's default "+
			"waiting reason for the app containers of a pod with init containers is PodInitializing until they are "+
			"created (convertToAPIContainerStatuses), never ContainerCreating", got)
	}
	if !conditionTrue(p, corev1.PodInitialized) {
		t.Errorf("Initialized is not true once the app runs: %+v", p.Status.Conditions)
	}
	for _, ic := range p.Status.InitContainerStatuses {
		if ic.State.Terminated == nil || ic.State.Terminated.ExitCode != 0 || ic.RestartCount != 0 {
			t.Errorf("init container %s at the end: %+v restarts %d", ic.Name, ic.State, ic.RestartCount)
		}
	}
	for name, line := range map[string]string{"init-myservice": "waiting for myservice", "init-mydb": "waiting for mydb"} {
		log := e.seedLogs("myapp-pod", name, false)
		lines := strings.Split(strings.TrimSuffix(log, "\n"), "\n")
		for _, l := range lines {
			if l != line {
				t.Errorf("%s logged %q; want only %q lines", name, l, line)
				break
			}
		}
	}
	eventually(t, 5*time.Second, func() string {
		if log := e.seedLogs("myapp-pod", "myapp-container", false); log != "The app is running!\n" {
			return fmt.Sprintf("app log %q", log)
		}
		return ""
	})
}

// logStarts reads, for each instance of a container, the time its first
// log line was written (the CRI timestamp), into starts[restart].
func logStarts(t *testing.T, dir string, starts map[int]time.Time) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	for _, f := range files {
		n, err := strconv.Atoi(strings.TrimSuffix(filepath.Base(f), ".log"))
		if err != nil {
			continue
		}
		if _, ok := starts[n]; ok {
			continue
		}
		fh, err := os.Open(f)
		if err != nil {
			continue
		}
		line, _ := bufio.NewReader(fh).ReadString('\n')
		fh.Close()
		ts, _, ok := strings.Cut(line, " ")
		if !ok || !strings.HasSuffix(line, "\n") {
			continue // not written yet
		}
		at, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			t.Fatalf("%s: bad CRI timestamp in %q: %v", f, line, err)
		}
		starts[n] = at
	}
}

// Seed scenario 2: `echo SUCCESS` under the default restartPolicy (Always)
// crash-loops. Its log shows SUCCESS, the restart count climbs, STATUS
// becomes CrashLoopBackOff, and the back-off doubles from an immediate
// first restart up to the cap: with base 400ms and cap 1.6s, the gaps
// between consecutive starts are 0, 0.4, 0.8, 1.6, 1.6 s.
func TestSeedCrashLoopBackOff(t *testing.T) {
	const base, max = 400 * time.Millisecond, 1600 * time.Millisecond
	e := newEnv(t, func(o *sandbox.Options) { o.BackOffBase, o.BackOffMax = base, max })
	p := e.run(`{apiVersion: v1, kind: Pod, metadata: {name: success}, spec: {terminationGracePeriodSeconds: 0, containers: [{name: app, image: ` + testImage + `, command: ["echo", "SUCCESS"]}]}}`)
	logDir := filepath.Join(e.dir, "log", fmt.Sprintf("default_success_%s", p.UID), "app")

	// Each instance's start is the timestamp of its one log line.
	starts := map[int]time.Time{}
	trail := statusTrail{}
	delays := []time.Duration{0, base, 2 * base, 4 * base, max} // before restart 1, 2, ...
	eventually(t, 15*time.Second, func() string {
		logStarts(t, logDir, starts)
		_, st := e.seedGet("success")
		trail.add(st)
		if len(starts) <= len(delays) {
			return fmt.Sprintf("%d instances started, want %d; STATUS went %v", len(starts), len(delays)+1, trail)
		}
		return ""
	})
	var report []string
	for i, d := range delays {
		a, okA := starts[i]
		b, okB := starts[i+1]
		if !okA || !okB {
			t.Fatalf("no start time for instance %d or %d: %v", i, i+1, starts)
		}
		gap := b.Sub(a)
		report = append(report, fmt.Sprintf("%v (want %v)", gap.Round(time.Millisecond), d))
		// Loose above: a loaded 2-core machine delays starts by a few
		// hundred ms; what matters is the doubling.
		low, high := d*8/10, d*5/4+500*time.Millisecond
		if gap < low || gap > high {
			t.Errorf("restart %d came %v after the previous start, want %v (between %v and %v)", i+1, gap, d, low, high)
		}
	}
	t.Logf("gaps between starts: %s", strings.Join(report, ", "))

	// STATUS shows the back-off while it waits.
	eventually(t, 5*time.Second, func() string {
		_, st := e.seedGet("success")
		trail.add(st)
		if st != "CrashLoopBackOff" {
			return "STATUS " + st + ", want CrashLoopBackOff"
		}
		return ""
	})
	if !strings.Contains(strings.Join(trail, " "), "CrashLoopBackOff") {
		t.Errorf("STATUS never was CrashLoopBackOff: %v", trail)
	}
	p, _ = e.seedGet("success")
	cs := p.Status.ContainerStatuses[0]
	if cs.RestartCount < int32(len(delays)) {
		t.Errorf("restartCount %d, want at least %d", cs.RestartCount, len(delays))
	}
	if w := cs.State.Waiting; w == nil || w.Reason != "CrashLoopBackOff" ||
		!strings.Contains(w.Message, "restarting failed container=app pod=success_default("+string(p.UID)+")") ||
		!strings.HasPrefix(w.Message, "back-off ") {
		t.Errorf("state %+v, want waiting CrashLoopBackOff with the kubelet's message", cs.State)
	}
	if last := cs.LastTerminationState.Terminated; last == nil || last.ExitCode != 0 || last.Reason != "Completed" {
		t.Errorf("lastState %+v, want terminated 0 Completed", cs.LastTerminationState)
	}
	if p.Status.Phase != corev1.PodRunning {
		t.Errorf("phase %s, want Running (restartPolicy Always)", p.Status.Phase)
	}
	row := printers.Row(p, time.Now())
	if m := regexp.MustCompile(`^(\d+) \(\d+s ago\)$`).FindStringSubmatch(row.Restarts); m == nil || m[1] != strconv.Itoa(int(cs.RestartCount)) {
		t.Errorf("RESTARTS %q, want \"%d (<age> ago)\"", row.Restarts, cs.RestartCount)
	}
	if row.Ready != "0/1" {
		t.Errorf("READY %q, want 0/1", row.Ready)
	}
	if log := e.seedLogs("success", "app", false); log != "SUCCESS\n" {
		t.Errorf("log %q, want SUCCESS", log)
	}
	if log := e.seedLogs("success", "app", true); log != "SUCCESS\n" {
		t.Errorf("previous log %q, want SUCCESS", log)
	}
	evs := e.seedEvents("success")
	bo := findEvent(evs, "BackOff", "spec.containers{app}")
	if bo == nil || bo.Type != corev1.EventTypeWarning || bo.Count < 3 ||
		bo.Message != "Back-off restarting failed container app in pod success_default("+string(p.UID)+")" {
		t.Errorf("BackOff event %+v, want a Warning counted at least 3 times with the kubelet's message (events %+v)", bo, evs)
	}
	if st := findEvent(evs, "Started", "spec.containers{app}"); st == nil || st.Count < len(delays)+1 {
		t.Errorf("Started event %+v, want counted at least %d times", st, len(delays)+1)
	}
}

// Seed scenario 3: `sleep 1; exit 3` under each restart policy, the pods
// side by side.
func TestSeedRestartPolicies(t *testing.T) {
	e := newEnv(t)
	mk := func(name, policy, script string) {
		e.run(`{apiVersion: v1, kind: Pod, metadata: {name: ` + name + `}, spec: {terminationGracePeriodSeconds: 0, restartPolicy: ` + policy +
			`, containers: [{name: app, image: ` + testImage + `, command: [sh, -c, "` + script + `"]}]}}`)
	}
	mk("always", "Always", "sleep 1; exit 3")
	mk("never", "Never", "sleep 1; exit 3")
	mk("onfailure-ok", "OnFailure", "sleep 1; exit 0")
	mk("onfailure-bad", "OnFailure", "sleep 1; exit 3")

	// Always and OnFailure with a failure: restarted, the last state holds
	// exit code 3, and the pod stays Running.
	for _, name := range []string{"always", "onfailure-bad"} {
		eventually(t, 10*time.Second, func() string {
			p, _ := e.seedGet(name)
			cs := p.Status.ContainerStatuses[0]
			if cs.RestartCount < 1 {
				return name + ": not restarted yet"
			}
			if last := cs.LastTerminationState.Terminated; last == nil || last.ExitCode != 3 || last.Reason != "Error" {
				return fmt.Sprintf("%s: lastState %+v, want terminated 3 Error", name, cs.LastTerminationState)
			}
			if p.Status.Phase != corev1.PodRunning {
				return fmt.Sprintf("%s: phase %s, want Running", name, p.Status.Phase)
			}
			return ""
		})
	}

	// Never: Failed, STATUS Error, no restart.
	p := e.wait("never", sandbox.PodFinished)
	cs := p.Status.ContainerStatuses[0]
	if p.Status.Phase != corev1.PodFailed || printers.Row(p, time.Now()).Status != "Error" || cs.RestartCount != 0 {
		t.Errorf("never: phase %s STATUS %s restarts %d, want Failed, Error, 0", p.Status.Phase, printers.Row(p, time.Now()).Status, cs.RestartCount)
	}
	if term := cs.State.Terminated; term == nil || term.ExitCode != 3 || term.Reason != "Error" {
		t.Errorf("never: state %+v, want terminated 3 Error", cs.State)
	}

	// OnFailure, exit 0: Succeeded, Completed, no restart.
	p = e.wait("onfailure-ok", sandbox.PodFinished)
	cs = p.Status.ContainerStatuses[0]
	if p.Status.Phase != corev1.PodSucceeded || printers.Row(p, time.Now()).Status != "Completed" || cs.RestartCount != 0 {
		t.Errorf("onfailure-ok: phase %s STATUS %s restarts %d, want Succeeded, Completed, 0", p.Status.Phase, printers.Row(p, time.Now()).Status, cs.RestartCount)
	}
	if term := cs.State.Terminated; term == nil || term.ExitCode != 0 || term.Reason != "Completed" {
		t.Errorf("onfailure-ok: state %+v, want terminated 0 Completed", cs.State)
	}

	// The finished pods stay so: no restart comes later.
	time.Sleep(500 * time.Millisecond)
	for _, name := range []string{"never", "onfailure-ok"} {
		if p, st := e.seedGet(name); p.Status.ContainerStatuses[0].RestartCount != 0 || p.Status.ContainerStatuses[0].State.Terminated == nil {
			t.Errorf("%s restarted after finishing: STATUS %s %+v", name, st, p.Status.ContainerStatuses[0])
		}
	}
}

// Seed scenario 4, restartPolicy Never: a failed init container fails the
// pod; the app container is never created (no ID, no log, no events).
func TestSeedInitFailureNeverCreatesNoApp(t *testing.T) {
	e := newEnv(t)
	e.run(`
apiVersion: v1
kind: Pod
metadata: {name: init-never}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 0
  initContainers:
  - {name: check, image: ` + testImage + `, command: ["sh", "-c", "echo check failed; exit 1"]}
  containers:
  - {name: app, image: ` + testImage + `, command: ["sleep", "1000"]}
`)
	e.wait("init-never", sandbox.PodFinished)
	time.Sleep(300 * time.Millisecond) // nothing more happens
	p, st := e.seedGet("init-never")
	if p.Status.Phase != corev1.PodFailed || st != "Init:Error" {
		t.Errorf("phase %s STATUS %s, want Failed, Init:Error", p.Status.Phase, st)
	}
	ic := p.Status.InitContainerStatuses[0]
	if term := ic.State.Terminated; term == nil || term.ExitCode != 1 || term.Reason != "Error" || ic.RestartCount != 0 {
		t.Errorf("init container %+v restarts %d, want terminated 1 Error, no restart", ic.State, ic.RestartCount)
	}
	app := p.Status.ContainerStatuses[0]
	if app.State.Waiting == nil || app.State.Waiting.Reason != "PodInitializing" || app.ContainerID != "" || app.RestartCount != 0 {
		t.Errorf("app container %+v, want waiting PodInitializing, never created", app)
	}
	if conditionTrue(p, corev1.PodInitialized) {
		t.Errorf("Initialized is true: %+v", p.Status.Conditions)
	}
	if log := e.seedLogs("init-never", "check", false); log != "check failed\n" {
		t.Errorf("init container log %q", log)
	}
	appLogs := filepath.Join(e.dir, "log", fmt.Sprintf("default_init-never_%s", p.UID), "app")
	if _, err := os.Stat(appLogs); !os.IsNotExist(err) {
		t.Errorf("the app container has a log directory %s (%v): it was created", appLogs, err)
	}
	for _, ev := range e.seedEvents("init-never") {
		if ev.Object == "spec.containers{app}" && (ev.Reason == "Created" || ev.Reason == "Started") {
			t.Errorf("event %+v: the app container was created", ev)
		}
	}
}

// Seed scenario 4, restartPolicy Always: a failing init container is
// retried with back-off (Init:CrashLoopBackOff) and the pod recovers once
// the failure condition is removed.
func TestSeedInitCrashLoopRecovers(t *testing.T) {
	e := newEnv(t)
	e.run(`
apiVersion: v1
kind: Pod
metadata: {name: init-always}
spec:
  terminationGracePeriodSeconds: 0
  initContainers:
  - {name: check, image: ` + testImage + `, command: ["sh", "-c", "test -e /dev/shm/ok || { echo not yet; exit 1; }; echo ok"]}
  containers:
  - {name: app, image: ` + testImage + `, command: ["sleep", "1000"]}
`)
	eventually(t, 10*time.Second, func() string {
		p, st := e.seedGet("init-always")
		if ic := p.Status.InitContainerStatuses[0]; st != "Init:CrashLoopBackOff" || ic.RestartCount < 2 {
			return fmt.Sprintf("STATUS %s, init restarts %d; want Init:CrashLoopBackOff after 2 restarts", st, ic.RestartCount)
		}
		return ""
	})
	p, _ := e.seedGet("init-always")
	if p.Status.Phase != corev1.PodPending {
		t.Errorf("phase %s while init crash-loops, want Pending", p.Status.Phase)
	}
	if app := p.Status.ContainerStatuses[0]; app.ContainerID != "" || app.State.Waiting == nil || app.State.Waiting.Reason != "PodInitializing" {
		t.Errorf("app container while init crash-loops: %+v", app)
	}
	if last := p.Status.InitContainerStatuses[0].LastTerminationState.Terminated; last == nil || last.ExitCode != 1 {
		t.Errorf("init lastState %+v, want exit 1", last)
	}
	if row := printers.Row(p, time.Now()); !regexp.MustCompile(`^[1-9]\d* \(\d+s ago\)$`).MatchString(row.Restarts) {
		t.Errorf("RESTARTS %q while init crash-loops, want the init container's restarts", row.Restarts)
	}
	if bo := findEvent(e.seedEvents("init-always"), "BackOff", "spec.initContainers{check}"); bo == nil {
		t.Errorf("no BackOff event for the init container")
	}

	// Remove the failure condition: the pod's /dev/shm is a directory of
	// the pod's state on the host.
	shm := filepath.Join(e.state, "pods", "default", "init-always", "shm")
	if err := os.WriteFile(filepath.Join(shm, "ok"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() string {
		p, st := e.seedGet("init-always")
		if st != "Running" || !conditionTrue(p, corev1.PodReady) {
			return "STATUS " + st + ", want Running and Ready after the condition holds"
		}
		return ""
	})
	p, _ = e.seedGet("init-always")
	ic := p.Status.InitContainerStatuses[0]
	if ic.RestartCount < 2 || ic.State.Terminated == nil || ic.State.Terminated.ExitCode != 0 {
		t.Errorf("init container at the end: restarts %d state %+v, want the restarts kept (>= 2) and exit 0", ic.RestartCount, ic.State)
	}
	if !conditionTrue(p, corev1.PodInitialized) {
		t.Errorf("Initialized not true: %+v", p.Status.Conditions)
	}
	if log := e.seedLogs("init-always", "check", false); log != "ok\n" {
		t.Errorf("the successful init run logged %q", log)
	}
	if log := e.seedLogs("init-always", "check", true); log != "not yet\n" {
		t.Errorf("the failed init run before it logged %q", log)
	}
	if app := p.Status.ContainerStatuses[0]; app.RestartCount != 0 || app.State.Running == nil {
		t.Errorf("app container %+v", app)
	}
}

// Seed scenario 6: graceful stop. A container that ignores SIGTERM is
// killed after the grace period (137); one that handles it exits at once
// with its own code; grace period 0 kills at once. The three pods are
// stopped concurrently.
func TestSeedGracefulStop(t *testing.T) {
	e := newEnv(t)
	const ignore = `trap '' TERM; echo up; while true; do sleep 0.1; done`
	e.run(`{apiVersion: v1, kind: Pod, metadata: {name: ignores}, spec: {terminationGracePeriodSeconds: 1, containers: [{name: app, image: ` + testImage + `, command: [sh, -c, "` + ignore + `"]}]}}`)
	e.run(`{apiVersion: v1, kind: Pod, metadata: {name: handles}, spec: {terminationGracePeriodSeconds: 10, containers: [{name: app, image: ` + testImage + `, command: [sh, -c, "trap 'echo got TERM; exit 42' TERM; echo up; while true; do sleep 0.1; done"]}]}}`)
	e.run(`{apiVersion: v1, kind: Pod, metadata: {name: zero}, spec: {terminationGracePeriodSeconds: 30, containers: [{name: app, image: ` + testImage + `, command: [sh, -c, "` + ignore + `"]}]}}`)
	for _, n := range []string{"ignores", "handles", "zero"} {
		e.wait(n, sandbox.PodReady)
		// The trap is set once the container has printed.
		eventually(t, 5*time.Second, func() string {
			if log := e.seedLogs(n, "app", false); log != "up\n" {
				return fmt.Sprintf("%s logged %q", n, log)
			}
			return ""
		})
	}
	zero := int64(0)
	opts := map[string]sandbox.StopOptions{"ignores": {}, "handles": {}, "zero": {GracePeriod: &zero}}
	took := map[string]time.Duration{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for n, o := range opts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			err := e.rt.Stop(context.Background(), "default", n, o)
			mu.Lock()
			took[n] = time.Since(start)
			mu.Unlock()
			if err != nil {
				t.Errorf("stop %s: %v", n, err)
			}
		}()
	}
	wg.Wait()
	t.Logf("stop took: ignores (grace 1s) %v, handles (grace 10s) %v, zero (grace 0) %v", took["ignores"], took["handles"], took["zero"])
	if d := took["ignores"]; d < time.Second || d > 3*time.Second {
		t.Errorf("stopping a container that ignores SIGTERM took %v, want the 1s grace period", d)
	}
	if d := took["handles"]; d > 2*time.Second {
		t.Errorf("stopping a container that handles SIGTERM took %v, want well under its 10s grace period", d)
	}
	if d := took["zero"]; d > time.Second {
		t.Errorf("stopping with grace period 0 took %v, want immediate", d)
	}
	want := map[string]int32{"ignores": 137, "handles": 42, "zero": 137}
	for n, code := range want {
		p, st := e.seedGet(n)
		cs := p.Status.ContainerStatuses[0]
		if term := cs.State.Terminated; term == nil || term.ExitCode != code || term.Reason != "Error" {
			t.Errorf("%s: state %+v, want terminated %d Error", n, cs.State, code)
		}
		if p.Status.Phase != corev1.PodFailed || st != "Error" {
			t.Errorf("%s: phase %s STATUS %s after stop, want Failed, Error", n, p.Status.Phase, st)
		}
		ev := findEvent(e.seedEvents(n), "Killing", "spec.containers{app}")
		if ev == nil || ev.Type != corev1.EventTypeNormal || ev.Message != "Stopping container app" || ev.Count != 1 {
			t.Errorf("%s: Killing event %+v, want one Normal \"Stopping container app\"", n, ev)
		}
		if l := e.sandboxLeaks(n); len(l) > 0 {
			t.Errorf("%s: the stopped pod still holds %v", n, l)
		}
	}
	if log := e.seedLogs("handles", "app", false); log != "up\ngot TERM\n" {
		t.Errorf("handles logged %q, want its trap's line", log)
	}
}
