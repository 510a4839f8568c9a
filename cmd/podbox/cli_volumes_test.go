package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// podbox run -f takes ConfigMap and Secret documents from the same file as
// the pod (as podman kube play does); exec sees the Secret in the env, and
// neither the shim log nor the pod's files on disk hold it.
func TestCLIConfigMapSecret(t *testing.T) {
	c := newCLI(t)
	c.importBusybox()
	manifest := filepath.Join(t.TempDir(), "app.yaml") // outside the dirs checked below
	const secret = "cli-s3cret-value-9f2e"
	if err := os.WriteFile(manifest, []byte(`apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {mode: fast}
---
apiVersion: v1
kind: Secret
metadata: {name: token}
stringData: {value: `+secret+`}
---
apiVersion: v1
kind: Pod
metadata: {name: app}
spec:
  terminationGracePeriodSeconds: 0
  volumes:
  - {name: settings, configMap: {name: settings}}
  - {name: token, secret: {secretName: token}}
  containers:
  - name: c
    image: localhost/busybox:1.36
    command: [sh, -c, 'echo "mode=$MODE"; exec sleep 1000']
    env:
    - {name: MODE, valueFrom: {configMapKeyRef: {name: settings, key: mode}}}
    - {name: TOKEN, valueFrom: {secretKeyRef: {name: token, key: value}}}
    volumeMounts:
    - {name: settings, mountPath: /etc/settings}
    - {name: token, mountPath: /var/run/token}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	c.ok("", "run", "-f", manifest, "--wait", "--for", "condition=Ready")
	if out := c.ok("", "exec", "app", "--", "sh", "-c", `echo "$TOKEN"; cat /etc/settings/mode /var/run/token/value`); out != secret+"\nfast"+secret {
		t.Errorf("exec: %q", out)
	}
	if out := c.ok("", "logs", "app"); out != "mode=fast\n" {
		t.Errorf("logs: %q", out)
	}
	_ = filepath.WalkDir(c.dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		var st unix.Statfs_t
		if unix.Statfs(path, &st) == nil && st.Type == unix.TMPFS_MAGIC {
			return nil // the pod's secret tmpfs
		}
		if b, err := os.ReadFile(path); err == nil && strings.Contains(string(b), secret) {
			t.Errorf("the Secret is in %s", path)
		}
		return nil
	})
	// A ConfigMap alone is not a pod.
	only := filepath.Join(c.dir, "cm.yaml")
	if err := os.WriteFile(only, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errs, code := c.run("", "run", "-f", only); code == 0 || !strings.Contains(errs, "no pods in the manifests") {
		t.Errorf("run of a ConfigMap alone: exit %d, %s", code, errs)
	}
}
