package sandbox_test

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podbox/podbox/internal/printers"
	"github.com/podbox/podbox/sandbox"
	corev1 "k8s.io/api/core/v1"
)

// stoppedAt reads the "stopping at NANOS" line a trap printed.
func stoppedAt(t *testing.T, log string) int64 {
	t.Helper()
	m := regexp.MustCompile(`stopping at (\d+)`).FindStringSubmatch(log)
	if m == nil {
		t.Fatalf("no stop line in %q", log)
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	return n
}

// A native sidecar starts before the next init container, runs beside the
// app, counts toward READY, is restarted when it exits (even with exit 0),
// and is stopped after the app.
func TestSidecar(t *testing.T) {
	e := newEnv(t)
	trap := func(name string) string {
		return fmt.Sprintf(`trap 'echo %s stopping at $(date +%%s%%N); sleep 0.3; exit 0' TERM; echo %s up; while true; do sleep 0.1; done`, name, name)
	}
	// The sidecar tails the log the app writes to a shared emptyDir.
	e.run(`{apiVersion: v1, kind: Pod, metadata: {name: side}, spec: {terminationGracePeriodSeconds: 10,
 volumes: [{name: logs, emptyDir: {}}],
 initContainers: [
  {name: proxy, image: ` + testImage + `, restartPolicy: Always, volumeMounts: [{name: logs, mountPath: /logs}],
   command: [sh, -c, "tail -F /logs/app.log 2>/dev/null & ` + trap("proxy") + `"]},
  {name: setup, image: ` + testImage + `, command: [sh, -c, "echo setup done"]}],
 containers: [{name: app, image: ` + testImage + `, volumeMounts: [{name: logs, mountPath: /logs}],
   command: [sh, -c, "while true; do echo app line >> /logs/app.log; sleep 0.2; done & ` + trap("app") + `"]}]}}`)
	p := e.wait("side", sandbox.PodReady)
	if row := printers.Row(p, time.Now()); row.Ready != "2/2" || row.Status != "Running" {
		t.Errorf("READY %s STATUS %s, want 2/2 Running", row.Ready, row.Status)
	}
	init := map[string]corev1.ContainerStatus{}
	for _, cs := range p.Status.InitContainerStatuses {
		init[cs.Name] = cs
	}
	if init["proxy"].State.Running == nil || !init["proxy"].Ready {
		t.Errorf("proxy %+v, want running and ready", init["proxy"])
	}
	if init["setup"].State.Terminated == nil || init["setup"].State.Terminated.ExitCode != 0 {
		t.Errorf("setup %+v, want completed", init["setup"].State)
	}
	if init["proxy"].State.Running.StartedAt.After(init["setup"].State.Terminated.StartedAt.Time) {
		t.Error("setup started before the sidecar")
	}

	eventually(t, 10*time.Second, func() string {
		if l := e.logs("side", "proxy"); !strings.Contains(l, "app line") {
			return fmt.Sprintf("the sidecar did not see the app's log: %q", l)
		}
		return ""
	})

	// Exit 0 or not, a sidecar comes back.
	if _, code := e.exec("side", "proxy", "kill", "1"); code != 0 {
		t.Fatal("kill failed")
	}
	eventually(t, 15*time.Second, func() string {
		p := e.get("side")
		cs := p.Status.InitContainerStatuses[0]
		if cs.RestartCount < 1 || cs.State.Running == nil {
			return fmt.Sprintf("proxy restarts %d, state %+v", cs.RestartCount, cs.State)
		}
		return ""
	})

	if err := e.rt.Stop(context.Background(), "default", "side", sandbox.StopOptions{}); err != nil {
		t.Fatal(err)
	}
	app, proxy := stoppedAt(t, e.logs("side", "app")), stoppedAt(t, e.logs("side", "proxy"))
	if proxy < app {
		t.Errorf("the sidecar got its stop signal %d ms before the app", (app-proxy)/1e6)
	}
}

// A Job-like pod (restartPolicy Never) with a sidecar ends Succeeded once
// its app exits 0; the sidecar is stopped.
func TestSidecarJob(t *testing.T) {
	e := newEnv(t)
	e.run(`{apiVersion: v1, kind: Pod, metadata: {name: job}, spec: {restartPolicy: Never, terminationGracePeriodSeconds: 5,
 initContainers: [{name: logger, image: ` + testImage + `, restartPolicy: Always, command: [sh, -c, "trap 'exit 0' TERM; while true; do sleep 0.1; done"]}],
 containers: [{name: work, image: ` + testImage + `, command: [sh, -c, "sleep 1; echo done"]}]}}`)
	p := e.wait("job", sandbox.PodPhase(corev1.PodSucceeded))
	if cs := p.Status.InitContainerStatuses[0]; cs.State.Terminated == nil {
		t.Errorf("the sidecar still %+v", cs.State)
	}
	if st := printers.Row(p, time.Now()).Status; st != "Completed" {
		t.Errorf("STATUS %q, want Completed", st)
	}
}

// A sidecar with a startup probe holds the next init container back until
// the probe passes.
func TestSidecarStartupProbe(t *testing.T) {
	e := newEnv(t)
	e.run(`{apiVersion: v1, kind: Pod, metadata: {name: slowside}, spec: {terminationGracePeriodSeconds: 1,
 initContainers: [
  {name: proxy, image: ` + testImage + `, restartPolicy: Always, command: [sh, -c, "sleep 3; touch /tmp/up; exec sleep 600"],
   startupProbe: {exec: {command: [test, -e, /tmp/up]}, periodSeconds: 1, failureThreshold: 30}},
  {name: setup, image: ` + testImage + `, command: ["true"]}],
 containers: [{name: app, image: ` + testImage + `, command: [sleep, "600"]}]}}`)
	p := e.wait("slowside", sandbox.PodReady)
	proxy, setup := p.Status.InitContainerStatuses[0], p.Status.InitContainerStatuses[1]
	if proxy.State.Running == nil || setup.State.Terminated == nil {
		t.Fatalf("proxy %+v setup %+v", proxy.State, setup.State)
	}
	if d := setup.State.Terminated.StartedAt.Sub(proxy.State.Running.StartedAt.Time); d < 2*time.Second {
		t.Errorf("setup started %s after the sidecar, before its startup probe passed", d)
	}
}

// A shim killed while an init container runs beside a started sidecar:
// the new shim adopts both, and once the init container is done the app
// starts (the adopted sidecar counts as started).
func TestSidecarShimTakeOver(t *testing.T) {
	e := newEnv(t)
	e.run(`{apiVersion: v1, kind: Pod, metadata: {name: sidetake}, spec: {terminationGracePeriodSeconds: 1,
 initContainers: [
  {name: proxy, image: ` + testImage + `, restartPolicy: Always, command: [sleep, "600"]},
  {name: migrate, image: ` + testImage + `, command: [sleep, "3"]}],
 containers: [{name: app, image: ` + testImage + `, command: [sleep, "600"]}]}}`)
	eventually(t, 10*time.Second, func() string {
		p := e.get("sidetake")
		if len(p.Status.InitContainerStatuses) < 2 || p.Status.InitContainerStatuses[1].State.Running == nil {
			return "migrate not running yet"
		}
		return ""
	})
	old := readShimPID(t, e, "sidetake")
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() string {
		if pid := readShimPID(t, e, "sidetake"); pid == old {
			return "no new shim"
		}
		return ""
	})
	p := e.wait("sidetake", sandbox.PodReady)
	if cs := p.Status.InitContainerStatuses[0]; cs.RestartCount != 0 || cs.State.Running == nil {
		t.Errorf("the sidecar was not adopted: %+v", cs)
	}
	if cs := p.Status.ContainerStatuses[0]; cs.State.Running == nil {
		t.Errorf("app %+v, want running", cs.State)
	}
}
