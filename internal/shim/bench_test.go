package shim

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// BenchmarkPodPhase measures the phase computation the shim runs after
// every container event, for the seed pod's shape (2 init containers done,
// the app running).
func BenchmarkPodPhase(b *testing.B) {
	pod := testPod(corev1.RestartPolicyAlways, inits("init-myservice", "init-mydb"), "myapp")
	all := []corev1.ContainerStatus{stRunning("myapp"), stTerm("init-myservice", 0), stTerm("init-mydb", 0)}
	b.ReportAllocs()
	for b.Loop() {
		if PodPhase(pod, all, false) != corev1.PodRunning {
			b.Fatal("not Running")
		}
	}
}

// BenchmarkPodStatus measures the whole status the shim writes after every
// event: phase, the five conditions and the container statuses.
func BenchmarkPodStatus(b *testing.B) {
	s := benchShim()
	b.ReportAllocs()
	for b.Loop() {
		if st := s.podStatus(); st.Phase != corev1.PodRunning {
			b.Fatalf("phase %s", st.Phase)
		}
	}
}

// benchShim is a shim of the seed pod with its init containers done and
// the app running.
func benchShim() *shim {
	pod := testPod(corev1.RestartPolicyAlways, inits("init-myservice", "init-mydb"), "myapp")
	s := &shim{pod: pod, conds: map[corev1.PodConditionType]corev1.PodCondition{}, byName: map[string]*ctr{}}
	st := map[string]corev1.ContainerStatus{"init-myservice": stTerm("init-myservice", 0), "init-mydb": stTerm("init-mydb", 0),
		"myapp": stRunning("myapp")}
	for i := range pod.Spec.InitContainers {
		s.ctrs = append(s.ctrs, &ctr{spec: &pod.Spec.InitContainers[i], init: true, status: st[pod.Spec.InitContainers[i].Name]})
	}
	for i := range pod.Spec.Containers {
		s.ctrs = append(s.ctrs, &ctr{spec: &pod.Spec.Containers[i], status: st[pod.Spec.Containers[i].Name]})
	}
	return s
}
