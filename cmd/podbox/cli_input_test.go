package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Bad input: a one-line clear error naming the field or file, a non-zero
// exit code, and nothing created.
func TestCLIBadInput(t *testing.T) {
	c := newCLI(t)
	c.importBusybox()
	c.ok("apiVersion: v1\nkind: Pod\nmetadata: {name: taken}\nspec: {containers: [{name: a, image: localhost/busybox:1.36, command: [sleep, '100']}]}\n", "run", "-f", "-")
	pod := func(body string) string {
		return "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n" + body
	}
	cases := []struct {
		name, stdin string
		args        []string
		want        []string
	}{
		{"missing file", "", []string{"run", "-f", "/nonexistent/pod.yaml"}, []string{"/nonexistent/pod.yaml", "no such file"}},
		{"not a pod", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n", []string{"run", "-f", "-"},
			[]string{"<stdin>", "kind Deployment is not supported"}},
		{"malformed yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: [\n", []string{"run", "-f", "-"}, []string{"<stdin>", "line"}},
		{"unknown field", pod("  containers: [{name: a, image: localhost/busybox:1.36, imagePullPolcy: Always}]\n"),
			[]string{"run", "-f", "-"}, []string{"spec.containers[0].imagePullPolcy: unknown field"}},
		{"duplicate names", pod("  containers: [{name: a, image: localhost/busybox:1.36}, {name: a, image: localhost/busybox:1.36}]\n"),
			[]string{"run", "-f", "-"}, []string{`spec.containers[1].name: Duplicate value: "a"`}},
		{"bad name", "apiVersion: v1\nkind: Pod\nmetadata: {name: Web}\nspec: {containers: [{name: a, image: localhost/busybox:1.36}]}\n",
			[]string{"run", "-f", "-"}, []string{`metadata.name: Invalid value: "Web"`}},
		{"missing image", pod("  containers: [{name: a}]\n"), []string{"run", "-f", "-"}, []string{"spec.containers[0].image: Required value"}},
		{"name taken", "apiVersion: v1\nkind: Pod\nmetadata: {name: taken}\nspec: {containers: [{name: a, image: localhost/busybox:1.36}]}\n",
			[]string{"run", "-f", "-"}, []string{`pods "taken" already exists in namespace "default"`}},
		{"namespace mismatch", "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nspec: {containers: [{name: a, image: localhost/busybox:1.36}]}\n",
			[]string{"run", "-n", "b", "-f", "-"}, []string{`does not match the namespace "b"`}},
		{"one bad pod stops all", "apiVersion: v1\nkind: Pod\nmetadata: {name: good}\nspec: {containers: [{name: a, image: localhost/busybox:1.36}]}\n---\n" + pod("  containers: [{name: a}]\n"),
			[]string{"run", "-f", "-"}, []string{"spec.containers[0].image: Required value"}},
		{"no such pod", "", []string{"logs", "nope"}, []string{`pods "nope" not found`}},
		{"bad output format", "", []string{"get", "-o", "xml"}, []string{`unknown output format "xml"`}},
	}
	uid := strings.TrimSpace(c.ok("", "get", "taken", "-o", "jsonpath={.metadata.uid}"))
	takenData := "root/pods/" + uid
	before := tree(t, c.dir, takenData)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, errs, code := c.run(tc.stdin, tc.args...)
			if code == 0 {
				t.Fatalf("exit 0, stdout %q", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr %q does not contain %q", errs, w)
				}
			}
			if !strings.HasPrefix(errs, "Error: ") {
				t.Errorf("stderr %q does not start with Error:", errs)
			}
			if after := tree(t, c.dir, takenData); after != before {
				t.Errorf("files changed:\n%s\n->\n%s", before, after)
			}
		})
	}
}

// Several pods from stdin, YAML and JSON, in two namespaces.
func TestCLIManyPodsAndNamespaces(t *testing.T) {
	c := newCLI(t)
	c.importBusybox()
	stdin := `apiVersion: v1
kind: Pod
metadata: {name: one}
spec: {containers: [{name: a, image: localhost/busybox:1.36, command: [sleep, "100"]}]}
---
# a comment-only document is skipped
---
{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "two", "namespace": "other"},
 "spec": {"containers": [{"name": "a", "image": "localhost/busybox:1.36", "command": ["sleep", "100"]}]}}
`
	out := c.ok(stdin, "run", "-f", "-")
	if out != "pod/one created\npod/two created\n" {
		t.Errorf("run: %q", out)
	}
	if out := c.ok("", "get", "-n", "other"); !regexp.MustCompile(`(?m)^two\s+1/1\s+Running`).MatchString(out) || strings.Contains(out, "one") {
		t.Errorf("get -n other:\n%s", out)
	}
	if out := c.ok("", "get", "-A"); !regexp.MustCompile(`(?s)^NAMESPACE\s+NAME.*\ndefault\s+one\s.*\nother\s+two\s`).MatchString(out) {
		t.Errorf("get -A:\n%s", out)
	}
	if out := c.ok("", "--namespace", "other", "wait", "two", "--for=condition=Ready", "--timeout", "10s"); out != "pod/two condition met\n" {
		t.Errorf("wait: %q", out)
	}
	if out := c.ok("", "delete", "--all", "--grace-period", "0"); out != "pod \"one\" deleted\n" {
		t.Errorf("delete --all (default namespace only): %q", out)
	}
	if out := c.ok("", "get", "-A", "-o", "name"); out != "pod/two\n" {
		t.Errorf("left: %q", out)
	}
}

func TestCLIInfoAndVersion(t *testing.T) {
	c := newCLI(t)
	out := c.ok("", "info")
	for _, want := range []string{"cgroups:", "seccomp:        true", "image store:    " + filepath.Join(c.root, "images"), "pause binary:   " + c.pause,
		"  default:      RuntimeDefault (profiles in " + filepath.Join(c.root, "seccomp") + ")"} {
		if !strings.Contains(out, want) {
			t.Errorf("info lacks %q:\n%s", want, out)
		}
	}
	profiles := t.TempDir()
	if out := c.ok("", "--seccomp-profile-root", profiles, "info"); !strings.Contains(out, "(profiles in "+profiles+")") {
		t.Errorf("info with --seccomp-profile-root %s:\n%s", profiles, out)
	}
	if out := c.ok("", "version"); !strings.Contains(out, "github.com/opencontainers/runc: v1.5.2") {
		t.Errorf("version:\n%s", out)
	}
}

// tree lists the files below dir (skipping image store internals), to show
// that a failed command created nothing.
func tree(t *testing.T, dir string, extraSkip ...string) string {
	t.Helper()
	var b strings.Builder
	_ = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		// The image store, the pause rootfs cache, and the directories of
		// the pod that is running change by themselves.
		for _, skip := range append([]string{"root/images", "root/pause", "state/pods/default/taken", "log/default_taken_"}, extraSkip...) {
			if strings.HasPrefix(rel, skip) {
				return nil
			}
		}
		b.WriteString(rel + "\n")
		return nil
	})
	return b.String()
}

func TestCLIDescribe(t *testing.T) {
	c := newCLI(t)
	c.importBusybox()
	c.ok(`{apiVersion: v1, kind: Pod, metadata: {name: desc}, spec: {containers: [{name: a, image: localhost/busybox:1.36, command: [sleep, "100"], env: [{name: GREETING, value: hi}]}]}}`, "run", "-f", "-")
	out := c.ok("", "describe", "pod", "desc")
	for _, want := range []string{
		"Name:         desc\nNamespace:    default\n",
		"Status:       Running",
		"Containers:\n  a:\n    Container ID:  podbox://",
		"    State:          Running\n",
		"      GREETING:  hi\n",
		"Events:\n  Type    Reason     Age",
		"Normal  Scheduled",
		"spec.containers{a}: Started container a",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("describe lacks %q:\n%s", want, out)
		}
	}
	if _, errs, code := c.run("", "describe", "nope"); code == 0 || !strings.Contains(errs, `pods "nope" not found`) {
		t.Errorf("describe of a missing pod: %d %q", code, errs)
	}
}
