package kube

import (
	"reflect"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// This file is the list of what podbox refuses because it does not implement it yet.
// Each entry of unsupported is one feature: when an issue implements it, delete the entry
// (and its test case in unsupported_test.go). Fields that are accepted but meaningless on
// one host are not here: they are in warnings.go.

const notYet = "not supported by podbox yet"

// unsupportedRule refuses one feature. pod checks the pod as a whole; container checks
// one init or app container at path (init says which kind). Either may be nil.
type unsupportedRule struct {
	feature   string
	pod       func(pod *corev1.Pod) field.ErrorList
	container func(pod *corev1.Pod, c *corev1.Container, path *field.Path, init bool) field.ErrorList
}

var unsupported = []unsupportedRule{
	{feature: "metadata.generateName", pod: func(pod *corev1.Pod) field.ErrorList {
		if pod.GenerateName != "" && pod.Name == "" {
			return forbidden(field.NewPath("metadata", "generateName"), "not supported, set metadata.name")
		}
		return nil
	}},
	{feature: "readinessGates", pod: podField("readinessGates", func(s *corev1.PodSpec) bool { return len(s.ReadinessGates) > 0 })},
	{feature: "runtimeClassName", pod: podField("runtimeClassName", func(s *corev1.PodSpec) bool { return s.RuntimeClassName != nil })},
	{feature: "hostUsers (user namespaces)", pod: podField("hostUsers", func(s *corev1.PodSpec) bool { return s.HostUsers != nil && !*s.HostUsers })},
	{feature: "imagePullSecrets", pod: podField("imagePullSecrets", func(s *corev1.PodSpec) bool { return len(s.ImagePullSecrets) > 0 })},
	{feature: "overhead", pod: podField("overhead", func(s *corev1.PodSpec) bool { return len(s.Overhead) > 0 })},
	{feature: "resourceClaims", pod: podField("resourceClaims", func(s *corev1.PodSpec) bool { return len(s.ResourceClaims) > 0 })},
	{feature: "pod-level resources", pod: podField("resources", func(s *corev1.PodSpec) bool { return s.Resources != nil && !isEmpty(reflect.ValueOf(*s.Resources)) })},
	{feature: "setHostnameAsFQDN", pod: podField("setHostnameAsFQDN", func(s *corev1.PodSpec) bool { return s.SetHostnameAsFQDN != nil && *s.SetHostnameAsFQDN })},
	{feature: "hostnameOverride", pod: podField("hostnameOverride", func(s *corev1.PodSpec) bool { return s.HostnameOverride != nil && *s.HostnameOverride != "" })},
	{feature: "windows pods", pod: func(pod *corev1.Pod) field.ErrorList {
		if os := pod.Spec.OS; os != nil && os.Name == corev1.Windows {
			return forbidden(field.NewPath("spec", "os", "name"), "podbox runs Linux pods only")
		}
		return nil
	}},

	{feature: "volumeDevices", container: containerField("volumeDevices", func(c *corev1.Container) bool { return len(c.VolumeDevices) > 0 })},
	{feature: "hugepages and extended resources", container: unsupportedResources},
	{feature: "stdin", container: containerField("stdin", func(c *corev1.Container) bool { return c.Stdin })},
	{feature: "stdinOnce", container: containerField("stdinOnce", func(c *corev1.Container) bool { return c.StdinOnce })},
	{feature: "tty", container: containerField("tty", func(c *corev1.Container) bool { return c.TTY })},
	{feature: "restartPolicyRules", container: containerField("restartPolicyRules", func(c *corev1.Container) bool { return len(c.RestartPolicyRules) > 0 })},
}

// checkUnsupported runs every rule of the table.
func checkUnsupported(pod *corev1.Pod) field.ErrorList {
	var errs field.ErrorList
	for _, r := range unsupported {
		if r.pod != nil {
			errs = append(errs, r.pod(pod)...)
		}
		if r.container == nil {
			continue
		}
		for i := range pod.Spec.InitContainers {
			errs = append(errs, r.container(pod, &pod.Spec.InitContainers[i], field.NewPath("spec", "initContainers").Index(i), true)...)
		}
		for i := range pod.Spec.Containers {
			errs = append(errs, r.container(pod, &pod.Spec.Containers[i], field.NewPath("spec", "containers").Index(i), false)...)
		}
	}
	return errs
}

func forbidden(path *field.Path, detail string) field.ErrorList {
	return field.ErrorList{field.Forbidden(path, detail)}
}

// podField refuses spec.<name> when set reports it in use.
func podField(name string, set func(*corev1.PodSpec) bool) func(*corev1.Pod) field.ErrorList {
	return func(pod *corev1.Pod) field.ErrorList {
		if set(&pod.Spec) {
			return forbidden(field.NewPath("spec", name), notYet)
		}
		return nil
	}
}

// containerField refuses <container>.<name> when set reports it in use.
func containerField(name string, set func(*corev1.Container) bool) func(*corev1.Pod, *corev1.Container, *field.Path, bool) field.ErrorList {
	return func(_ *corev1.Pod, c *corev1.Container, path *field.Path, _ bool) field.ErrorList {
		if set(c) {
			return forbidden(path.Child(name), notYet)
		}
		return nil
	}
}

// isEmpty reports whether v is unset as JSON sees it: zero, or an empty slice or map, or a
// struct whose fields are all empty.
func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Slice, reflect.Map:
		return v.Len() == 0
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if !isEmpty(v.Field(i)) {
				return false
			}
		}
		return true
	default:
		return v.IsZero()
	}
}
