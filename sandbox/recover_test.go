package sandbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podbox/podbox/internal/printers"
	"github.com/podbox/podbox/sandbox"
	corev1 "k8s.io/api/core/v1"
)

// counterPod prints consecutive numbers as fast as it can (every 10 ms), so
// that a lost line shows as a gap; "stopper" exits 7 once /dev/shm/exit
// exists.
const counterPod = `
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 1
  initContainers:
  - {name: init, image: ` + testImage + `, command: [sh, -c, "echo init ran"]}
  containers:
  - name: counter
    image: ` + testImage + `
    command: [sh, -c, 'i=0; while true; do echo $i; i=$((i+1)); sleep 0.01; done']
  - name: stopper
    image: ` + testImage + `
    command: [sh, -c, 'while [ ! -e /dev/shm/exit ]; do sleep 0.02; done; rm /dev/shm/exit; exit 7']
`

// A killed shim costs the pod nothing: its keeper starts a new one at once,
// which adopts the running containers (same instances, restart counts
// unchanged, no SandboxChanged), loses no line of their output (the keeper
// held the pipes), and still reports the real exit code of a container it
// did not start (the keeper reaped it).
func TestKilledShimIsReplaced(t *testing.T) {
	e := newEnv(t)
	e.run(fmt.Sprintf(counterPod, "phoenix-shim"))
	before := e.wait("phoenix-shim", sandbox.PodReady)
	oldShim := readShimPID(t, e, "phoenix-shim")
	time.Sleep(200 * time.Millisecond)
	if err := syscall.Kill(oldShim, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// Let the counter write while the new shim comes up.
	eventually(t, 5*time.Second, func() string {
		if pid := readShimPID(t, e, "phoenix-shim"); pid == oldShim {
			return "no new shim"
		}
		return ""
	})
	time.Sleep(300 * time.Millisecond)
	p, err := e.rt.Get(context.Background(), "default", "phoenix-shim")
	if err != nil {
		t.Fatal(err)
	}
	if p.Status.Phase != corev1.PodRunning || printers.Row(p, time.Now()).Status != "Running" {
		t.Fatalf("after the shim was replaced: phase %s STATUS %s", p.Status.Phase, printers.Row(p, time.Now()).Status)
	}
	for i, cs := range p.Status.ContainerStatuses {
		old := before.Status.ContainerStatuses[i]
		if cs.ContainerID != old.ContainerID || cs.RestartCount != 0 || cs.State.Running == nil || !cs.Ready {
			t.Errorf("%s was not adopted: %+v (before: %s)", cs.Name, cs, old.ContainerID)
		}
	}
	assertCounterLog(t, e, "phoenix-shim", 20)

	// The adopted stopper exits 7: the keeper reaped it and says so.
	e.exec("phoenix-shim", "counter", "touch", "/dev/shm/exit")
	eventually(t, 5*time.Second, func() string {
		p, _ = e.rt.Get(context.Background(), "default", "phoenix-shim")
		cs := p.Status.ContainerStatuses[1]
		if cs.RestartCount < 1 || cs.LastTerminationState.Terminated == nil {
			return fmt.Sprintf("stopper did not exit and restart: %+v", cs)
		}
		return ""
	})
	last := p.Status.ContainerStatuses[1].LastTerminationState.Terminated
	if last.ExitCode != 7 || last.Reason != "Error" {
		t.Errorf("the adopted container's exit: %+v, want code 7 (Error)", last)
	}
	evs, _ := e.rt.Events(context.Background(), "default", "phoenix-shim")
	var reasons []string
	for _, ev := range evs {
		reasons = append(reasons, ev.Reason)
	}
	if all := strings.Join(reasons, " "); !strings.Contains(all, "ShimRestarted") || strings.Contains(all, "SandboxChanged") ||
		!strings.HasPrefix(all, "Scheduled") {
		t.Errorf("events %s: want the earlier ones kept, ShimRestarted, no SandboxChanged", all)
	}
	if err := e.rt.Delete(context.Background(), "default", "phoenix-shim", sandbox.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	e.assertClean()
}

// When the keeper dies with the shim, the pod reads Unknown until Recover
// (which every CLI command naming the pod calls) starts a new pair. The
// new shim adopts the containers; it cannot learn how one it did not start
// ended (its parent is gone), so that exit is ContainerStatusUnknown with
// no exit code, and the restart policy treats it as a failure.
func TestShimAndKeeperKilled(t *testing.T) {
	e := newEnv(t)
	e.run(fmt.Sprintf(counterPod, "lost-both"))
	before := e.wait("lost-both", sandbox.PodReady)
	killShimAndKeeper(t, e, "lost-both")
	p, err := e.rt.Get(context.Background(), "default", "lost-both")
	if err != nil {
		t.Fatal(err)
	}
	if p.Status.Phase != corev1.PodUnknown {
		t.Fatalf("phase %s with neither shim nor keeper, want Unknown", p.Status.Phase)
	}
	ok, err := e.rt.Recover(context.Background(), "default", "lost-both")
	if err != nil || !ok {
		t.Fatalf("Recover: %v, %v", ok, err)
	}
	if ok, err := e.rt.Recover(context.Background(), "default", "lost-both"); ok || err != nil {
		t.Errorf("a second Recover: %v, %v; want nothing to do", ok, err)
	}
	p, _ = e.rt.Get(context.Background(), "default", "lost-both")
	if p.Status.Phase != corev1.PodRunning {
		t.Fatalf("after Recover: phase %s", p.Status.Phase)
	}
	for i, cs := range p.Status.ContainerStatuses {
		if cs.ContainerID != before.Status.ContainerStatuses[i].ContainerID || cs.RestartCount != 0 || cs.State.Running == nil {
			t.Errorf("%s was not adopted: %+v", cs.Name, cs)
		}
	}
	// The new shim reads the counter's output again (through its /proc
	// entries: no keeper held the pipes).
	n := counterLast(t, e, "lost-both")
	eventually(t, 3*time.Second, func() string {
		if m := counterLast(t, e, "lost-both"); m <= n+5 {
			return fmt.Sprintf("counter log stuck at %d", m)
		}
		return ""
	})

	e.exec("lost-both", "counter", "touch", "/dev/shm/exit")
	eventually(t, 5*time.Second, func() string {
		p, _ = e.rt.Get(context.Background(), "default", "lost-both")
		if cs := p.Status.ContainerStatuses[1]; cs.RestartCount < 1 || cs.LastTerminationState.Terminated == nil {
			return fmt.Sprintf("stopper did not exit and restart: %+v", cs)
		}
		return ""
	})
	last := p.Status.ContainerStatuses[1].LastTerminationState.Terminated
	if last.Reason != "ContainerStatusUnknown" || last.ExitCode != -1 || last.Message == "" {
		t.Errorf("exit of a container nobody could wait for: %+v, want ContainerStatusUnknown, -1", last)
	}
	// Its next instance is the new shim's child: that exit is known.
	e.exec("lost-both", "counter", "touch", "/dev/shm/exit")
	eventually(t, 5*time.Second, func() string {
		p, _ = e.rt.Get(context.Background(), "default", "lost-both")
		if cs := p.Status.ContainerStatuses[1]; cs.RestartCount < 2 {
			return fmt.Sprintf("stopper did not exit again: %+v", cs)
		}
		return ""
	})
	if last := p.Status.ContainerStatuses[1].LastTerminationState.Terminated; last == nil || last.ExitCode != 7 {
		t.Errorf("exit of the new shim's own instance: %+v, want 7", last)
	}
	if err := e.rt.Delete(context.Background(), "default", "lost-both", sandbox.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	e.assertClean()
}

// A shim that keeps dying is started again with a back-off by its keeper,
// and a delete still removes everything, keeper included.
func TestDeleteWhileShimsDie(t *testing.T) {
	e := newEnv(t)
	e.run(fmt.Sprintf(counterPod, "flaky"))
	e.wait("flaky", sandbox.PodReady)
	for i := 0; i < 3; i++ {
		old := readShimPID(t, e, "flaky")
		_ = syscall.Kill(old, syscall.SIGKILL)
		eventually(t, 10*time.Second, func() string {
			if readShimPID(t, e, "flaky") == old {
				return fmt.Sprintf("no new shim after kill %d", i+1)
			}
			return ""
		})
	}
	_ = syscall.Kill(readShimPID(t, e, "flaky"), syscall.SIGKILL)
	zero := int64(0)
	if err := e.rt.Delete(context.Background(), "default", "flaky", sandbox.DeleteOptions{GracePeriod: &zero}); err != nil {
		t.Fatal(err)
	}
	e.assertClean()
}

// killShimAndKeeper SIGKILLs a pod's keeper and shim and waits until its
// shim lock is free.
func killShimAndKeeper(t *testing.T, e *env, name string) {
	t.Helper()
	dir := e.state + "/pods/default/" + name
	data, err := os.ReadFile(dir + "/keeper.pid")
	if err != nil {
		t.Fatal(err)
	}
	keeper, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	shimPID := readShimPID(t, e, name)
	for _, pid := range []int{keeper, shimPID} {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatalf("kill %d: %v", pid, err)
		}
	}
	eventually(t, 5*time.Second, func() string {
		p, _ := e.rt.Get(context.Background(), "default", name)
		if p.Status.Phase != corev1.PodUnknown {
			return "phase " + string(p.Status.Phase)
		}
		return ""
	})
}

// assertCounterLog checks the counter's log holds at least min lines, all
// consecutive numbers from 0.
func assertCounterLog(t *testing.T, e *env, pod string, min int) {
	t.Helper()
	var out strings.Builder
	if err := e.rt.Logs(context.Background(), "default", pod, sandbox.LogOptions{Container: "counter", Tail: -1}, &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) < min {
		t.Fatalf("counter logged %d lines, want at least %d", len(lines), min)
	}
	for i, l := range lines {
		if l != strconv.Itoa(i) {
			t.Fatalf("counter log line %d is %q: lines were lost or mangled", i, l)
		}
	}
}

// counterLast is the last number in the counter's log, -1 if none.
func counterLast(t *testing.T, e *env, pod string) int {
	t.Helper()
	var out strings.Builder
	_ = e.rt.Logs(context.Background(), "default", pod, sandbox.LogOptions{Container: "counter", Tail: 1}, &out)
	n, err := strconv.Atoi(strings.TrimSpace(out.String()))
	if err != nil {
		return -1
	}
	return n
}

// A pod left from an earlier boot (its record names another boot; its
// processes are gone) is not taken over: Recover removes what is left of
// its sandbox and marks it Failed, its containers ContainerStatusUnknown.
func TestRecoverPodFromEarlierBoot(t *testing.T) {
	e := newEnv(t)
	e.run(fmt.Sprintf(counterPod, "old-boot"))
	e.wait("old-boot", sandbox.PodReady)
	killShimAndKeeper(t, e, "old-boot")
	// "Reboot": every process of the pod dies, and the record's boot is
	// no longer this one.
	procs, _ := filepath.Glob("/sys/fs/cgroup/pids" + e.cg + "/*/*/cgroup.procs") // v1
	if len(procs) == 0 {
		procs, _ = filepath.Glob("/sys/fs/cgroup" + e.cg + "/*/*/cgroup.procs") // v2
	}
	if len(procs) == 0 {
		t.Fatalf("no container cgroups under /sys/fs/cgroup/pids%s", e.cg)
	}
	for _, f := range procs {
		data, _ := os.ReadFile(f)
		for _, pid := range strings.Fields(string(data)) {
			n, _ := strconv.Atoi(pid)
			_ = syscall.Kill(n, syscall.SIGKILL)
		}
	}
	recFile := filepath.Join(e.state, "pods", "default", "old-boot", "pod.json")
	data, err := os.ReadFile(recFile)
	if err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	if err := json.Unmarshal(data, &rec); err != nil {
		t.Fatal(err)
	}
	rec["bootID"] = "00000000-0000-0000-0000-000000000000"
	if data, err = json.Marshal(rec); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(recFile, data, 0o600); err != nil {
		t.Fatal(err)
	}

	ok, err := e.rt.Recover(context.Background(), "default", "old-boot")
	if err != nil || ok {
		t.Fatalf("Recover of a pod from an earlier boot: %v, %v; want no shim started and no error", ok, err)
	}
	p, err := e.rt.Get(context.Background(), "default", "old-boot")
	if err != nil {
		t.Fatal(err)
	}
	if p.Status.Phase != corev1.PodFailed {
		t.Errorf("phase %s, want Failed", p.Status.Phase)
	}
	for _, cs := range p.Status.ContainerStatuses {
		if term := cs.State.Terminated; term == nil || term.Reason != "ContainerStatusUnknown" || term.ExitCode != -1 {
			t.Errorf("%s: %+v, want terminated ContainerStatusUnknown -1", cs.Name, cs.State)
		}
	}
	if l := e.sandboxLeaks("old-boot"); len(l) > 0 {
		t.Errorf("left of the old boot's sandbox:\n%s", strings.Join(l, "\n"))
	}
	if err := e.rt.Delete(context.Background(), "default", "old-boot", sandbox.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	e.assertClean()
}

// A stop while the keeper waits out its back-off (the shim died twice in a
// row) still gives the containers their grace period: the keeper is frozen,
// not killed, while they stop, so a container that keeps writing does not
// die of SIGPIPE first; no new shim comes up meanwhile, and nothing is left.
func TestStopDuringKeeperBackOff(t *testing.T) {
	e := newEnv(t)
	e.run(`
apiVersion: v1
kind: Pod
metadata: {name: stubborn}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: talker
    image: ` + testImage + `
    # The writer is a child: PID 1 of the container's namespace would not
    # die of SIGPIPE.
    command: [sh, -c, "trap '' TERM; (while true; do echo talking; sleep 0.01; done); exit 7"]
`)
	e.wait("stubborn", sandbox.PodReady)
	for i := 0; i < 2; i++ {
		old := readShimPID(t, e, "stubborn")
		if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			break
		}
		eventually(t, 5*time.Second, func() string {
			if readShimPID(t, e, "stubborn") == old {
				return "no new shim after the first kill"
			}
			return ""
		})
	}
	// The keeper now waits a second before it starts another shim.
	start := time.Now()
	if err := e.rt.Stop(context.Background(), "default", "stubborn", sandbox.StopOptions{}); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 1800*time.Millisecond {
		t.Errorf("stop without a shim took %v: the container, which ignores SIGTERM, did not get its 2s grace period", took)
	}
	p, err := e.rt.Get(context.Background(), "default", "stubborn")
	if err != nil {
		t.Fatal(err)
	}
	if p.Status.Phase != corev1.PodFailed {
		t.Errorf("phase %s after a stop without a shim, want Failed", p.Status.Phase)
	}
	dir := filepath.Join(e.state, "pods", "default", "stubborn")
	time.Sleep(1500 * time.Millisecond) // past the keeper's back-off
	if out, _ := os.ReadFile(filepath.Join(dir, "shim.log")); strings.Count(string(out), "took over") > 1 {
		t.Errorf("a shim took the stopped pod over:\n%s", out)
	}
	if l := e.sandboxLeaks("stubborn"); len(l) > 0 {
		t.Errorf("left after the stop:\n%s", strings.Join(l, "\n"))
	}
	if err := e.rt.Delete(context.Background(), "default", "stubborn", sandbox.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	e.assertClean()
}

// A pod whose dead shim left no supervisor state (started by a podbox
// without take-over) is not taken over blindly: Recover says why, and a
// delete still removes everything.
func TestRecoverRefusesPodWithoutSupervisorState(t *testing.T) {
	e := newEnv(t)
	e.run(fmt.Sprintf(counterPod, "legacy"))
	e.wait("legacy", sandbox.PodReady)
	killShimAndKeeper(t, e, "legacy")
	statusFile := filepath.Join(e.state, "pods", "default", "legacy", "status.json")
	data, err := os.ReadFile(statusFile)
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatal(err)
	}
	delete(st, "supervisor")
	if data, err = json.Marshal(st); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(statusFile, data, 0o600); err != nil {
		t.Fatal(err)
	}
	ok, err := e.rt.Recover(context.Background(), "default", "legacy")
	if ok || !errors.Is(err, sandbox.ErrCannotRecover) {
		t.Errorf("Recover: %v, %v; want ErrCannotRecover", ok, err)
	}
	zero := int64(0)
	if err := e.rt.Delete(context.Background(), "default", "legacy", sandbox.DeleteOptions{GracePeriod: &zero}); err != nil {
		t.Fatal(err)
	}
	e.assertClean()
}

// A shim that dies while it starts pause leaves a pause that never ran: the
// next shim starts pause again instead of taking the sandbox for dead (no
// SandboxChanged, the containers keep running). Simulated: pause is killed
// while no shim runs and the status says it never started.
func TestRecoverRestartsPauseThatNeverStarted(t *testing.T) {
	// cutShort: the start was cut before libcontainer wrote pause's state.
	for _, cutShort := range []bool{false, true} {
		t.Run(fmt.Sprintf("cutShort=%v", cutShort), func(t *testing.T) { recoverHalfStartedPause(t, cutShort) })
	}
}

func recoverHalfStartedPause(t *testing.T, cutShort bool) {
	e := newEnv(t)
	p := e.run(fmt.Sprintf(counterPod, "half-pause"))
	before := e.wait("half-pause", sandbox.PodReady)
	var pausePID int
	eventually(t, 5*time.Second, func() string {
		for _, f := range []string{
			fmt.Sprintf("/sys/fs/cgroup/pids%s/pod%s/pause/cgroup.procs", e.cg, p.UID),
			fmt.Sprintf("/sys/fs/cgroup%s/pod%s/pause/cgroup.procs", e.cg, p.UID),
		} {
			if b, err := os.ReadFile(f); err == nil {
				pausePID, _ = strconv.Atoi(strings.TrimSpace(string(b)))
			}
		}
		if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pausePID)); pausePID == 0 || strings.TrimSpace(string(comm)) != "pause" {
			return "pause is not running yet"
		}
		return ""
	})
	killShimAndKeeper(t, e, "half-pause")
	if err := syscall.Kill(pausePID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	statusFile := filepath.Join(e.state, "pods", "default", "half-pause", "status.json")
	data, err := os.ReadFile(statusFile)
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatal(err)
	}
	sup, _ := st["supervisor"].(map[string]any)
	if sup == nil || sup["pauseStarted"] != true {
		t.Fatalf("status records no started pause: %v", st["supervisor"])
	}
	delete(sup, "pauseStarted")
	if data, err = json.Marshal(st); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(statusFile, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if cutShort {
		if err := os.Remove(filepath.Join(e.state, "pods", "default", "half-pause", "runc", "pause", "state.json")); err != nil {
			t.Fatal(err)
		}
	}

	if ok, err := e.rt.Recover(context.Background(), "default", "half-pause"); !ok || err != nil {
		t.Fatalf("Recover: %v, %v", ok, err)
	}
	eventually(t, 5*time.Second, func() string {
		data, _ := os.ReadFile(statusFile)
		if !strings.Contains(string(data), `"pauseStarted":true`) {
			return "pause was not started again"
		}
		return ""
	})
	got, _ := e.rt.Get(context.Background(), "default", "half-pause")
	for i, cs := range got.Status.ContainerStatuses {
		if cs.ContainerID != before.Status.ContainerStatuses[i].ContainerID || cs.RestartCount != 0 || cs.State.Running == nil {
			t.Errorf("%s did not keep running: %+v", cs.Name, cs)
		}
	}
	evs, _ := e.rt.Events(context.Background(), "default", "half-pause")
	for _, ev := range evs {
		if ev.Reason == "SandboxChanged" {
			t.Errorf("the sandbox was taken for dead: %+v", ev)
		}
	}
	if t.Failed() {
		log, _ := os.ReadFile(filepath.Join(e.state, "pods", "default", "half-pause", "shim.log"))
		t.Logf("events %+v\nshim log:\n%s", evs, log)
	}
	if err := e.rt.Delete(context.Background(), "default", "half-pause", sandbox.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	e.assertClean()
}
