package shim

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/podbox/podbox/internal/kube"
	"github.com/podbox/podbox/internal/nsutil"
	"github.com/podbox/podbox/internal/runtime"
	corev1 "k8s.io/api/core/v1"
)

// security is what a container's effective securityContext (its own over
// its pod's) makes of the container's libcontainer spec.
type security struct {
	privileged bool
	caps       []string // nil: the default set
	noNewPrivs bool
	readonly   bool
	masked     bool
	seccomp    bool
	profile    []byte // a Localhost seccomp profile
}

// apply sets the security fields of a container's spec.
func (sec *security) apply(sp *runtime.Spec) {
	sp.Privileged = sec.privileged
	sp.Capabilities = sec.caps
	sp.NoNewPrivileges = sec.noNewPrivs
	sp.ReadonlyRootfs = sec.readonly
	sp.Masked = sec.masked
	sp.Seccomp = sec.seccomp
	sp.SeccompProfile = sec.profile
	if sec.privileged {
		sp.CgroupNS = false // as containerd: a privileged container sees the host's cgroups
	}
}

// containerSecurity works out a container's security settings. A Localhost
// seccomp profile is read from the profile root now, at every start, as
// containerd does; a missing or unreadable one is a CreateContainerError.
func (s *shim) containerSecurity(c *corev1.Container) (security, error) {
	sc := kube.EffectiveSecurityContext(s.pod, c)
	sec := security{
		privileged: kube.IsPrivileged(sc),
		noNewPrivs: kube.NoNewPrivileges(sc),
		readonly:   sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem,
		masked:     sc.ProcMount == nil || *sc.ProcMount != corev1.UnmaskedProcMount,
	}
	if sc.Capabilities != nil {
		caps, err := runtime.Capabilities(capNames(sc.Capabilities.Add), capNames(sc.Capabilities.Drop))
		if err != nil {
			return security{}, err
		}
		sec.caps = caps
	}
	switch prof := kube.Seccomp(sc); prof.Type {
	case corev1.SeccompProfileTypeRuntimeDefault:
		sec.seccomp = true
	case corev1.SeccompProfileTypeLocalhost:
		data, err := ReadSeccompProfile(s.rec.SeccompProfileRoot, *prof.LocalhostProfile)
		if err != nil {
			return security{}, err
		}
		sec.seccomp, sec.profile = true, data
	}
	return sec, nil
}

// ReadSeccompProfile reads a Localhost seccomp profile: name is relative to
// root (the API server refuses absolute names and "..").
func ReadSeccompProfile(root, name string) ([]byte, error) {
	if root == "" {
		return nil, fmt.Errorf("seccomp profile %q: no seccomp profile root is configured", name)
	}
	data, err := os.ReadFile(filepath.Join(root, filepath.Clean("/"+name)))
	if err != nil {
		return nil, fmt.Errorf("read seccomp profile %q: %w", name, err)
	}
	return data, nil
}

func capNames(caps []corev1.Capability) []string {
	out := make([]string, len(caps))
	for i, c := range caps {
		out[i] = string(c)
	}
	return out
}

// containerUser is the user a container runs as, with the kubelet's and
// containerd's rules: runAsUser (its group from the image's /etc/passwd
// when runAsGroup is not set) or the image's user; runAsGroup over the
// group; supplementary groups from the image's /etc/group (unless
// supplementalGroupsPolicy is Strict), the pod's fsGroup and
// supplementalGroups. runAsNonRoot is checked first: its failure, in the
// kubelet's words, is a CreateContainerConfigError.
func (s *shim) containerUser(c *corev1.Container, rootfs, imageUser string) (runtime.User, error) {
	if err := kube.VerifyRunAsNonRoot(s.pod, c, imageUser); err != nil {
		return runtime.User{}, err
	}
	sc := kube.EffectiveSecurityContext(s.pod, c)
	spec := imageUser
	if sc.RunAsUser != nil || sc.RunAsGroup != nil {
		user, group, _ := strings.Cut(imageUser, ":")
		if sc.RunAsUser != nil {
			user, group = strconv.FormatInt(*sc.RunAsUser, 10), ""
		}
		if user == "" {
			user = "0"
		}
		if sc.RunAsGroup != nil {
			group = strconv.FormatInt(*sc.RunAsGroup, 10)
		}
		spec = user
		if group != "" {
			spec += ":" + group
		}
	}
	u, err := runtime.ResolveUser(rootfs, spec)
	if err != nil {
		return runtime.User{}, err
	}
	add := func(g int64) {
		gid := uint32(g)
		if gid == u.GID || slices.Contains(u.AdditionalGIDs, gid) {
			return
		}
		u.AdditionalGIDs = append(u.AdditionalGIDs, gid)
	}
	if name, group, ok := strings.Cut(spec, ":"); ok && group != "" {
		// With a group given, /etc/group memberships are not looked up:
		// containerd adds the user's all the same.
		if byName, err := runtime.ResolveUser(rootfs, name); err == nil {
			for _, g := range byName.AdditionalGIDs {
				add(int64(g))
			}
		}
	}
	psc := s.pod.Spec.SecurityContext
	if psc == nil {
		return u, nil
	}
	if psc.SupplementalGroupsPolicy != nil && *psc.SupplementalGroupsPolicy == corev1.SupplementalGroupsPolicyStrict {
		u.AdditionalGIDs = nil
	}
	if psc.FSGroup != nil {
		add(*psc.FSGroup)
	}
	for _, g := range psc.SupplementalGroups {
		add(g)
	}
	return u, nil
}

// podSysctls are the pod's sysctls, set once in its namespaces.
func podSysctls(pod *corev1.Pod) []nsutil.Sysctl {
	if pod.Spec.SecurityContext == nil {
		return nil
	}
	var out []nsutil.Sysctl
	for _, s := range pod.Spec.SecurityContext.Sysctls {
		out = append(out, nsutil.Sysctl{Name: s.Name, File: kube.SysctlFile(s.Name), Value: s.Value})
	}
	return out
}

// hasPrivileged reports whether any container of the pod is privileged.
func hasPrivileged(pod *corev1.Pod) bool {
	for _, cs := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range cs {
			if kube.IsPrivileged(cs[i].SecurityContext) {
				return true
			}
		}
	}
	return false
}

// statusUser is the identity a container's process runs with, for its
// status (containerStatuses[].user, as a kubelet with
// SupplementalGroupsPolicy reports it).
func statusUser(u runtime.User) *corev1.ContainerUser {
	groups := []int64{int64(u.GID)}
	for _, g := range u.AdditionalGIDs {
		groups = append(groups, int64(g))
	}
	slices.Sort(groups)
	return &corev1.ContainerUser{Linux: &corev1.LinuxContainerUser{UID: int64(u.UID), GID: int64(u.GID), SupplementalGroups: slices.Compact(groups)}}
}
