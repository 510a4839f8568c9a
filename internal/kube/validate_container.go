package kube

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validateContainers checks spec.containers: at least one, names unique among them,
// probes and lifecycle well formed, host ports not in conflict across containers.
func validateContainers(spec *corev1.PodSpec, vols map[string]corev1.VolumeSource, path *field.Path) field.ErrorList {
	if len(spec.Containers) == 0 {
		return field.ErrorList{field.Required(path, "")}
	}
	var errs field.ErrorList
	grace := spec.TerminationGracePeriodSeconds
	names := map[string]bool{}
	for i := range spec.Containers {
		c, p := &spec.Containers[i], path.Index(i)
		errs = append(errs, validateContainerCommon(c, vols, p)...)
		if names[c.Name] {
			errs = append(errs, field.Duplicate(p.Child("name"), c.Name))
		}
		names[c.Name] = true
		errs = append(errs, validateProbesAndLifecycle(c, grace, p)...)
		if c.RestartPolicy != nil {
			errs = append(errs, field.Forbidden(p.Child("restartPolicy"), "may not be set for non-init containers"))
		}
	}
	return append(errs, hostPortConflicts(spec.Containers, path, 0)...)
}

// validateInitContainers checks spec.initContainers: names unique across init and app
// containers, restartPolicy only Always (a sidecar), probes and lifecycle only on sidecars.
func validateInitContainers(spec *corev1.PodSpec, vols map[string]corev1.VolumeSource, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := map[string]bool{}
	for _, c := range spec.Containers {
		names[c.Name] = true
	}
	for i := range spec.InitContainers {
		c, p := &spec.InitContainers[i], path.Index(i)
		errs = append(errs, validateContainerCommon(c, vols, p)...)
		sidecar := false
		if c.RestartPolicy != nil {
			if *c.RestartPolicy != corev1.ContainerRestartPolicyAlways {
				errs = append(errs, field.NotSupported(p.Child("restartPolicy"), *c.RestartPolicy,
					[]corev1.ContainerRestartPolicy{corev1.ContainerRestartPolicyAlways}))
			}
			sidecar = *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
		}
		if names[c.Name] {
			errs = append(errs, field.Duplicate(p.Child("name"), c.Name))
		} else if c.Name != "" {
			names[c.Name] = true
		}
		// Init containers run one by one: their host ports only conflict within one.
		errs = append(errs, hostPortConflicts(spec.InitContainers[i:i+1], path, i)...)
		if sidecar {
			errs = append(errs, validateProbesAndLifecycle(c, spec.TerminationGracePeriodSeconds, p)...)
		} else {
			const msg = "may not be set for init containers without restartPolicy=Always"
			if c.Lifecycle != nil {
				errs = append(errs, field.Forbidden(p.Child("lifecycle"), msg))
			}
			for _, pr := range containerProbes(c) {
				if pr.probe != nil {
					errs = append(errs, field.Forbidden(p.Child(pr.name), msg))
				}
			}
		}
		if len(c.ResizePolicy) > 0 {
			errs = append(errs, field.Invalid(p.Child("resizePolicy"), c.ResizePolicy, "must not be set for init containers"))
		}
	}
	return errs
}

// validateContainerCommon applies the checks common to every kind of container.
func validateContainerCommon(c *corev1.Container, vols map[string]corev1.VolumeSource, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if c.Name == "" {
		errs = append(errs, field.Required(path.Child("name"), ""))
	} else {
		errs = append(errs, dns1123Label(c.Name, path.Child("name"))...)
	}
	if c.Image == "" {
		errs = append(errs, field.Required(path.Child("image"), ""))
	} else if strings.TrimSpace(c.Image) != c.Image {
		errs = append(errs, field.Invalid(path.Child("image"), c.Image, "must not have leading or trailing whitespace"))
	}
	switch c.TerminationMessagePolicy {
	case corev1.TerminationMessageReadFile, corev1.TerminationMessageFallbackToLogsOnError:
	case "":
		errs = append(errs, field.Required(path.Child("terminationMessagePolicy"), ""))
	default:
		errs = append(errs, field.NotSupported(path.Child("terminationMessagePolicy"), c.TerminationMessagePolicy,
			[]corev1.TerminationMessagePolicy{corev1.TerminationMessageReadFile, corev1.TerminationMessageFallbackToLogsOnError}))
	}
	errs = append(errs, validateContainerPorts(c.Ports, path.Child("ports"))...)
	errs = append(errs, validateEnv(c.Env, path.Child("env"))...)
	errs = append(errs, validateEnvFrom(c.EnvFrom, path.Child("envFrom"))...)
	errs = append(errs, validateVolumeMounts(c, vols, path)...)
	errs = append(errs, validatePullPolicy(c.ImagePullPolicy, path.Child("imagePullPolicy"))...)
	errs = append(errs, validateResources(&c.Resources, path.Child("resources"))...)
	return errs
}

var supportedPortProtocols = []corev1.Protocol{corev1.ProtocolSCTP, corev1.ProtocolTCP, corev1.ProtocolUDP}

func validateContainerPorts(ports []corev1.ContainerPort, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := map[string]bool{}
	for i, port := range ports {
		p := path.Index(i)
		if port.Name != "" {
			if msgs := validation.IsValidPortName(port.Name); len(msgs) > 0 {
				for _, msg := range msgs {
					errs = append(errs, field.Invalid(p.Child("name"), port.Name, msg))
				}
			} else if names[port.Name] {
				errs = append(errs, field.Duplicate(p.Child("name"), port.Name))
			} else {
				names[port.Name] = true
			}
		}
		if port.ContainerPort == 0 {
			errs = append(errs, field.Required(p.Child("containerPort"), ""))
		} else {
			for _, msg := range validation.IsValidPortNum(int(port.ContainerPort)) {
				errs = append(errs, field.Invalid(p.Child("containerPort"), port.ContainerPort, msg))
			}
		}
		if port.HostPort != 0 {
			for _, msg := range validation.IsValidPortNum(int(port.HostPort)) {
				errs = append(errs, field.Invalid(p.Child("hostPort"), port.HostPort, msg))
			}
		}
		if port.Protocol == "" {
			errs = append(errs, field.Required(p.Child("protocol"), ""))
		} else if !slices.Contains(supportedPortProtocols, port.Protocol) {
			errs = append(errs, field.NotSupported(p.Child("protocol"), port.Protocol, supportedPortProtocols))
		}
	}
	return errs
}

// hostPortConflicts reports a host port (protocol, host IP, port) used twice; first is the
// index of containers[0] in its list.
func hostPortConflicts(containers []corev1.Container, path *field.Path, first int) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]bool{}
	for ci, c := range containers {
		for pi, port := range c.Ports {
			if port.HostPort == 0 {
				continue
			}
			k := fmt.Sprintf("%s/%s/%d", port.Protocol, port.HostIP, port.HostPort)
			if seen[k] {
				errs = append(errs, field.Duplicate(path.Index(first+ci).Child("ports").Index(pi).Child("hostPort"), k))
			}
			seen[k] = true
		}
	}
	return errs
}

var supportedPullPolicies = []corev1.PullPolicy{corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever}

func validatePullPolicy(p corev1.PullPolicy, path *field.Path) field.ErrorList {
	switch p {
	case corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever:
		return nil
	case "":
		return field.ErrorList{field.Required(path, "")}
	default:
		return field.ErrorList{field.NotSupported(path, p, supportedPullPolicies)}
	}
}

// standardContainerResources are the resource names a container may use without a
// domain prefix (besides hugepages-<size>).
var standardContainerResources = []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage}

func validateResources(r *corev1.ResourceRequirements, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	limPath, reqPath := path.Child("limits"), path.Child("requests")
	check := func(name corev1.ResourceName, p *field.Path) {
		errs = append(errs, qualifiedName(string(name), p)...)
		if !strings.Contains(string(name), "/") && !slices.Contains(standardContainerResources, name) &&
			!strings.HasPrefix(string(name), corev1.ResourceHugePagesPrefix) {
			errs = append(errs, field.Invalid(p, name, "must be a standard resource for containers"))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(r.Limits)) {
		q := r.Limits[name]
		check(name, limPath.Key(string(name)))
		if q.Sign() < 0 {
			errs = append(errs, field.Invalid(limPath.Key(string(name)), q.String(), "must be greater than or equal to 0"))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(r.Requests)) {
		q := r.Requests[name]
		check(name, reqPath.Key(string(name)))
		if q.Sign() < 0 {
			errs = append(errs, field.Invalid(reqPath.Key(string(name)), q.String(), "must be greater than or equal to 0"))
		}
		if limit, ok := r.Limits[name]; ok && q.Cmp(limit) > 0 {
			errs = append(errs, field.Invalid(reqPath, q.String(),
				fmt.Sprintf("must be less than or equal to %s limit of %s", name, limit.String())))
		}
	}
	return errs
}

type namedProbe struct {
	name  string
	probe *corev1.Probe
}

func containerProbes(c *corev1.Container) []namedProbe {
	return []namedProbe{
		{"livenessProbe", c.LivenessProbe},
		{"readinessProbe", c.ReadinessProbe},
		{"startupProbe", c.StartupProbe},
	}
}

// validateProbesAndLifecycle checks the fields allowed on app containers and sidecars.
func validateProbesAndLifecycle(c *corev1.Container, grace *int64, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if l := c.Lifecycle; l != nil {
		for _, h := range []struct {
			name    string
			handler *corev1.LifecycleHandler
		}{{"postStart", l.PostStart}, {"preStop", l.PreStop}} {
			if h.handler != nil {
				errs = append(errs, validateHandler(handlerOf(h.handler), grace, path.Child("lifecycle").Child(h.name))...)
			}
		}
	}
	for _, pr := range containerProbes(c) {
		if pr.probe == nil {
			continue
		}
		p := path.Child(pr.name)
		errs = append(errs, validateProbe(pr.probe, grace, p)...)
		switch pr.name {
		case "livenessProbe", "startupProbe":
			if pr.probe.SuccessThreshold != 1 {
				errs = append(errs, field.Invalid(p.Child("successThreshold"), pr.probe.SuccessThreshold, "must be 1"))
			}
		case "readinessProbe":
			if pr.probe.TerminationGracePeriodSeconds != nil {
				errs = append(errs, field.Invalid(p.Child("terminationGracePeriodSeconds"),
					*pr.probe.TerminationGracePeriodSeconds, "must not be set for readinessProbes"))
			}
		}
	}
	return errs
}

func validateProbe(pr *corev1.Probe, grace *int64, path *field.Path) field.ErrorList {
	h := handler{exec: pr.Exec, httpGet: pr.HTTPGet, tcpSocket: pr.TCPSocket, grpc: pr.GRPC}
	errs := validateHandler(h, grace, path)
	for _, f := range []struct {
		name  string
		value int32
	}{
		{"initialDelaySeconds", pr.InitialDelaySeconds}, {"timeoutSeconds", pr.TimeoutSeconds},
		{"periodSeconds", pr.PeriodSeconds}, {"successThreshold", pr.SuccessThreshold},
		{"failureThreshold", pr.FailureThreshold},
	} {
		if f.value < 0 {
			errs = append(errs, field.Invalid(path.Child(f.name), int64(f.value), "must be greater than or equal to 0"))
		}
	}
	if pr.TerminationGracePeriodSeconds != nil && *pr.TerminationGracePeriodSeconds <= 0 {
		errs = append(errs, field.Invalid(path.Child("terminationGracePeriodSeconds"),
			*pr.TerminationGracePeriodSeconds, "must be greater than 0"))
	}
	return errs
}

// handler is what probes and lifecycle hooks have in common.
type handler struct {
	exec      *corev1.ExecAction
	httpGet   *corev1.HTTPGetAction
	tcpSocket *corev1.TCPSocketAction
	grpc      *corev1.GRPCAction
	sleep     *corev1.SleepAction
}

func handlerOf(h *corev1.LifecycleHandler) handler {
	return handler{exec: h.Exec, httpGet: h.HTTPGet, tcpSocket: h.TCPSocket, sleep: h.Sleep}
}

func validateHandler(h handler, grace *int64, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	n := 0
	one := func(set bool, name string, check func(*field.Path) field.ErrorList) {
		if !set {
			return
		}
		if n > 0 {
			errs = append(errs, field.Forbidden(path.Child(name), "may not specify more than 1 handler type"))
			return
		}
		n++
		errs = append(errs, check(path.Child(name))...)
	}
	one(h.exec != nil, "exec", func(p *field.Path) field.ErrorList {
		if len(h.exec.Command) == 0 {
			return field.ErrorList{field.Required(p.Child("command"), "")}
		}
		return nil
	})
	one(h.httpGet != nil, "httpGet", func(p *field.Path) field.ErrorList { return validateHTTPGet(h.httpGet, p) })
	one(h.tcpSocket != nil, "tcpSocket", func(p *field.Path) field.ErrorList {
		return validatePortNumOrName(h.tcpSocket.Port.IntValue(), h.tcpSocket.Port.StrVal, h.tcpSocket.Port.Type == intstr.String, p.Child("port"))
	})
	one(h.grpc != nil, "grpc", func(p *field.Path) field.ErrorList {
		return validatePortNumOrName(int(h.grpc.Port), "", false, p.Child("port"))
	})
	one(h.sleep != nil, "sleep", func(p *field.Path) field.ErrorList {
		if s := h.sleep.Seconds; s <= 0 || (grace != nil && s > *grace) {
			g := int64(0)
			if grace != nil {
				g = *grace
			}
			return field.ErrorList{field.Invalid(p, s,
				fmt.Sprintf("must be greater than 0 and less than terminationGracePeriodSeconds (%d)", g))}
		}
		return nil
	})
	if n == 0 {
		errs = append(errs, field.Required(path, "must specify a handler type"))
	}
	return errs
}

func validateHTTPGet(h *corev1.HTTPGetAction, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if h.Path == "" {
		errs = append(errs, field.Required(path.Child("path"), ""))
	}
	errs = append(errs, validatePortNumOrName(h.Port.IntValue(), h.Port.StrVal, h.Port.Type == intstr.String, path.Child("port"))...)
	if h.Scheme != corev1.URISchemeHTTP && h.Scheme != corev1.URISchemeHTTPS {
		errs = append(errs, field.NotSupported(path.Child("scheme"), h.Scheme,
			[]corev1.URIScheme{corev1.URISchemeHTTP, corev1.URISchemeHTTPS}))
	}
	for _, hdr := range h.HTTPHeaders {
		for _, msg := range validation.IsHTTPHeaderName(hdr.Name) {
			errs = append(errs, field.Invalid(path.Child("httpHeaders"), hdr.Name, msg))
		}
	}
	return errs
}

func validatePortNumOrName(num int, name string, isName bool, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if isName {
		for _, msg := range validation.IsValidPortName(name) {
			errs = append(errs, field.Invalid(path, name, msg))
		}
		return errs
	}
	for _, msg := range validation.IsValidPortNum(num) {
		errs = append(errs, field.Invalid(path, num, msg))
	}
	return errs
}
