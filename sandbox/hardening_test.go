package sandbox_test

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/podbox/podbox/image"
	"github.com/podbox/podbox/sandbox"
)

// Containers get the default hardening: the default capability set
// (intersected with the host's bounding set), no_new_privs, the seccomp
// profile, masked and read-only /proc and /sys paths.
func TestDefaultHardening(t *testing.T) {
	e := newEnv(t)
	e.run(`{apiVersion: v1, kind: Pod, metadata: {name: hard}, spec: {containers: [{name: a, image: ` + testImage + `, command: [sleep, "1000"]}]}}`)
	e.wait("hard", sandbox.PodReady)
	status, _ := e.exec("hard", "a", "cat", "/proc/self/status")
	field := func(name string) string {
		m := regexp.MustCompile(`(?m)^` + name + `:\s*(\S+)`).FindStringSubmatch(status)
		if m == nil {
			t.Fatalf("no %s in /proc/self/status", name)
		}
		return m[1]
	}
	// The 14 default capabilities; this host's bounding set has all of them.
	if got := field("CapEff"); got != "00000000a80425fb" {
		t.Errorf("CapEff %s, want 00000000a80425fb", got)
	}
	if got := field("CapBnd"); got != "00000000a80425fb" {
		t.Errorf("CapBnd %s", got)
	}
	if got := field("NoNewPrivs"); got != "1" {
		t.Errorf("NoNewPrivs %s", got)
	}
	if got := field("Seccomp"); got != "2" {
		t.Errorf("Seccomp %s, want 2 (filter)", got)
	}
	// A syscall the profile refuses: unshare of a user namespace... and
	// a mount (no CAP_SYS_ADMIN).
	if _, code := e.exec("hard", "a", "mount", "-t", "tmpfs", "x", "/mnt"); code == 0 {
		t.Error("mount succeeded in a container")
	}
	masked := 0
	for _, p := range []string{"/proc/keys", "/proc/timer_list", "/proc/sched_debug", "/proc/kcore"} {
		if _, err := os.Stat(p); err != nil {
			continue // not on this kernel
		}
		masked++
		if out, _ := e.exec("hard", "a", "sh", "-c", "wc -c < "+p); strings.TrimSpace(out) != "0" {
			t.Errorf("%s is not masked: %q", p, out)
		}
	}
	if masked == 0 {
		t.Error("none of the masked /proc files exists on this host to check")
	}
	if out, _ := e.exec("hard", "a", "ls", "-A", "/sys/firmware"); strings.TrimSpace(out) != "" {
		t.Errorf("/sys/firmware is not masked: %q", out)
	}
	if _, code := e.exec("hard", "a", "sh", "-c", "echo 1 > /proc/sys/kernel/panic"); code == 0 {
		t.Error("/proc/sys is writable")
	}
	if _, code := e.exec("hard", "a", "sh", "-c", "echo x > /etc/hosts"); code == 0 {
		t.Error("/etc/hosts is writable")
	}
	if _, code := e.exec("hard", "a", "mknod", "/tmp/sda", "b", "8", "0"); code == 0 {
		if _, code := e.exec("hard", "a", "head", "-c", "1", "/tmp/sda"); code == 0 {
			t.Error("a block device node could be made and read")
		}
	}
	// The rootfs is writable (copy-up into the container's upper dir).
	if _, code := e.exec("hard", "a", "sh", "-c", "echo w > /etc/new && rm /bin/ls"); code != 0 {
		t.Error("the container rootfs is not writable")
	}
}

// The image's User, WorkingDir, Env and Entrypoint/Cmd are honoured and
// merged with the pod's as Kubernetes does.
func TestImageConfig(t *testing.T) {
	e := newEnv(t)
	st, err := image.Open(image.Options{Root: e.root})
	if err != nil {
		t.Fatal(err)
	}
	// The shared busybox rootfs again, with an image config of its own.
	_, err = st.Import(context.Background(), e.root+"/rootfs", "localhost/busybox-app:test", image.ImportOptions{Config: ocispec.ImageConfig{
		User: "app", WorkingDir: "/home/app", Env: []string{"FROM_IMAGE=img", "OVERRIDE=image"},
		Entrypoint: []string{"sh", "-c"}, Cmd: []string{"echo default cmd"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Remove(context.Background(), "localhost/busybox-app:test") })
	e.run(`
apiVersion: v1
kind: Pod
metadata: {name: cfg}
spec:
  restartPolicy: Never
  containers:
  - name: args
    image: localhost/busybox-app:test
    args:
    - echo "$(id -un) $PWD $FROM_IMAGE $OVERRIDE $(EXPANDED)" '$$(NOT)' 
    env: [{name: OVERRIDE, value: pod}, {name: EXPANDED, value: "yes"}]
  - name: defaults
    image: localhost/busybox-app:test
  - name: command
    image: localhost/busybox-app:test
    command: [sh, -c, 'echo $HOSTNAME $HOME']
    workingDir: /tmp
`)
	e.wait("cfg", sandbox.PodFinished)
	for ctr, want := range map[string]string{
		"args":     "app /home/app img pod yes $(NOT)\n",
		"defaults": "default cmd\n",
		"command":  "cfg /home/app\n",
	} {
		var b strings.Builder
		if err := e.rt.Logs(context.Background(), "default", "cfg", sandbox.LogOptions{Container: ctr, Tail: -1}, &b); err != nil {
			t.Fatal(err)
		}
		if b.String() != want {
			t.Errorf("%s printed %q, want %q", ctr, b.String(), want)
		}
	}
}
