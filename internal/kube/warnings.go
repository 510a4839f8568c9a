package kube

import (
	"fmt"
	"reflect"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Warnings lists the fields of pod that podbox accepts but that mean nothing on one host
// (scheduling, service accounts, what the API server sets), one line each, starting with
// the field path:
//
//	spec.nodeSelector: ignored: podbox runs every pod on this host
//
// It is meant for a defaulted pod: schedulerName is only reported when it is not
// default-scheduler.
func Warnings(pod *corev1.Pod) []string {
	var out []string
	add := func(path *field.Path, why string) {
		out = append(out, fmt.Sprintf("%s: ignored: %s", path, why))
	}
	meta := field.NewPath("metadata")
	const serverSet = "set by the API server in a cluster"
	if pod.GenerateName != "" && pod.Name != "" {
		add(meta.Child("generateName"), "metadata.name is set")
	}
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"uid", pod.UID != ""},
		{"resourceVersion", pod.ResourceVersion != ""},
		{"generation", pod.Generation != 0},
		{"creationTimestamp", !pod.CreationTimestamp.IsZero()},
		{"deletionTimestamp", pod.DeletionTimestamp != nil},
		{"deletionGracePeriodSeconds", pod.DeletionGracePeriodSeconds != nil},
		{"selfLink", pod.SelfLink != ""}, //nolint:staticcheck // warn when a manifest still carries it
		{"managedFields", len(pod.ManagedFields) > 0},
		{"ownerReferences", len(pod.OwnerReferences) > 0},
		{"finalizers", len(pod.Finalizers) > 0},
	} {
		if f.set {
			add(meta.Child(f.name), serverSet)
		}
	}

	spec, sp := &pod.Spec, field.NewPath("spec")
	const oneHost = "podbox runs every pod on this host"
	const noAccounts = "podbox has no service accounts"
	for _, f := range []struct {
		name, why string
		set       bool
	}{
		{"nodeSelector", oneHost, len(spec.NodeSelector) > 0},
		{"affinity", oneHost, spec.Affinity != nil},
		{"tolerations", oneHost, len(spec.Tolerations) > 0},
		{"nodeName", oneHost, spec.NodeName != ""},
		{"topologySpreadConstraints", oneHost, len(spec.TopologySpreadConstraints) > 0},
		{"schedulerName", oneHost, spec.SchedulerName != "" && spec.SchedulerName != corev1.DefaultSchedulerName},
		{"schedulingGates", "podbox starts the pod at once", len(spec.SchedulingGates) > 0},
		{"schedulingGroup", oneHost, spec.SchedulingGroup != nil},
		{"priorityClassName", "podbox does not preempt pods", spec.PriorityClassName != ""},
		{"priority", "podbox does not preempt pods", spec.Priority != nil},
		{"preemptionPolicy", "podbox does not preempt pods", spec.PreemptionPolicy != nil},
		{"evictionResponders", "podbox does not evict pods", len(spec.EvictionResponders) > 0},
		{"serviceAccountName", noAccounts, spec.ServiceAccountName != ""},
		{"serviceAccount", noAccounts, spec.DeprecatedServiceAccount != ""},
		{"automountServiceAccountToken", noAccounts, spec.AutomountServiceAccountToken != nil},
	} {
		if f.set {
			add(sp.Child(f.name), f.why)
		}
	}
	for i := range spec.Containers {
		if len(spec.Containers[i].ResizePolicy) > 0 {
			add(sp.Child("containers").Index(i).Child("resizePolicy"), "podbox does not resize containers in place")
		}
	}
	out = append(out, securityWarnings(pod)...)
	out = append(out, resourceWarnings(pod)...)
	if !isEmpty(reflect.ValueOf(pod.Status)) {
		add(field.NewPath("status"), "podbox reports the status itself")
	}
	return out
}
