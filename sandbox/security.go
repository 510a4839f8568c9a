package sandbox

import (
	"fmt"

	"github.com/podbox/podbox/internal/kube"
	"github.com/podbox/podbox/internal/runtime"
	"github.com/podbox/podbox/internal/shim"
	corev1 "k8s.io/api/core/v1"
)

// checkSeccompProfiles reads and compiles every Localhost seccomp profile
// the pod names, so that a missing or broken one is reported before
// anything is made. The shim reads them again at each container start (as
// containerd does): a profile changed meanwhile applies to the next start.
func (r *Runtime) checkSeccompProfiles(pod *corev1.Pod) error {
	all := append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...)
	for i := range all {
		prof := kube.Seccomp(kube.EffectiveSecurityContext(pod, &all[i]))
		if prof.Type != corev1.SeccompProfileTypeLocalhost || prof.LocalhostProfile == nil {
			continue
		}
		data, err := shim.ReadSeccompProfile(r.opts.SeccompProfileRoot, *prof.LocalhostProfile)
		if err == nil {
			if err = runtime.CheckSeccompProfile(data); err != nil {
				err = fmt.Errorf("seccomp profile %q: %w", *prof.LocalhostProfile, err)
			}
		}
		if err != nil {
			return fmt.Errorf("run pod %s/%s: container %s: %w", pod.Namespace, pod.Name, all[i].Name, err)
		}
	}
	return nil
}
