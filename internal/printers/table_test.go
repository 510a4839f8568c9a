package printers

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// tablePods is a mix of pods in the states `kubectl get pods` shows most.
func tablePods() []*corev1.Pod {
	return []*corev1.Pod{
		{
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", CreationTimestamp: ago(5*time.Minute + 3*time.Second)},
			Spec:       corev1.PodSpec{NodeName: "host1", Containers: containers(1)},
			Status: corev1.PodStatus{
				Phase:             corev1.PodRunning,
				PodIPs:            []corev1.PodIP{{IP: "10.88.0.12"}},
				ContainerStatuses: []corev1.ContainerStatus{{Ready: true, State: running}},
			},
		},
		{
			ObjectMeta: metav1.ObjectMeta{Name: "batch-job-with-a-long-name", Namespace: "ci", CreationTimestamp: ago(26 * time.Hour)},
			Spec: corev1.PodSpec{NodeName: "host1", InitContainers: containers(2), Containers: containers(1),
				ReadinessGates: []corev1.PodReadinessGate{{ConditionType: "example.com/gate"}}},
			Status: corev1.PodStatus{
				Phase: corev1.PodPending,
				InitContainerStatuses: []corev1.ContainerStatus{
					{State: terminated("Completed", 0, 0)},
					{RestartCount: 12, State: waiting("CrashLoopBackOff"), LastTerminationState: lastTerm(4 * time.Minute)},
				},
				ContainerStatuses: []corev1.ContainerStatus{{State: waiting("PodInitializing")}},
			},
		},
		{
			ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "default", CreationTimestamp: ago(3 * 24 * time.Hour)},
			Spec: corev1.PodSpec{NodeName: "host1", InitContainers: []corev1.Container{{Name: "proxy", RestartPolicy: &always}},
				Containers: containers(2)},
			Status: corev1.PodStatus{
				Phase:  corev1.PodRunning,
				PodIPs: []corev1.PodIP{{IP: "10.88.0.7"}, {IP: "fd00::7"}},
				InitContainerStatuses: []corev1.ContainerStatus{
					{Name: "proxy", Ready: true, Started: ptr(true), State: running},
				},
				ContainerStatuses: []corev1.ContainerStatus{
					{Ready: true, RestartCount: 1, State: running, LastTerminationState: lastTerm(47 * time.Hour)},
					{RestartCount: 2, State: terminated("OOMKilled", 137, 0), LastTerminationState: lastTerm(10 * time.Second)},
				},
			},
		},
		{
			ObjectMeta: metav1.ObjectMeta{Name: "done", Namespace: "kube-system", CreationTimestamp: ago(400 * 24 * time.Hour)},
			Spec:       corev1.PodSpec{Containers: containers(1)},
			Status: corev1.PodStatus{
				Phase:             corev1.PodSucceeded,
				ContainerStatuses: []corev1.ContainerStatus{{State: terminated("Completed", 0, 0)}},
			},
		},
	}
}

func TestPrintTableGolden(t *testing.T) {
	tests := []struct {
		golden string
		opts   TableOptions
	}{
		{"table.golden", TableOptions{}},
		{"table-wide.golden", TableOptions{Wide: true}},
		{"table-all-namespaces.golden", TableOptions{AllNamespaces: true}},
		{"table-all-namespaces-wide-no-headers.golden", TableOptions{AllNamespaces: true, Wide: true, NoHeaders: true}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			var buf bytes.Buffer
			if err := PrintTable(&buf, tablePods(), tt.opts, now); err != nil {
				t.Fatalf("PrintTable: %v", err)
			}
			path := filepath.Join("testdata", tt.golden)
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
				t.Errorf("PrintTable(%+v) mismatch (-want +got):\n%s", tt.opts, diff)
			}
		})
	}
}

// TestPrintTableLayout pins the exact bytes of a small table, computed by
// hand from kubectl's tabwriter settings (min width 6, padding 3, spaces).
func TestPrintTableLayout(t *testing.T) {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "nginx", CreationTimestamp: ago(10 * time.Second)},
		Spec:       corev1.PodSpec{Containers: containers(1)},
		Status: corev1.PodStatus{
			Phase:             corev1.PodRunning,
			ContainerStatuses: []corev1.ContainerStatus{{Ready: true, State: running}},
		},
	}
	var buf bytes.Buffer
	if err := PrintTable(&buf, []*corev1.Pod{pod}, TableOptions{}, now); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"NAME    READY   STATUS    RESTARTS   AGE\n" +
		"nginx   1/1     Running   0          10s\n"
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("PrintTable mismatch (-want +got):\n%s", diff)
	}
}

func TestPrintTableEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := PrintTable(&buf, nil, TableOptions{Wide: true}, now); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 0 {
		t.Errorf("PrintTable of no pods wrote %q, want nothing (kubectl prints no header either)", buf.String())
	}
}

// TestPrintTableEscapes checks that cells are cut at line breaks and
// terminal escapes neutralised, as kubectl does.
func TestPrintTableEscapes(t *testing.T) {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "evil"},
		Spec:       corev1.PodSpec{Containers: containers(1)},
		Status:     corev1.PodStatus{Phase: corev1.PodFailed, Reason: "\x1b[31mRed\nsecond line"},
	}
	var buf bytes.Buffer
	if err := PrintTable(&buf, []*corev1.Pod{pod}, TableOptions{NoHeaders: true}, now); err != nil {
		t.Fatal(err)
	}
	want := "evil   0/1   ^[[31mRed...   0     <unknown>\n"
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("PrintTable mismatch (-want +got):\n%s", diff)
	}
}

type failingWriter struct{}

var errBroken = errors.New("broken pipe")

func (failingWriter) Write([]byte) (int, error) { return 0, errBroken }

func TestPrintTableWriteError(t *testing.T) {
	err := PrintTable(failingWriter{}, tablePods(), TableOptions{}, now)
	if !errors.Is(err, errBroken) {
		t.Fatalf("PrintTable to a failing writer = %v, want an error wrapping %v", err, errBroken)
	}
}
