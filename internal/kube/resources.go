package kube

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Container resources: cpu and memory become cgroup limits (package
// cgroups); ephemeral-storage is accepted and ignored with a warning
// (podbox does not evict); hugepages and extended resources (example.com/gpu:
// device plugins) are refused, since podbox cannot provide them.

// unsupportedResources refuses the resources podbox cannot provide.
func unsupportedResources(_ *corev1.Pod, c *corev1.Container, path *field.Path, _ bool) field.ErrorList {
	var errs field.ErrorList
	for _, l := range []struct {
		name string
		list corev1.ResourceList
	}{{"limits", c.Resources.Limits}, {"requests", c.Resources.Requests}} {
		for _, name := range slices.Sorted(maps.Keys(l.list)) {
			if _, inLimits := c.Resources.Limits[name]; l.name == "requests" && inLimits {
				continue // defaulted from the limit: one error is enough
			}
			p := path.Child("resources", l.name).Key(string(name))
			switch {
			case strings.HasPrefix(string(name), corev1.ResourceHugePagesPrefix):
				errs = append(errs, field.Forbidden(p, "hugepages are not supported by podbox"))
			case strings.Contains(string(name), "/"): // other names are invalid (validateResources)
				errs = append(errs, field.Forbidden(p, "podbox cannot provide extended resources (no device plugins)"))
			}
		}
	}
	return errs
}

// resourceWarnings reports the resources podbox accepts without enforcing.
func resourceWarnings(pod *corev1.Pod) []string {
	var out []string
	check := func(cs []corev1.Container, path *field.Path) {
		for i := range cs {
			r := &cs[i].Resources
			// One warning a container: requests default to limits.
			for _, l := range []struct {
				name string
				list corev1.ResourceList
			}{{"limits", r.Limits}, {"requests", r.Requests}} {
				if _, ok := l.list[corev1.ResourceEphemeralStorage]; ok {
					out = append(out, fmt.Sprintf("%s: ignored: podbox does not limit ephemeral storage",
						path.Index(i).Child("resources", l.name).Key(string(corev1.ResourceEphemeralStorage))))
					break
				}
			}
		}
	}
	sp := field.NewPath("spec")
	check(pod.Spec.InitContainers, sp.Child("initContainers"))
	check(pod.Spec.Containers, sp.Child("containers"))
	return out
}
