package kube

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func decodeFile(t *testing.T, name string) *corev1.Pod {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := Decode(f, name)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if len(m.Pods) != 1 {
		t.Fatalf("%s holds %d pods, want 1", name, len(m.Pods))
	}
	return m.Pods[0]
}

func asJSONMap(t *testing.T, v any) map[string]any {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestSetDefaultsGolden compares a defaulted pod with what `kubectl get -o json` shows
// for the same manifest on a cluster, minus what admission plugins add there
// (serviceAccountName, the kube-api-access volume, tolerations, priority,
// preemptionPolicy, nodeName) and the server-set metadata and status.
func TestSetDefaultsGolden(t *testing.T) {
	for _, name := range []string{"minimal-pod", "full-pod"} {
		t.Run(name, func(t *testing.T) {
			pod := decodeFile(t, name+".yaml")
			SetDefaults(pod)
			wantData, err := os.ReadFile(filepath.Join("testdata", name+".defaulted.json"))
			if err != nil {
				t.Fatal(err)
			}
			var want map[string]any
			if err := json.Unmarshal(wantData, &want); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, asJSONMap(t, pod)); diff != "" {
				t.Errorf("defaulted pod (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSetDefaultsIdempotent(t *testing.T) {
	for _, name := range []string{"minimal-pod.yaml", "full-pod.yaml"} {
		pod := decodeFile(t, name)
		SetDefaults(pod)
		once := pod.DeepCopy()
		SetDefaults(pod)
		if diff := cmp.Diff(asJSONMap(t, once), asJSONMap(t, pod)); diff != "" {
			t.Errorf("%s: second SetDefaults changed the pod (-once +twice):\n%s", name, diff)
		}
	}
}

func TestSetDefaultsKeepsValues(t *testing.T) {
	grace := int64(3)
	links := false
	pod := &corev1.Pod{Spec: corev1.PodSpec{
		RestartPolicy:                 corev1.RestartPolicyNever,
		DNSPolicy:                     corev1.DNSNone,
		TerminationGracePeriodSeconds: &grace,
		EnableServiceLinks:            &links,
		SchedulerName:                 "mine",
		Containers: []corev1.Container{{
			Name: "app", Image: "busybox", ImagePullPolicy: corev1.PullNever,
			TerminationMessagePath:   "/tmp/msg",
			TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
			Ports:                    []corev1.ContainerPort{{ContainerPort: 80, Protocol: corev1.ProtocolSCTP}},
			Resources: corev1.ResourceRequirements{
				Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")},
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")},
			},
		}},
	}}
	pod.Namespace = "mine"
	want := pod.DeepCopy()
	want.Spec.SecurityContext = &corev1.PodSecurityContext{}
	SetDefaults(pod)
	if diff := cmp.Diff(asJSONMap(t, want), asJSONMap(t, pod)); diff != "" {
		t.Errorf("SetDefaults overwrote values (-want +got):\n%s", diff)
	}
}

func TestDefaultPullPolicy(t *testing.T) {
	const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for _, tc := range []struct {
		image string
		want  corev1.PullPolicy
	}{
		{"busybox", corev1.PullAlways},
		{"busybox:latest", corev1.PullAlways},
		{"busybox:1.36", corev1.PullIfNotPresent},
		{"docker.io/library/busybox:1.36", corev1.PullIfNotPresent},
		{"busybox@" + digest, corev1.PullIfNotPresent},
		{"busybox:latest@" + digest, corev1.PullAlways},
		{"busybox:1.36@" + digest, corev1.PullIfNotPresent},
		{"localhost:5000/x", corev1.PullAlways},
		{"localhost:5000/x:v1", corev1.PullIfNotPresent},
		{"localhost:5000/x:latest", corev1.PullAlways},
		{"quay.io/org/app", corev1.PullAlways},
		{"Busybox", corev1.PullIfNotPresent}, // does not parse: upstream leaves the tag empty
		{"", corev1.PullIfNotPresent},
	} {
		if got := DefaultPullPolicy(tc.image); got != tc.want {
			t.Errorf("DefaultPullPolicy(%q) = %s, want %s", tc.image, got, tc.want)
		}
	}
}

func TestSetDefaultsImageVolume(t *testing.T) {
	pod := &corev1.Pod{Spec: corev1.PodSpec{Volumes: []corev1.Volume{
		{Name: "a", VolumeSource: corev1.VolumeSource{Image: &corev1.ImageVolumeSource{Reference: "tools"}}},
		{Name: "b", VolumeSource: corev1.VolumeSource{Image: &corev1.ImageVolumeSource{Reference: "tools:v2"}}},
	}}}
	SetDefaults(pod)
	got := []corev1.PullPolicy{pod.Spec.Volumes[0].Image.PullPolicy, pod.Spec.Volumes[1].Image.PullPolicy}
	if diff := cmp.Diff([]corev1.PullPolicy{corev1.PullAlways, corev1.PullIfNotPresent}, got); diff != "" {
		t.Errorf("image volume pull policies (-want +got):\n%s", diff)
	}
}
