package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/podbox/podbox/sandbox"
)

// podbox top prints kubectl top pod's table; describe shows the QoS class.
func TestCLITop(t *testing.T) {
	c := newCLI(t)
	c.importBusybox()
	manifest := filepath.Join(c.dir, "pod.yaml")
	if err := os.WriteFile(manifest, []byte(`apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
  - name: app
    image: localhost/busybox:1.36
    command: [sleep, "1000"]
    resources: {limits: {cpu: 100m, memory: 16Mi}}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, errs, code := c.run("", "top"); code != 0 || out != "" || errs != "No resources found in default namespace.\n" {
		t.Errorf("top without pods: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	c.ok("", "run", "-f", manifest)
	out := c.ok("", "top", "pod", "--window", "200ms")
	if !regexp.MustCompile(`^NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)\s*\nweb\s+\d+m\s+\d+Mi\s*\n$`).MatchString(out) {
		t.Errorf("podbox top pod:\n%s", out)
	}
	out = c.ok("", "top", "--containers", "-A", "--window", "200ms")
	if !regexp.MustCompile(`^NAMESPACE\s+POD\s+NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)\s*\ndefault\s+web\s+app\s+\d+m\s+\d+Mi\s*\n$`).MatchString(out) {
		t.Errorf("podbox top --containers -A:\n%s", out)
	}
	if _, errs, code := c.run("", "top", "nosuch"); code == 0 || !strings.Contains(errs, `"nosuch" not found`) {
		t.Errorf("top of a missing pod: exit %d, stderr %q", code, errs)
	}
	if out := c.ok("", "describe", "pod", "web"); !regexp.MustCompile(`(?m)^QoS Class:\s+Guaranteed$`).MatchString(out) {
		t.Errorf("describe shows no Guaranteed QoS class:\n%s", out)
	}
}

func TestPrintTop(t *testing.T) {
	pods := []sandbox.PodUsage{
		{Namespace: "default", Name: "a", Usage: sandbox.Usage{MilliCPU: 5, Memory: 3 << 20},
			Containers: []sandbox.ContainerUsage{{Name: "x", Usage: sandbox.Usage{MilliCPU: 5, Memory: 2 << 20}}}},
		{Namespace: "kube", Name: "bb", Usage: sandbox.Usage{MilliCPU: 250, Memory: 1 << 20},
			Containers: []sandbox.ContainerUsage{{Name: "y", Usage: sandbox.Usage{MilliCPU: 200}}, {Name: "z", Usage: sandbox.Usage{MilliCPU: 49, Memory: 5 << 20}}}},
	}
	for _, tt := range []struct {
		f    topFormat
		want string
	}{
		// kubectl's table writer: columns at least 10 wide, 3 spaces apart.
		{topFormat{}, "NAME      CPU(cores)   MEMORY(bytes)\na         5m           3Mi\nbb        250m         1Mi\n"},
		{topFormat{sortBy: "cpu", noHeaders: true}, "bb        250m      1Mi\na         5m        3Mi\n"},
		{topFormat{containers: true, allNamespaces: true, sortBy: "memory"},
			"NAMESPACE   POD       NAME      CPU(cores)   MEMORY(bytes)\n" +
				"kube        bb        z         49m          5Mi\n" +
				"default     a         x         5m           2Mi\n" +
				"kube        bb        y         200m         0Mi\n"},
	} {
		var b bytes.Buffer
		printTop(&b, pods, tt.f)
		if b.String() != tt.want {
			t.Errorf("printTop(%+v):\n%s\nwant:\n%s", tt.f, b.String(), tt.want)
		}
	}
}
