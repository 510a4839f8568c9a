package printers

import (
	"io"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// benchPod is the seed pod, initialised and running, as `podbox get` reads
// it.
func benchPod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "myapp-pod", Namespace: "default", CreationTimestamp: ago(time.Minute)},
		Spec: corev1.PodSpec{
			InitContainers: []corev1.Container{{Name: "init-myservice"}, {Name: "init-mydb"}},
			Containers:     []corev1.Container{{Name: "myapp"}},
			NodeName:       "host",
		},
		Status: corev1.PodStatus{
			Phase: corev1.PodRunning, PodIP: "10.88.0.5", StartTime: agoPtr(time.Minute),
			Conditions: []corev1.PodCondition{{Type: corev1.PodInitialized, Status: corev1.ConditionTrue},
				{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
			InitContainerStatuses: []corev1.ContainerStatus{
				{Name: "init-myservice", State: terminated("Completed", 0, 0)},
				{Name: "init-mydb", State: terminated("Completed", 0, 0)},
			},
			ContainerStatuses: []corev1.ContainerStatus{{Name: "myapp", State: running, Ready: true, Started: ptr(true)}},
		},
	}
}

// BenchmarkRow measures one pod's kubectl row (READY, STATUS, RESTARTS,
// AGE), computed for every pod `podbox get` lists.
func BenchmarkRow(b *testing.B) {
	pod := benchPod()
	b.ReportAllocs()
	for b.Loop() {
		if r := Row(pod, now); r.Status != "Running" {
			b.Fatalf("status %q", r.Status)
		}
	}
}

// BenchmarkPrintTable measures `podbox get` of 50 pods, wide.
func BenchmarkPrintTable(b *testing.B) {
	pods := make([]*corev1.Pod, 50)
	for i := range pods {
		pods[i] = benchPod()
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := PrintTable(io.Discard, pods, TableOptions{Wide: true}, now); err != nil {
			b.Fatal(err)
		}
	}
}
