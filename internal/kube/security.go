package kube

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// EffectiveSecurityContext merges a container's securityContext over its
// pod's, as the kubelet does (pkg/securitycontext DetermineEffectiveSecurityContext):
// runAsUser, runAsGroup, runAsNonRoot, seLinuxOptions, windowsOptions,
// seccompProfile and appArmorProfile come from the pod unless the container
// sets them; the other fields exist only on the container. The result is a
// new value: changing it changes neither input.
func EffectiveSecurityContext(pod *corev1.Pod, c *corev1.Container) *corev1.SecurityContext {
	eff := &corev1.SecurityContext{}
	if psc := pod.Spec.SecurityContext; psc != nil {
		eff.RunAsUser = psc.RunAsUser
		eff.RunAsGroup = psc.RunAsGroup
		eff.RunAsNonRoot = psc.RunAsNonRoot
		eff.SELinuxOptions = psc.SELinuxOptions
		eff.WindowsOptions = psc.WindowsOptions
		eff.SeccompProfile = psc.SeccompProfile
		eff.AppArmorProfile = psc.AppArmorProfile
	}
	if csc := c.SecurityContext; csc != nil {
		pick(&eff.RunAsUser, csc.RunAsUser)
		pick(&eff.RunAsGroup, csc.RunAsGroup)
		pick(&eff.RunAsNonRoot, csc.RunAsNonRoot)
		pick(&eff.SELinuxOptions, csc.SELinuxOptions)
		pick(&eff.WindowsOptions, csc.WindowsOptions)
		pick(&eff.SeccompProfile, csc.SeccompProfile)
		pick(&eff.AppArmorProfile, csc.AppArmorProfile)
		eff.Capabilities = csc.Capabilities
		eff.Privileged = csc.Privileged
		eff.ReadOnlyRootFilesystem = csc.ReadOnlyRootFilesystem
		eff.AllowPrivilegeEscalation = csc.AllowPrivilegeEscalation
		eff.ProcMount = csc.ProcMount
	}
	return eff.DeepCopy()
}

func pick[T any](dst **T, v *T) {
	if v != nil {
		*dst = v
	}
}

// IsPrivileged reports whether sc asks for a privileged container.
func IsPrivileged(sc *corev1.SecurityContext) bool {
	return sc != nil && sc.Privileged != nil && *sc.Privileged
}

// AddsSysAdmin reports whether sc adds CAP_SYS_ADMIN (by name, with or
// without the CAP_ prefix, or as ALL).
func AddsSysAdmin(sc *corev1.SecurityContext) bool {
	if sc == nil || sc.Capabilities == nil {
		return false
	}
	for _, c := range sc.Capabilities.Add {
		n := strings.TrimPrefix(strings.ToUpper(string(c)), "CAP_")
		if n == "SYS_ADMIN" || n == "ALL" {
			return true
		}
	}
	return false
}

// NoNewPrivileges reports whether a container runs with no_new_privs:
// podbox's default is yes, unless the container may escalate privileges:
// allowPrivilegeEscalation true, privileged, or CAP_SYS_ADMIN added (the
// cases where the API server refuses allowPrivilegeEscalation: false). The
// kubelet sets no_new_privs only when allowPrivilegeEscalation is false.
func NoNewPrivileges(sc *corev1.SecurityContext) bool {
	if sc.AllowPrivilegeEscalation != nil {
		return !*sc.AllowPrivilegeEscalation
	}
	return !IsPrivileged(sc) && !AddsSysAdmin(sc)
}

// Seccomp is the seccomp profile a container gets: none for a privileged
// one (as containerd), else its own or its pod's, else RuntimeDefault:
// podbox's default, as podman's (a kubelet's is Unconfined unless it runs
// with --seccomp-default).
func Seccomp(sc *corev1.SecurityContext) corev1.SeccompProfile {
	switch {
	case IsPrivileged(sc):
		return corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}
	case sc.SeccompProfile != nil:
		return *sc.SeccompProfile
	default:
		return corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
	}
}

// FormatPod is how the kubelet names a pod in messages (format.Pod):
// name_namespace(uid).
func FormatPod(pod *corev1.Pod) string {
	return fmt.Sprintf("%s_%s(%s)", pod.Name, pod.Namespace, pod.UID)
}

// VerifyRunAsNonRoot is the kubelet's runAsNonRoot check (verifyRunAsNonRoot)
// of a container against its image's user (the image config's User, as
// "user[:group]"). Its error, the kubelet's text, makes the container wait
// with reason CreateContainerConfigError. As the kubelet, it trusts only
// numeric users: an image user given by name cannot be verified.
func VerifyRunAsNonRoot(pod *corev1.Pod, c *corev1.Container, imageUser string) error {
	sc := EffectiveSecurityContext(pod, c)
	if sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		return nil
	}
	if sc.RunAsUser != nil {
		if *sc.RunAsUser == 0 {
			return fmt.Errorf("container's runAsUser breaks non-root policy (pod: %q, container: %s)", FormatPod(pod), c.Name)
		}
		return nil
	}
	user, _, _ := strings.Cut(imageUser, ":")
	if user == "" {
		user = "0" // no user in the image: root
	}
	if strings.Trim(user, "0123456789") != "" {
		return fmt.Errorf("container has runAsNonRoot and image has non-numeric user (%s), cannot verify user is non-root (pod: %q, container: %s)",
			user, FormatPod(pod), c.Name)
	}
	uid, err := strconv.ParseInt(user, 10, 64)
	if err != nil {
		uid = math.MaxInt64
	}
	if errs := validation.IsValidUserID(uid); uid != 0 && len(errs) > 0 {
		return fmt.Errorf("container has runAsNonRoot and image has an invalid user id (%d). (Must be 1-(%d)): %s (pod: %q, container: %s)",
			uid, math.MaxInt32, strings.Join(errs, "; "), FormatPod(pod), c.Name)
	}
	if uid == 0 {
		return fmt.Errorf("container has runAsNonRoot and image will run as root (pod: %q, container: %s)", FormatPod(pod), c.Name)
	}
	return nil
}
