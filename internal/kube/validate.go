package kube

import (
	"fmt"
	"math"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/validate/content"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Validate checks a defaulted pod the way the API server's ValidatePodCreate does (the
// parts that make sense on one host: scheduling fields such as affinity, tolerations and
// topologySpreadConstraints are not checked, see Warnings) and then refuses what podbox
// does not support yet (unsupported.go). It returns every problem at once;
// errs.ToAggregate().Error() reads like the API server, for example
//
//	spec.containers[1].name: Duplicate value: "app"
func Validate(pod *corev1.Pod) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, validateMeta(&pod.ObjectMeta)...)
	errs = append(errs, validateSpec(&pod.Spec, field.NewPath("spec"))...)
	errs = append(errs, checkUnsupported(pod)...)
	return errs
}

func validateMeta(meta *metav1.ObjectMeta) field.ErrorList {
	path := field.NewPath("metadata")
	errs := apivalidation.ValidateObjectMeta(meta, true, apivalidation.NameIsDNSSubdomain, path)
	if meta.Name == "" && meta.GenerateName != "" {
		// The API server would generate a name; podbox refuses generateName instead
		// (unsupported.go), so "name is required" would only repeat that.
		kept := errs[:0]
		for _, e := range errs {
			if e.Type != field.ErrorTypeRequired || e.Field != path.Child("name").String() {
				kept = append(kept, e)
			}
		}
		errs = kept
	}
	return errs
}

func validateSpec(spec *corev1.PodSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if spec.TerminationGracePeriodSeconds == nil {
		errs = append(errs, field.Required(path.Child("terminationGracePeriodSeconds"), ""))
	} else if *spec.TerminationGracePeriodSeconds < 0 {
		errs = append(errs, field.Invalid(path.Child("terminationGracePeriodSeconds"),
			*spec.TerminationGracePeriodSeconds, apivalidation.IsNegativeErrorMsg))
	}
	vols, verrs := validateVolumes(spec.Volumes, path.Child("volumes"))
	errs = append(errs, verrs...)
	errs = append(errs, validateContainers(spec, vols, path.Child("containers"))...)
	errs = append(errs, validateInitContainers(spec, vols, path.Child("initContainers"))...)
	if len(spec.EphemeralContainers) > 0 {
		errs = append(errs, field.Forbidden(path.Child("ephemeralContainers"), "cannot be set on create"))
	}
	errs = append(errs, validateHostNetworkPorts(spec, path)...)
	errs = append(errs, validateRestartPolicy(spec.RestartPolicy, path.Child("restartPolicy"))...)
	errs = append(errs, validateDNSPolicy(spec.DNSPolicy, path.Child("dnsPolicy"))...)
	errs = append(errs, metav1validation.ValidateLabels(spec.NodeSelector, path.Child("nodeSelector"))...)
	errs = append(errs, validatePodSecurityContext(spec, path)...)
	errs = append(errs, validateSecurity(spec, path)...)
	errs = append(errs, validateDNSConfig(spec.DNSConfig, spec.DNSPolicy, path.Child("dnsConfig"))...)
	for i, g := range spec.ReadinessGates {
		errs = append(errs, qualifiedName(string(g.ConditionType), path.Child("readinessGates").Index(i).Child("conditionType"))...)
	}
	errs = append(errs, validateSchedulingGates(spec.SchedulingGates, path.Child("schedulingGates"))...)
	errs = append(errs, validateNames(spec, path)...)
	if spec.ActiveDeadlineSeconds != nil {
		if v := *spec.ActiveDeadlineSeconds; v < 1 || v > math.MaxInt32 {
			errs = append(errs, field.Invalid(path.Child("activeDeadlineSeconds"), v, validation.InclusiveRangeError(1, math.MaxInt32)))
		}
	}
	errs = append(errs, validateHostAliases(spec.HostAliases, path.Child("hostAliases"))...)
	if spec.PreemptionPolicy != nil {
		switch p := *spec.PreemptionPolicy; p {
		case corev1.PreemptLowerPriority, corev1.PreemptNever:
		case "":
			errs = append(errs, field.Required(path.Child("preemptionPolicy"), ""))
		default:
			errs = append(errs, field.NotSupported(path.Child("preemptionPolicy"), p,
				[]corev1.PreemptionPolicy{corev1.PreemptLowerPriority, corev1.PreemptNever}))
		}
	}
	errs = append(errs, validateOS(spec.OS, path.Child("os"))...)
	return errs
}

// validateNames checks the fields that hold DNS names.
func validateNames(spec *corev1.PodSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	subdomain := func(name string, p *field.Path) {
		for _, msg := range apivalidation.NameIsDNSSubdomain(name, false) {
			errs = append(errs, field.Invalid(p, name, msg))
		}
	}
	if spec.ServiceAccountName != "" {
		subdomain(spec.ServiceAccountName, path.Child("serviceAccountName"))
	}
	if spec.NodeName != "" {
		subdomain(spec.NodeName, path.Child("nodeName"))
	}
	if spec.PriorityClassName != "" {
		subdomain(spec.PriorityClassName, path.Child("priorityClassName"))
	}
	if spec.RuntimeClassName != nil {
		subdomain(*spec.RuntimeClassName, path.Child("runtimeClassName"))
	}
	if spec.Hostname != "" {
		errs = append(errs, dns1123Label(spec.Hostname, path.Child("hostname"))...)
	}
	if spec.Subdomain != "" {
		errs = append(errs, dns1123Label(spec.Subdomain, path.Child("subdomain"))...)
	}
	return errs
}

func dns1123Label(value string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsDNS1123Label(value) {
		errs = append(errs, field.Invalid(path, value, msg))
	}
	return errs
}

func dns1123Subdomain(value string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsDNS1123Subdomain(value) {
		errs = append(errs, field.Invalid(path, value, msg))
	}
	return errs
}

func qualifiedName(value string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range content.IsLabelKey(value) {
		errs = append(errs, field.Invalid(path, value, msg))
	}
	return errs
}

func validateRestartPolicy(p corev1.RestartPolicy, path *field.Path) field.ErrorList {
	switch p {
	case corev1.RestartPolicyAlways, corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever:
		return nil
	case "":
		return field.ErrorList{field.Required(path, "")}
	default:
		return field.ErrorList{field.NotSupported(path, p, []corev1.RestartPolicy{
			corev1.RestartPolicyAlways, corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever})}
	}
}

func validateDNSPolicy(p corev1.DNSPolicy, path *field.Path) field.ErrorList {
	switch p {
	case corev1.DNSClusterFirstWithHostNet, corev1.DNSClusterFirst, corev1.DNSDefault, corev1.DNSNone:
		return nil
	case "":
		return field.ErrorList{field.Required(path, "")}
	default:
		return field.ErrorList{field.NotSupported(path, p, []corev1.DNSPolicy{
			corev1.DNSClusterFirstWithHostNet, corev1.DNSClusterFirst, corev1.DNSDefault, corev1.DNSNone})}
	}
}

// Limits on DNS parameters, from the libc resolver.
const (
	maxDNSNameservers     = 3
	maxDNSSearchPaths     = 32
	maxDNSSearchListChars = 2048
)

func validateDNSConfig(cfg *corev1.PodDNSConfig, policy corev1.DNSPolicy, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if policy == corev1.DNSNone {
		if cfg == nil {
			return field.ErrorList{field.Required(path, fmt.Sprintf("must provide `dnsConfig` when `dnsPolicy` is %s", corev1.DNSNone))}
		}
		if len(cfg.Nameservers) == 0 {
			return field.ErrorList{field.Required(path.Child("nameservers"),
				fmt.Sprintf("must provide at least one DNS nameserver when `dnsPolicy` is %s", corev1.DNSNone))}
		}
	}
	if cfg == nil {
		return nil
	}
	if len(cfg.Nameservers) > maxDNSNameservers {
		errs = append(errs, field.Invalid(path.Child("nameservers"), cfg.Nameservers,
			fmt.Sprintf("must not have more than %v nameservers", maxDNSNameservers)))
	}
	for i, ns := range cfg.Nameservers {
		errs = append(errs, validation.IsValidIP(path.Child("nameservers").Index(i), ns)...)
	}
	if len(cfg.Searches) > maxDNSSearchPaths {
		errs = append(errs, field.Invalid(path.Child("searches"), cfg.Searches,
			fmt.Sprintf("must not have more than %v search paths", maxDNSSearchPaths)))
	}
	if len(strings.Join(cfg.Searches, " ")) > maxDNSSearchListChars {
		errs = append(errs, field.Invalid(path.Child("searches"), cfg.Searches,
			fmt.Sprintf("must not have more than %v characters (including spaces) in the search list", maxDNSSearchListChars)))
	}
	for i, search := range cfg.Searches {
		errs = append(errs, dns1123Subdomain(strings.TrimSuffix(search, "."), path.Child("searches").Index(i))...)
	}
	for i, opt := range cfg.Options {
		if opt.Name == "" {
			errs = append(errs, field.Required(path.Child("options").Index(i), "must not be empty"))
		}
	}
	return errs
}

func validateHostAliases(aliases []corev1.HostAlias, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, a := range aliases {
		errs = append(errs, validation.IsValidIP(path.Index(i).Child("ip"), a.IP)...)
		for j, h := range a.Hostnames {
			errs = append(errs, dns1123Subdomain(h, path.Index(i).Child("hostnames").Index(j))...)
		}
	}
	return errs
}

func validateSchedulingGates(gates []corev1.PodSchedulingGate, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]bool{}
	for i, g := range gates {
		errs = append(errs, qualifiedName(g.Name, path.Index(i))...)
		if seen[g.Name] {
			errs = append(errs, field.Duplicate(path.Index(i), g.Name))
		}
		seen[g.Name] = true
	}
	return errs
}

// validateHostNetworkPorts: with hostNetwork, a pod's hostPort must equal its
// containerPort. Upstream checks the app containers only.
func validateHostNetworkPorts(spec *corev1.PodSpec, path *field.Path) field.ErrorList {
	if !spec.HostNetwork {
		return nil
	}
	var errs field.ErrorList
	for i, c := range spec.Containers {
		for j, p := range c.Ports {
			if p.HostPort != p.ContainerPort {
				errs = append(errs, field.Invalid(path.Child("containers").Index(i).Child("ports").Index(j).Child("hostPort"),
					p.HostPort, "must match `containerPort` when `hostNetwork` is true"))
			}
		}
	}
	return errs
}

// validatePodSecurityContext keeps the API server's paths: it holds hostNetwork, hostPID,
// hostIPC and shareProcessNamespace in its internal securityContext.
func validatePodSecurityContext(spec *corev1.PodSpec, specPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	path := specPath.Child("securityContext")
	if sc := spec.SecurityContext; sc != nil {
		if sc.FSGroup != nil {
			for _, msg := range validation.IsValidGroupID(*sc.FSGroup) {
				errs = append(errs, field.Invalid(path.Child("fsGroup"), *sc.FSGroup, msg))
			}
		}
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
		for i, gid := range sc.SupplementalGroups {
			for _, msg := range validation.IsValidGroupID(gid) {
				errs = append(errs, field.Invalid(path.Child("supplementalGroups").Index(i), gid, msg))
			}
		}
	}
	if spec.ShareProcessNamespace != nil && *spec.ShareProcessNamespace && spec.HostPID {
		errs = append(errs, field.Invalid(path.Child("shareProcessNamespace"), *spec.ShareProcessNamespace,
			"ShareProcessNamespace and HostPID cannot both be enabled"))
	}
	if spec.HostUsers != nil && !*spec.HostUsers {
		// A user namespace may not be combined with the host's namespaces.
		for _, hn := range []struct {
			set  bool
			name string
		}{{spec.HostNetwork, "hostNetwork"}, {spec.HostPID, "HostPID"}, {spec.HostIPC, "HostIPC"}} {
			if hn.set {
				errs = append(errs, field.Forbidden(specPath.Child(hn.name), "when `pod.Spec.HostUsers` is false"))
			}
		}
	}
	return errs
}

func validateOS(os *corev1.PodOS, path *field.Path) field.ErrorList {
	if os == nil {
		return nil
	}
	switch os.Name {
	case corev1.Linux, corev1.Windows:
		return nil
	case "":
		return field.ErrorList{field.Required(path.Child("name"), "cannot be empty")}
	default:
		return field.ErrorList{field.NotSupported(path, os.Name, []corev1.OSName{corev1.Linux, corev1.Windows})}
	}
}
