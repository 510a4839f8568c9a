package sandbox_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/podbox/podbox/internal/printers"
	"github.com/podbox/podbox/sandbox"
	corev1 "k8s.io/api/core/v1"
)

func (e *env) logs(name, ctr string) string {
	e.t.Helper()
	var b strings.Builder
	if err := e.rt.Logs(context.Background(), "default", name, sandbox.LogOptions{Container: ctr, Tail: -1}, &b); err != nil {
		e.t.Fatalf("logs %s/%s: %v", name, ctr, err)
	}
	return b.String()
}

// preStop runs before the stop signal: the program, told to stop, finds
// what the hook wrote to a shared emptyDir. lifecycle.stopSignal replaces
// SIGTERM.
func TestPreStopAndStopSignal(t *testing.T) {
	e := newEnv(t)
	e.run(`{apiVersion: v1, kind: Pod, metadata: {name: hooks}, spec: {terminationGracePeriodSeconds: 10, os: {name: linux},
 volumes: [{name: shared, emptyDir: {}}], containers: [
 {name: a, image: ` + testImage + `, volumeMounts: [{name: shared, mountPath: /shared}],
  command: [sh, -c, "trap 'echo term saw: $(cat /shared/prestop); exit 0' TERM; echo up; while true; do sleep 0.1; done"],
  lifecycle: {preStop: {exec: {command: [sh, -c, "echo hook ran > /shared/prestop"]}}}},
 {name: b, image: ` + testImage + `,
  command: [sh, -c, "trap 'echo got USR1; exit 0' USR1; echo up; while true; do sleep 0.1; done"],
  lifecycle: {stopSignal: SIGUSR1}}]}}`)
	eventually(t, 10*time.Second, func() string {
		if !strings.Contains(e.logs("hooks", "a"), "up") || !strings.Contains(e.logs("hooks", "b"), "up") {
			return "traps not set yet"
		}
		return ""
	})
	start := time.Now()
	if err := e.rt.Stop(context.Background(), "default", "hooks", sandbox.StopOptions{}); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 8*time.Second {
		t.Errorf("stop took %s: the signals were not handled", took)
	}
	if l := e.logs("hooks", "a"); !strings.Contains(l, "term saw: hook ran") {
		t.Errorf("a's log %q: preStop did not run before SIGTERM", l)
	}
	if l := e.logs("hooks", "b"); !strings.Contains(l, "got USR1") {
		t.Errorf("b's log %q: the stopSignal was not sent", l)
	}
	for _, cs := range e.get("hooks").Status.ContainerStatuses {
		if term := cs.State.Terminated; term == nil || term.ExitCode != 0 {
			t.Errorf("%s: %+v, want exit 0", cs.Name, cs.State)
		}
	}
}

// A postStart hook holds the next container's start until it is done; a
// failing one kills its container (FailedPostStartHook), which restarts.
func TestPostStart(t *testing.T) {
	e := newEnv(t)
	e.run(`{apiVersion: v1, kind: Pod, metadata: {name: post}, spec: {containers: [
 {name: a, image: ` + testImage + `, command: [sleep, "600"], lifecycle: {postStart: {sleep: {seconds: 3}}}},
 {name: b, image: ` + testImage + `, command: [sleep, "600"]}]}}`)
	p := e.wait("post", sandbox.PodReady)
	var a, b time.Time
	for _, cs := range p.Status.ContainerStatuses {
		switch cs.Name {
		case "a":
			a = cs.State.Running.StartedAt.Time
		case "b":
			b = cs.State.Running.StartedAt.Time
		}
	}
	if d := b.Sub(a); d < 2*time.Second {
		t.Errorf("b started %s after a: it did not wait for a's postStart hook", d)
	}

	e.run(`{apiVersion: v1, kind: Pod, metadata: {name: badpost}, spec: {terminationGracePeriodSeconds: 1, containers: [
 {name: a, image: ` + testImage + `, command: [sleep, "600"], lifecycle: {postStart: {exec: {command: [sh, -c, "echo no way; exit 3"]}}}}]}}`)
	eventually(t, 15*time.Second, func() string {
		if n := e.get("badpost").Status.ContainerStatuses[0].RestartCount; n < 1 {
			return fmt.Sprintf("restartCount %d", n)
		}
		return ""
	})
	if !hasEvent(e.events("badpost"), `FailedPostStartHook: Exec lifecycle hook ([sh -c echo no way; exit 3]) for Container "a" in Pod "badpost_default(`) {
		t.Errorf("no FailedPostStartHook event: %q", e.events("badpost"))
	}
}

// The termination message comes from the file at terminationMessagePath,
// or from the end of the log with FallbackToLogsOnError. stdout and stderr
// are separate pipes, read apart, so the lines of the two streams are only
// ordered when time separates them (as with the kubelet).
func TestTerminationMessage(t *testing.T) {
	e := newEnv(t)
	e.run(`{apiVersion: v1, kind: Pod, metadata: {name: msg}, spec: {restartPolicy: Never, containers: [
 {name: file, image: ` + testImage + `, command: [sh, -c, "printf bye > /dev/termination-log; exit 3"]},
 {name: custom, image: ` + testImage + `, command: [sh, -c, "echo custom > /tmp/msg"], terminationMessagePath: /tmp/msg},
 {name: logs, image: ` + testImage + `, command: [sh, -c, "echo line1; sleep 1; echo it broke >&2; exit 1"], terminationMessagePolicy: FallbackToLogsOnError},
 {name: quiet, image: ` + testImage + `, command: [sh, -c, "echo not a message; exit 0"], terminationMessagePolicy: FallbackToLogsOnError}]}}`)
	p := e.wait("msg", sandbox.PodPhase(corev1.PodFailed))
	want := map[string]string{"file": "bye", "custom": "custom\n", "logs": "line1\nit broke\n", "quiet": ""}
	for _, cs := range p.Status.ContainerStatuses {
		term := cs.State.Terminated
		if term == nil {
			t.Errorf("%s not terminated: %+v", cs.Name, cs.State)
			continue
		}
		if term.Message != want[cs.Name] {
			t.Errorf("%s: message %q, want %q", cs.Name, term.Message, want[cs.Name])
		}
	}
}

// A pod past its activeDeadlineSeconds is stopped and fails with reason
// DeadlineExceeded.
func TestActiveDeadline(t *testing.T) {
	e := newEnv(t)
	e.run(`{apiVersion: v1, kind: Pod, metadata: {name: late}, spec: {activeDeadlineSeconds: 2, terminationGracePeriodSeconds: 1, containers: [
 {name: a, image: ` + testImage + `, command: [sleep, "600"]}]}}`)
	p := e.wait("late", sandbox.PodPhase(corev1.PodFailed))
	if p.Status.Reason != "DeadlineExceeded" || !strings.Contains(p.Status.Message, "longer than the specified deadline") {
		t.Errorf("reason %q message %q", p.Status.Reason, p.Status.Message)
	}
	if st := printers.Row(p, time.Now()).Status; st != "DeadlineExceeded" {
		t.Errorf("STATUS %q", st)
	}
	if !hasEvent(e.events("late"), "DeadlineExceeded: Pod was active on the node longer than the specified deadline") {
		t.Errorf("events %q", e.events("late"))
	}
	if d := time.Since(p.CreationTimestamp.Time); d > 10*time.Second {
		t.Errorf("failed %s after creation", d)
	}
}
