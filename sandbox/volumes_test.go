package sandbox_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podbox/podbox/internal/kube"
	"github.com/podbox/podbox/internal/testutil"
	"github.com/podbox/podbox/sandbox"
	"golang.org/x/sys/unix"
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

// tryExec runs a command in a container and returns its output; an error
// if it cannot run or exits non-zero.
func (e *env) tryExec(pod, ctr string, cmd ...string) (string, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return "", err
	}
	out := make(chan string)
	go func() { b, _ := io.ReadAll(r); out <- string(b) }()
	code, err := e.rt.Exec(context.Background(), "default", pod, sandbox.ExecOptions{Container: ctr, Command: cmd, Stdout: w, Stderr: w})
	w.Close()
	s := <-out
	r.Close()
	if err == nil && code != 0 {
		err = fmt.Errorf("exit %d", code)
	}
	return s, err
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

// Test 2 of issue 6: hostPath volumes of every type, the kubelet's checks and
// their failures with its text.
func TestVolumeHostPathTypes(t *testing.T) {
	e := newEnv(t)
	host := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Mkdir(filepath.Join(host, "dir"), 0o755))
	must(os.WriteFile(filepath.Join(host, "dir", "hello"), []byte("from the host\n"), 0o644))
	must(os.WriteFile(filepath.Join(host, "file"), []byte("a file\n"), 0o644))
	l, err := net.Listen("unix", filepath.Join(host, "sock"))
	must(err)
	defer l.Close()
	must(unix.Mknod(filepath.Join(host, "blk"), unix.S_IFBLK|0o600, int(unix.Mkdev(7, 200))))

	vol := func(name, path, typ string) string {
		return fmt.Sprintf("  - name: %s\n    hostPath: {path: %s, type: %q}\n", name, filepath.Join(host, path), typ)
	}
	manifest := `
apiVersion: v1
kind: Pod
metadata: {name: hostpaths}
spec:
  terminationGracePeriodSeconds: 0
  volumes:
` + vol("unset", "unset-new", "") + vol("dir", "dir", "Directory") + vol("dircreate", "new/dir", "DirectoryOrCreate") +
		vol("file", "file", "File") + vol("filecreate", "newfile", "FileOrCreate") + vol("sock", "sock", "Socket") +
		`  - name: chr
    hostPath: {path: /dev/null, type: CharDevice}
` + vol("blk", "blk", "BlockDevice") + `
  containers:
  - name: c
    image: ` + testImage + `
    command: [sleep, "3600"]
    volumeMounts:
    - {name: unset, mountPath: /unset}
    - {name: dir, mountPath: /dir}
    - {name: dircreate, mountPath: /dircreate}
    - {name: file, mountPath: /file}
    - {name: filecreate, mountPath: /filecreate}
    - {name: sock, mountPath: /sock}
    - {name: chr, mountPath: /chr}
    - {name: blk, mountPath: /blk}
`
	e.run(manifest)
	e.wait("hostpaths", sandbox.PodReady)
	out, code := e.exec("hostpaths", "c", "sh", "-c",
		"test -d /unset && cat /dir/hello && test -d /dircreate && cat /file && test -f /filecreate && test -S /sock && test -c /chr && test -b /blk && echo ok")
	if code != 0 || out != "from the host\na file\nok\n" {
		t.Errorf("hostPath mounts: exit %d, %q", code, out)
	}
	// The OrCreate types (and "") made what was missing, as the kubelet does.
	for p, dir := range map[string]bool{"unset-new": true, "new/dir": true, "newfile": false} {
		fi, err := os.Stat(filepath.Join(host, p))
		if err != nil || fi.IsDir() != dir || (dir && fi.Mode().Perm() != 0o755) || (!dir && fi.Mode().Perm() != 0o644) {
			t.Errorf("%s on the host: %v, %v", p, fi, err)
		}
	}
	// Writes go to the host.
	if _, code := e.exec("hostpaths", "c", "sh", "-c", "echo back > /dir/back"); code != 0 {
		t.Error("cannot write to a hostPath directory")
	}
	if b, _ := os.ReadFile(filepath.Join(host, "dir", "back")); string(b) != "back\n" {
		t.Errorf("the host sees %q", b)
	}

	// Each failure: the container waits in ContainerCreating with the kubelet's message.
	bad := []struct{ path, typ, want string }{
		{"file", "Directory", "is not a directory"},
		{"missing", "Directory", "is not a directory"},
		{"dir", "File", "is not a file"},
		{"file", "Socket", "is not a socket file"},
		{"dir", "CharDevice", "is not a character device"},
		{"file", "BlockDevice", "is not a block device"},
	}
	manifest = "apiVersion: v1\nkind: Pod\nmetadata: {name: badpaths}\nspec:\n  terminationGracePeriodSeconds: 0\n  volumes:\n"
	for i, b := range bad {
		manifest += vol(fmt.Sprintf("v%d", i), b.path, b.typ)
	}
	manifest += "  containers:\n"
	for i := range bad {
		manifest += fmt.Sprintf("  - {name: c%d, image: %s, command: [sleep, \"3600\"], volumeMounts: [{name: v%d, mountPath: /v}]}\n", i, testImage, i)
	}
	e.run(manifest)
	for i, b := range bad {
		msg := e.waitWaiting("badpaths", fmt.Sprintf("c%d", i), "ContainerCreating")
		want := fmt.Sprintf("MountVolume.SetUp failed for volume %q : hostPath type check failed: %s %s", fmt.Sprintf("v%d", i), filepath.Join(host, b.path), b.want)
		if msg != want {
			t.Errorf("%s as %s: message %q, want %q", b.path, b.typ, msg, want)
		}
	}
	if ev := findEvent(e.seedEvents("badpaths"), "FailedMount", ""); ev == nil || !strings.HasPrefix(ev.Message, "MountVolume.SetUp failed for volume ") {
		t.Errorf("FailedMount event: %+v", ev)
	}
	if _, err := os.Stat(filepath.Join(host, "missing")); err == nil {
		t.Error("a missing Directory was made")
	}
	p, _ := e.seedGet("badpaths")
	if p.Status.Phase != corev1.PodPending {
		t.Errorf("pod with failed mounts is %s, want Pending", p.Status.Phase)
	}
}

// Test 2 of issue 6, continued: a subPath that is, or passes through, a
// symlink out of its volume is refused and nothing outside is touched; a
// subPath inside works (made if missing), subPathExpr too.
func TestVolumeSubPathEscape(t *testing.T) {
	e := newEnv(t)
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("host only\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.run(`
apiVersion: v1
kind: Pod
metadata: {name: subpaths}
spec:
  terminationGracePeriodSeconds: 0
  volumes:
  - {name: data, emptyDir: {}}
  initContainers:
  - name: plant
    image: ` + testImage + `
    command: [sh, -c, 'ln -s ` + outside + ` /vol/escape && ln -s ../../../../../../../../.. /vol/up && mkdir -p /vol/real && echo inside > /vol/real/f && ln -s real /vol/ok']
    volumeMounts: [{name: data, mountPath: /vol}]
  containers:
  - name: good
    image: ` + testImage + `
    command: [sleep, "3600"]
    env: [{name: SUB, value: made}]
    volumeMounts:
    - {name: data, mountPath: /real, subPath: real}
    - {name: data, mountPath: /vialink, subPath: ok/f}
    - {name: data, mountPath: /made, subPathExpr: "new/$(SUB)"}
  - name: link
    image: ` + testImage + `
    command: [sleep, "3600"]
    volumeMounts: [{name: data, mountPath: /x, subPath: escape}]
  - name: through
    image: ` + testImage + `
    command: [sleep, "3600"]
    volumeMounts: [{name: data, mountPath: /x, subPath: escape/newdir}]
  - name: up
    image: ` + testImage + `
    command: [sleep, "3600"]
    volumeMounts: [{name: data, mountPath: /x, subPath: up/etc}]
`)
	for _, c := range []string{"link", "through", "up"} {
		msg := e.waitWaiting("subpaths", c, "CreateContainerConfigError")
		if !strings.Contains(msg, `failed to prepare subPath for volumeMount "data" of container "`+c+`"`) || !strings.Contains(msg, "leads out of the volume") {
			t.Errorf("container %s: %q", c, msg)
		}
	}
	eventually(t, 10*time.Second, func() string {
		p, _ := e.seedGet("subpaths")
		for _, cs := range p.Status.ContainerStatuses {
			if cs.Name == "good" && cs.State.Running == nil {
				return "good is " + stateString(cs.State)
			}
		}
		return ""
	})
	out, code := e.exec("subpaths", "good", "sh", "-c", "cat /real/f /vialink && test -d /made && touch /made/x && echo ok")
	if code != 0 || out != "inside\ninside\nok\n" {
		t.Errorf("subPath mounts: exit %d, %q", code, out)
	}
	entries, _ := os.ReadDir(outside)
	if len(entries) != 1 {
		t.Errorf("something was made outside the volume: %v", entries)
	}
	if b, _ := os.ReadFile(filepath.Join(outside, "secret")); string(b) != "host only\n" {
		t.Errorf("outside file changed: %q", b)
	}
	// The subPath mounts go with the container.
	if err := e.rt.Delete(context.Background(), "default", "subpaths", sandbox.DeleteOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	if leaks := e.sandboxLeaks("subpaths"); len(leaks) > 0 {
		t.Errorf("left after delete: %v", leaks)
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 1 {
		t.Errorf("the delete touched the outside: %v", entries)
	}
}

// secretValue is what TestVolumeConfigMapSecret's Secret holds; it must
// never be found on disk.
const secretValue = "s3cr3t-" + "do-not-leak-4b1d"

// Test 3 of issue 6: a ConfigMap and a Secret from the same manifest, as
// env (valueFrom, envFrom) and as files; the Secret is on a tmpfs only,
// never in logs, the pod's record or status, or anywhere else on disk.
func TestVolumeConfigMapSecret(t *testing.T) {
	e := newEnv(t)
	e.runManifest(`
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data:
  greeting: hello
  app.conf: |
    port=8080
binaryData:
  blob: AAEC
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
data:
  password: ` + base64.StdEncoding.EncodeToString([]byte(secretValue)) + `
stringData:
  user: admin
---
apiVersion: v1
kind: Pod
metadata: {name: objs, labels: {app: objs, tier: test}}
spec:
  terminationGracePeriodSeconds: 0
  volumes:
  - {name: cfg, configMap: {name: cfg}}
  - {name: cfgitems, configMap: {name: cfg, defaultMode: 0600, items: [{key: app.conf, path: sub/app.conf, mode: 0640}]}}
  - {name: creds, secret: {secretName: creds}}
  - {name: credsmode, secret: {secretName: creds, defaultMode: 0440, items: [{key: password, path: pw}]}}
  - {name: nothing, secret: {secretName: absent, optional: true}}
  - name: info
    downwardAPI:
      items:
      - {path: name, fieldRef: {fieldPath: metadata.name}}
      - {path: labels, fieldRef: {fieldPath: metadata.labels}}
      - {path: cpu, resourceFieldRef: {containerName: c, resource: limits.cpu}}
  containers:
  - name: c
    image: ` + testImage + `
    command: [sh, -c, 'echo "greeting=$GREETING user=$CREDS_user"; sleep 3600']
    env:
    - {name: GREETING, valueFrom: {configMapKeyRef: {name: cfg, key: greeting}}}
    - {name: PASSWORD, valueFrom: {secretKeyRef: {name: creds, key: password}}}
    - {name: MISSING, valueFrom: {configMapKeyRef: {name: cfg, key: nope, optional: true}}}
    - {name: POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
    - {name: NODE, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}
    - {name: APP, valueFrom: {fieldRef: {fieldPath: "metadata.labels['app']"}}}
    - {name: MEM, valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}}
    - {name: COMBINED, value: "$(GREETING)-$(CFG_greeting)"}
    envFrom:
    - {prefix: CFG_, configMapRef: {name: cfg}}
    - {prefix: CREDS_, secretRef: {name: creds}}
    volumeMounts:
    - {name: cfg, mountPath: /cfg}
    - {name: cfgitems, mountPath: /cfgitems}
    - {name: creds, mountPath: /creds}
    - {name: credsmode, mountPath: /credsmode}
    - {name: nothing, mountPath: /nothing}
    - {name: info, mountPath: /info}
`)
	p := e.wait("objs", sandbox.PodReady)
	host, _ := os.Hostname()
	var si unix.Sysinfo_t
	if err := unix.Sysinfo(&si); err != nil {
		t.Fatal(err)
	}
	mem := (int64(si.Totalram)*int64(si.Unit) + (1<<20 - 1)) >> 20
	want := map[string]string{
		"GREETING": "hello", "PASSWORD": secretValue, "POD": "objs", "POD_IP": p.Status.PodIP, "NODE": host,
		"APP": "objs", "MEM": strconv.FormatInt(mem, 10), "COMBINED": "hello-hello",
		"CFG_greeting": "hello", "CFG_app.conf": "port=8080\n", "CREDS_password": secretValue, "CREDS_user": "admin",
	}
	if p.Status.PodIP == "" {
		t.Error("the pod has no IP")
	}
	environ, code := e.exec("objs", "c", "cat", "/proc/self/environ")
	if code != 0 {
		t.Fatalf("read the environment: %s", environ)
	}
	got := map[string]string{}
	for _, kv := range strings.Split(environ, "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			got[k] = v
		}
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if _, ok := got["MISSING"]; ok {
		t.Error("MISSING, an optional key that is absent, is set")
	}
	files := []struct{ path, content, mode string }{
		{"/cfg/greeting", "hello", "644"},
		{"/cfg/app.conf", "port=8080\n", "644"},
		{"/cfg/blob", "\x00\x01\x02", "644"},
		{"/cfgitems/sub/app.conf", "port=8080\n", "640"},
		{"/creds/password", secretValue, "400"},
		{"/creds/user", "admin", "400"},
		{"/credsmode/pw", secretValue, "440"},
		{"/info/name", "objs", "644"},
		{"/info/labels", "app=\"objs\"\ntier=\"test\"", "644"},
		{"/info/cpu", strconv.Itoa(goruntime.NumCPU()), "644"},
	}
	for _, f := range files {
		out, code := e.exec("objs", "c", "cat", f.path)
		if code != 0 || out != f.content {
			t.Errorf("%s = %q (exit %d), want %q", f.path, out, code, f.content)
		}
		if out, _ := e.exec("objs", "c", "stat", "-L", "-c", "%a", f.path); out != f.mode+"\n" {
			t.Errorf("%s has mode %q, want %s", f.path, out, f.mode)
		}
	}
	if out, _ := e.exec("objs", "c", "ls", "-A", "/nothing", "/cfgitems"); out != "/cfgitems:\nsub\n\n/nothing:\n" {
		t.Errorf("optional missing secret and items: %q", out)
	}
	if _, code := e.exec("objs", "c", "touch", "/cfg/x"); code == 0 {
		t.Error("a configMap volume is writable")
	}
	if out, _ := e.exec("objs", "c", "sh", "-c", "grep ' /creds ' /proc/mounts"); !strings.Contains(out, " tmpfs ") {
		t.Errorf("the secret volume is not on a tmpfs: %q", out)
	}
	if logs := e.seedLogs("objs", "c", false); !strings.Contains(logs, "greeting=hello user=admin") {
		t.Errorf("logs: %q", logs)
	}
	// Nothing outside the pod's secret tmpfs holds the Secret.
	e.assertNoSecret(secretValue)
	if err := e.rt.Delete(context.Background(), "default", "objs", sandbox.DeleteOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	if leaks := e.sandboxLeaks("objs"); len(leaks) > 0 {
		t.Errorf("left after delete: %v", leaks)
	}
	e.assertNoSecret(secretValue)
}

// assertNoSecret fails the test if a file under the env's state, log or
// image root (pod data) that is not on a tmpfs holds value, plain or base64.
func (e *env) assertNoSecret(value string) {
	e.t.Helper()
	needles := [][]byte{[]byte(value), []byte(base64.StdEncoding.EncodeToString([]byte(value)))}
	for _, dir := range []string{e.dir, filepath.Join(e.root, "pods")} {
		_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return nil
			}
			var st unix.Statfs_t
			if unix.Statfs(path, &st) == nil && st.Type == unix.TMPFS_MAGIC {
				return nil
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return nil
			}
			for _, n := range needles {
				if bytes.Contains(data, n) {
					e.t.Errorf("the Secret is on disk in %s", path)
				}
			}
			return nil
		})
	}
}

// A reference to a ConfigMap, Secret or key that is missing is the
// container's CreateContainerConfigError with the kubelet's message.
func TestVolumeMissingReferences(t *testing.T) {
	e := newEnv(t)
	e.runManifest(`
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {a: b}
---
apiVersion: v1
kind: Pod
metadata: {name: missing}
spec:
  terminationGracePeriodSeconds: 0
  volumes:
  - {name: vol, configMap: {name: cfg, items: [{key: nope, path: x}]}}
  containers:
  - name: nocm
    image: ` + testImage + `
    command: [sleep, "3600"]
    env: [{name: X, valueFrom: {configMapKeyRef: {name: absent, key: a}}}]
  - name: nokey
    image: ` + testImage + `
    command: [sleep, "3600"]
    env: [{name: X, valueFrom: {configMapKeyRef: {name: cfg, key: nope}}}]
  - name: nosecret
    image: ` + testImage + `
    command: [sleep, "3600"]
    envFrom: [{secretRef: {name: absent}}]
  - name: novolkey
    image: ` + testImage + `
    command: [sleep, "3600"]
    volumeMounts: [{name: vol, mountPath: /v}]
`)
	for ctr, want := range map[string][2]string{
		"nocm":     {"CreateContainerConfigError", `configmap "absent" not found`},
		"nokey":    {"CreateContainerConfigError", "couldn't find key nope in ConfigMap default/cfg"},
		"nosecret": {"CreateContainerConfigError", `secret "absent" not found`},
		"novolkey": {"ContainerCreating", `MountVolume.SetUp failed for volume "vol" : configmap references non-existent config key: nope`},
	} {
		if msg := e.waitWaiting("missing", ctr, want[0]); msg != want[1] {
			t.Errorf("%s: %q, want %q", ctr, msg, want[1])
		}
	}
}

// A shim that dies and is replaced keeps the pod's volumes (and exec gets
// the environment with values from Secrets); a delete after both shim and
// keeper were killed removes every volume mount (emptyDir tmpfs, secret
// tmpfs, subPath mounts) and the pod's data, and leaves hostPath data alone.
func TestVolumesAfterKilledShim(t *testing.T) {
	e := newEnv(t)
	host := t.TempDir()
	if err := os.MkdirAll(filepath.Join(host, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(host, "sub", "keep"), []byte("keep\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.runManifest(`
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {password: ` + secretValue + `}
---
apiVersion: v1
kind: Pod
metadata: {name: killed}
spec:
  terminationGracePeriodSeconds: 0
  volumes:
  - {name: mem, emptyDir: {medium: Memory}}
  - {name: disk, emptyDir: {}}
  - {name: creds, secret: {secretName: creds}}
  - {name: host, hostPath: {path: ` + host + `, type: Directory}}
  containers:
  - name: c
    image: ` + testImage + `
    command: [sleep, "3600"]
    env: [{name: PASSWORD, valueFrom: {secretKeyRef: {name: creds, key: password}}}]
    volumeMounts:
    - {name: mem, mountPath: /mem}
    - {name: disk, mountPath: /disk, subPath: a/b}
    - {name: creds, mountPath: /creds}
    - {name: host, mountPath: /host, subPath: sub}
`)
	uid := string(e.wait("killed", sandbox.PodReady).UID)
	if _, code := e.exec("killed", "c", "sh", "-c", "echo m > /mem/f && echo d > /disk/f"); code != 0 {
		t.Fatal("cannot write to the volumes")
	}
	old := readShimPID(t, e, "killed")
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() string {
		if readShimPID(t, e, "killed") == old {
			return "no new shim"
		}
		return ""
	})
	// The container is adopted (or, if the new shim finds the sandbox
	// gone, made again with the same volumes).
	eventually(t, 20*time.Second, func() string {
		out, err := e.tryExec("killed", "c", "sh", "-c", `cat /mem/f /disk/f /host/keep; echo "$PASSWORD"`)
		if err != nil || out != "m\nd\nkeep\n"+secretValue+"\n" {
			return fmt.Sprintf("after the shim was replaced: %q, %v", out, err)
		}
		return ""
	})
	e.assertNoSecret(secretValue)

	killShimAndKeeper(t, e, "killed")
	if err := e.rt.Delete(context.Background(), "default", "killed", sandbox.DeleteOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	if leaks := testutil.Leaks([]string{e.dir, filepath.Join(e.root, "pods"), host}, e.cg); len(leaks) > 0 {
		t.Errorf("left after delete: %v", leaks)
	}
	if _, err := os.Stat(filepath.Join(e.root, "pods", uid)); err == nil {
		t.Error("the pod's data directory is left")
	}
	if b, err := os.ReadFile(filepath.Join(host, "sub", "keep")); err != nil || string(b) != "keep\n" {
		t.Errorf("hostPath data after delete: %q, %v", b, err)
	}
}

// mountPropagation: HostToContainer (rslave) sees what the host mounts in
// the volume after the container started; None (rprivate) does not.
func TestVolumeMountPropagation(t *testing.T) {
	e := newEnv(t)
	host := t.TempDir()
	// The volume is a shared mount of its own, so the test does not depend
	// on the host's propagation.
	if err := unix.Mount(host, host, "", unix.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = unix.Unmount(host, unix.MNT_DETACH) }()
	if err := unix.Mount("", host, "", unix.MS_SHARED, ""); err != nil {
		t.Fatal(err)
	}
	e.run(`
apiVersion: v1
kind: Pod
metadata: {name: prop}
spec:
  terminationGracePeriodSeconds: 0
  volumes:
  - {name: host, hostPath: {path: ` + host + `}}
  containers:
  - name: c
    image: ` + testImage + `
    command: [sleep, "3600"]
    volumeMounts:
    - {name: host, mountPath: /slave, mountPropagation: HostToContainer}
    - {name: host, mountPath: /private}
`)
	e.wait("prop", sandbox.PodReady)
	later := filepath.Join(host, "later")
	if err := os.Mkdir(later, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("podbox-prop-test", later, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = unix.Unmount(later, unix.MNT_DETACH) }()
	out, _ := e.exec("prop", "c", "sh", "-c", "grep -c podbox-prop-test /proc/mounts; grep podbox-prop-test /proc/mounts | cut -d' ' -f2")
	if out != "1\n/slave/later\n" {
		t.Errorf("mounts made on the host after the start, seen in the container: %q, want only /slave/later", out)
	}
}

// fsGroup owns the pod's writable volumes: a non-root container (uid 1000)
// writes to an emptyDir through the group, and its files carry it.
func TestVolumeFSGroup(t *testing.T) {
	e := newEnv(t)
	e.run(`{apiVersion: v1, kind: Pod, metadata: {name: fsg}, spec: {
 securityContext: {runAsUser: 1000, runAsGroup: 1000, fsGroup: 2000},
 volumes: [{name: data, emptyDir: {}}],
 containers: [{name: a, image: ` + testImage + `, command: [sleep, "600"], volumeMounts: [{name: data, mountPath: /data}]}]}}`)
	e.wait("fsg", sandbox.PodReady)
	out, code := e.exec("fsg", "a", "sh", "-c", "id -G; stat -c '%g %A' /data; touch /data/f && stat -c '%g' /data/f")
	if code != 0 {
		t.Fatalf("exec: %d %q", code, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.Contains(" "+lines[0]+" ", " 2000 ") || !strings.HasPrefix(lines[1], "2000 drwxrws") || lines[2] != "2000" {
		t.Errorf("groups, volume and new file:\n%s\nwant 2000 among the groups, a setgid group-writable volume of group 2000, a file of group 2000", out)
	}
}
