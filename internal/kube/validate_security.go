package kube

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/moby/sys/capability"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validateSecurity checks the pod's and every container's securityContext
// as the API server does (the user and group IDs of the pod's are checked
// by validatePodSecurityContext), then refuses what podbox cannot apply:
// SELinux labels, AppArmor profiles other than Unconfined and
// RuntimeDefault (see securityWarnings), sysctls not known to be
// namespaced.
func validateSecurity(spec *corev1.PodSpec, specPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	path := specPath.Child("securityContext")
	linux := spec.OS != nil && spec.OS.Name == corev1.Linux
	if psc := spec.SecurityContext; psc != nil {
		errs = append(errs, validateSysctls(spec, path.Child("sysctls"))...)
		errs = append(errs, validateSeccompProfile(psc.SeccompProfile, path.Child("seccompProfile"))...)
		errs = append(errs, validateAppArmorProfile(psc.AppArmorProfile, path.Child("appArmorProfile"))...)
		errs = append(errs, refuseSELinux(psc.SELinuxOptions, path.Child("seLinuxOptions"))...)
		if psc.WindowsOptions != nil && linux {
			errs = append(errs, field.Forbidden(path.Child("windowsOptions"), "may not be set for a linux pod"))
		}
		if p := psc.FSGroupChangePolicy; p != nil && *p != corev1.FSGroupChangeOnRootMismatch && *p != corev1.FSGroupChangeAlways {
			errs = append(errs, field.NotSupported(path.Child("fsGroupChangePolicy"), *p,
				[]corev1.PodFSGroupChangePolicy{corev1.FSGroupChangeOnRootMismatch, corev1.FSGroupChangeAlways}))
		}
		if p := psc.SupplementalGroupsPolicy; p != nil && *p != corev1.SupplementalGroupsPolicyMerge && *p != corev1.SupplementalGroupsPolicyStrict {
			errs = append(errs, field.NotSupported(path.Child("supplementalGroupsPolicy"), *p,
				[]corev1.SupplementalGroupsPolicy{corev1.SupplementalGroupsPolicyMerge, corev1.SupplementalGroupsPolicyStrict}))
		}
		if p := psc.SELinuxChangePolicy; p != nil && *p != corev1.SELinuxChangePolicyRecursive && *p != corev1.SELinuxChangePolicyMountOption {
			errs = append(errs, field.NotSupported(path.Child("seLinuxChangePolicy"), *p,
				[]corev1.PodSELinuxChangePolicy{corev1.SELinuxChangePolicyRecursive, corev1.SELinuxChangePolicyMountOption}))
		}
	}
	for i := range spec.InitContainers {
		errs = append(errs, validateContainerSecurity(spec.InitContainers[i].SecurityContext, linux,
			specPath.Child("initContainers").Index(i).Child("securityContext"))...)
	}
	for i := range spec.Containers {
		errs = append(errs, validateContainerSecurity(spec.Containers[i].SecurityContext, linux,
			specPath.Child("containers").Index(i).Child("securityContext"))...)
	}
	return errs
}

func validateContainerSecurity(sc *corev1.SecurityContext, linux bool, path *field.Path) field.ErrorList {
	if sc == nil {
		return nil
	}
	var errs field.ErrorList
	if sc.RunAsUser != nil {
		for _, msg := range validation.IsValidUserID(*sc.RunAsUser) {
			errs = append(errs, field.Invalid(path.Child("runAsUser"), *sc.RunAsUser, msg))
		}
	}
	if sc.RunAsGroup != nil {
		for _, msg := range validation.IsValidGroupID(*sc.RunAsGroup) {
			errs = append(errs, field.Invalid(path.Child("runAsGroup"), *sc.RunAsGroup, msg))
		}
	}
	if sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation {
		if IsPrivileged(sc) {
			errs = append(errs, field.Invalid(path.Child("allowPrivilegeEscalation"), false,
				"cannot set `allowPrivilegeEscalation` to false and `privileged` to true"))
		}
		if AddsSysAdmin(sc) {
			errs = append(errs, field.Invalid(path.Child("allowPrivilegeEscalation"), false,
				"cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN"))
		}
	}
	if c := sc.Capabilities; c != nil {
		errs = append(errs, validateCapabilities(c.Add, path.Child("capabilities", "add"))...)
		errs = append(errs, validateCapabilities(c.Drop, path.Child("capabilities", "drop"))...)
	}
	if pm := sc.ProcMount; pm != nil && *pm != corev1.DefaultProcMount && *pm != corev1.UnmaskedProcMount {
		errs = append(errs, field.NotSupported(path.Child("procMount"), *pm,
			[]corev1.ProcMountType{corev1.DefaultProcMount, corev1.UnmaskedProcMount}))
	}
	errs = append(errs, validateSeccompProfile(sc.SeccompProfile, path.Child("seccompProfile"))...)
	errs = append(errs, validateAppArmorProfile(sc.AppArmorProfile, path.Child("appArmorProfile"))...)
	errs = append(errs, refuseSELinux(sc.SELinuxOptions, path.Child("seLinuxOptions"))...)
	if sc.WindowsOptions != nil && linux {
		errs = append(errs, field.Forbidden(path.Child("windowsOptions"), "may not be set for a linux pod"))
	}
	return errs
}

// validateCapabilities refuses names the system does not know (a runtime
// would fail the container's start on them); ALL is a name too.
func validateCapabilities(caps []corev1.Capability, path *field.Path) field.ErrorList {
	known := sets.New("ALL")
	for _, c := range capability.ListKnown() {
		known.Insert(strings.ToUpper(c.String()))
	}
	var errs field.ErrorList
	for i, c := range caps {
		if !known.Has(strings.TrimPrefix(strings.ToUpper(string(c)), "CAP_")) {
			errs = append(errs, field.Invalid(path.Index(i), c, "unknown capability"))
		}
	}
	return errs
}

func validateSeccompProfile(sp *corev1.SeccompProfile, path *field.Path) field.ErrorList {
	if sp == nil {
		return nil
	}
	var errs field.ErrorList
	switch sp.Type {
	case corev1.SeccompProfileTypeRuntimeDefault, corev1.SeccompProfileTypeUnconfined, corev1.SeccompProfileTypeLocalhost:
	case "":
		errs = append(errs, field.Required(path.Child("type"), "type is required when seccompProfile is set"))
	default:
		errs = append(errs, field.NotSupported(path.Child("type"), sp.Type, []corev1.SeccompProfileType{
			corev1.SeccompProfileTypeLocalhost, corev1.SeccompProfileTypeRuntimeDefault, corev1.SeccompProfileTypeUnconfined}))
	}
	switch {
	case sp.Type == corev1.SeccompProfileTypeLocalhost && sp.LocalhostProfile == nil:
		errs = append(errs, field.Required(path.Child("localhostProfile"), "must be set when seccomp type is Localhost"))
	case sp.Type == corev1.SeccompProfileTypeLocalhost:
		if *sp.LocalhostProfile == "" {
			errs = append(errs, field.Required(path.Child("localhostProfile"), "must be set when seccomp type is Localhost"))
		}
		errs = append(errs, localDescendingPath(*sp.LocalhostProfile, path.Child("localhostProfile"))...)
	case sp.LocalhostProfile != nil:
		errs = append(errs, field.Invalid(path.Child("localhostProfile"), *sp.LocalhostProfile, "can only be set when seccomp type is Localhost"))
	}
	return errs
}

func validateAppArmorProfile(ap *corev1.AppArmorProfile, path *field.Path) field.ErrorList {
	if ap == nil {
		return nil
	}
	var errs field.ErrorList
	switch ap.Type {
	case corev1.AppArmorProfileTypeUnconfined, corev1.AppArmorProfileTypeRuntimeDefault:
	case corev1.AppArmorProfileTypeLocalhost:
		if ap.LocalhostProfile == nil || strings.TrimSpace(*ap.LocalhostProfile) == "" {
			errs = append(errs, field.Required(path.Child("localhostProfile"), "must be set when AppArmor type is Localhost"))
		}
		errs = append(errs, field.Forbidden(path.Child("type"), "podbox does not load AppArmor profiles: use Unconfined or RuntimeDefault"))
	case "":
		errs = append(errs, field.Required(path.Child("type"), "type is required when appArmorProfile is set"))
	default:
		errs = append(errs, field.NotSupported(path.Child("type"), ap.Type, []corev1.AppArmorProfileType{
			corev1.AppArmorProfileTypeLocalhost, corev1.AppArmorProfileTypeRuntimeDefault, corev1.AppArmorProfileTypeUnconfined}))
	}
	if ap.Type != corev1.AppArmorProfileTypeLocalhost && ap.LocalhostProfile != nil {
		errs = append(errs, field.Invalid(path.Child("localhostProfile"), *ap.LocalhostProfile, "can only be set when AppArmor type is Localhost"))
	}
	return errs
}

func refuseSELinux(o *corev1.SELinuxOptions, path *field.Path) field.ErrorList {
	if o == nil || *o == (corev1.SELinuxOptions{}) {
		return nil
	}
	return field.ErrorList{field.Forbidden(path, "podbox does not apply SELinux labels")}
}

// sysctlName is the API server's pattern for a sysctl name (dots or
// slashes between segments).
var sysctlName = regexp.MustCompile(`^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$`)

const sysctlMaxLength = 253

// validateSysctls checks the pod's sysctls as the API server does (names,
// duplicates, none of the host's namespaces), then as the kubelet's
// allowlist does: only sysctls known to be namespaced (net.*,
// kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*) are set, since the
// others would change the whole host.
func validateSysctls(spec *corev1.PodSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := sets.New[string]()
	for i, s := range spec.SecurityContext.Sysctls {
		p := path.Index(i).Child("name")
		switch {
		case s.Name == "":
			errs = append(errs, field.Required(p, ""))
			continue
		case len(s.Name) > sysctlMaxLength || !sysctlName.MatchString(s.Name):
			errs = append(errs, field.Invalid(p, s.Name, fmt.Sprintf("must have at most %d characters and match regex %s",
				sysctlMaxLength, `([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?`)))
			continue
		case seen.Has(SysctlName(s.Name)):
			errs = append(errs, field.Duplicate(p, s.Name))
		}
		seen.Insert(SysctlName(s.Name))
		switch ns := SysctlNamespace(s.Name); {
		case ns == "net" && spec.HostNetwork:
			errs = append(errs, field.Invalid(p, s.Name, "may not be specified when 'hostNetwork' is true"))
		case ns == "ipc" && spec.HostIPC:
			errs = append(errs, field.Invalid(p, s.Name, "may not be specified when 'hostIPC' is true"))
		case ns == "":
			errs = append(errs, field.Forbidden(p, fmt.Sprintf("forbidden sysctl: %q not allowlisted: only sysctls known to be namespaced "+
				"(net.*, kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*) can be set for a pod", SysctlName(s.Name))))
		}
	}
	return errs
}

// SysctlName is a sysctl's name in the dotted form: a name whose first
// separator is a slash (net/ipv4/conf/eth0.100/forwarding) has its dots
// and slashes swapped (net.ipv4.conf.eth0/100.forwarding), as the kubelet
// reads it.
func SysctlName(name string) string {
	i := strings.IndexAny(name, "./")
	if i < 0 || name[i] == '.' {
		return name
	}
	return swapDotsAndSlashes(name)
}

// SysctlFile is a sysctl's file below /proc/sys (net/ipv4/ip_forward).
func SysctlFile(name string) string { return swapDotsAndSlashes(SysctlName(name)) }

func swapDotsAndSlashes(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '.':
			return '/'
		case '/':
			return '.'
		}
		return r
	}, s)
}

// SysctlNamespace is the namespace a sysctl belongs to, "net" or "ipc",
// or "" when it is not known to be namespaced (the kubelet's list).
func SysctlNamespace(name string) string {
	n := SysctlName(name)
	switch {
	case n == "kernel.sem", strings.HasPrefix(n, "kernel.shm"), strings.HasPrefix(n, "kernel.msg"), strings.HasPrefix(n, "fs.mqueue."):
		return "ipc"
	case strings.HasPrefix(n, "net."):
		return "net"
	}
	return ""
}

// safeSysctls are the kubelet's safe sysctls: namespaced, and with no
// effect on other pods. A kubelet runs a pod with any other only when its
// admin allowed it (--allowed-unsafe-sysctls); podbox warns.
var safeSysctls = sets.New(
	"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range",
	"net.ipv4.ip_unprivileged_port_start", "net.ipv4.ip_local_reserved_ports", "net.ipv4.tcp_keepalive_time",
	"net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes",
	"net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem",
)

// securityWarnings lists what a pod's security contexts ask that podbox
// accepts but does not do as a cluster would.
func securityWarnings(pod *corev1.Pod) []string {
	var out []string
	spec, sp := &pod.Spec, field.NewPath("spec")
	scPath := sp.Child("securityContext")
	if psc := spec.SecurityContext; psc != nil {
		for i, s := range psc.Sysctls {
			if SysctlNamespace(s.Name) != "" && !safeSysctls.Has(SysctlName(s.Name)) {
				out = append(out, fmt.Sprintf("%s: %q is not a safe sysctl: a kubelet sets it only if its admin allows it (--allowed-unsafe-sysctls)",
					scPath.Child("sysctls").Index(i).Child("name"), s.Name))
			}
		}
		out = append(out, contextWarnings(scPath, psc.AppArmorProfile, psc.WindowsOptions, nil)...)
		if psc.SELinuxChangePolicy != nil {
			out = append(out, fmt.Sprintf("%s: ignored: podbox applies no SELinux labels", scPath.Child("seLinuxChangePolicy")))
		}
	}
	each := func(cs []corev1.Container, name string) {
		for i := range cs {
			if sc := cs[i].SecurityContext; sc != nil {
				out = append(out, contextWarnings(sp.Child(name).Index(i).Child("securityContext"), sc.AppArmorProfile, sc.WindowsOptions, sc.ProcMount)...)
			}
		}
	}
	each(spec.InitContainers, "initContainers")
	each(spec.Containers, "containers")
	keys := slices.Sorted(maps.Keys(pod.Annotations))
	for _, k := range keys {
		if strings.HasPrefix(k, "seccomp.security.alpha.kubernetes.io/") || strings.HasPrefix(k, "container.seccomp.security.alpha.kubernetes.io/") ||
			strings.HasPrefix(k, "container.apparmor.security.beta.kubernetes.io/") {
			out = append(out, fmt.Sprintf("metadata.annotations[%s]: ignored: use the securityContext's seccompProfile and appArmorProfile", k))
		}
	}
	return out
}

func contextWarnings(path *field.Path, ap *corev1.AppArmorProfile, win *corev1.WindowsSecurityContextOptions, pm *corev1.ProcMountType) []string {
	var out []string
	if ap != nil && ap.Type == corev1.AppArmorProfileTypeRuntimeDefault {
		out = append(out, fmt.Sprintf("%s: ignored: podbox applies no AppArmor profile (as containerd on a host without AppArmor)", path.Child("appArmorProfile")))
	}
	if win != nil {
		out = append(out, fmt.Sprintf("%s: ignored: podbox runs Linux containers", path.Child("windowsOptions")))
	}
	if pm != nil && *pm == corev1.UnmaskedProcMount {
		out = append(out, fmt.Sprintf("%s: Unmasked: a cluster's API server accepts it only with hostUsers: false, which podbox does not support; "+
			"podbox unmasks /proc in the host's user namespace", path.Child("procMount")))
	}
	return out
}
