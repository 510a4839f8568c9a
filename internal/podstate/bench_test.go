package podstate

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// BenchmarkWriteStatus measures the atomic write of status.json (encode,
// temporary file, rename) the shim does after every transition, for the
// seed pod running.
func BenchmarkWriteStatus(b *testing.B) {
	dir := Dir(filepath.Join(b.TempDir(), "pod"))
	if err := os.MkdirAll(string(dir), 0o700); err != nil {
		b.Fatal(err)
	}
	started := metav1.Now()
	st := &Status{
		Pod: corev1.PodStatus{
			Phase: corev1.PodRunning, PodIP: "10.88.0.5", StartTime: &started,
			Conditions: []corev1.PodCondition{{Type: corev1.PodInitialized, Status: corev1.ConditionTrue},
				{Type: corev1.PodReady, Status: corev1.ConditionTrue}, {Type: corev1.ContainersReady, Status: corev1.ConditionTrue},
				{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}, {Type: corev1.PodReadyToStartContainers, Status: corev1.ConditionTrue}},
			InitContainerStatuses: []corev1.ContainerStatus{
				{Name: "init-myservice", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Completed"}}},
				{Name: "init-mydb", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Completed"}}},
			},
			ContainerStatuses: []corev1.ContainerStatus{{Name: "myapp", Ready: true,
				State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: started}}}},
		},
		Containers: map[string]*Container{"myapp": {ID: "pod-0123.myapp.0", LogPath: "/var/log/podbox/pods/x/myapp/0.log", Running: true}},
		ShimPID:    1234, Updated: time.Now(),
		Supervisor: &Supervisor{KeeperPID: 1233, InitDone: true, PauseLaunched: true, PauseStarted: true},
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := dir.WriteStatus(st); err != nil {
			b.Fatal(err)
		}
	}
}
