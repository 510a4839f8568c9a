package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Without the CNI plugins the network needs, run fails naming them and the
// package that provides them, and makes nothing; a second pod asking for a
// host port another pod holds is refused the same way; info shows the
// network.
func TestCLINetworkErrors(t *testing.T) {
	c := newCLI(t)
	c.importBusybox()
	pod := `{apiVersion: v1, kind: Pod, metadata: {name: NAME}, spec: {terminationGracePeriodSeconds: 0, containers: [
	  {name: a, image: localhost/busybox:1.36, command: [sleep, "1000"], ports: [{containerPort: 80, hostPort: 18090}]}]}}`
	empty := filepath.Join(c.dir, "no-plugins")
	if err := os.MkdirAll(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	_, errs, code := c.run(strings.Replace(pod, "NAME", "noplugins", 1), "--cni-bin-dir", empty, "run", "-f", "-")
	if code == 0 || !strings.Contains(errs, "CNI plugin not found: bridge, host-local, portmap, firewall") ||
		!strings.Contains(errs, "install containernetworking-plugins") {
		t.Errorf("run without CNI plugins: exit %d, stderr %q", code, errs)
	}
	if out := c.ok("", "get", "-o", "name"); out != "" {
		t.Errorf("a pod was left: %q", out)
	}

	c.ok(strings.Replace(pod, "NAME", "first", 1), "run", "-f", "-")
	_, errs, code = c.run(strings.Replace(pod, "NAME", "second", 1), "run", "-f", "-")
	if code == 0 || !strings.Contains(errs, "spec.containers[0].ports[0].hostPort: 18090/TCP is held by pod default/first") {
		t.Errorf("second pod on the same host port: exit %d, stderr %q", code, errs)
	}
	if out := c.ok("", "get", "-o", "name"); out != "pod/first\n" {
		t.Errorf("pods after the refusal: %q", out)
	}
	info := c.ok("", "info")
	if !strings.Contains(info, "network:        "+c.net.Name+" ("+filepath.Join(c.net.ConfDir, c.net.Name+".conflist")+")") ||
		!strings.Contains(info, "plugins:      bridge host-local portmap firewall") {
		t.Errorf("info:\n%s", info)
	}
	c.ok("", "delete", "first")
}
