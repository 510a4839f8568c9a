package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// killShimAndKeeper SIGKILLs a pod's keeper and shim (keeper first, so it
// does not start a new shim) and waits until the pod reads Unknown.
func (c *podboxCLI) killShimAndKeeper(name string) {
	c.t.Helper()
	dir := filepath.Join(c.dir, "state", "pods", "default", name)
	data, err := os.ReadFile(filepath.Join(dir, "keeper.pid"))
	if err != nil {
		c.t.Fatal(err)
	}
	keeper, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	var st struct {
		ShimPID int `json:"shimPID"`
	}
	data, err = os.ReadFile(filepath.Join(dir, "status.json"))
	if err != nil || json.Unmarshal(data, &st) != nil || st.ShimPID == 0 {
		c.t.Fatalf("no shim PID in %s: %v", dir, err)
	}
	for _, pid := range []int{keeper, st.ShimPID} {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			c.t.Fatalf("kill %d: %v", pid, err)
		}
	}
	// Wait until both have released their locks (the kernel drops an flock
	// when its holder exits, before anyone reaps it).
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if !flocked(filepath.Join(dir, "shim.lock")) && !flocked(filepath.Join(dir, "keeper.lock")) {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatal("shim or keeper still holds its lock after SIGKILL")
		}
	}
}

// flocked reports whether some process holds an flock on path.
func flocked(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		return true
	}
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return false
}

// A pod whose shim and keeper were killed is taken over by the next podbox
// command that names it: its containers keep running (same container IDs,
// no restart), their logs go on, and `podbox recover` then has nothing to
// do.
func TestCLIShimReplacedByNextCommand(t *testing.T) {
	c := newCLI(t)
	c.importBusybox()
	const pod = `apiVersion: v1
kind: Pod
metadata: {name: tick}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: localhost/busybox:1.36
    command: [sh, -c, 'i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.05; done']
`
	c.ok(pod, "run", "-f", "-")
	c.ok("", "wait", "tick", "--for=condition=Ready", "--timeout", "10s")
	before := c.podJSON("tick")
	c.killShimAndKeeper("tick")

	// The next command (a read) brings up a new shim first and says so.
	out, errs, code := c.run("", "get", "tick")
	if code != 0 || !strings.Contains(errs, "pod/tick: its shim had died; a new one took over") ||
		!regexp.MustCompile(`(?m)^tick\s+1/1\s+Running\s+0\s`).MatchString(out) {
		t.Fatalf("get after the shim died: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	after := c.podJSON("tick")
	if b, a := before.Status.ContainerStatuses[0], after.Status.ContainerStatuses[0]; a.ContainerID != b.ContainerID ||
		a.RestartCount != 0 || a.State.Running == nil {
		t.Errorf("the container was not adopted: before %+v, after %+v", b, a)
	}
	// Its log goes on in the same file.
	n := func() int {
		lines := strings.Split(strings.TrimSpace(c.ok("", "logs", "tick", "--tail", "1")), " ")
		v, _ := strconv.Atoi(lines[len(lines)-1])
		return v
	}
	first := n()
	time.Sleep(500 * time.Millisecond)
	if second := n(); second <= first {
		t.Errorf("the log stopped at tick %d after the take-over", first)
	}
	if out := c.ok("", "recover", "tick"); out != "pod/tick: nothing to recover (its shim runs, or it is finished)\n" {
		t.Errorf("recover of a supervised pod printed %q", out)
	}
	if out := c.ok("", "describe", "tick"); !strings.Contains(out, "ShimRestarted") {
		t.Errorf("describe does not show the take-over:\n%s", out)
	}

	// recover --all does it explicitly, for every pod of the namespace.
	c.killShimAndKeeper("tick")
	if out := c.ok("", "recover", "--all"); out != "pod/default/tick recovered\n" {
		t.Errorf("recover --all printed %q", out)
	}
	if p := c.podJSON("tick"); p.Status.Phase != corev1.PodRunning || p.Status.ContainerStatuses[0].RestartCount != 0 {
		t.Errorf("after recover --all: phase %s, %+v", p.Status.Phase, p.Status.ContainerStatuses[0])
	}
	c.ok("", "delete", "tick")
}

// podJSON is `podbox get NAME -o json`, decoded.
func (c *podboxCLI) podJSON(name string) *corev1.Pod {
	c.t.Helper()
	var p corev1.Pod
	if err := json.Unmarshal([]byte(c.ok("", "get", name, "-o", "json")), &p); err != nil {
		c.t.Fatal(err)
	}
	return &p
}
