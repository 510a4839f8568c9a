package sandbox

import (
	"fmt"

	"github.com/podbox/podbox/internal/kube"
	corev1 "k8s.io/api/core/v1"
)

// RunOptions are what a pod may refer to besides its own spec.
type RunOptions struct {
	// ConfigMaps and Secrets are what the pod's configMap and secret
	// volumes, envFrom and env[].valueFrom refer to by name, as `podbox run`
	// takes them from the manifest (kind: ConfigMap, kind: Secret). Those of
	// another namespace than the pod's are ignored; an empty namespace is the
	// pod's. ConfigMaps are kept in the pod's record; Secrets only on a
	// tmpfs of the pod, never on disk. A reference to one that is missing is
	// the container's CreateContainerConfigError, as on a node.
	ConfigMaps []corev1.ConfigMap
	Secrets    []corev1.Secret
}

// forPod validates the objects and returns those of the pod's namespace
// (Secrets with stringData merged into data).
func (o RunOptions) forPod(pod *corev1.Pod) ([]corev1.ConfigMap, []corev1.Secret, error) {
	var cms []corev1.ConfigMap
	var secrets []corev1.Secret
	for i := range o.ConfigMaps {
		cm := o.ConfigMaps[i].DeepCopy()
		if cm.Namespace == "" {
			cm.Namespace = pod.Namespace
		}
		if errs := kube.ValidateConfigMap(cm); len(errs) > 0 {
			return nil, nil, fmt.Errorf("configmap %q is invalid: %w", cm.Name, errs.ToAggregate())
		}
		if cm.Namespace == pod.Namespace {
			cms = append(cms, *cm)
		}
	}
	for i := range o.Secrets {
		s := o.Secrets[i].DeepCopy()
		if s.Namespace == "" {
			s.Namespace = pod.Namespace
		}
		if errs := kube.ValidateSecret(s); len(errs) > 0 {
			return nil, nil, fmt.Errorf("secret %q is invalid: %w", s.Name, errs.ToAggregate())
		}
		if s.Namespace == pod.Namespace {
			kube.NormalizeSecret(s)
			secrets = append(secrets, *s)
		}
	}
	return cms, secrets, nil
}
