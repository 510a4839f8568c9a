package printers

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// describeCase is a pod and its events as `podbox describe` would read them.
type describeCase struct {
	golden string
	pod    *corev1.Pod
	events []Event
}

// ev is an event seen count times, first at first and last at last before
// now.
func ev(typ, reason, object, msg string, count int, first, last time.Duration) Event {
	return Event{Type: typ, Reason: reason, Object: object, Message: msg, Count: count,
		First: now.Add(-first), Last: now.Add(-last)}
}

func runningState(d time.Duration) corev1.ContainerState {
	return corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: ago(d)}}
}

func terminatedState(reason string, exit int32, started, finished time.Duration) corev1.ContainerState {
	return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		Reason: reason, ExitCode: exit, StartedAt: ago(started), FinishedAt: ago(finished),
		ContainerID: "podbox://0123"}}
}

func conditions(pairs ...string) []corev1.PodCondition {
	var cs []corev1.PodCondition
	for i := 0; i+1 < len(pairs); i += 2 {
		cs = append(cs, corev1.PodCondition{Type: corev1.PodConditionType(pairs[i]), Status: corev1.ConditionStatus(pairs[i+1])})
	}
	return cs
}

// podMeta is the metadata and spec podbox fills in for every pod.
func podMeta(name string) (metav1.ObjectMeta, corev1.PodSpec) {
	return metav1.ObjectMeta{Name: name, Namespace: "default", UID: "5f0c6a1e-0000-4000-8000-000000000001",
			CreationTimestamp: ago(3 * time.Minute)},
		corev1.PodSpec{NodeName: "host1", ServiceAccountName: "default", Priority: ptr[int32](0),
			Tolerations: []corev1.Toleration{
				{Key: "node.kubernetes.io/not-ready", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr[int64](300)},
				{Key: "node.kubernetes.io/unreachable", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr[int64](300)},
			}}
}

func status(phase corev1.PodPhase, start time.Duration) corev1.PodStatus {
	return corev1.PodStatus{Phase: phase, HostIP: "192.168.1.10", HostIPs: []corev1.HostIP{{IP: "192.168.1.10"}},
		PodIP: "10.88.0.5", PodIPs: []corev1.PodIP{{IP: "10.88.0.5"}}, StartTime: agoPtr(start), QOSClass: corev1.PodQOSBestEffort}
}

func runningPod() *corev1.Pod {
	meta, spec := podMeta("web")
	meta.Labels = map[string]string{"app": "web", "tier": "frontend"}
	meta.Annotations = map[string]string{"example.com/owner": "team-a",
		corev1.LastAppliedConfigAnnotation: `{"apiVersion":"v1","kind":"Pod"}`}
	spec.Containers = []corev1.Container{
		{
			Name: "nginx", Image: "docker.io/library/nginx:1.27",
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 80, HostPort: 8080, Protocol: corev1.ProtocolTCP}},
			Env: []corev1.EnvVar{
				{Name: "GREETING", Value: "hello"},
				{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.name"}}},
				{Name: "POD_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "status.podIP"}}},
				{Name: "MEM_LIMIT", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.memory", Divisor: resource.MustParse("1Mi")}}},
			},
			Resources: corev1.ResourceRequirements{
				Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("128Mi")},
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
			},
			ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(80), Scheme: corev1.URISchemeHTTP}},
				TimeoutSeconds: 1, PeriodSeconds: 10, SuccessThreshold: 1, FailureThreshold: 3},
			VolumeMounts: []corev1.VolumeMount{{Name: "cache", MountPath: "/var/cache/nginx"}, {Name: "config", MountPath: "/etc/nginx/conf.d", ReadOnly: true}},
		},
		{
			Name: "sidecar", Image: "docker.io/library/busybox:1.36",
			Command: []string{"sh", "-c"},
			Args:    []string{"while true; do\n  date\n  sleep 5\ndone"},
			Env:     []corev1.EnvVar{{Name: "MODE", Value: "tail"}},
		},
	}
	spec.Volumes = []corev1.Volume{
		{Name: "cache", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		{Name: "config", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/srv/nginx", Type: ptr(corev1.HostPathDirectory)}}},
	}
	st := status(corev1.PodRunning, 3*time.Minute)
	st.QOSClass = corev1.PodQOSBurstable
	st.Conditions = conditions("PodReadyToStartContainers", "True", "Initialized", "True", "Ready", "True", "ContainersReady", "True", "PodScheduled", "True")
	st.ContainerStatuses = []corev1.ContainerStatus{
		{Name: "nginx", ContainerID: "podbox://3f9a", Image: "docker.io/library/nginx:1.27",
			ImageID: "docker.io/library/nginx@sha256:6a1f", Ready: true, Started: ptr(true), State: runningState(170 * time.Second)},
		{Name: "sidecar", ContainerID: "podbox://77c1", Image: "docker.io/library/busybox:1.36",
			ImageID: "docker.io/library/busybox@sha256:9ae9", Ready: true, Started: ptr(true), State: runningState(169 * time.Second)},
	}
	return &corev1.Pod{ObjectMeta: meta, Spec: spec, Status: st}
}

func initPod() *corev1.Pod {
	meta, spec := podMeta("setup")
	spec.InitContainers = []corev1.Container{
		{Name: "migrate", Image: "docker.io/library/busybox:1.36", Command: []string{"sh", "-c", "echo migrated"}},
		{Name: "wait-db", Image: "docker.io/library/busybox:1.36", Command: []string{"sleep", "3600"}},
	}
	spec.Containers = []corev1.Container{{Name: "app", Image: "docker.io/library/nginx:1.27"}}
	st := status(corev1.PodPending, 40*time.Second)
	st.Conditions = conditions("PodReadyToStartContainers", "True", "Initialized", "False", "Ready", "False", "ContainersReady", "False", "PodScheduled", "True")
	st.InitContainerStatuses = []corev1.ContainerStatus{
		{Name: "migrate", ContainerID: "podbox://0123", Image: "docker.io/library/busybox:1.36", ImageID: "docker.io/library/busybox@sha256:9ae9",
			Started: ptr(false), State: terminatedState("Completed", 0, 38*time.Second, 37*time.Second)},
		{Name: "wait-db", ContainerID: "podbox://4567", Image: "docker.io/library/busybox:1.36", ImageID: "docker.io/library/busybox@sha256:9ae9",
			Started: ptr(true), State: runningState(36 * time.Second)},
	}
	st.ContainerStatuses = []corev1.ContainerStatus{
		{Name: "app", Image: "docker.io/library/nginx:1.27", Started: ptr(false), State: waiting("PodInitializing")},
	}
	return &corev1.Pod{ObjectMeta: meta, Spec: spec, Status: st}
}

func crashPod() *corev1.Pod {
	meta, spec := podMeta("crasher")
	meta.Labels = map[string]string{"run": "crasher"}
	spec.Containers = []corev1.Container{{Name: "app", Image: "docker.io/library/busybox:1.36",
		Command: []string{"sh", "-c", "echo boom; exit 1"}}}
	st := status(corev1.PodRunning, 2*time.Minute)
	st.Conditions = conditions("PodReadyToStartContainers", "True", "Initialized", "True", "Ready", "False", "ContainersReady", "False", "PodScheduled", "True")
	st.ContainerStatuses = []corev1.ContainerStatus{{
		Name: "app", ContainerID: "podbox://89ab", Image: "docker.io/library/busybox:1.36", ImageID: "docker.io/library/busybox@sha256:9ae9",
		RestartCount: 3, Started: ptr(false),
		State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff",
			Message: "back-off 40s restarting failed container=app pod=crasher_default(5f0c6a1e-0000-4000-8000-000000000001)"}},
		LastTerminationState: terminatedState("Error", 1, 21*time.Second, 21*time.Second),
	}}
	return &corev1.Pod{ObjectMeta: meta, Spec: spec, Status: st}
}

func terminatingPod() *corev1.Pod {
	p := runningPod()
	p.Name = "web-stopping"
	p.DeletionTimestamp = agoPtr(5 * time.Second)
	p.DeletionGracePeriodSeconds = ptr[int64](30)
	return p
}

// failedPod is a pod that ended with a reason and message, a signal, and no
// events.
func failedPod() *corev1.Pod {
	meta, spec := podMeta("oom")
	spec.Containers = []corev1.Container{{Name: "hog", Image: "docker.io/library/busybox:1.36",
		Resources: corev1.ResourceRequirements{
			Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("16Mi")},
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("16Mi")},
		}}}
	spec.RestartPolicy = corev1.RestartPolicyNever
	st := status(corev1.PodFailed, 10*time.Minute)
	st.QOSClass = ""
	st.Reason, st.Message = "Evicted", "The node was low on resource: memory."
	st.PodIP, st.PodIPs = "", nil
	st.Conditions = conditions("Ready", "False")
	st.ContainerStatuses = []corev1.ContainerStatus{{
		Name: "hog", ContainerID: "podbox://cdef", Image: "docker.io/library/busybox:1.36", ImageID: "docker.io/library/busybox@sha256:9ae9",
		State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "OOMKilled", ExitCode: 137, Signal: 9,
			Message: "out of memory", StartedAt: ago(10 * time.Minute), FinishedAt: ago(9 * time.Minute)}},
	}}
	return &corev1.Pod{ObjectMeta: meta, Spec: spec, Status: st}
}

func describeCases() []describeCase {
	scheduled := ev("Normal", "Scheduled", "", "Successfully assigned default/web to host1", 1, 3*time.Minute, 3*time.Minute)
	return []describeCase{
		{"describe-running.golden", runningPod(), []Event{
			scheduled,
			ev("Normal", "Pulled", "spec.containers{nginx}", `Container image "docker.io/library/nginx:1.27" already present on machine`, 1, 171*time.Second, 171*time.Second),
			ev("Normal", "Created", "spec.containers{nginx}", "Created container: nginx", 1, 171*time.Second, 171*time.Second),
			ev("Normal", "Started", "spec.containers{nginx}", "Started container nginx", 1, 170*time.Second, 170*time.Second),
			ev("Warning", "Unhealthy", "spec.containers{nginx}", "Readiness probe failed: HTTP probe failed with statuscode: 503\n", 4, 165*time.Second, 62*time.Second),
		}},
		{"describe-init.golden", initPod(), []Event{
			ev("Normal", "Started", "spec.initContainers{wait-db}", "Started container wait-db", 1, 36*time.Second, 36*time.Second),
			ev("Normal", "Pulled", "spec.initContainers{migrate}", `Container image "docker.io/library/busybox:1.36" already present on machine`, 2, 39*time.Second, 37*time.Second),
			ev("Normal", "Started", "spec.initContainers{migrate}", "Started container migrate", 1, 38*time.Second, 38*time.Second),
		}},
		{"describe-crashloop.golden", crashPod(), []Event{
			ev("Normal", "Pulled", "spec.containers{app}", `Container image "docker.io/library/busybox:1.36" already present on machine`, 4, 2*time.Minute, 22*time.Second),
			ev("Normal", "Created", "spec.containers{app}", "Created container: app", 4, 2*time.Minute, 22*time.Second),
			ev("Normal", "Started", "spec.containers{app}", "Started container app", 4, 2*time.Minute, 21*time.Second),
			ev("Warning", "BackOff", "spec.containers{app}",
				"Back-off restarting failed container app in pod crasher_default(5f0c6a1e-0000-4000-8000-000000000001)", 6, 118*time.Second, 3*time.Second),
		}},
		{"describe-terminating.golden", terminatingPod(), []Event{
			ev("Normal", "Killing", "spec.containers{sidecar}", "Stopping container sidecar", 1, 5*time.Second, 5*time.Second),
			ev("Normal", "Killing", "spec.containers{nginx}", "Stopping container nginx", 1, 5*time.Second, 5*time.Second),
		}},
		{"describe-no-events.golden", failedPod(), nil},
	}
}

func TestDescribeGolden(t *testing.T) {
	for _, tc := range describeCases() {
		t.Run(tc.golden, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Describe(&buf, tc.pod, tc.events, now); err != nil {
				t.Fatalf("Describe: %v", err)
			}
			path := filepath.Join("testdata", tc.golden)
			if *update {
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden file (run with -update to create it): %v", err)
			}
			if diff := cmp.Diff(string(want), buf.String()); diff != "" {
				t.Errorf("Describe(%s) mismatch (-want +got):\n%s", tc.pod.Name, diff)
			}
		})
	}
}

// TestDescribeUpstreamVolumes is kubectl's TestDescribePodVolumes (an image
// volume), whose expected output upstream pins byte for byte.
func TestDescribeUpstreamVolumes(t *testing.T) {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "bar", Namespace: "foo"},
		Spec: corev1.PodSpec{Volumes: []corev1.Volume{{Name: "image",
			VolumeSource: corev1.VolumeSource{Image: &corev1.ImageVolumeSource{Reference: "image", PullPolicy: corev1.PullIfNotPresent}}}}},
	}
	want := "" +
		"Name:         bar\n" +
		"Namespace:    foo\n" +
		"Node:         <none>\n" +
		"Labels:       <none>\n" +
		"Annotations:  <none>\n" +
		"Status:       \n" +
		"IP:           \n" +
		"IPs:          <none>\n" +
		"Containers: <none>\n" +
		"Volumes:\n" +
		"  image:\n" +
		"    Type:        Image (a container image or OCI artifact)\n" +
		"    Reference:   image\n" +
		"    PullPolicy:  IfNotPresent\n" +
		"QoS Class:       BestEffort\n" +
		"Node-Selectors:  <none>\n" +
		"Tolerations:     <none>\n" +
		"Events:          <none>\n"
	var buf bytes.Buffer
	if err := Describe(&buf, pod, nil, now); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("Describe mismatch (-want +got):\n%s", diff)
	}
}

// describeString runs Describe and fails the test on an error.
func describeString(t *testing.T, pod *corev1.Pod, events []Event) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Describe(&buf, pod, events, now); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestDescribeUpstreamFragments holds the cases of kubectl's
// TestDescribePod, TestDescribePodNode, TestDescribePodTolerations and
// TestDescribeContainers (command and args with newlines), which check
// fragments of the output.
func TestDescribeUpstreamFragments(t *testing.T) {
	gone := metav1.NewTime(now.AddDate(-10, 0, 0))
	tests := []struct {
		name string
		pod  corev1.Pod
		want []string
	}{
		{"terminating running", corev1.Pod{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: &gone, DeletionGracePeriodSeconds: ptr[int64](1234)},
			Status: corev1.PodStatus{Phase: corev1.PodRunning}},
			[]string{"Status:", "Terminating (lasts 10y)", "Termination Grace Period", "1234s"}},
		{"terminating pending", corev1.Pod{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: &gone, DeletionGracePeriodSeconds: ptr[int64](1234)},
			Status: corev1.PodStatus{Phase: corev1.PodPending}},
			[]string{"Terminating (lasts 10y)", "Termination Grace Period", "1234s"}},
		{"terminating succeeded", corev1.Pod{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: &gone, DeletionGracePeriodSeconds: ptr[int64](1234)},
			Status: corev1.PodStatus{Phase: corev1.PodSucceeded}},
			[]string{"Status:       Succeeded\n"}},
		{"node", corev1.Pod{Spec: corev1.PodSpec{NodeName: "all-in-one"}, Status: corev1.PodStatus{HostIP: "127.0.0.1", NominatedNodeName: "nodeA"}},
			[]string{"all-in-one/127.0.0.1", "NominatedNodeName:  nodeA\n"}},
		{"service account", corev1.Pod{Spec: corev1.PodSpec{ServiceAccountName: "fooaccount"}},
			[]string{"Service Account:  fooaccount\n"}},
		{"tolerations", corev1.Pod{Spec: corev1.PodSpec{Tolerations: []corev1.Toleration{
			{Operator: corev1.TolerationOpExists},
			{Effect: corev1.TaintEffectNoSchedule, Operator: corev1.TolerationOpExists},
			{Key: "key0", Operator: corev1.TolerationOpExists},
			{Key: "key1", Value: "value1"},
			{Key: "key2", Operator: corev1.TolerationOpEqual, Value: "value2", Effect: corev1.TaintEffectNoSchedule},
			{Key: "key3", Value: "value3", Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr[int64](300)},
			{Key: "key4", Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr[int64](60)},
		}}}, []string{"  op=Exists\n", ":NoSchedule op=Exists\n", "key0 op=Exists\n", "key1=value1\n",
			"key2=value2:NoSchedule\n", "key3=value3:NoExecute for 300s\n", "key4:NoExecute for 60s\n", "Tolerations:"}},
		{"command and args with newlines", corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "test", Image: "image",
			Command: []string{"sleep", "1000\n2000"}, Args: []string{"time", "3000\n4000"}}}}},
			[]string{"    Command:\n      sleep\n      1000\n      2000\n", "    Args:\n      time\n      3000\n      4000\n"}},
		{"readiness gates", corev1.Pod{Spec: corev1.PodSpec{ReadinessGates: []corev1.PodReadinessGate{{ConditionType: "condition1"}, {ConditionType: "condition2"}}},
			Status: corev1.PodStatus{Conditions: conditions("condition1", "True")}},
			// The condition cells end in a space, and the Conditions table
			// shares its column with the lines below it.
			[]string{"Readiness Gates:\n  Type         Status\n  condition1   True \n  condition2   <none> \nConditions:\n",
				"Conditions:\n  Type           Status\n  condition1     True \nVolumes:         <none>\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.pod.Name, tt.pod.Namespace = "bar", "foo"
			out := describeString(t, &tt.pod, nil)
			for _, want := range tt.want {
				if !strings.Contains(out, want) {
					t.Errorf("output does not contain %q:\n%s", want, out)
				}
			}
		})
	}
}

// rawDescriber writes without the tabwriter, as upstream's unit tests of
// single print functions do.
func rawDescriber(buf *bytes.Buffer) *describer { return &describer{out: buf, now: now} }

// TestDescribeAnnotations is kubectl's TestPrintLabelsMultiline (which
// tests printAnnotationsMultiline).
func TestDescribeAnnotations(t *testing.T) {
	key := "MaxLenAnnotation"
	value := strings.Repeat("a", annotationMaxLen-len(key)-2)
	tests := []struct {
		annotations map[string]string
		want        string
	}{
		{map[string]string{"col1": "asd", "COL2": "zxc"}, "Annotations:\tCOL2: zxc\n\tcol1: asd\n"},
		{map[string]string{key: value}, fmt.Sprintf("Annotations:\t%s: %s\n", key, value)},
		{map[string]string{key: value + "1"}, fmt.Sprintf("Annotations:\t%s:\n\t  %s\n", key, value+"1")},
		{map[string]string{key: value + value}, fmt.Sprintf("Annotations:\t%s:\n\t  %s\n", key, strings.Repeat("a", annotationMaxLen-2)+"...")},
		{map[string]string{"key": "value\nwith\nnewlines\n"}, "Annotations:\tkey:\n\t  value\n\t  with\n\t  newlines\n"},
		{map[string]string{}, "Annotations:\t<none>\n"},
		{map[string]string{corev1.LastAppliedConfigAnnotation: "{}"}, "Annotations:\t<none>\n"},
	}
	for i, tt := range tests {
		var buf bytes.Buffer
		rawDescriber(&buf).annotations(tt.annotations)
		if got := buf.String(); got != tt.want {
			t.Errorf("case %d: annotations(%v) = %q, want %q", i, tt.annotations, got, tt.want)
		}
	}
}

// TestDescribePorts is kubectl's TestDescribeContainerPorts.
func TestDescribePorts(t *testing.T) {
	tcp := corev1.ProtocolTCP
	tests := []struct {
		ports               []corev1.ContainerPort
		wantContainer, host string
	}{
		{nil, "", ""},
		{[]corev1.ContainerPort{{Name: "web", ContainerPort: 8080, HostPort: 8080, Protocol: tcp}}, "8080/TCP (web)", "8080/TCP (web)"},
		{[]corev1.ContainerPort{{ContainerPort: 8080, HostPort: 8080, Protocol: tcp}}, "8080/TCP", "8080/TCP"},
		{[]corev1.ContainerPort{
			{Name: "controller", ContainerPort: 9093, HostPort: 9093, Protocol: tcp},
			{ContainerPort: 9092, Protocol: tcp},
			{Name: "interbroker", ContainerPort: 9094, HostPort: 9094, Protocol: tcp},
		}, "9093/TCP (controller), 9092/TCP, 9094/TCP (interbroker)", "9093/TCP (controller), 0/TCP, 9094/TCP (interbroker)"},
	}
	for _, tt := range tests {
		c := describePorts(tt.ports, func(p corev1.ContainerPort) int32 { return p.ContainerPort })
		h := describePorts(tt.ports, func(p corev1.ContainerPort) int32 { return p.HostPort })
		if c != tt.wantContainer || h != tt.host {
			t.Errorf("ports %v: got %q / %q, want %q / %q", tt.ports, c, h, tt.wantContainer, tt.host)
		}
	}
}

func TestDescribeProbe(t *testing.T) {
	attrs := "delay=1s timeout=2s period=3s successThreshold=1 failureThreshold=4"
	base := corev1.Probe{InitialDelaySeconds: 1, TimeoutSeconds: 2, PeriodSeconds: 3, SuccessThreshold: 1, FailureThreshold: 4}
	with := func(h corev1.ProbeHandler) *corev1.Probe { p := base; p.ProbeHandler = h; return &p }
	tests := []struct {
		probe *corev1.Probe
		want  string
	}{
		{with(corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"cat", "/tmp/ok"}}}), "exec [cat /tmp/ok] " + attrs},
		{with(corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString("http"), Scheme: corev1.URISchemeHTTPS}}),
			"http-get https://:http/healthz " + attrs},
		{with(corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(5432)}}), "tcp-socket :5432 " + attrs},
		{with(corev1.ProbeHandler{GRPC: &corev1.GRPCAction{Port: 9090}}), "grpc <pod>:9090  " + attrs},
		{with(corev1.ProbeHandler{}), "unknown " + attrs},
	}
	for _, tt := range tests {
		if got := describeProbe(tt.probe); got != tt.want {
			t.Errorf("describeProbe(%+v) = %q, want %q", tt.probe.ProbeHandler, got, tt.want)
		}
	}
}

// TestDescribeQOS checks the QoS class computed when the status has none
// (kubectl's qos.ComputePodQOS).
func TestDescribeQOS(t *testing.T) {
	rl := func(cpu, mem string) corev1.ResourceList {
		l := corev1.ResourceList{}
		if cpu != "" {
			l[corev1.ResourceCPU] = resource.MustParse(cpu)
		}
		if mem != "" {
			l[corev1.ResourceMemory] = resource.MustParse(mem)
		}
		return l
	}
	req := func(r, l corev1.ResourceList) corev1.Container {
		return corev1.Container{Resources: corev1.ResourceRequirements{Requests: r, Limits: l}}
	}
	tests := []struct {
		name       string
		containers []corev1.Container
		podLevel   *corev1.ResourceRequirements
		want       corev1.PodQOSClass
	}{
		{"none", []corev1.Container{{}}, nil, corev1.PodQOSBestEffort},
		{"guaranteed", []corev1.Container{req(rl("1", "1Gi"), rl("1000m", "1Gi"))}, nil, corev1.PodQOSGuaranteed},
		{"limits only", []corev1.Container{req(nil, rl("1", "1Gi"))}, nil, corev1.PodQOSBurstable},
		{"cpu only", []corev1.Container{req(rl("1", ""), rl("1", ""))}, nil, corev1.PodQOSBurstable},
		{"guaranteed and best effort", []corev1.Container{req(rl("1", "1Gi"), rl("1", "1Gi")), {}}, nil, corev1.PodQOSBurstable},
		{"other resources only", []corev1.Container{req(corev1.ResourceList{corev1.ResourceEphemeralStorage: resource.MustParse("1Gi")}, nil)}, nil, corev1.PodQOSBestEffort},
		{"pod level", []corev1.Container{{}}, &corev1.ResourceRequirements{Requests: rl("1", "1Gi"), Limits: rl("1", "1Gi")}, corev1.PodQOSGuaranteed},
	}
	for _, tt := range tests {
		pod := &corev1.Pod{Spec: corev1.PodSpec{Containers: tt.containers, Resources: tt.podLevel}}
		if got := podQOS(pod); got != tt.want {
			t.Errorf("%s: podQOS = %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestDescribeEnv(t *testing.T) {
	c := corev1.Container{Name: "c", Resources: corev1.ResourceRequirements{
		Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1500m")},
		Requests: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("100M")},
	}}
	field := func(path string) *corev1.EnvVarSource {
		return &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: path}}
	}
	res := func(name, divisor string) *corev1.EnvVarSource {
		s := &corev1.ResourceFieldSelector{Resource: name}
		if divisor != "" {
			s.Divisor = resource.MustParse(divisor)
		}
		return &corev1.EnvVarSource{ResourceFieldRef: s}
	}
	c.Env = []corev1.EnvVar{
		{Name: "MULTI", Value: "one\ntwo"},
		{Name: "NS", ValueFrom: field("metadata.namespace")},
		{Name: "NODE", ValueFrom: field("spec.nodeName")},
		{Name: "CPU", ValueFrom: res("limits.cpu", "")},
		{Name: "CPU_M", ValueFrom: res("limits.cpu", "1m")},
		{Name: "MEM", ValueFrom: res("limits.memory", "")},
		{Name: "MEM_REQ", ValueFrom: res("requests.memory", "1Mi")},
		{Name: "SECRET", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "s"}, Key: "k", Optional: ptr(true)}}},
		{Name: "CM", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "m"}, Key: "k"}}},
	}
	c.EnvFrom = []corev1.EnvFromSource{
		{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "a123"}}},
		{Prefix: "p_", SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "b456"}, Optional: ptr(true)}},
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns"}, Spec: corev1.PodSpec{Containers: []corev1.Container{c}}}
	var buf bytes.Buffer
	d := rawDescriber(&buf)
	d.envFrom(c.EnvFrom)
	d.env(&pod.Spec.Containers[0], pod)
	want := "" +
		"    Environment Variables from:\n" +
		"      a123\tConfigMap\tOptional: false\n" +
		"      b456\tSecret with prefix 'p_'\tOptional: true\n" +
		"    Environment:\n" +
		"      MULTI:\tone\n" +
		"      \ttwo\n" +
		"      NS:\tns (v1:metadata.namespace)\n" +
		"      NODE:\t (v1:spec.nodeName)\n" +
		"      CPU:\t2 (limits.cpu)\n" +
		"      CPU_M:\t1500 (limits.cpu)\n" +
		"      MEM:\tnode allocatable (limits.memory)\n" +
		"      MEM_REQ:\t96 (requests.memory)\n" +
		"      SECRET:\t<set to the key 'k' in secret 's'>\tOptional: true\n" +
		"      CM:\t<set to the key 'k' of config map 'm'>\tOptional: false\n"
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("env mismatch (-want +got):\n%s", diff)
	}
}

// TestDescribeEvents checks the events table on its own: sorted by last
// time, folded repeats, the object before the message, "<unknown>" ages.
func TestDescribeEvents(t *testing.T) {
	events := []Event{
		ev("Warning", "BackOff", "spec.containers{app}", "Back-off restarting failed container", 3, 2*time.Minute, 10*time.Second),
		ev("Normal", "Scheduled", "", "  Successfully assigned default/p to host1  ", 1, 3*time.Minute+2*time.Second, 3*time.Minute+2*time.Second),
		{Type: "Normal", Reason: "Odd", Message: "no times", Count: 1},
	}
	out := describeString(t, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}}, events)
	_, table, _ := strings.Cut(out, "Tolerations:     <none>\n")
	want := "" +
		"Events:\n" +
		"  Type     Reason     Age               From    Message\n" +
		"  ----     ------     ----              ----    -------\n" +
		"  Normal   Odd        <unknown>         podbox  no times\n" +
		"  Normal   Scheduled  3m2s              podbox  Successfully assigned default/p to host1\n" +
		"  Warning  BackOff    10s (x3 over 2m)  podbox  spec.containers{app}: Back-off restarting failed container\n"
	if diff := cmp.Diff(want, table); diff != "" {
		t.Errorf("events mismatch (-want +got):\n%s", diff)
	}
}

// TestDescribeEscapes checks that terminal escapes are neutralised, as
// kubectl's TestDescribeTerminalEscape does.
func TestDescribeEscapes(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Annotations: map[string]string{"annotation1": "terminal escape: \x1b"}}}
	out := describeString(t, pod, []Event{{Type: "Warning", Reason: "Bad", Message: "\x1b[31mred\r", Count: 1, First: now}})
	if strings.Contains(out, "\x1b") || strings.Contains(out, "\r") || !strings.Contains(out, "terminal escape: ^[") || !strings.Contains(out, "^[[31mred") {
		t.Errorf("unexpected output:\n%q", out)
	}
}

// TestDescribeDoesNotMutate checks that the sorting of tolerations, mounts
// and events works on copies (kubectl sorts the pod's own slices).
func TestDescribeDoesNotMutate(t *testing.T) {
	pod := runningPod()
	pod.Spec.Tolerations = []corev1.Toleration{{Key: "z"}, {Key: "a"}}
	pod.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "z", MountPath: "/z"}, {Name: "a", MountPath: "/a"}}
	events := []Event{ev("Normal", "Late", "", "", 1, time.Second, time.Second), ev("Normal", "Early", "", "", 1, time.Hour, time.Hour)}
	before, evBefore := pod.DeepCopy(), append([]Event(nil), events...)
	describeString(t, pod, events)
	if diff := cmp.Diff(before, pod); diff != "" {
		t.Errorf("Describe changed the pod (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(evBefore, events); diff != "" {
		t.Errorf("Describe changed the events (-before +after):\n%s", diff)
	}
}

func TestDescribeWriteError(t *testing.T) {
	err := Describe(failingWriter{}, runningPod(), nil, now)
	if !errors.Is(err, errBroken) {
		t.Fatalf("Describe to a failing writer = %v, want an error wrapping %v", err, errBroken)
	}
}
