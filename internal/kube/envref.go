package kube

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
)

// PodFacts are the values the downward API exposes that a pod's spec does not hold.
type PodFacts struct {
	PodIPs  []string
	HostIPs []string
	// CPUs and Memory (bytes) are the node's allocatable resources: what a limit that
	// is not set stands for.
	CPUs   int64
	Memory int64
}

// EnvRefs are the values the kubelet looks up for a container's environment: the
// variables of envFrom, in order and prefixed, and the value of each env[] entry with
// valueFrom, by its index in env. Secret marks that a value comes from a Secret.
type EnvRefs struct {
	From      []EnvVar
	ValueFrom map[int]string
	Secret    bool
	// Skipped lists envFrom keys that are not valid variable names (the kubelet skips
	// them with an InvalidEnvironmentVariableNames event).
	Skipped []string
}

// EnvVar is one resolved variable.
type EnvVar struct{ Name, Value string }

// ResolveEnv looks up what container c's envFrom and env[].valueFrom refer to, as the
// kubelet's makeEnvironmentVariables does. A ConfigMap, Secret or key that is missing
// and not optional is an error with the kubelet's text (the container's
// CreateContainerConfigError); an optional one is left out.
func ResolveEnv(pod *corev1.Pod, c *corev1.Container, objs *Objects, facts PodFacts) (*EnvRefs, error) {
	refs := &EnvRefs{ValueFrom: map[int]string{}}
	for _, src := range c.EnvFrom {
		var data map[string]string
		switch {
		case src.ConfigMapRef != nil:
			cm := objs.configMap(src.ConfigMapRef.Name)
			if cm == nil {
				if isTrue(src.ConfigMapRef.Optional) {
					continue
				}
				return nil, fmt.Errorf("configmap %q not found", src.ConfigMapRef.Name)
			}
			data = cm.Data
		case src.SecretRef != nil:
			s := objs.secret(src.SecretRef.Name)
			if s == nil {
				if isTrue(src.SecretRef.Optional) {
					continue
				}
				return nil, fmt.Errorf("secret %q not found", src.SecretRef.Name)
			}
			data = map[string]string{}
			for k, v := range s.Data {
				data[k] = string(v)
			}
			refs.Secret = refs.Secret || len(data) > 0
		}
		keys := make([]string, 0, len(data))
		for k := range data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			name := src.Prefix + k
			if len(validation.IsRelaxedEnvVarName(name)) > 0 {
				refs.Skipped = append(refs.Skipped, name)
				continue
			}
			refs.From = append(refs.From, EnvVar{Name: name, Value: data[k]})
		}
	}
	for i, e := range c.Env {
		vf := e.ValueFrom
		if vf == nil {
			continue
		}
		switch {
		case vf.ConfigMapKeyRef != nil:
			r := vf.ConfigMapKeyRef
			cm := objs.configMap(r.Name)
			if cm == nil {
				if isTrue(r.Optional) {
					continue
				}
				return nil, fmt.Errorf("configmap %q not found", r.Name)
			}
			v, ok := cm.Data[r.Key]
			if !ok {
				if isTrue(r.Optional) {
					continue
				}
				return nil, fmt.Errorf("couldn't find key %s in ConfigMap %s/%s", r.Key, pod.Namespace, r.Name)
			}
			refs.ValueFrom[i] = v
		case vf.SecretKeyRef != nil:
			r := vf.SecretKeyRef
			s := objs.secret(r.Name)
			if s == nil {
				if isTrue(r.Optional) {
					continue
				}
				return nil, fmt.Errorf("secret %q not found", r.Name)
			}
			v, ok := s.Data[r.Key]
			if !ok {
				if isTrue(r.Optional) {
					continue
				}
				return nil, fmt.Errorf("couldn't find key %s in Secret %s/%s", r.Key, pod.Namespace, r.Name)
			}
			refs.ValueFrom[i] = string(v)
			refs.Secret = true
		case vf.FieldRef != nil:
			v, err := FieldValue(pod, vf.FieldRef.FieldPath, facts)
			if err != nil {
				return nil, err
			}
			refs.ValueFrom[i] = v
		case vf.ResourceFieldRef != nil:
			v, err := ResourceValue(pod, c, vf.ResourceFieldRef, facts)
			if err != nil {
				return nil, err
			}
			refs.ValueFrom[i] = v
		}
	}
	return refs, nil
}

func isTrue(b *bool) bool { return b != nil && *b }

// FieldValue is the value of a downward API field of the pod, as the kubelet gives it:
// IP lists are comma-separated; metadata.labels and metadata.annotations are the
// key="value" lines of the map, sorted; a subscript (metadata.labels['app']) picks
// one value.
func FieldValue(pod *corev1.Pod, fieldPath string, facts PodFacts) (string, error) {
	if name, sub, ok := splitSubscript(fieldPath); ok {
		switch name {
		case "metadata.annotations":
			return pod.Annotations[sub], nil
		case "metadata.labels":
			return pod.Labels[sub], nil
		}
		return "", fmt.Errorf("fieldPath %q does not support subscript", fieldPath)
	}
	first := func(l []string) string {
		if len(l) == 0 {
			return ""
		}
		return l[0]
	}
	switch fieldPath {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "metadata.labels":
		return formatMap(pod.Labels), nil
	case "metadata.annotations":
		return formatMap(pod.Annotations), nil
	case "spec.nodeName", "spec.host":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.podIP":
		return first(facts.PodIPs), nil
	case "status.podIPs":
		return strings.Join(facts.PodIPs, ","), nil
	case "status.hostIP":
		return first(facts.HostIPs), nil
	case "status.hostIPs":
		return strings.Join(facts.HostIPs, ","), nil
	}
	return "", fmt.Errorf("unsupported fieldPath: %s", fieldPath)
}

// formatMap renders a label or annotation map as the downward API does.
func formatMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, strconv.Quote(m[k]))
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// ResourceValue is a container's limit or request as the downward API gives it, in
// units of the divisor (default 1), rounded up. Limits that are not set stand for the
// node's allocatable resources, as in the kubelet. ctr is the container the reference is
// in; ref.ContainerName, if set, names another one.
func ResourceValue(pod *corev1.Pod, ctr *corev1.Container, ref *corev1.ResourceFieldSelector, facts PodFacts) (string, error) {
	c := ctr
	if ref.ContainerName != "" {
		c = findContainer(pod, ref.ContainerName)
		if c == nil {
			return "", fmt.Errorf("resourceFieldRef: container %q not found in pod", ref.ContainerName)
		}
	}
	if c == nil {
		return "", fmt.Errorf("resourceFieldRef %s: containerName is required", ref.Resource)
	}
	kind, res, ok := strings.Cut(ref.Resource, ".")
	if !ok || (kind != "limits" && kind != "requests") {
		return "", fmt.Errorf("unsupported container resource: %s", ref.Resource)
	}
	list := c.Resources.Requests
	if kind == "limits" {
		list = c.Resources.Limits
	}
	q, set := list[corev1.ResourceName(res)]
	divisor := ref.Divisor
	if divisor.IsZero() {
		divisor = resource.MustParse("1")
	}
	switch res {
	case "cpu":
		if !set && kind == "limits" {
			q = *resource.NewQuantity(facts.CPUs, resource.DecimalSI)
		}
		return strconv.FormatInt(int64(math.Ceil(float64(q.MilliValue())/float64(divisor.MilliValue()))), 10), nil
	case "memory", "ephemeral-storage":
		if !set && kind == "limits" && res == "memory" {
			q = *resource.NewQuantity(facts.Memory, resource.BinarySI)
		}
		return strconv.FormatInt(int64(math.Ceil(float64(q.Value())/float64(divisor.Value()))), 10), nil
	}
	if strings.HasPrefix(res, "hugepages-") {
		return strconv.FormatInt(int64(math.Ceil(float64(q.Value())/float64(divisor.Value()))), 10), nil
	}
	return "", fmt.Errorf("unsupported container resource: %s", ref.Resource)
}

func findContainer(pod *corev1.Pod, name string) *corev1.Container {
	for i := range pod.Spec.InitContainers {
		if pod.Spec.InitContainers[i].Name == name {
			return &pod.Spec.InitContainers[i]
		}
	}
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == name {
			return &pod.Spec.Containers[i]
		}
	}
	return nil
}
