package sandbox_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/podbox/podbox/cgroups"
	"github.com/podbox/podbox/sandbox"
	corev1 "k8s.io/api/core/v1"
)

// cgroupValue reads a cgroup file of the pod cgroup (ctr "") or of a
// container's first instance: the v1 file in controller ctl, or the v2
// file.
func (e *env) cgroupValue(pod *corev1.Pod, ctr, ctl, v1, v2 string) string {
	e.t.Helper()
	p := cgroups.PodPath(e.cg, string(pod.UID))
	if ctr != "" {
		p = filepath.Join(p, ctr+".0")
	}
	file := filepath.Join("/sys/fs/cgroup", ctl, p, v1)
	if cgroups.V2() {
		file = filepath.Join("/sys/fs/cgroup", p, v2)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		e.t.Fatalf("read cgroup file: %v", err)
	}
	return strings.TrimSpace(string(b))
}

// checkCPU checks a cgroup's CPU settings: shares (v2: the weight they
// convert to) and quota (-1 for none) with the 100 ms period.
func (e *env) checkCPU(pod *corev1.Pod, ctr string, shares uint64, quota int64) {
	e.t.Helper()
	what := pod.Name + "/" + ctr
	if cgroups.V2() {
		if got, want := e.cgroupValue(pod, ctr, "", "", "cpu.weight"), strconv.FormatUint(cgroups.SharesToWeight(shares), 10); got != want {
			e.t.Errorf("%s: cpu.weight = %s, want %s", what, got, want)
		}
		want := "max 100000"
		if quota > 0 {
			want = strconv.FormatInt(quota, 10) + " 100000"
		}
		if got := e.cgroupValue(pod, ctr, "", "", "cpu.max"); got != want {
			e.t.Errorf("%s: cpu.max = %s, want %s", what, got, want)
		}
		return
	}
	if got := e.cgroupValue(pod, ctr, "cpu", "cpu.shares", ""); got != strconv.FormatUint(shares, 10) {
		e.t.Errorf("%s: cpu.shares = %s, want %d", what, got, shares)
	}
	if got := e.cgroupValue(pod, ctr, "cpu", "cpu.cfs_quota_us", ""); got != strconv.FormatInt(quota, 10) {
		e.t.Errorf("%s: cpu.cfs_quota_us = %s, want %d", what, got, quota)
	}
	if quota > 0 {
		if got := e.cgroupValue(pod, ctr, "cpu", "cpu.cfs_period_us", ""); got != "100000" {
			e.t.Errorf("%s: cpu.cfs_period_us = %s, want 100000", what, got)
		}
	}
}

// checkMemory checks a cgroup's memory limit (0: none).
func (e *env) checkMemory(pod *corev1.Pod, ctr string, limit int64) {
	e.t.Helper()
	got := e.cgroupValue(pod, ctr, "memory", "memory.limit_in_bytes", "memory.max")
	if limit == 0 {
		if got != "max" && got != "9223372036854771712" {
			e.t.Errorf("%s/%s: memory limit = %s, want none", pod.Name, ctr, got)
		}
		return
	}
	if got != strconv.FormatInt(limit, 10) {
		e.t.Errorf("%s/%s: memory limit = %s, want %d", pod.Name, ctr, got, limit)
	}
}

// A container over its memory limit is OOM-killed: reason OOMKilled, exit
// code 137, and restarted per the pod's policy (with back-off).
func TestOOMKilledRestarts(t *testing.T) {
	e := newEnv(t)
	p := e.run(`
apiVersion: v1
kind: Pod
metadata: {name: hog}
spec:
  containers:
  - name: hog
    image: ` + testImage + `
    command: [tail, /dev/zero]
    resources: {limits: {memory: 32Mi}}
`)
	e.checkMemory(p, "", 32<<20)
	e.checkMemory(p, "hog", 32<<20)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p, err := e.rt.Wait(ctx, "default", "hog", func(p *corev1.Pod) (bool, error) {
		cs := p.Status.ContainerStatuses
		return len(cs) == 1 && cs[0].RestartCount >= 2, nil
	})
	if err != nil {
		t.Fatalf("wait for two restarts: %v (status %+v)", err, p.Status)
	}
	cs := p.Status.ContainerStatuses[0]
	last := cs.LastTerminationState.Terminated
	if last == nil || last.Reason != "OOMKilled" || last.ExitCode != 137 || last.Signal != 9 {
		t.Errorf("last state %+v, want terminated OOMKilled, exit code 137 (SIGKILL)", cs.LastTerminationState)
	}
	if p.Status.QOSClass != corev1.PodQOSBurstable { // a memory limit only: not Guaranteed
		t.Errorf("qosClass %s, want Burstable", p.Status.QOSClass)
	}
	if p.Status.Phase != corev1.PodRunning {
		t.Errorf("phase %s, want Running (restartPolicy Always)", p.Status.Phase)
	}
}

// A child of the main process OOM-killed: the container is OOMKilled too
// (as containerd and CRI-O report it). On v1 only the child dies and the
// main process exits its own way; on v2 memory.oom.group kills it as well.
func TestOOMKilledChild(t *testing.T) {
	e := newEnv(t)
	e.run(`
apiVersion: v1
kind: Pod
metadata: {name: child}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: ` + testImage + `
    command: [sh, -c, "tail /dev/zero; echo survived; exit 3"]
    resources: {limits: {memory: 32Mi}}
`)
	p := e.wait("child", sandbox.PodFinished)
	if p.Status.Phase != corev1.PodFailed {
		t.Errorf("phase %s, want Failed", p.Status.Phase)
	}
	term := p.Status.ContainerStatuses[0].State.Terminated
	wantCode := int32(3)
	if cgroups.V2() {
		wantCode = 137
	}
	if term == nil || term.Reason != "OOMKilled" || term.ExitCode != wantCode {
		t.Fatalf("state %+v, want terminated OOMKilled with exit code %d", p.Status.ContainerStatuses[0].State, wantCode)
	}
	if !cgroups.V2() {
		var buf bytes.Buffer
		if err := e.rt.Logs(context.Background(), "default", "child", sandbox.LogOptions{Tail: -1}, &buf); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), "survived") {
			t.Errorf("log %q: the main process did not go on after its child was killed", buf.String())
		}
	}
}

// CPU and memory requests and limits show in the containers' and the pod's
// cgroups as the kubelet sets them, with the QoS class in the status.
func TestResourcesCgroups(t *testing.T) {
	e := newEnv(t, func(o *sandbox.Options) { o.PodPidsLimit = 100 })
	burst := e.run(`
apiVersion: v1
kind: Pod
metadata: {name: burst}
spec:
  containers:
  - name: a
    image: ` + testImage + `
    command: [sleep, "1000"]
    resources: {requests: {cpu: 100m}, limits: {cpu: 250m, memory: 64Mi}}
  - name: b
    image: ` + testImage + `
    command: [sleep, "1000"]
`)
	e.run(`
apiVersion: v1
kind: Pod
metadata: {name: gold}
spec:
  initContainers:
  - name: init
    image: ` + testImage + `
    command: ["true"]
    resources: {limits: {cpu: "1", memory: 48Mi}}
  containers:
  - name: x
    image: ` + testImage + `
    command: [sleep, "1000"]
    resources: {limits: {cpu: 500m, memory: 32Mi}}
  - name: "y"
    image: ` + testImage + `
    command: [sleep, "1000"]
    resources: {limits: {cpu: 250m, memory: 8Mi}}
`)
	free := e.run(`{apiVersion: v1, kind: Pod, metadata: {name: free}, spec: {containers: [{name: c, image: ` + testImage + `, command: [sleep, "1000"]}]}}`)
	gold := e.wait("gold", sandbox.PodReady)

	for _, tt := range []struct {
		pod  *corev1.Pod
		want corev1.PodQOSClass
	}{{burst, corev1.PodQOSBurstable}, {gold, corev1.PodQOSGuaranteed}, {free, corev1.PodQOSBestEffort}} {
		if tt.pod.Status.QOSClass != tt.want {
			t.Errorf("%s: qosClass %s, want %s", tt.pod.Name, tt.pod.Status.QOSClass, tt.want)
		}
	}
	// Containers: shares from the request (2 without), quota from the limit.
	e.checkCPU(burst, "a", 102, 25000)
	e.checkMemory(burst, "a", 64<<20)
	e.checkCPU(burst, "b", 2, -1)
	e.checkMemory(burst, "b", 0)
	e.checkCPU(gold, "x", 512, 50000)
	e.checkMemory(gold, "x", 32<<20)
	e.checkCPU(free, "c", 2, -1)
	// Pods: the sum of the app containers (or the largest init container),
	// a quota or memory limit only when every container has one.
	e.checkCPU(burst, "", 102, -1)
	e.checkMemory(burst, "", 0)
	e.checkCPU(gold, "", 1024, 100000)
	e.checkMemory(gold, "", 48<<20)
	e.checkCPU(free, "", 2, -1)
	e.checkMemory(free, "", 0)
	for _, p := range []*corev1.Pod{burst, gold, free} {
		if got := e.cgroupValue(p, "", "pids", "pids.max", "pids.max"); got != "100" {
			t.Errorf("%s: pids.max = %s, want 100 (Options.PodPidsLimit)", p.Name, got)
		}
	}
	// The kubelet's oom_score_adj: 1000 for BestEffort, 999 for a
	// Burstable container without a memory request; Guaranteed pods would
	// get -997, which nobody here may set: they keep the shim's.
	for _, tt := range []struct{ pod, ctr, want string }{{"free", "c", "1000"}, {"burst", "b", "999"}} {
		out, code := e.exec(tt.pod, tt.ctr, "cat", "/proc/1/oom_score_adj")
		if code != 0 || strings.TrimSpace(out) != tt.want {
			t.Errorf("%s/%s: oom_score_adj %q (exit %d), want %s", tt.pod, tt.ctr, out, code, tt.want)
		}
	}
}

// Top reports each pod's and container's CPU rate and memory; a CPU limit
// holds a busy loop to it.
func TestTop(t *testing.T) {
	e := newEnv(t)
	e.run(`
apiVersion: v1
kind: Pod
metadata: {name: busy}
spec:
  containers:
  - name: spin
    image: ` + testImage + `
    command: [sh, -c, "while :; do :; done"]
    resources: {limits: {cpu: 200m}}
  - name: idle
    image: ` + testImage + `
    command: [sleep, "1000"]
`)
	e.run(`{apiVersion: v1, kind: Pod, metadata: {name: calm}, spec: {terminationGracePeriodSeconds: 0, containers: [{name: c, image: ` + testImage + `, command: [sleep, "1000"]}]}}`)
	ctx := context.Background()
	usage, err := e.rt.Top(ctx, "default", nil, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(usage) != 2 || usage[0].Name != "busy" || usage[1].Name != "calm" {
		t.Fatalf("Top = %+v, want busy and calm", usage)
	}
	busy := usage[0]
	t.Logf("busy: %dm %d bytes; containers %+v", busy.MilliCPU, busy.Memory, busy.Containers)
	if len(busy.Containers) != 2 || busy.Containers[0].Name != "spin" || busy.Containers[1].Name != "idle" {
		t.Fatalf("containers %+v, want spin and idle", busy.Containers)
	}
	spin, idle := busy.Containers[0], busy.Containers[1]
	// At most its limit (the quota holds it); less on a busy host.
	if spin.MilliCPU <= 0 || spin.MilliCPU > 260 {
		t.Errorf("spin uses %dm, want up to its 200m limit", spin.MilliCPU)
	}
	if idle.MilliCPU > 50 || busy.MilliCPU < spin.MilliCPU {
		t.Errorf("idle uses %dm, pod %dm (spin %dm)", idle.MilliCPU, busy.MilliCPU, spin.MilliCPU)
	}
	if busy.Memory <= 0 || spin.Memory <= 0 || spin.CPUTime <= 0 || busy.Pids < 3 {
		t.Errorf("busy: memory %d, spin memory %d, spin CPU time %s, pids %d: want positive numbers",
			busy.Memory, spin.Memory, spin.CPUTime, busy.Pids)
	}
	if _, err := e.rt.Top(ctx, "default", []string{"nosuch"}, time.Millisecond); err == nil {
		t.Error("Top of a missing pod: no error")
	}
	if err := e.rt.Stop(ctx, "default", "calm", sandbox.StopOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.rt.Top(ctx, "default", []string{"calm"}, time.Millisecond); err == nil || !strings.Contains(err.Error(), "not running") {
		t.Errorf("Top of a stopped pod: %v, want a not-running error", err)
	}
}
