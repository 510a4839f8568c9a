package kube

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestWarningsNone(t *testing.T) {
	if w := Warnings(testPod(nil)); len(w) > 0 {
		t.Errorf("Warnings = %q, want none", w)
	}
}

func TestWarnings(t *testing.T) {
	pod := testPod(func(p *corev1.Pod) {
		p.GenerateName = "web-"
		p.UID = "1234"
		p.ResourceVersion = "42"
		p.CreationTimestamp = metav1.Now()
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web", UID: "5"}}
		s := &p.Spec
		s.NodeSelector = map[string]string{"disk": "ssd"}
		s.Affinity = &corev1.Affinity{}
		s.Tolerations = []corev1.Toleration{{Operator: corev1.TolerationOpExists}}
		s.NodeName = "node-1"
		s.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{MaxSkew: 1, TopologyKey: "zone"}}
		s.SchedulerName = "my-scheduler"
		s.SchedulingGates = []corev1.PodSchedulingGate{{Name: "example.com/wait"}}
		s.PriorityClassName = "high"
		s.Priority = ptr(int32(1000))
		s.PreemptionPolicy = ptr(corev1.PreemptNever)
		s.ServiceAccountName = "builder"
		s.DeprecatedServiceAccount = "builder"
		s.AutomountServiceAccountToken = ptr(false)
		s.Containers[0].ResizePolicy = []corev1.ContainerResizePolicy{{ResourceName: corev1.ResourceCPU, RestartPolicy: corev1.NotRequired}}
		s.Containers[0].Resources.Limits = corev1.ResourceList{corev1.ResourceEphemeralStorage: resource.MustParse("1Gi")}
		p.Status.Phase = corev1.PodRunning
	})
	want := []string{
		"metadata.generateName: ignored: metadata.name is set",
		"metadata.uid: ignored: set by the API server in a cluster",
		"metadata.resourceVersion: ignored: set by the API server in a cluster",
		"metadata.creationTimestamp: ignored: set by the API server in a cluster",
		"metadata.ownerReferences: ignored: set by the API server in a cluster",
		"spec.nodeSelector: ignored: podbox runs every pod on this host",
		"spec.affinity: ignored: podbox runs every pod on this host",
		"spec.tolerations: ignored: podbox runs every pod on this host",
		"spec.nodeName: ignored: podbox runs every pod on this host",
		"spec.topologySpreadConstraints: ignored: podbox runs every pod on this host",
		"spec.schedulerName: ignored: podbox runs every pod on this host",
		"spec.schedulingGates: ignored: podbox starts the pod at once",
		"spec.priorityClassName: ignored: podbox does not preempt pods",
		"spec.priority: ignored: podbox does not preempt pods",
		"spec.preemptionPolicy: ignored: podbox does not preempt pods",
		"spec.serviceAccountName: ignored: podbox has no service accounts",
		"spec.serviceAccount: ignored: podbox has no service accounts",
		"spec.automountServiceAccountToken: ignored: podbox has no service accounts",
		"spec.containers[0].resizePolicy: ignored: podbox does not resize containers in place",
		"spec.containers[0].resources.limits[ephemeral-storage]: ignored: podbox does not limit ephemeral storage",
		"status: ignored: podbox reports the status itself",
	}
	got := Warnings(pod)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Warnings (-want +got):\n%s", diff)
	}
	// Warned fields are accepted: nothing of the above is a validation error.
	if errs := Validate(pod); len(errs) > 0 {
		t.Errorf("Validate = %v, want no errors", errs.ToAggregate())
	}
	for _, w := range got {
		if strings.Contains(w, "\n") {
			t.Errorf("warning %q spans lines", w)
		}
	}
}

// TestKubectlDryRunOutput: what `kubectl run web --image=nginx --dry-run=client -o yaml`
// prints decodes, validates and warns about nothing.
func TestKubectlDryRunOutput(t *testing.T) {
	const in = `apiVersion: v1
kind: Pod
metadata:
  creationTimestamp: null
  labels:
    run: web
  name: web
spec:
  containers:
  - image: nginx
    name: web
    resources: {}
  dnsPolicy: ClusterFirst
  restartPolicy: Always
status: {}
`
	m, err := Decode(strings.NewReader(in), "web.yaml")
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	p := m.Pods[0]
	SetDefaults(p)
	if errs := Validate(p); len(errs) > 0 {
		t.Errorf("Validate = %v", errs.ToAggregate())
	}
	if w := Warnings(p); len(w) > 0 {
		t.Errorf("Warnings = %q", w)
	}
}
