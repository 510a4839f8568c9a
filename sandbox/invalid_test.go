package sandbox_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/podbox/podbox/internal/kube"
	"github.com/podbox/podbox/sandbox"
)

// Invalid pods are refused with every problem named by its field path, and
// nothing is created.
func TestInvalidPodsCreateNothing(t *testing.T) {
	e := newEnv(t)
	e.run(`{apiVersion: v1, kind: Pod, metadata: {name: taken}, spec: {containers: [{name: a, image: ` + testImage + `, command: [sleep, "100"]}]}}`)
	cases := []struct {
		name     string
		manifest string
		want     []string
	}{
		{"duplicate names", `
apiVersion: v1
kind: Pod
metadata: {name: dup}
spec:
  initContainers: [{name: app, image: ` + testImage + `}]
  containers: [{name: app, image: ` + testImage + `}, {name: app, image: ` + testImage + `}]`,
			[]string{`spec.containers[1].name: Duplicate value: "app"`, `spec.initContainers[0].name: Duplicate value: "app"`}},
		{"bad names", `
apiVersion: v1
kind: Pod
metadata: {name: Bad_Name}
spec:
  containers: [{name: "App", image: ` + testImage + `}]`,
			[]string{`metadata.name: Invalid value: "Bad_Name"`, `spec.containers[0].name: Invalid value: "App"`}},
		{"missing image", `
apiVersion: v1
kind: Pod
metadata: {name: noimage}
spec:
  containers: [{name: a}]`,
			[]string{`spec.containers[0].image: Required value`}},
		{"no containers", `
apiVersion: v1
kind: Pod
metadata: {name: empty}
spec: {}`,
			[]string{`spec.containers: Required value`}},
		{"several problems at once", `
apiVersion: v1
kind: Pod
metadata: {name: both}
spec:
  restartPolicy: Sometimes
  containers: [{name: a}, {name: a, image: ` + testImage + `}]`,
			[]string{`spec.containers[1].name: Duplicate value: "a"`, `spec.containers[0].image: Required value`, `spec.restartPolicy: Unsupported value: "Sometimes"`}},
		{"name taken", `
apiVersion: v1
kind: Pod
metadata: {name: taken}
spec:
  containers: [{name: a, image: ` + testImage + `}]`,
			[]string{`pods "taken" already exists`}},
		{"unsupported feature", `
apiVersion: v1
kind: Pod
metadata: {name: tty}
spec:
  containers:
  - name: a
    image: ` + testImage + `
    tty: true`,
			[]string{`spec.containers[0].tty`, `not supported`}},
	}
	before := podDirs(t, e)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := kube.Decode(strings.NewReader(c.manifest), "pod.yaml")
			if err != nil {
				t.Fatal(err)
			}
			_, err = e.rt.Run(context.Background(), m.Pods[0])
			if err == nil {
				t.Fatal("Run accepted an invalid pod")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if after := podDirs(t, e); after != before {
				t.Errorf("pod directories changed: %q -> %q", before, after)
			}
		})
	}
	// Every problem of a pod is reported at once.
	m, _ := kube.Decode(strings.NewReader(cases[0].manifest), "pod.yaml")
	_, err := e.rt.Run(context.Background(), m.Pods[0])
	var inv *sandbox.InvalidError
	if !errors.As(err, &inv) || len(inv.Errs) < 2 || !errors.Is(err, sandbox.ErrInvalid) {
		t.Errorf("want an InvalidError with every problem, got %v", err)
	}
}

// Manifests that are not valid Pods are refused when read, naming the field.
func TestDecodeErrors(t *testing.T) {
	for _, c := range []struct{ manifest, want string }{
		{"apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec:\n  containers: [{name: a, image: b, imagePullPolcy: Always}]\n",
			"spec.containers[0].imagePullPolcy: unknown field"},
		{"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n", "kind Deployment is not supported"},
		{"apiVersion: v1\nkind: Pod\nmetadata: {name: x\n", "line"},
		{"", "no objects found"},
	} {
		_, err := kube.Decode(strings.NewReader(c.manifest), "pod.yaml")
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "pod.yaml") {
			t.Errorf("decode %q: error %v, want one naming pod.yaml and containing %q", c.manifest, err, c.want)
		}
	}
}

// podDirs lists everything under the env's state, root pods and log dirs.
func podDirs(t *testing.T, e *env) string {
	t.Helper()
	var names []string
	for _, d := range []string{e.state + "/pods/default", e.root + "/pods", e.dir + "/log"} {
		ents, _ := os.ReadDir(d)
		for _, ent := range ents {
			names = append(names, d+"/"+ent.Name())
		}
	}
	return strings.Join(names, " ")
}

// Names become paths: a name that is not a valid pod name never reaches
// the file system, whatever the verb.
func TestBadNamesNeverReachTheFileSystem(t *testing.T) {
	e := newEnv(t)
	victim := filepath.Join(e.dir, "victim")
	if err := os.MkdirAll(filepath.Join(victim, "keep"), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, ref := range [][2]string{{"default", "../../../victim"}, {"default", "../../victim"}, {"..", "victim"},
		{"default", "/etc"}, {"default", "a/b"}, {"Default", "web"}, {"default", ""}} {
		ns, name := ref[0], ref[1]
		errs := []error{
			e.rt.Delete(ctx, ns, name, sandbox.DeleteOptions{Force: true}),
			e.rt.Stop(ctx, ns, name, sandbox.StopOptions{}),
			e.rt.Logs(ctx, ns, name, sandbox.LogOptions{}, io.Discard),
		}
		_, err := e.rt.Get(ctx, ns, name)
		errs = append(errs, err)
		_, err = e.rt.Exec(ctx, ns, name, sandbox.ExecOptions{Command: []string{"true"}})
		errs = append(errs, err)
		for i, err := range errs {
			if !errors.Is(err, sandbox.ErrInvalid) {
				t.Errorf("%s/%s, call %d: %v, want an invalid-name error", ns, name, i, err)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(victim, "keep")); err != nil {
		t.Errorf("victim directory damaged: %v", err)
	}
}
