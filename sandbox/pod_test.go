package sandbox_test

import (
	"context"
	"fmt"
	"os"
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

// Two containers of one pod share its hostname, IPC (System V and POSIX
// shared memory) and network namespaces, and none of them is the host's.
func TestContainersShareNamespaces(t *testing.T) {
	e := newEnv(t)
	e.run(`
apiVersion: v1
kind: Pod
metadata: {name: shared}
spec:
  containers:
  - name: a
    image: ` + testImage + `
    command: ["sh", "-c", "mkdir -p /www && echo hello-from-a > /www/index.html && ipctool create 4242 sysv-from-a && echo posix-from-a > /dev/shm/fromA && exec httpd -f -p 127.0.0.1:8080 -h /www"]
  - name: b
    image: ` + testImage + `
    command: ["sleep", "1000"]
`)
	e.wait("shared", sandbox.PodReady)

	for _, ctr := range []string{"a", "b"} {
		if out, _ := e.exec("shared", ctr, "hostname"); strings.TrimSpace(out) != "shared" {
			t.Errorf("hostname in %s = %q, want the pod name", ctr, out)
		}
	}
	for _, ns := range []string{"ipc", "net", "uts"} {
		a, _ := e.exec("shared", "a", "readlink", "/proc/self/ns/"+ns)
		b, _ := e.exec("shared", "b", "readlink", "/proc/self/ns/"+ns)
		host, _ := os.Readlink("/proc/self/ns/" + ns)
		if a != b || strings.TrimSpace(a) == host || a == "" {
			t.Errorf("%s namespace: a=%q b=%q host=%q: want a == b != host", ns, a, b, host)
		}
	}
	eventually(t, 5*time.Second, func() string {
		out, code := e.exec("shared", "b", "ipctool", "read", "4242")
		if code != 0 || strings.TrimSpace(out) != "sysv-from-a" {
			return fmt.Sprintf("System V segment from a, read in b: %q (exit %d)", out, code)
		}
		return ""
	})
	if out, _ := e.exec("shared", "b", "cat", "/dev/shm/fromA"); strings.TrimSpace(out) != "posix-from-a" {
		t.Errorf("/dev/shm/fromA in b = %q", out)
	}
	eventually(t, 5*time.Second, func() string {
		out, code := e.exec("shared", "b", "wget", "-q", "-O", "-", "http://127.0.0.1:8080/index.html")
		if code != 0 || strings.TrimSpace(out) != "hello-from-a" {
			return fmt.Sprintf("b fetching a's httpd on 127.0.0.1:8080: %q (exit %d)", out, code)
		}
		return ""
	})
	// The pod's network: loopback and the CNI interface, whose address
	// /etc/hosts gives the pod's hostname.
	if out, _ := e.exec("shared", "b", "cat", "/proc/net/dev"); strings.Count(out, ":") != 2 || !strings.Contains(out, "lo:") || !strings.Contains(out, "eth0:") {
		t.Errorf("interfaces in the pod: %q, want lo and eth0", out)
	}
	ip := e.podIP("shared")
	if out, code := e.exec("shared", "b", "cat", "/etc/hosts"); code != 0 || !regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(ip)+`\tshared$`).MatchString(out) {
		t.Errorf("/etc/hosts does not map the pod hostname to %s: %q", ip, out)
	}
}

// With shareProcessNamespace, pause is PID 1 of every container and reaps
// the orphans they leave.
func TestShareProcessNamespaceReapsOrphans(t *testing.T) {
	e := newEnv(t)
	e.run(`
apiVersion: v1
kind: Pod
metadata: {name: reaper}
spec:
  shareProcessNamespace: true
  containers:
  - name: orphans
    image: ` + testImage + `
    command: ["sh", "-c", "for i in $(seq 200); do (sleep 6 &); done; echo made; exec sleep 1000"]
  - name: other
    image: ` + testImage + `
    command: ["sleep", "1001"]
`)
	e.wait("reaper", sandbox.PodReady)
	out, _ := e.exec("reaper", "other", "ps", "-o", "pid,ppid,comm")
	if !regexp.MustCompile(`(?m)^\s*1\s+0\s+pause$`).MatchString(out) {
		t.Fatalf("pause is not PID 1 in the shared namespace:\n%s", out)
	}
	if !strings.Contains(out, "sleep") {
		t.Errorf("other container's processes not visible:\n%s", out)
	}
	// The 200 orphans were reparented to pause (they live 6 s: time
	// enough to count them on a loaded machine)...
	eventually(t, 5*time.Second, func() string {
		out, _ := e.exec("reaper", "other", "ps", "-o", "ppid,comm")
		n := len(regexp.MustCompile(`(?m)^\s*1\s+sleep$`).FindAllString(out, -1))
		if n < 200 {
			return fmt.Sprintf("%d orphaned sleeps under pause, want 200", n)
		}
		return ""
	})
	// ... and once they exit, none is left as a zombie within a second.
	time.Sleep(6 * time.Second)
	eventually(t, 3*time.Second, func() string {
		out, _ := e.exec("reaper", "other", "ps", "-o", "stat,comm")
		if z := regexp.MustCompile(`(?m)^Z`).FindAllString(out, -1); len(z) > 0 {
			return fmt.Sprintf("%d zombies left:\n%s", len(z), out)
		}
		if n := strings.Count(out, "sleep\n"); n != 2 {
			return fmt.Sprintf("want only the two containers' sleeps, got %d:\n%s", n, out)
		}
		return ""
	})
}

// By default each container is PID 1 of a PID namespace of its own.
func TestPrivatePIDNamespaces(t *testing.T) {
	e := newEnv(t)
	e.run(`
apiVersion: v1
kind: Pod
metadata: {name: private}
spec:
  containers:
  - name: a
    image: ` + testImage + `
    command: ["sh", "-c", "echo pid=$$$$; exec sleep 1000"]
  - name: b
    image: ` + testImage + `
    command: ["sh", "-c", "echo pid=$$$$; exec sleep 1001"]
`)
	e.wait("private", sandbox.PodReady)
	for _, ctr := range []string{"a", "b"} {
		eventually(t, 5*time.Second, func() string {
			var b strings.Builder
			if err := e.rt.Logs(context.Background(), "default", "private", sandbox.LogOptions{Container: ctr, Tail: -1}, &b); err != nil {
				return err.Error()
			}
			if b.String() != "pid=1\n" {
				return fmt.Sprintf("%s log %q, want pid=1", ctr, b.String())
			}
			return ""
		})
		out, _ := e.exec("private", ctr, "ps", "-o", "pid,comm")
		if strings.Contains(out, "pause") || strings.Count(out, "sleep") != 1 {
			t.Errorf("container %s sees other processes:\n%s", ctr, out)
		}
	}
}

// Exit codes are recorded with the container's termination reason, and the
// logs hold exactly what the container printed, in CRI format on disk.
func TestExitCodesAndLogs(t *testing.T) {
	e := newEnv(t)
	e.run(`
apiVersion: v1
kind: Pod
metadata: {name: exits}
spec:
  restartPolicy: Never
  containers:
  - name: three
    image: ` + testImage + `
    command: ["sh", "-c", "printf 'line one\\nline two\\n'; printf 'no newline'; exit 3"]
  - name: zero
    image: ` + testImage + `
    command: ["sh", "-c", "echo to-stderr >&2; exit 0"]
`)
	p := e.wait("exits", sandbox.PodFinished)
	if p.Status.Phase != corev1.PodFailed {
		t.Errorf("phase %s, want Failed (restartPolicy Never, one container failed)", p.Status.Phase)
	}
	want := map[string][2]any{"three": {int32(3), "Error"}, "zero": {int32(0), "Completed"}}
	for _, cs := range p.Status.ContainerStatuses {
		term := cs.State.Terminated
		if term == nil {
			t.Errorf("%s: not terminated: %+v", cs.Name, cs.State)
			continue
		}
		if w := want[cs.Name]; term.ExitCode != w[0] || term.Reason != w[1] {
			t.Errorf("%s: exit %d reason %q, want %v", cs.Name, term.ExitCode, term.Reason, w)
		}
		if term.StartedAt.IsZero() || term.FinishedAt.Before(&term.StartedAt) {
			t.Errorf("%s: bad start/finish times %v %v", cs.Name, term.StartedAt, term.FinishedAt)
		}
	}
	if st := printers.Row(p, time.Now()).Status; st != "Error" {
		t.Errorf("STATUS %q, want Error", st)
	}
	var out strings.Builder
	if err := e.rt.Logs(context.Background(), "default", "exits", sandbox.LogOptions{Container: "three", Tail: -1}, &out); err != nil {
		t.Fatal(err)
	}
	if out.String() != "line one\nline two\nno newline" {
		t.Errorf("logs = %q", out.String())
	}
	// On disk: the kubelet's layout and CRI lines.
	path := fmt.Sprintf("%s/log/default_exits_%s/three/0.log", e.dir, p.UID)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cri := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z stdout [PF] (line one|line two|no newline)$`)
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("CRI log has %d lines:\n%s", len(lines), raw)
	}
	for _, l := range lines {
		if !cri.MatchString(l) {
			t.Errorf("not a CRI log line: %q", l)
		}
	}
	raw, _ = os.ReadFile(fmt.Sprintf("%s/log/default_exits_%s/zero/0.log", e.dir, p.UID))
	if !regexp.MustCompile(`^\S+ stderr F to-stderr\n$`).Match(raw) {
		t.Errorf("stderr log = %q", raw)
	}
}

func readShimPID(t *testing.T, e *env, name string) int {
	t.Helper()
	data, err := os.ReadFile(e.state + "/pods/default/" + name + "/status.json")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`"shimPID":(\d+)`).FindSubmatch(data)
	if m == nil {
		t.Fatalf("no shim PID in status: %s", data)
	}
	pid, _ := strconv.Atoi(string(m[1]))
	return pid
}

// Seed scenario 5: kill -9 of pause. The sandbox is re-created as the
// kubelet does it: SandboxChanged, every container killed, new namespaces,
// the init container runs again (its log shows a second run), the app
// container comes back, restart counts go up.
func TestKilledPauseRecreatesSandbox(t *testing.T) {
	e := newEnv(t)
	p := e.run(`
apiVersion: v1
kind: Pod
metadata: {name: phoenix}
spec:
  terminationGracePeriodSeconds: 1
  initContainers:
  - {name: setup, image: ` + testImage + `, command: [sh, -c, "echo setup ran"]}
  containers:
  - {name: app, image: ` + testImage + `, command: [sleep, "1000"]}
`)
	ipBefore := e.podIP("phoenix")
	netBefore, _ := e.exec("phoenix", "app", "readlink", "/proc/self/ns/net")
	var pid int
	eventually(t, 5*time.Second, func() string {
		for _, procs := range []string{
			fmt.Sprintf("/sys/fs/cgroup/pids%s/pod%s/pause/cgroup.procs", e.cg, p.UID),
			fmt.Sprintf("/sys/fs/cgroup%s/pod%s/pause/cgroup.procs", e.cg, p.UID),
		} {
			if b, err := os.ReadFile(procs); err == nil {
				pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
			}
		}
		if pid == 0 {
			return "pause is not in the pod's cgroup"
		}
		// Not libcontainer's init still setting pause up: pause itself.
		if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); strings.TrimSpace(string(comm)) != "pause" {
			pid = 0
			return fmt.Sprintf("pause has not started yet (comm %q)", comm)
		}
		return ""
	})
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, func() string {
		p, _ := e.rt.Get(context.Background(), "default", "phoenix")
		ic, ac := p.Status.InitContainerStatuses[0], p.Status.ContainerStatuses[0]
		if ic.RestartCount < 1 || ac.RestartCount < 1 || ac.State.Running == nil || !ac.Ready {
			return fmt.Sprintf("init %d restarts, app %d restarts %+v", ic.RestartCount, ac.RestartCount, ac.State)
		}
		return ""
	})
	evs, _ := e.rt.Events(context.Background(), "default", "phoenix")
	changed := false
	for _, ev := range evs {
		changed = changed || ev.Reason == "SandboxChanged"
	}
	if !changed {
		t.Errorf("no SandboxChanged event: %+v", evs)
	}
	var prev strings.Builder
	if err := e.rt.Logs(context.Background(), "default", "phoenix", sandbox.LogOptions{Container: "setup", Tail: -1}, &prev); err != nil || prev.String() != "setup ran\n" {
		t.Errorf("the init container's second run logged %q (%v)", prev.String(), err)
	}
	if netAfter, _ := e.exec("phoenix", "app", "readlink", "/proc/self/ns/net"); netAfter == netBefore {
		t.Errorf("the app runs in the old network namespace %s", netAfter)
	}
	// A new sandbox, a new attachment: the old one was deleted (its
	// address is released, see assertClean), the app's /etc/hosts has the
	// new address.
	ipAfter := e.podIP("phoenix")
	if ipAfter == ipBefore {
		t.Errorf("the re-created sandbox has the old address %s", ipAfter)
	}
	if hosts, _ := e.exec("phoenix", "app", "cat", "/etc/hosts"); !strings.Contains(hosts, ipAfter+"\tphoenix\n") {
		t.Errorf("/etc/hosts after the re-creation:\n%s", hosts)
	}
	if err := e.rt.Delete(context.Background(), "default", "phoenix", sandbox.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	e.assertClean()
}
