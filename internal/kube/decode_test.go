package kube

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
)

const podYAML = `apiVersion: v1
kind: Pod
metadata:
  name: %s
spec:
  containers:
  - name: app
    image: busybox
`

func pod(name string) string { return strings.ReplaceAll(podYAML, "%s", name) }

func podNames(m *Manifest) []string {
	var names []string
	for _, p := range m.Pods {
		names = append(names, p.Name)
	}
	return names
}

func TestDecodeOK(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []string
	}{
		{"one document", pod("web"), []string{"web"}},
		{"multi-document", pod("a") + "---\n" + pod("b") + "---\n" + pod("c"), []string{"a", "b", "c"}},
		{"leading separator and comments", "# my pods\n---\n" + pod("a"), []string{"a"}},
		{"empty documents skipped", "---\n---\n# nothing\n---\n" + pod("a") + "---\n...\n", []string{"a"}},
		{"document end markers", pod("a") + "...\n---\n" + pod("b"), []string{"a", "b"}},
		{"BOM", "\ufeff" + pod("a"), []string{"a"}},
		{"JSON", `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"j"},"spec":{"containers":[{"name":"app","image":"busybox"}]}}`, []string{"j"}},
		{"JSON with tabs", "{\n\t\"apiVersion\": \"v1\",\n\t\"kind\": \"Pod\",\n\t\"metadata\": {\"name\": \"t\"}\n}\n", []string{"t"}},
		{"JSON stream", `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"}} {"apiVersion":"v1","kind":"Pod","metadata":{"name":"b"}}`, []string{"a", "b"}},
		{"YAML flow mapping", `{apiVersion: v1, kind: Pod, metadata: {name: f}}`, []string{"f"}},
		{"List", `{"apiVersion":"v1","kind":"List","metadata":{},"items":[
			{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"}},
			{"apiVersion":"v1","kind":"Pod","metadata":{"name":"b"}}]}`, []string{"a", "b"}},
		{"PodList items without kind", "apiVersion: v1\nkind: PodList\nitems:\n- metadata: {name: a}\n- metadata: {name: b}\n", []string{"a", "b"}},
		{"YAML timestamp", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: ts\n  creationTimestamp: 2024-05-01T10:00:00Z\n", []string{"ts"}},
		{"YAML anchors", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: &n web\n  labels: {app: *n}\n", []string{"web"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Decode(strings.NewReader(tc.in), "pod.yaml")
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if diff := cmp.Diff(tc.want, podNames(m)); diff != "" {
				t.Errorf("pods (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeFields(t *testing.T) {
	in := `apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 5
  containers:
  - name: app
    image: nginx:1.27
    command: [nginx, -g, "daemon off;"]
    ports:
    - {name: http, containerPort: 80}
    readinessProbe:
      httpGet: {path: /, port: http}
    resources:
      limits: {cpu: 500m, memory: 64Mi}
`
	m, err := Decode(strings.NewReader(in), "pod.yaml")
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	grace := int64(5)
	want := &corev1.Pod{}
	want.APIVersion, want.Kind = "v1", "Pod"
	want.Name, want.Labels = "web", map[string]string{"app": "web"}
	want.Spec = corev1.PodSpec{
		RestartPolicy:                 corev1.RestartPolicyNever,
		TerminationGracePeriodSeconds: &grace,
		Containers: []corev1.Container{{
			Name:    "app",
			Image:   "nginx:1.27",
			Command: []string{"nginx", "-g", "daemon off;"},
			Ports:   []corev1.ContainerPort{{Name: "http", ContainerPort: 80}},
			ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
				HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr.FromString("http")},
			}},
			Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{
				corev1.ResourceCPU:    resource.MustParse("500m"),
				corev1.ResourceMemory: resource.MustParse("64Mi"),
			}},
		}},
	}
	if diff := cmp.Diff(want, m.Pods[0]); diff != "" {
		t.Errorf("pod (-want +got):\n%s", diff)
	}
}

var decodeErrorCases = []struct {
	name string
	in   string
	want string
}{
	{"empty", "", "pod.yaml: no objects found: the input is empty or holds only comments"},
	{"comments only", "# nothing here\n---\n# nor here\n", "pod.yaml: no objects found: the input is empty or holds only comments"},
	{"empty List", `{"apiVersion":"v1","kind":"List","items":[]}`, "pod.yaml: no objects found: the list has no items"},
	{
		"unknown fields at several depths, all at once",
		`apiVersion: v1
kind: Pod
metadat: {}
metadata:
  name: web
  lables: {a: b}
spec:
  containers:
  - name: app
    image: busybox
    imagePullPolcy: Always
    ports:
    - containerPort: 80
      Protocol: TCP
  - name: two
    image: busybox
    securityContext:
      capabilities: {ad: [NET_ADMIN]}
  restartpolicy: Never
`,
		`pod.yaml: document 1: metadat: unknown field
pod.yaml: document 1: metadata.lables: unknown field
pod.yaml: document 1: spec.containers[0].imagePullPolcy: unknown field
pod.yaml: document 1: spec.containers[0].ports[0].Protocol: unknown field
pod.yaml: document 1: spec.containers[1].securityContext.capabilities.ad: unknown field
pod.yaml: document 1: spec.restartpolicy: unknown field`,
	},
	{
		"type errors",
		`apiVersion: v1
kind: Pod
metadata:
  name: 42
  labels: {tier: 1}
spec:
  hostNetwork: "yes"
  terminationGracePeriodSeconds: 1.5
  containers: {name: app}
  initContainers:
  - name: init
    image: busybox
    args: hello
    ports: [{containerPort: "80"}, {containerPort: 99999999999}]
    resources: {limits: {cpu: lots}}
    livenessProbe: {tcpSocket: {port: true}}
`,
		`pod.yaml: document 1: metadata.name: expected a string, got number 42
pod.yaml: document 1: metadata.labels[tier]: expected a string, got number 1
pod.yaml: document 1: spec.hostNetwork: expected a boolean, got string "yes"
pod.yaml: document 1: spec.terminationGracePeriodSeconds: expected an integer (int64), got number 1.5
pod.yaml: document 1: spec.containers: expected an array, got an object
pod.yaml: document 1: spec.initContainers[0].args: expected an array, got string "hello"
pod.yaml: document 1: spec.initContainers[0].ports[0].containerPort: expected an integer (int32), got string "80"
pod.yaml: document 1: spec.initContainers[0].ports[1].containerPort: number 99999999999 does not fit in int32
pod.yaml: document 1: spec.initContainers[0].resources.limits[cpu]: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'
pod.yaml: document 1: spec.initContainers[0].livenessProbe.tcpSocket.port: cannot unmarshal bool into Go value of type int32`,
	},
	{
		"errors name their document",
		pod("a") + "---\n" + pod("b") + "    imagePullPolcy: Always\n",
		"pod.yaml: document 2: spec.containers[0].imagePullPolcy: unknown field",
	},
	{"non-Pod kind", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n",
		"pod.yaml: document 1: kind Deployment is not supported: podbox runs kind: Pod (and ConfigMap, Secret)"},
	{"wrong apiVersion", "apiVersion: core/v1\nkind: Pod\n",
		`pod.yaml: document 1: apiVersion: "core/v1" is not valid for kind Pod: use apiVersion: v1`},
	{"missing apiVersion and kind", "metadata: {name: web}\n",
		"pod.yaml: document 1: apiVersion not set\npod.yaml: document 1: kind not set"},
	{"kind not a string", "apiVersion: v1\nkind: [Pod]\n",
		"pod.yaml: document 1: kind: expected a string, got an array"},
	{"not an object", "- a\n- b\n",
		"pod.yaml: document 1: expected an object with apiVersion and kind, got an array"},
	{"malformed YAML", pod("a") + "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: b\n   labels: x\n",
		"pod.yaml: document 2: invalid YAML: line 14: mapping values are not allowed in this context"},
	{"unclosed flow sequence", "apiVersion: v1\nkind: Pod\nspec:\n  containers: [\n",
		"pod.yaml: document 1: invalid YAML: line 4: did not find expected node content"},
	{"duplicate YAML key", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  name: b\n",
		`pod.yaml: document 1: invalid YAML: line 5: key "name" already set in map`},
	{"malformed JSON", "{\"apiVersion\": \"v1\",\n \"kind\": \"Pod\",\n \"metadata\": {\"name\": \"x\"]}",
		"pod.yaml: document 1: invalid JSON: line 3: invalid character ']' after object key:value pair"},
	{"truncated JSON", `{"apiVersion": "v1", "kind": "Pod"`,
		"pod.yaml: document 1: invalid JSON: line 1: unexpected end of input"},
	{"duplicate JSON field", `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","name":"b"}}`,
		"pod.yaml: document 1: metadata.name: duplicate field"},
	{"List item problems", `{"apiVersion":"v1","kind":"List","items":[
		{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"},"spec":{"containerz":[]}},
		{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"}},
		{"apiVersion":"v1","kind":"List"},
		7]}`,
		`pod.yaml: document 1: items[0].spec.containerz: unknown field
pod.yaml: document 1: items[1]: kind Service is not supported: podbox runs kind: Pod (and ConfigMap, Secret)
pod.yaml: document 1: items[2]: a list may not hold another list
pod.yaml: document 1: items[3]: expected an object with apiVersion and kind, got number 7`},
	{"several bad documents", "kind: Pod\n---\napiVersion: v1\nkind: Service\n",
		"pod.yaml: document 1: apiVersion not set\npod.yaml: document 2: kind Service is not supported: podbox runs kind: Pod (and ConfigMap, Secret)"},
	{"YAML infinity", "apiVersion: v1\nkind: Pod\nspec:\n  priority: .inf\n",
		"pod.yaml: document 1: spec.priority: +Inf is not a valid JSON number"},
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range decodeErrorCases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Decode(strings.NewReader(tc.in), "pod.yaml")
			if err == nil {
				t.Fatalf("Decode succeeded with %d pods, want error %q", len(m.Pods), tc.want)
			}
			if diff := cmp.Diff(tc.want, err.Error()); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Errorf("error %T is not a *DecodeError", err)
			}
		})
	}
}

func TestDecodeErrorData(t *testing.T) {
	_, err := Decode(strings.NewReader(pod("a")+"---\n"+pod("b")+"    imagePullPolcy: Always\n    tyy: true\n"), "x.yaml")
	var de *DecodeError
	if !errors.As(err, &de) {
		t.Fatalf("error %v is not a *DecodeError", err)
	}
	if de.Source != "x.yaml" || de.Document != 2 || len(de.Problems) != 2 {
		t.Errorf("DecodeError = {%q, %d, %d problems}, want {x.yaml, 2, 2 problems}", de.Source, de.Document, len(de.Problems))
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestDecodeReadError(t *testing.T) {
	_, err := Decode(failingReader{}, "pod.yaml")
	if err == nil || err.Error() != "read manifest pod.yaml: disk on fire" {
		t.Errorf("Decode = %v, want the read error", err)
	}
}

func TestDecodeDeepNesting(t *testing.T) {
	for _, in := range []string{
		strings.Repeat("[", 200000),
		strings.Repeat("[", 20000) + strings.Repeat("]", 20000),
		"a: " + strings.Repeat("[", 200000),
		strings.Repeat("- ", 20000) + "x",
	} {
		if _, err := Decode(strings.NewReader(in), "deep"); err == nil {
			t.Errorf("Decode of %.10q... succeeded, want an error", in)
		}
	}
}
