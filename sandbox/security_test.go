package sandbox_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/podbox/podbox/image"
	"github.com/podbox/podbox/internal/testutil"
	"github.com/podbox/podbox/sandbox"
	corev1 "k8s.io/api/core/v1"
)

// logOf returns what a container printed.
func (e *env) logOf(pod, ctr string) string {
	e.t.Helper()
	var b strings.Builder
	if err := e.rt.Logs(context.Background(), "default", pod, sandbox.LogOptions{Container: ctr, Tail: -1}, &b); err != nil {
		e.t.Fatalf("logs of %s/%s: %v", pod, ctr, err)
	}
	return b.String()
}

// statusField returns a field of /proc/self/status as a container sees it.
func (e *env) statusField(pod, ctr, name string) string {
	e.t.Helper()
	status, _ := e.exec(pod, ctr, "cat", "/proc/self/status")
	m := regexp.MustCompile(`(?m)^` + name + `:\s*(\S+)`).FindStringSubmatch(status)
	if m == nil {
		e.t.Fatalf("no %s in /proc/self/status of %s/%s", name, pod, ctr)
	}
	return m[1]
}

// runAsUser, runAsGroup, supplementalGroups and fsGroup: the container's
// processes (and what is exec'd in them) run with those IDs; a container's
// own runAsUser wins over the pod's.
func TestSecurityContextUser(t *testing.T) {
	e := newEnv(t)
	e.run(`
apiVersion: v1
kind: Pod
metadata: {name: ids}
spec:
  restartPolicy: Never
  securityContext: {runAsUser: 1000, runAsGroup: 3000, supplementalGroups: [4000, 4001], fsGroup: 2000}
  containers:
  - {name: pod, image: ` + testImage + `, command: [sh, -c, 'id -u; id -g; id -G; sleep 1000']}
  - name: own
    image: ` + testImage + `
    command: [sh, -c, 'id -u; id -g']
    securityContext: {runAsUser: 1001}
  - name: group-only
    image: ` + testImage + `
    command: [sh, -c, 'id -u; id -g']
    securityContext: {runAsUser: 0, runAsGroup: 0}
`)
	// Two of the containers end at once: the pod never becomes Ready.
	eventually(t, 10*time.Second, func() string {
		if out := e.logOf("ids", "pod"); strings.Count(out, "\n") < 3 {
			return "pod container printed " + out
		}
		return ""
	})
	lines := strings.Split(strings.TrimSpace(e.logOf("ids", "pod")), "\n")
	if lines[0] != "1000" || lines[1] != "3000" {
		t.Errorf("uid %s gid %s, want 1000 and 3000", lines[0], lines[1])
	}
	groups := strings.Fields(lines[2])
	slices.Sort(groups)
	if want := []string{"2000", "3000", "4000", "4001"}; !slices.Equal(groups, want) {
		t.Errorf("id -G = %v, want %v (runAsGroup, fsGroup and supplementalGroups)", groups, want)
	}
	p, err := e.rt.Get(context.Background(), "default", "ids")
	if err != nil {
		t.Fatal(err)
	}
	if u := statusOf(p.Status.ContainerStatuses, "pod").User; u == nil || u.Linux == nil || u.Linux.UID != 1000 || u.Linux.GID != 3000 ||
		!slices.Equal(u.Linux.SupplementalGroups, []int64{2000, 3000, 4000, 4001}) {
		t.Errorf("status user %+v", u)
	}
	if out, _ := e.exec("ids", "pod", "id", "-u"); strings.TrimSpace(out) != "1000" {
		t.Errorf("exec'd id -u = %q, want 1000", out)
	}
	if got := e.statusField("ids", "pod", "CapEff"); got != "0000000000000000" {
		t.Errorf("uid 1000 has effective capabilities %s", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err = e.rt.Wait(ctx, "default", "ids", func(p *corev1.Pod) (bool, error) {
		return statusOf(p.Status.ContainerStatuses, "own").State.Terminated != nil &&
			statusOf(p.Status.ContainerStatuses, "group-only").State.Terminated != nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// 1001 is not in the image's /etc/passwd: runAsGroup (the pod's) is its group.
	if out := e.logOf("ids", "own"); out != "1001\n3000\n" {
		t.Errorf("own printed %q, want 1001 and 3000", out)
	}
	if out := e.logOf("ids", "group-only"); out != "0\n0\n" {
		t.Errorf("group-only printed %q, want 0 and 0", out)
	}
}

// runAsNonRoot on an image that runs as root: the container waits with
// CreateContainerConfigError and the kubelet's message; one with a
// runAsUser of its own runs.
func TestRunAsNonRoot(t *testing.T) {
	e := newEnv(t)
	p := e.run(`
apiVersion: v1
kind: Pod
metadata: {name: nonroot}
spec:
  securityContext: {runAsNonRoot: true}
  containers:
  - {name: root, image: ` + testImage + `, command: [sleep, "1000"]}
  - {name: user, image: ` + testImage + `, command: [sleep, "1000"], securityContext: {runAsUser: 1000}}
  - {name: zero, image: ` + testImage + `, command: [sleep, "1000"], securityContext: {runAsUser: 0}}
`)
	want := map[string]string{
		"root": fmt.Sprintf(`container has runAsNonRoot and image will run as root (pod: "nonroot_default(%s)", container: root)`, p.UID),
		"zero": fmt.Sprintf(`container's runAsUser breaks non-root policy (pod: "nonroot_default(%s)", container: zero)`, p.UID),
	}
	eventually(t, 10*time.Second, func() string {
		p, err := e.rt.Get(context.Background(), "default", "nonroot")
		if err != nil {
			return err.Error()
		}
		for ctr, msg := range want {
			w := statusOf(p.Status.ContainerStatuses, ctr).State.Waiting
			if w == nil || w.Reason != "CreateContainerConfigError" || w.Message != msg {
				return fmt.Sprintf("%s: state %+v, want CreateContainerConfigError %q", ctr, statusOf(p.Status.ContainerStatuses, ctr).State, msg)
			}
		}
		if statusOf(p.Status.ContainerStatuses, "user").State.Running == nil {
			return fmt.Sprintf("user: state %+v, want running", statusOf(p.Status.ContainerStatuses, "user").State)
		}
		return ""
	})
}

// capabilities.drop CHOWN makes chown fail; drop ALL + add leaves only what
// is added; add ALL is the bounding set.
func TestCapabilitiesAddDrop(t *testing.T) {
	e := newEnv(t)
	e.run(`
apiVersion: v1
kind: Pod
metadata: {name: caps}
spec:
  containers:
  - {name: default, image: ` + testImage + `, command: [sleep, "1000"]}
  - {name: nochown, image: ` + testImage + `, command: [sleep, "1000"], securityContext: {capabilities: {drop: [CHOWN]}}}
  - {name: only, image: ` + testImage + `, command: [sleep, "1000"], securityContext: {capabilities: {drop: [ALL], add: [CAP_NET_BIND_SERVICE]}}}
  - {name: all, image: ` + testImage + `, command: [sleep, "1000"], securityContext: {capabilities: {add: [ALL], drop: [sys_admin]}}}
`)
	e.wait("caps", sandbox.PodReady)
	if out, code := e.exec("caps", "default", "sh", "-c", "touch /tmp/f && chown 1000 /tmp/f"); code != 0 {
		t.Errorf("chown failed with the default capabilities: %s", out)
	}
	if out, code := e.exec("caps", "nochown", "sh", "-c", "touch /tmp/f && chown 1000 /tmp/f"); code == 0 {
		t.Errorf("chown succeeded without CAP_CHOWN: %s", out)
	}
	if got := e.statusField("caps", "nochown", "CapEff"); got != "00000000a80425fa" {
		t.Errorf("CapEff without CHOWN = %s, want 00000000a80425fa", got)
	}
	if got := e.statusField("caps", "only", "CapEff"); got != "0000000000000400" {
		t.Errorf("CapEff with only NET_BIND_SERVICE = %s, want 0000000000000400", got)
	}
	bnd := hostCapBnd(t) &^ (1 << 21) // CAP_SYS_ADMIN
	if got := e.statusField("caps", "all", "CapEff"); got != fmt.Sprintf("%016x", bnd) {
		t.Errorf("CapEff with ALL but SYS_ADMIN = %s, want %016x", got, bnd)
	}
}

// hostCapBnd is this process's capability bounding set.
func hostCapBnd(t *testing.T) uint64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^CapBnd:\s*([0-9a-f]+)`).FindSubmatch(b)
	if m == nil {
		t.Fatal("no CapBnd")
	}
	var v uint64
	if _, err := fmt.Sscanf(string(m[1]), "%x", &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// readOnlyRootFilesystem: writes to the rootfs fail; /dev/shm stays writable.
func TestReadOnlyRootFilesystem(t *testing.T) {
	e := newEnv(t)
	e.run(`{apiVersion: v1, kind: Pod, metadata: {name: ro}, spec: {containers: [{name: a, image: ` + testImage +
		`, command: [sleep, "1000"], securityContext: {readOnlyRootFilesystem: true}}]}}`)
	e.wait("ro", sandbox.PodReady)
	for _, f := range []string{"/new", "/tmp/new", "/etc/passwd"} {
		if out, code := e.exec("ro", "a", "sh", "-c", "echo x >> "+f); code == 0 {
			t.Errorf("wrote %s on a read-only rootfs: %s", f, out)
		}
	}
	if out, code := e.exec("ro", "a", "sh", "-c", "echo x > /dev/shm/ok"); code != 0 {
		t.Errorf("/dev/shm is not writable: %s", out)
	}
}

// seccomp: RuntimeDefault when unset, or asked for, refuses unshare(2)
// (moby's profile allows it only with CAP_SYS_ADMIN); Unconfined allows
// it; a container's profile wins over its pod's; a Localhost profile from
// the profile root applies; a missing one fails the run before anything is
// made.
func TestSeccompProfiles(t *testing.T) {
	profiles := t.TempDir()
	e := newEnv(t, func(o *sandbox.Options) { o.SeccompProfileRoot = profiles })
	if err := os.MkdirAll(filepath.Join(profiles, "podbox"), 0o755); err != nil {
		t.Fatal(err)
	}
	// OCI format: everything allowed but mkdir and mkdirat (EPERM).
	noMkdir := `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}`
	if err := os.WriteFile(filepath.Join(profiles, "podbox", "no-mkdir.json"), []byte(noMkdir), 0o644); err != nil {
		t.Fatal(err)
	}
	e.run(`
apiVersion: v1
kind: Pod
metadata: {name: sc}
spec:
  containers:
  - {name: unset, image: ` + testImage + `, command: [sleep, "1000"]}
  - {name: default, image: ` + testImage + `, command: [sleep, "1000"], securityContext: {seccompProfile: {type: RuntimeDefault}}}
  - {name: unconfined, image: ` + testImage + `, command: [sleep, "1000"], securityContext: {seccompProfile: {type: Unconfined}}}
  - {name: local, image: ` + testImage + `, command: [sleep, "1000"], securityContext: {seccompProfile: {type: Localhost, localhostProfile: podbox/no-mkdir.json}}}
`)
	e.wait("sc", sandbox.PodReady)
	for ctr, wantBlocked := range map[string]bool{"unset": true, "default": true, "unconfined": false, "local": false} {
		out, code := e.exec("sc", ctr, "unshare", "-U", "true")
		if blocked := code != 0; blocked != wantBlocked {
			t.Errorf("%s: unshare -U exit %d (%s), want blocked = %v", ctr, code, strings.TrimSpace(out), wantBlocked)
		}
	}
	for ctr, want := range map[string]string{"unset": "2", "default": "2", "unconfined": "0", "local": "2"} {
		if got := e.statusField("sc", ctr, "Seccomp"); got != want {
			t.Errorf("%s: Seccomp %s, want %s", ctr, got, want)
		}
	}
	if out, code := e.exec("sc", "local", "mkdir", "/tmp/d"); code == 0 || !strings.Contains(out, "not permitted") {
		t.Errorf("mkdir under the Localhost profile: exit %d, %q; want EPERM", code, out)
	}
	if _, code := e.exec("sc", "unconfined", "mkdir", "/tmp/d"); code != 0 {
		t.Error("mkdir failed without a profile")
	}

	// The pod's profile applies to containers that name none.
	e.run(`
apiVersion: v1
kind: Pod
metadata: {name: podlevel}
spec:
  securityContext: {seccompProfile: {type: Unconfined}}
  containers:
  - {name: inherits, image: ` + testImage + `, command: [sleep, "1000"]}
  - {name: own, image: ` + testImage + `, command: [sleep, "1000"], securityContext: {seccompProfile: {type: RuntimeDefault}}}
`)
	e.wait("podlevel", sandbox.PodReady)
	if got := e.statusField("podlevel", "inherits", "Seccomp"); got != "0" {
		t.Errorf("the pod's Unconfined did not apply: Seccomp %s", got)
	}
	if got := e.statusField("podlevel", "own", "Seccomp"); got != "2" {
		t.Errorf("the container's RuntimeDefault did not apply: Seccomp %s", got)
	}

	// A missing or broken profile: refused, nothing made.
	if err := os.WriteFile(filepath.Join(profiles, "broken.json"), []byte(`{"defaultAction": "SCMP_ACT_FLY"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"missing.json": "no such file or directory", "broken.json": "SCMP_ACT_FLY"} {
		_, err := e.rt.Run(context.Background(), pod(t, `{apiVersion: v1, kind: Pod, metadata: {name: bad}, spec: {containers: [{name: a, image: `+
			testImage+`, securityContext: {seccompProfile: {type: Localhost, localhostProfile: `+name+`}}}]}}`))
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "container a") {
			t.Errorf("run with profile %s: %v, want an error naming the container and %q", name, err, want)
		}
		if _, err := e.rt.Get(context.Background(), "default", "bad"); !errors.Is(err, sandbox.ErrNotFound) {
			t.Errorf("the pod refused for %s exists: %v", name, err)
		}
	}
}

// allowPrivilegeEscalation: false (and podbox's default) sets no_new_privs:
// a setuid-root binary run by uid 1000 stays uid 1000; with true it gains
// root.
func TestNoNewPrivileges(t *testing.T) {
	e := newEnv(t)
	tool := testutil.Build(t, "github.com/podbox/podbox/internal/testutil/suidtool", false)
	rootfs := testutil.BusyboxRootfs(t)
	dst := filepath.Join(rootfs, "bin", "suidtool")
	if err := copyFile(tool, dst); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dst, 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dst, 0o755|os.ModeSetuid); err != nil {
		t.Fatal(err)
	}
	const img = "localhost/busybox-suid:test"
	st, err := image.Open(image.Options{Root: e.root})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Import(context.Background(), rootfs, img, image.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Remove(context.Background(), img) })
	e.run(`
apiVersion: v1
kind: Pod
metadata: {name: nnp}
spec:
  restartPolicy: Never
  securityContext: {runAsUser: 1000}
  containers:
  - {name: allowed, image: ` + img + `, command: [suidtool], securityContext: {allowPrivilegeEscalation: true}}
  - {name: denied, image: ` + img + `, command: [suidtool], securityContext: {allowPrivilegeEscalation: false}}
  - {name: default, image: ` + img + `, command: [suidtool]}
`)
	e.wait("nnp", sandbox.PodFinished)
	for ctr, want := range map[string]string{
		"allowed": "uid=1000 euid=0\n", "denied": "uid=1000 euid=1000\n", "default": "uid=1000 euid=1000\n",
	} {
		if got := e.logOf("nnp", ctr); got != want {
			t.Errorf("%s printed %q, want %q", ctr, got, want)
		}
	}
}

// Pod sysctls are set in the pod's namespaces before its containers
// start; a sysctl that is not namespaced is refused at validation.
func TestSysctls(t *testing.T) {
	e := newEnv(t)
	e.run(`
apiVersion: v1
kind: Pod
metadata: {name: sysctl}
spec:
  restartPolicy: Never
  securityContext:
    sysctls:
    - {name: net.ipv4.ip_unprivileged_port_start, value: "80"}
    - {name: kernel.shmmax, value: "123456789"}
    - {name: net/ipv4/ping_group_range, value: "0 2000"}
  containers:
  - name: a
    image: ` + testImage + `
    command: [sh, -c, 'cat /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/kernel/shmmax /proc/sys/net/ipv4/ping_group_range']
`)
	e.wait("sysctl", sandbox.PodFinished)
	if got := e.logOf("sysctl", "a"); got != "80\n123456789\n0\t2000\n" {
		t.Errorf("container saw %q", got)
	}
	host, _ := os.ReadFile("/proc/sys/kernel/shmmax")
	if strings.TrimSpace(string(host)) == "123456789" {
		t.Error("the host's kernel.shmmax was changed")
	}
	_, err := e.rt.Run(context.Background(), pod(t, `{apiVersion: v1, kind: Pod, metadata: {name: unsafe}, spec: {securityContext: {sysctls: [{name: kernel.panic, value: "1"}]}, containers: [{name: a, image: `+testImage+`}]}}`))
	var inv *sandbox.InvalidError
	if !errors.As(err, &inv) || !strings.Contains(err.Error(), `spec.securityContext.sysctls[0].name: Forbidden: forbidden sysctl: "kernel.panic" not allowlisted`) {
		t.Errorf("run with kernel.panic: %v", err)
	}
}

// privileged: every capability of the bounding set, host devices, no
// seccomp and no masked paths, /sys writable, mount works.
func TestPrivileged(t *testing.T) {
	e := newEnv(t)
	e.run(`
apiVersion: v1
kind: Pod
metadata: {name: priv}
spec:
  containers:
  - {name: a, image: ` + testImage + `, command: [sleep, "1000"], securityContext: {privileged: true}}
  - {name: unmasked, image: ` + testImage + `, command: [sleep, "1000"], securityContext: {procMount: Unmasked}}
`)
	e.wait("priv", sandbox.PodReady)
	if got, want := e.statusField("priv", "a", "CapEff"), fmt.Sprintf("%016x", hostCapBnd(t)); got != want {
		t.Errorf("CapEff %s, want the bounding set %s", got, want)
	}
	for f, want := range map[string]string{"Seccomp": "0", "NoNewPrivs": "0"} {
		if got := e.statusField("priv", "a", f); got != want {
			t.Errorf("%s %s, want %s", f, got, want)
		}
	}
	if out, code := e.exec("priv", "a", "sh", "-c", "mkdir -p /mnt/t && mount -t tmpfs x /mnt/t && grep -e sys -e cgroup /proc/mounts && grep -q ' /sys sysfs rw' /proc/mounts"); code != 0 {
		t.Errorf("mount, or a writable /sys, in a privileged container: %s", out)
	}
	for _, dev := range []string{"/dev/kmsg", "/dev/loop-control", "/dev/mem"} {
		if _, err := os.Stat(dev); err != nil {
			continue
		}
		if _, code := e.exec("priv", "a", "test", "-c", dev); code != 0 {
			t.Errorf("host device %s missing", dev)
		}
	}
	for ctr, wantMasked := range map[string]bool{"a": false, "unmasked": false} {
		out, _ := e.exec("priv", ctr, "sh", "-c", "wc -c < /proc/timer_list")
		if masked := strings.TrimSpace(out) == "0"; masked != wantMasked {
			t.Errorf("%s: /proc/timer_list masked = %v", ctr, masked)
		}
	}
	// /sys is one file system per network namespace: the other container
	// still mounts it read-only.
	if out, code := e.exec("priv", "unmasked", "grep", " /sys sysfs ro", "/proc/mounts"); code != 0 {
		t.Errorf("/sys of the unprivileged container is not read-only: %s", out)
	}
	if out, _ := e.exec("priv", "unmasked", "sh", "-c", "grep ' /proc/sys ' /proc/mounts"); strings.TrimSpace(out) != "" {
		t.Errorf("/proc/sys is remounted in an Unmasked container: %s", out)
	}
}
