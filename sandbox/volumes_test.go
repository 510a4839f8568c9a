package sandbox_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/podbox/podbox/internal/kube"
	"github.com/podbox/podbox/sandbox"
	corev1 "k8s.io/api/core/v1"
)

// runManifest runs the one pod of a manifest with the ConfigMaps and Secrets
// it holds, as `podbox run -f` does.
func (e *env) runManifest(manifest string) *corev1.Pod {
	e.t.Helper()
	m, err := kube.Decode(strings.NewReader(manifest), e.t.Name())
	if err != nil {
		e.t.Fatal(err)
	}
	if len(m.Pods) != 1 {
		e.t.Fatalf("want one pod, got %d", len(m.Pods))
	}
	var opts sandbox.RunOptions
	for _, cm := range m.ConfigMaps {
		opts.ConfigMaps = append(opts.ConfigMaps, *cm)
	}
	for _, s := range m.Secrets {
		opts.Secrets = append(opts.Secrets, *s)
	}
	p, err := e.rt.RunWith(context.Background(), m.Pods[0], opts)
	if err != nil {
		e.t.Fatalf("run: %v", err)
	}
	return p
}

// waitWaiting waits until container ctr of pod name waits with reason, and
// returns its message.
func (e *env) waitWaiting(name, ctr, reason string) string {
	e.t.Helper()
	var msg string
	eventually(e.t, 20*time.Second, func() string {
		p, err := e.rt.Get(context.Background(), "default", name)
		if err != nil {
			return err.Error()
		}
		for _, cs := range append(p.Status.InitContainerStatuses, p.Status.ContainerStatuses...) {
			if cs.Name != ctr {
				continue
			}
			if w := cs.State.Waiting; w != nil && w.Reason == reason {
				msg = w.Message
				return ""
			}
			return "container " + ctr + " is " + stateString(cs.State) + ", want waiting " + reason
		}
		return "no status for container " + ctr
	})
	return msg
}

func stateString(s corev1.ContainerState) string {
	switch {
	case s.Waiting != nil:
		return "waiting " + s.Waiting.Reason + ": " + s.Waiting.Message
	case s.Running != nil:
		return "running"
	case s.Terminated != nil:
		return "terminated " + s.Terminated.Reason
	}
	return "unknown"
}

// Test 1 of issue 6: two containers share an emptyDir (one writes, the
// other reads: the sidecar that updates files), and a medium: Memory
// emptyDir is a tmpfs of its sizeLimit.
func TestVolumeEmptyDirShared(t *testing.T) {
	e := newEnv(t)
	e.run(`
apiVersion: v1
kind: Pod
metadata: {name: shared}
spec:
  terminationGracePeriodSeconds: 0
  volumes:
  - name: data
    emptyDir: {}
  - name: mem
    emptyDir: {medium: Memory, sizeLimit: 8Mi}
  containers:
  - name: writer
    image: ` + testImage + `
    command: [sh, -c, 'i=0; while true; do i=$((i+1)); echo "tick $i" > /out/now.tmp; mv /out/now.tmp /out/now; sleep 0.1; done']
    volumeMounts: [{name: data, mountPath: /out}, {name: mem, mountPath: /mem}]
  - name: reader
    image: ` + testImage + `
    command: [sleep, "3600"]
    volumeMounts: [{name: data, mountPath: /in, readOnly: true}, {name: mem, mountPath: /mem}]
`)
	e.wait("shared", sandbox.PodReady)
	var first string
	eventually(t, 5*time.Second, func() string {
		out, code := e.exec("shared", "reader", "cat", "/in/now")
		if code != 0 || !strings.HasPrefix(out, "tick ") {
			return "reader sees " + out
		}
		first = out
		return ""
	})
	eventually(t, 5*time.Second, func() string {
		if out, _ := e.exec("shared", "reader", "cat", "/in/now"); out == first {
			return "the file the writer updates does not change for the reader: " + out
		}
		return ""
	})
	if out, code := e.exec("shared", "reader", "touch", "/in/x"); code == 0 {
		t.Errorf("a readOnly mount is writable: %s", out)
	}
	// The tmpfs: its size is the sizeLimit, and both containers see it.
	out, _ := e.exec("shared", "reader", "sh", "-c", "grep ' /mem ' /proc/mounts")
	if !strings.HasPrefix(out, "podbox-emptydir /mem tmpfs ") || !strings.Contains(out, "size=8192k") {
		t.Errorf("/mem is not an 8 MiB tmpfs: %q", out)
	}
	if _, code := e.exec("shared", "writer", "sh", "-c", "echo hi > /mem/f"); code != 0 {
		t.Fatal("cannot write to the memory emptyDir")
	}
	if out, _ := e.exec("shared", "reader", "cat", "/mem/f"); out != "hi\n" {
		t.Errorf("the memory emptyDir is not shared: %q", out)
	}
	if out, code := e.exec("shared", "writer", "sh", "-c", "dd if=/dev/zero of=/mem/big bs=1M count=16 2>&1"); code == 0 {
		t.Errorf("wrote 16 MiB into an 8 MiB tmpfs: %s", out)
	}
}
