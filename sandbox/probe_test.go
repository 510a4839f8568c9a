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

// events returns "Reason: message" for each of the pod's events.
func (e *env) events(name string) []string {
	e.t.Helper()
	evs, err := e.rt.Events(context.Background(), "default", name)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Reason+": "+ev.Message)
	}
	return out
}

func hasEvent(evs []string, prefix string) bool {
	for _, e := range evs {
		if strings.HasPrefix(e, prefix) {
			return true
		}
	}
	return false
}

func (e *env) get(name string) *corev1.Pod {
	e.t.Helper()
	p, err := e.rt.Get(context.Background(), "default", name)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// The kubernetes.io liveness-exec example on a shorter clock: once the file
// is gone the probe fails, the container is killed and restarted.
func TestLivenessExec(t *testing.T) {
	e := newEnv(t)
	e.run(`{apiVersion: v1, kind: Pod, metadata: {name: live}, spec: {terminationGracePeriodSeconds: 1, containers: [{name: a, image: ` + testImage + `,
  command: [sh, -c, "touch /tmp/healthy; sleep 2; rm -f /tmp/healthy; sleep 600"],
  livenessProbe: {exec: {command: [cat, /tmp/healthy]}, periodSeconds: 1, failureThreshold: 2}}]}}`)
	start := time.Now()
	eventually(t, 20*time.Second, func() string {
		if n := e.get("live").Status.ContainerStatuses[0].RestartCount; n < 1 {
			return fmt.Sprintf("restartCount %d", n)
		}
		return ""
	})
	if took := time.Since(start); took < 2*time.Second {
		t.Errorf("restarted after %s, before the file was removed", took)
	}
	evs := e.events("live")
	if !hasEvent(evs, "Unhealthy: Liveness probe failed: cat: can't open '/tmp/healthy'") {
		t.Errorf("no Unhealthy event with cat's message: %q", evs)
	}
	if !hasEvent(evs, "Killing: Container a failed liveness probe, will be restarted") {
		t.Errorf("no Killing event: %q", evs)
	}
	cs := e.get("live").Status.ContainerStatuses[0]
	if last := cs.LastTerminationState.Terminated; last == nil || last.ExitCode != 137 && last.ExitCode != 143 {
		t.Errorf("last state %+v, want killed", cs.LastTerminationState)
	}
}

// An httpGet readiness probe, run by the shim from the pod's network
// namespace, against busybox httpd in a container whose PATH has no curl
// or wget: READY follows the file, without restarts.
func TestReadinessHTTP(t *testing.T) {
	e := newEnv(t)
	e.run(`{apiVersion: v1, kind: Pod, metadata: {name: web}, spec: {containers: [{name: a, image: ` + testImage + `,
  env: [{name: PATH, value: /nowhere}],
  command: [/bin/busybox, sh, -c, "/bin/busybox mkdir -p /www; exec /bin/busybox httpd -f -p 8080 -h /www"],
  ports: [{name: web, containerPort: 8080}],
  readinessProbe: {httpGet: {path: /ready.html, port: web, httpHeaders: [{name: X-Probe, value: podbox}]}, periodSeconds: 1}}]}}`)
	ready := func(want bool) {
		t.Helper()
		eventually(t, 10*time.Second, func() string {
			p := e.get("web")
			cs := p.Status.ContainerStatuses[0]
			row := printers.Row(p, time.Now())
			wantReady := map[bool]string{true: "1/1", false: "0/1"}[want]
			if cs.Ready != want || row.Ready != wantReady {
				return fmt.Sprintf("ready %v (%s), want %v", cs.Ready, row.Ready, want)
			}
			if cond := condition(p, corev1.PodReady); cond != map[bool]corev1.ConditionStatus{true: corev1.ConditionTrue, false: corev1.ConditionFalse}[want] {
				return fmt.Sprintf("Ready condition %s", cond)
			}
			return ""
		})
	}
	ready(false)
	if p := e.get("web"); printers.Row(p, time.Now()).Status != "Running" {
		t.Errorf("STATUS %q while not ready", printers.Row(p, time.Now()).Status)
	}
	eventually(t, 10*time.Second, func() string {
		if !hasEvent(e.events("web"), "Unhealthy: Readiness probe failed: HTTP probe failed with statuscode: 404") {
			return fmt.Sprintf("no Unhealthy event for the 404: %q", e.events("web"))
		}
		return ""
	})
	if _, code := e.exec("web", "a", "/bin/busybox", "sh", "-c", "echo ok > /www/ready.html"); code != 0 {
		t.Fatal("exec failed")
	}
	ready(true)
	// Ready is what `wait --for=condition=Ready` waits for.
	e.wait("web", sandbox.PodReady)
	if _, code := e.exec("web", "a", "/bin/busybox", "rm", "/www/ready.html"); code != 0 {
		t.Fatal("exec failed")
	}
	ready(false)
	if n := e.get("web").Status.ContainerStatuses[0].RestartCount; n != 0 {
		t.Errorf("restartCount %d: readiness must not restart", n)
	}
}

func condition(p *corev1.Pod, t corev1.PodConditionType) corev1.ConditionStatus {
	for _, c := range p.Status.Conditions {
		if c.Type == t {
			return c.Status
		}
	}
	return ""
}

// tcpSocket and grpc probes: the test image's grpchealth serves the health
// protocol, NOT_SERVING while /tmp/unhealthy exists.
func TestTCPAndGRPCProbes(t *testing.T) {
	e := newEnv(t)
	e.run(`{apiVersion: v1, kind: Pod, metadata: {name: rpc}, spec: {containers: [
 {name: g, image: ` + testImage + `, command: [grpchealth, "9090"],
  readinessProbe: {grpc: {port: 9090}, periodSeconds: 1}},
 {name: t, image: ` + testImage + `, command: [sh, -c, "sleep 2; mkdir -p /www; exec httpd -f -p 7070 -h /www"],
  readinessProbe: {tcpSocket: {port: 7070}, periodSeconds: 1}}]}}`)
	readyOf := func(p *corev1.Pod, name string) bool {
		for _, cs := range p.Status.ContainerStatuses {
			if cs.Name == name {
				return cs.Ready
			}
		}
		return false
	}
	eventually(t, 15*time.Second, func() string {
		p := e.get("rpc")
		if !readyOf(p, "g") || !readyOf(p, "t") {
			return fmt.Sprintf("g ready %v, t ready %v", readyOf(p, "g"), readyOf(p, "t"))
		}
		return ""
	})
	if !hasEvent(e.events("rpc"), "Unhealthy: Readiness probe failed: dial tcp") {
		t.Errorf("the tcp probe did not fail before nc listened: %q", e.events("rpc"))
	}
	if _, code := e.exec("rpc", "g", "touch", "/tmp/unhealthy"); code != 0 {
		t.Fatal("exec failed")
	}
	eventually(t, 10*time.Second, func() string {
		if readyOf(e.get("rpc"), "g") {
			return "g still ready while NOT_SERVING"
		}
		return ""
	})
	if !hasEvent(e.events("rpc"), `Unhealthy: Readiness probe failed: service unhealthy (responded with "NOT_SERVING")`) {
		t.Errorf("no NOT_SERVING event: %q", e.events("rpc"))
	}
}

// A startup probe that passes only after a few seconds holds the liveness
// probe (which would fail at once) off until then; a startup probe that
// never passes gets the container restarted.
func TestStartupProbeGatesLiveness(t *testing.T) {
	e := newEnv(t)
	e.run(`{apiVersion: v1, kind: Pod, metadata: {name: slow}, spec: {terminationGracePeriodSeconds: 1, containers: [{name: a, image: ` + testImage + `,
  command: [sh, -c, "sleep 3; touch /tmp/started; sleep 600"],
  startupProbe: {exec: {command: [test, -e, /tmp/started]}, periodSeconds: 1, failureThreshold: 30},
  livenessProbe: {exec: {command: [test, -e, /tmp/started]}, periodSeconds: 1, failureThreshold: 1}}]}}`)
	p := e.get("slow")
	if cs := p.Status.ContainerStatuses[0]; cs.Started == nil || *cs.Started || cs.Ready {
		t.Errorf("started %v ready %v before the startup probe passed", cs.Started, cs.Ready)
	}
	eventually(t, 15*time.Second, func() string {
		cs := e.get("slow").Status.ContainerStatuses[0]
		if cs.Started == nil || !*cs.Started || !cs.Ready {
			return "not started yet"
		}
		return ""
	})
	time.Sleep(1500 * time.Millisecond)
	cs := e.get("slow").Status.ContainerStatuses[0]
	if cs.RestartCount != 0 {
		t.Errorf("restartCount %d: liveness ran before the startup probe passed", cs.RestartCount)
	}
	for _, ev := range e.events("slow") {
		if strings.HasPrefix(ev, "Unhealthy: Liveness") {
			t.Errorf("liveness probed during start-up: %s", ev)
		}
	}

	e.run(`{apiVersion: v1, kind: Pod, metadata: {name: never}, spec: {terminationGracePeriodSeconds: 1, containers: [{name: a, image: ` + testImage + `,
  command: [sleep, "600"],
  startupProbe: {exec: {command: ["false"]}, periodSeconds: 1, failureThreshold: 2}}]}}`)
	eventually(t, 15*time.Second, func() string {
		if n := e.get("never").Status.ContainerStatuses[0].RestartCount; n < 1 {
			return fmt.Sprintf("restartCount %d", n)
		}
		return ""
	})
	if !hasEvent(e.events("never"), "Killing: Container a failed startup probe, will be restarted") {
		t.Errorf("no Killing event: %q", e.events("never"))
	}
}

// An exec probe that outlives its timeout fails (and is killed).
func TestExecProbeTimeout(t *testing.T) {
	e := newEnv(t)
	e.run(`{apiVersion: v1, kind: Pod, metadata: {name: slowprobe}, spec: {containers: [{name: a, image: ` + testImage + `,
  command: [sleep, "600"],
  readinessProbe: {exec: {command: [sleep, "30"]}, periodSeconds: 1, timeoutSeconds: 1}}]}}`)
	eventually(t, 10*time.Second, func() string {
		if !hasEvent(e.events("slowprobe"), `Unhealthy: Readiness probe failed: command "sleep 30" timed out`) {
			return fmt.Sprintf("no timeout event: %q", e.events("slowprobe"))
		}
		return ""
	})
	out, _ := e.exec("slowprobe", "a", "ps", "-o", "args")
	if strings.Count(out, "sleep 30") > 1 {
		t.Errorf("timed-out probes still run:\n%s", out)
	}
}
