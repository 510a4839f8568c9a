package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/podbox/podbox/internal/testutil"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// podboxCLI runs the real podbox binary against roots of its own.
type podboxCLI struct {
	t                 *testing.T
	bin, pause, shim  string
	net               *testutil.Network
	dir, root, cgroup string
	env               []string // extra environment for podbox
}

func newCLI(t *testing.T) *podboxCLI {
	t.Helper()
	testutil.RequireRoot(t)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	c := &podboxCLI{
		t:      t,
		bin:    testutil.Build(t, "github.com/podbox/podbox/cmd/podbox", true, "seccomp", "containers_image_openpgp", "exclude_graphdriver_btrfs"),
		pause:  testutil.PauseBinary(t),
		shim:   testutil.ShimBinary(t),
		net:    testutil.TestNetwork(t),
		dir:    t.TempDir(),
		cgroup: "/podbox-clitest-" + hex.EncodeToString(b),
	}
	c.root = filepath.Join(c.dir, "root")
	t.Cleanup(func() {
		c.run("", "delete", "--all", "--force", "-A")
		if leaks := append(testutil.Leaks([]string{c.dir}, c.cgroup), c.net.Leaks()...); len(leaks) > 0 {
			t.Errorf("left on the host:\n%s", strings.Join(leaks, "\n"))
		}
	})
	return c
}

// run runs podbox with stdin and returns stdout, stderr and the exit code.
func (c *podboxCLI) run(stdin string, args ...string) (string, string, int) {
	c.t.Helper()
	full := append([]string{"--root", c.root, "--state", filepath.Join(c.dir, "state"),
		"--log-dir", filepath.Join(c.dir, "log"), "--pause", c.pause, "--shim", c.shim, "--cgroup-parent", c.cgroup,
		"--cni-conf-dir", c.net.ConfDir, "--network", c.net.Name}, args...)
	cmd := exec.Command(c.bin, full...)
	cmd.Env = append(os.Environ(), c.env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatalf("podbox %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

// ok runs podbox and fails the test unless it exits 0.
func (c *podboxCLI) ok(stdin string, args ...string) string {
	c.t.Helper()
	out, errs, code := c.run(stdin, args...)
	if code != 0 {
		c.t.Fatalf("podbox %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

func (c *podboxCLI) importBusybox() {
	c.t.Helper()
	rootfs := testutil.BusyboxRootfs(c.t)
	if out := c.ok("", "image", "import", rootfs, "localhost/busybox:1.36"); out != "localhost/busybox:1.36\n" {
		c.t.Fatalf("image import printed %q", out)
	}
}

const twoContainers = `apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  containers:
  - name: app
    image: localhost/busybox:1.36
    command: ["sh", "-c", "echo first; echo second; echo third; exec sleep 1000"]
  - name: sidecar
    image: localhost/busybox:1.36
    command: ["sleep", "1000"]
`

func TestCLIEndToEnd(t *testing.T) {
	c := newCLI(t)
	c.importBusybox()
	if out := c.ok("", "image", "ls"); !regexp.MustCompile(`(?m)^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\nlocalhost/busybox\s+1\.36\s+[0-9a-f]{12}\s`).MatchString(out) {
		t.Errorf("image ls:\n%s", out)
	}
	manifest := filepath.Join(c.dir, "pod.yaml")
	if err := os.WriteFile(manifest, []byte(twoContainers), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := c.ok("", "run", "-f", manifest); out != "pod/web created\n" {
		t.Errorf("run printed %q", out)
	}
	if out := c.ok("", "get"); !regexp.MustCompile(`^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\nweb\s+2/2\s+Running\s+0\s+\d+s\n$`).MatchString(out) {
		t.Errorf("get:\n%s", out)
	}
	ip := strings.TrimSpace(c.ok("", "get", "web", "-o", "jsonpath={.status.podIP}"))
	if parsed := net.ParseIP(ip); parsed == nil || !c.net.Subnet.Contains(parsed) {
		t.Errorf("pod IP %q is not in the test network %s", ip, c.net.Subnet)
	}
	if out := c.ok("", "get", "web", "-o", "wide"); !strings.Contains(out, "NOMINATED NODE") || !regexp.MustCompile(`(?m)^web\s.*\s`+regexp.QuoteMeta(ip)+`\s`).MatchString(out) {
		t.Errorf("get -o wide:\n%s", out)
	}
	if out := c.ok("", "get", "pods", "web", "-o", "name"); out != "pod/web\n" {
		t.Errorf("get -o name: %q", out)
	}
	var pod corev1.Pod
	if err := json.Unmarshal([]byte(c.ok("", "get", "web", "-o", "json")), &pod); err != nil {
		t.Fatal(err)
	}
	checkPodJSON(t, &pod)
	var ypod corev1.Pod
	if err := yaml.UnmarshalStrict([]byte(c.ok("", "get", "web", "-o", "yaml")), &ypod); err != nil || ypod.UID != pod.UID {
		t.Errorf("get -o yaml: %v (uid %q vs %q)", err, ypod.UID, pod.UID)
	}

	if out := c.ok("", "logs", "web", "-c", "app"); out != "first\nsecond\nthird\n" {
		t.Errorf("logs: %q", out)
	}
	if out := c.ok("", "logs", "web", "-c", "app", "--tail", "1"); out != "third\n" {
		t.Errorf("logs --tail 1: %q", out)
	}
	if out := c.ok("", "logs", "web", "-c", "app", "--timestamps"); !regexp.MustCompile(`^(\S+Z first\n)`).MatchString(out) {
		t.Errorf("logs --timestamps: %q", out)
	}
	if out, errs, _ := c.run("", "logs", "web"); out != "first\nsecond\nthird\n" || !strings.Contains(errs, `Defaulted container "app" out of: app, sidecar`) {
		t.Errorf("logs without -c: %q %q", out, errs)
	}
	if out := c.ok("", "exec", "web", "-c", "app", "--", "sh", "-c", "hostname; id"); out != "web\nuid=0(root) gid=0(root) groups=0(root)\n" && out != "web\nuid=0(root) gid=0(root)\n" {
		t.Errorf("exec: %q", out)
	}
	if out := c.ok("from-stdin\n", "exec", "-i", "web", "-c", "sidecar", "--", "cat"); out != "from-stdin\n" {
		t.Errorf("exec -i: %q", out)
	}
	if _, errs, code := c.run("", "exec", "web", "-c", "app", "--", "sh", "-c", "exit 5"); code != 5 || !strings.Contains(errs, "command terminated with exit code 5") {
		t.Errorf("exec exit code %d, stderr %q", code, errs)
	}
	if _, errs, code := c.run("", "exec", "web", "-c", "nope", "--", "true"); code == 0 || !strings.Contains(errs, `container "nope" is not valid for pod "web"`) {
		t.Errorf("exec in a missing container: %d %q", code, errs)
	}

	if out := c.ok("", "stop", "web", "--grace-period", "0"); out != "pod/web stopped\n" {
		t.Errorf("stop: %q", out)
	}
	if out := c.ok("", "get", "web"); !regexp.MustCompile(`web\s+0/2\s+Error\s+0`).MatchString(out) {
		t.Errorf("get after stop:\n%s", out)
	}
	if out := c.ok("", "logs", "web", "-c", "app"); out != "first\nsecond\nthird\n" {
		t.Errorf("logs after stop: %q", out)
	}
	if out := c.ok("", "delete", "web"); out != "pod \"web\" deleted\n" {
		t.Errorf("delete: %q", out)
	}
	if out, errs, _ := c.run("", "get"); out != "" || !strings.Contains(errs, "No resources found in default namespace.") {
		t.Errorf("get after delete: %q %q", out, errs)
	}
	if _, errs, code := c.run("", "get", "web"); code == 0 || !strings.Contains(errs, `pods "web" not found`) {
		t.Errorf("get of a deleted pod: %d %q", code, errs)
	}
	ents, _ := os.ReadDir(filepath.Join(c.dir, "log"))
	if len(ents) != 0 {
		t.Errorf("logs left after delete: %v", ents)
	}
}

// checkPodJSON checks `get -o json` against what the API server and the
// kubelet would report.
func checkPodJSON(t *testing.T, p *corev1.Pod) {
	t.Helper()
	if p.APIVersion != "v1" || p.Kind != "Pod" || p.UID == "" || p.CreationTimestamp.IsZero() || p.Namespace != "default" {
		t.Errorf("metadata: %+v %+v", p.TypeMeta, p.ObjectMeta)
	}
	s := p.Spec
	if s.RestartPolicy != corev1.RestartPolicyAlways || s.DNSPolicy != corev1.DNSClusterFirst ||
		s.TerminationGracePeriodSeconds == nil || *s.TerminationGracePeriodSeconds != 30 || s.SchedulerName != "default-scheduler" {
		t.Errorf("spec defaults: %+v", s)
	}
	c0 := s.Containers[0]
	if c0.ImagePullPolicy != corev1.PullIfNotPresent || c0.TerminationMessagePath != "/dev/termination-log" ||
		c0.TerminationMessagePolicy != corev1.TerminationMessageReadFile {
		t.Errorf("container defaults: %+v", c0)
	}
	st := p.Status
	if st.Phase != corev1.PodRunning || st.StartTime == nil || len(st.ContainerStatuses) != 2 || len(st.Conditions) < 4 {
		t.Errorf("status: %+v", st)
	}
	for _, cs := range st.ContainerStatuses {
		if cs.State.Running == nil || !cs.Ready || cs.Started == nil || !*cs.Started || cs.RestartCount != 0 ||
			!strings.HasPrefix(cs.ContainerID, "podbox://") || cs.Image != "localhost/busybox:1.36" ||
			!strings.HasPrefix(cs.ImageID, "localhost/busybox@sha256:") {
			t.Errorf("container status: %+v", cs)
		}
	}
	for _, cond := range st.Conditions {
		if cond.Status != corev1.ConditionTrue {
			t.Errorf("condition %s is %s", cond.Type, cond.Status)
		}
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	testutil.Cleanup() // the binaries the tests built
	os.Exit(code)
}
