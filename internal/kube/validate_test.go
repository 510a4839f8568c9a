package kube

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

const (
	subdomainMsg = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', " +
		"and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is " +
		`'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`
	labelMsg = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', " +
		"and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for " +
		"validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)

// testPod returns a valid pod, changed by mutate before defaulting, as Decode would hand
// it over.
func testPod(mutate func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "busybox"}}}}
	p.APIVersion, p.Kind, p.Name = "v1", "Pod", "web"
	if mutate != nil {
		mutate(p)
	}
	SetDefaults(p)
	return p
}

func errStrings(errs field.ErrorList) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Error())
	}
	return out
}

func ptr[T any](v T) *T { return &v }

func TestValidateValid(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*corev1.Pod)
	}{
		{"minimal", nil},
		{"everything podbox supports", func(p *corev1.Pod) {
			p.Namespace = "tools"
			p.Labels = map[string]string{"app": "web", "example.com/tier": "front"}
			p.Annotations = map[string]string{"note": "anything goes"}
			p.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
			p.Spec.TerminationGracePeriodSeconds = ptr(int64(0))
			p.Spec.Hostname, p.Spec.Subdomain = "box", "sub"
			p.Spec.HostAliases = []corev1.HostAlias{{IP: "10.0.0.1", Hostnames: []string{"db", "db.local"}}}
			p.Spec.DNSPolicy = corev1.DNSNone
			p.Spec.DNSConfig = &corev1.PodDNSConfig{Nameservers: []string{"1.1.1.1"}, Searches: []string{"example.com."},
				Options: []corev1.PodDNSConfigOption{{Name: "ndots", Value: ptr("2")}}}
			p.Spec.ShareProcessNamespace = ptr(true)
			p.Spec.HostIPC = true
			p.Spec.OS = &corev1.PodOS{Name: corev1.Linux}
			p.Spec.EnableServiceLinks = ptr(false)
			p.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "busybox", Command: []string{"true"}}}
			c := &p.Spec.Containers[0]
			c.Command, c.Args, c.WorkingDir = []string{"sh", "-c"}, []string{"echo $(GREETING)"}, "/tmp"
			c.Env = []corev1.EnvVar{{Name: "GREETING", Value: "hi"}, {Name: "my.dotted-name", Value: ""}}
			c.Ports = []corev1.ContainerPort{{Name: "http", ContainerPort: 80}, {ContainerPort: 53, Protocol: corev1.ProtocolUDP}}
			c.ImagePullPolicy = corev1.PullNever
		}},
		{"hostNetwork with hostPort", func(p *corev1.Pod) {
			p.Spec.HostNetwork, p.Spec.HostPID = true, true
			p.Spec.DNSPolicy = corev1.DNSClusterFirstWithHostNet
			p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 8080}}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if errs := Validate(testPod(tc.mutate)); len(errs) > 0 {
				t.Errorf("Validate = %v, want no errors", errs.ToAggregate())
			}
		})
	}
}

var validateCases = []struct {
	name   string
	mutate func(*corev1.Pod)
	want   []string
}{
	{"bad pod name", func(p *corev1.Pod) { p.Name = "Web" },
		[]string{`metadata.name: Invalid value: "Web": ` + subdomainMsg}},
	{"missing name", func(p *corev1.Pod) { p.Name = "" },
		[]string{"metadata.name: Required value: name or generateName is required"}},
	{"bad namespace", func(p *corev1.Pod) { p.Namespace = "Tools" },
		[]string{`metadata.namespace: Invalid value: "Tools": ` + labelMsg}},
	{"bad label", func(p *corev1.Pod) { p.Labels = map[string]string{"app": "not ok"} },
		[]string{`metadata.labels: Invalid value: "not ok": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`}},
	{"generateName only", func(p *corev1.Pod) { p.Name, p.GenerateName = "", "web-" },
		[]string{"metadata.generateName: Forbidden: not supported, set metadata.name"}},
	{"missing containers", func(p *corev1.Pod) { p.Spec.Containers = nil },
		[]string{"spec.containers: Required value"}},
	{"missing image", func(p *corev1.Pod) { p.Spec.Containers[0].Image = "" },
		[]string{"spec.containers[0].image: Required value"}},
	{"image with spaces", func(p *corev1.Pod) { p.Spec.Containers[0].Image = " busybox" },
		[]string{`spec.containers[0].image: Invalid value: " busybox": must not have leading or trailing whitespace`}},
	{"bad container name", func(p *corev1.Pod) { p.Spec.Containers[0].Name = "App_1" },
		[]string{`spec.containers[0].name: Invalid value: "App_1": ` + labelMsg}},
	{"missing container name", func(p *corev1.Pod) { p.Spec.Containers[0].Name = "" },
		[]string{"spec.containers[0].name: Required value"}},
	{"duplicate app names", func(p *corev1.Pod) {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "app", Image: "busybox"})
	}, []string{`spec.containers[1].name: Duplicate value: "app"`}},
	{"duplicate names across init and app", func(p *corev1.Pod) {
		p.Spec.InitContainers = []corev1.Container{{Name: "setup", Image: "busybox"}, {Name: "app", Image: "busybox"}, {Name: "setup", Image: "busybox"}}
	}, []string{`spec.initContainers[1].name: Duplicate value: "app"`, `spec.initContainers[2].name: Duplicate value: "setup"`}},
	{"bad env names", func(p *corev1.Pod) {
		p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "A=B"}, {Name: ""}, {Name: "tab\there"}, {Name: "ÄRGER"}}
	}, []string{
		`spec.containers[0].env[0].name: Invalid value: "A=B": a valid environment variable name must consist only of printable ASCII characters other than '='`,
		"spec.containers[0].env[1].name: Required value",
		`spec.containers[0].env[2].name: Invalid value: "tab\there": a valid environment variable name must consist only of printable ASCII characters other than '='`,
		`spec.containers[0].env[3].name: Invalid value: "ÄRGER": a valid environment variable name must consist only of printable ASCII characters other than '='`,
	}},
	{"bad restartPolicy", func(p *corev1.Pod) { p.Spec.RestartPolicy = "Sometimes" },
		[]string{`spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"`}},
	{"bad dnsPolicy", func(p *corev1.Pod) { p.Spec.DNSPolicy = "Google" },
		[]string{`spec.dnsPolicy: Unsupported value: "Google": supported values: "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"`}},
	{"bad pull policy", func(p *corev1.Pod) { p.Spec.Containers[0].ImagePullPolicy = "Sometimes" },
		[]string{`spec.containers[0].imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"`}},
	{"bad ports", func(p *corev1.Pod) {
		p.Spec.Containers[0].Ports = []corev1.ContainerPort{
			{ContainerPort: 0},
			{Name: "web", ContainerPort: 70000},
			{Name: "web", ContainerPort: 81, Protocol: "HTTP"},
			{Name: "Not_OK", ContainerPort: 82},
		}
	}, []string{
		"spec.containers[0].ports[0].containerPort: Required value",
		"spec.containers[0].ports[1].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
		`spec.containers[0].ports[2].name: Duplicate value: "web"`,
		`spec.containers[0].ports[2].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"`,
		`spec.containers[0].ports[3].name: Invalid value: "Not_OK": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)`,
	}},
	{"hostPort must match with hostNetwork", func(p *corev1.Pod) {
		p.Spec.HostNetwork = true
		p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80, HostPort: 8080}}
	}, []string{"spec.containers[0].ports[0].hostPort: Invalid value: 8080: must match `containerPort` when `hostNetwork` is true"}},
	{"host port conflict", func(p *corev1.Pod) {
		p.Spec.HostNetwork = true
		p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80}}
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "two", Image: "busybox",
			Ports: []corev1.ContainerPort{{ContainerPort: 80}}})
	}, []string{`spec.containers[1].ports[0].hostPort: Duplicate value: "TCP//80"`}},
	{"negative grace period", func(p *corev1.Pod) { p.Spec.TerminationGracePeriodSeconds = ptr(int64(-1)) },
		[]string{"spec.terminationGracePeriodSeconds: Invalid value: -1: must be greater than or equal to 0"}},
	{"shareProcessNamespace with hostPID", func(p *corev1.Pod) {
		p.Spec.ShareProcessNamespace, p.Spec.HostPID = ptr(true), true
	}, []string{"spec.securityContext.shareProcessNamespace: Invalid value: true: ShareProcessNamespace and HostPID cannot both be enabled"}},
	{"dnsPolicy None without dnsConfig", func(p *corev1.Pod) { p.Spec.DNSPolicy = corev1.DNSNone },
		[]string{"spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None"}},
	{"bad dnsConfig", func(p *corev1.Pod) {
		p.Spec.DNSConfig = &corev1.PodDNSConfig{Nameservers: []string{"dns.google"}, Searches: []string{"Bad_Domain"},
			Options: []corev1.PodDNSConfigOption{{}}}
	}, []string{
		`spec.dnsConfig.nameservers[0]: Invalid value: "dns.google": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)`,
		`spec.dnsConfig.searches[0]: Invalid value: "Bad_Domain": ` + subdomainMsg,
		"spec.dnsConfig.options[0]: Required value: must not be empty",
	}},
	{"bad hostAliases", func(p *corev1.Pod) {
		p.Spec.HostAliases = []corev1.HostAlias{{IP: "300.1.1.1", Hostnames: []string{"ok", "Not OK"}}}
	}, []string{
		`spec.hostAliases[0].ip: Invalid value: "300.1.1.1": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)`,
		`spec.hostAliases[0].hostnames[1]: Invalid value: "Not OK": ` + subdomainMsg,
	}},
	{"bad hostname", func(p *corev1.Pod) { p.Spec.Hostname = "my.host" },
		[]string{`spec.hostname: Invalid value: "my.host": must not contain dots`}},
	{"bad subdomain", func(p *corev1.Pod) { p.Spec.Subdomain = "-sub" },
		[]string{`spec.subdomain: Invalid value: "-sub": ` + labelMsg}},
	{"bad os", func(p *corev1.Pod) { p.Spec.OS = &corev1.PodOS{Name: "plan9"} },
		[]string{`spec.os: Unsupported value: "plan9": supported values: "linux", "windows"`}},
	{"init restartPolicy other than Always", func(p *corev1.Pod) {
		p.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "busybox", RestartPolicy: ptr(corev1.ContainerRestartPolicyNever)}}
	}, []string{`spec.initContainers[0].restartPolicy: Unsupported value: "Never": supported values: "Always"`}},
	{"app container restartPolicy", func(p *corev1.Pod) {
		p.Spec.Containers[0].RestartPolicy = ptr(corev1.ContainerRestartPolicyAlways)
	}, []string{"spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers"}},
	{"probe on a plain init container", func(p *corev1.Pod) {
		p.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "busybox",
			ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}}}}
	}, []string{
		"spec.initContainers[0].readinessProbe: Forbidden: may not be set for init containers without restartPolicy=Always",
	}},
	{"bad probes", func(p *corev1.Pod) {
		p.Spec.Containers[0].LivenessProbe = &corev1.Probe{SuccessThreshold: 2}
		p.Spec.Containers[0].ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
			Exec:      &corev1.ExecAction{},
			TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(0)},
		}, TerminationGracePeriodSeconds: ptr(int64(5))}
	}, []string{
		"spec.containers[0].livenessProbe: Required value: must specify a handler type",
		"spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1",
		"spec.containers[0].readinessProbe.exec.command: Required value",
		"spec.containers[0].readinessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type",
		"spec.containers[0].readinessProbe.terminationGracePeriodSeconds: Invalid value: 5: must not be set for readinessProbes",
	}},
	{"env valueFrom with value", func(p *corev1.Pod) {
		p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "A", Value: "x", ValueFrom: &corev1.EnvVarSource{
			FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.restartPolicy"}}}}
	}, []string{
		`spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Unsupported value: "spec.restartPolicy": supported values: "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"`,
		"spec.containers[0].env[0].valueFrom: Invalid value: \"\": may not be specified when `value` is not empty",
	}},
	{"mount of a missing volume", func(p *corev1.Pod) {
		p.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data", SubPath: "../up"}}
	}, []string{
		`spec.containers[0].volumeMounts[0].name: Not found: "data"`,
		`spec.containers[0].volumeMounts[0].subPath: Invalid value: "../up": must not contain '..'`,
	}},
	{"ephemeral containers", func(p *corev1.Pod) {
		p.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug", Image: "busybox"}}}
	}, []string{"spec.ephemeralContainers: Forbidden: cannot be set on create"}},
	{"request above limit", func(p *corev1.Pod) {
		p.Spec.Containers[0].Resources = corev1.ResourceRequirements{
			Limits:   corev1.ResourceList{corev1.ResourceCPU: mustQuantity("1"), "example.com/gpu": mustQuantity("1")},
			Requests: corev1.ResourceList{corev1.ResourceCPU: mustQuantity("2"), "gpu": mustQuantity("1")},
		}
	}, []string{
		`spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1`,
		`spec.containers[0].resources.requests[gpu]: Invalid value: "gpu": must be a standard resource for containers`,
		`spec.containers[0].resources.limits[example.com/gpu]: Forbidden: podbox cannot provide extended resources (no device plugins)`,
	}},
}

func TestValidate(t *testing.T) {
	for _, tc := range validateCases {
		t.Run(tc.name, func(t *testing.T) {
			got := errStrings(Validate(testPod(tc.mutate)))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Validate (-want +got):\n%s", diff)
			}
		})
	}
}

// TestValidateAllAtOnce: one pod with many problems gets all of them in one aggregate.
func TestValidateAllAtOnce(t *testing.T) {
	pod := testPod(func(p *corev1.Pod) {
		p.Name = "Web"
		p.Spec.RestartPolicy = "Sometimes"
		p.Spec.InitContainers = []corev1.Container{{Name: "app", Image: "busybox"}}
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "app"})
		p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "A=B"}}
		p.Spec.Containers[0].TTY = true
	})
	want := `[metadata.name: Invalid value: "Web": ` + subdomainMsg + `, ` +
		`spec.containers[0].env[0].name: Invalid value: "A=B": a valid environment variable name must consist only of printable ASCII characters other than '=', ` +
		`spec.containers[1].image: Required value, ` +
		`spec.containers[1].name: Duplicate value: "app", ` +
		`spec.initContainers[0].name: Duplicate value: "app", ` +
		`spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never", ` +
		`spec.containers[0].tty: Forbidden: not supported by podbox yet]`
	if diff := cmp.Diff(want, Validate(pod).ToAggregate().Error()); diff != "" {
		t.Errorf("aggregate (-want +got):\n%s", diff)
	}
}

var unsupportedCases = []struct {
	feature string
	mutate  func(*corev1.Pod)
	want    string
}{
	{"metadata.generateName", func(p *corev1.Pod) { p.Name, p.GenerateName = "", "web-" },
		"metadata.generateName: Forbidden: not supported, set metadata.name"},
	{"readinessGates", func(p *corev1.Pod) {
		p.Spec.ReadinessGates = []corev1.PodReadinessGate{{ConditionType: "example.com/ready"}}
	}, "spec.readinessGates: Forbidden: not supported by podbox yet"},
	{"runtimeClassName", func(p *corev1.Pod) { p.Spec.RuntimeClassName = ptr("gvisor") },
		"spec.runtimeClassName: Forbidden: not supported by podbox yet"},
	{"hostUsers (user namespaces)", func(p *corev1.Pod) { p.Spec.HostUsers = ptr(false) },
		"spec.hostUsers: Forbidden: not supported by podbox yet"},
	{"imagePullSecrets", func(p *corev1.Pod) { p.Spec.ImagePullSecrets = []corev1.LocalObjectReference{{Name: "regcred"}} },
		"spec.imagePullSecrets: Forbidden: not supported by podbox yet"},
	{"overhead", func(p *corev1.Pod) { p.Spec.Overhead = corev1.ResourceList{corev1.ResourceCPU: mustQuantity("100m")} },
		"spec.overhead: Forbidden: not supported by podbox yet"},
	{"resourceClaims", func(p *corev1.Pod) {
		p.Spec.ResourceClaims = []corev1.PodResourceClaim{{Name: "gpu", ResourceClaimName: ptr("gpu")}}
	}, "spec.resourceClaims: Forbidden: not supported by podbox yet"},
	{"pod-level resources", func(p *corev1.Pod) {
		p.Spec.Resources = &corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceCPU: mustQuantity("1")}}
	}, "spec.resources: Forbidden: not supported by podbox yet"},
	{"setHostnameAsFQDN", func(p *corev1.Pod) { p.Spec.SetHostnameAsFQDN = ptr(true) },
		"spec.setHostnameAsFQDN: Forbidden: not supported by podbox yet"},
	{"hostnameOverride", func(p *corev1.Pod) { p.Spec.HostnameOverride = ptr("box") },
		"spec.hostnameOverride: Forbidden: not supported by podbox yet"},
	{"windows pods", func(p *corev1.Pod) { p.Spec.OS = &corev1.PodOS{Name: corev1.Windows} },
		"spec.os.name: Forbidden: podbox runs Linux pods only"},
	{"volumeDevices", func(p *corev1.Pod) {
		p.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "busybox",
			VolumeDevices: []corev1.VolumeDevice{{Name: "disk", DevicePath: "/dev/xvda"}}}}
	}, "spec.initContainers[0].volumeDevices: Forbidden: not supported by podbox yet"},
	{"hugepages and extended resources", func(p *corev1.Pod) {
		p.Spec.Containers[0].Resources.Limits = corev1.ResourceList{"hugepages-2Mi": mustQuantity("64Mi"), corev1.ResourceMemory: mustQuantity("64Mi")}
	}, "spec.containers[0].resources.limits[hugepages-2Mi]: Forbidden: hugepages are not supported by podbox"},
	{"stdin", func(p *corev1.Pod) { p.Spec.Containers[0].Stdin = true },
		"spec.containers[0].stdin: Forbidden: not supported by podbox yet"},
	{"stdinOnce", func(p *corev1.Pod) { p.Spec.Containers[0].StdinOnce = true },
		"spec.containers[0].stdinOnce: Forbidden: not supported by podbox yet"},
	{"tty", func(p *corev1.Pod) { p.Spec.Containers[0].TTY = true },
		"spec.containers[0].tty: Forbidden: not supported by podbox yet"},
	{"restartPolicyRules", func(p *corev1.Pod) {
		p.Spec.Containers[0].RestartPolicyRules = []corev1.ContainerRestartRule{{Action: corev1.ContainerRestartRuleActionRestart}}
	}, "spec.containers[0].restartPolicyRules: Forbidden: not supported by podbox yet"},
}

// TestUnsupported has one case per entry of the unsupported table: when an entry is
// deleted, delete its case; a new entry needs a case.
func TestUnsupported(t *testing.T) {
	var features []string
	for _, r := range unsupported {
		features = append(features, r.feature)
	}
	var tested []string
	for _, tc := range unsupportedCases {
		tested = append(tested, tc.feature)
	}
	if diff := cmp.Diff(features, tested); diff != "" {
		t.Errorf("test cases do not match the unsupported table (-table +cases):\n%s", diff)
	}

	for _, tc := range unsupportedCases {
		t.Run(tc.feature, func(t *testing.T) {
			got := errStrings(Validate(testPod(tc.mutate)))
			if !slices.Contains(got, tc.want) {
				t.Errorf("Validate = %q, want it to contain %q", got, tc.want)
			}
			// The entry under test is what refuses it first.
			var unsupportedErrs []string
			for _, e := range checkUnsupported(testPod(tc.mutate)) {
				unsupportedErrs = append(unsupportedErrs, e.Error())
			}
			if len(unsupportedErrs) == 0 || unsupportedErrs[0] != tc.want {
				t.Errorf("checkUnsupported = %q, want %q first", unsupportedErrs, tc.want)
			}
		})
	}
}

func TestUnsupportedEmptySecurityContextIsFine(t *testing.T) {
	pod := testPod(func(p *corev1.Pod) {
		p.Spec.SecurityContext = &corev1.PodSecurityContext{SupplementalGroups: []int64{}}
		p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{}
		p.Spec.SetHostnameAsFQDN = ptr(false)
		p.Spec.HostUsers = ptr(true)
	})
	if errs := Validate(pod); len(errs) > 0 {
		t.Errorf("Validate = %v, want no errors", errs.ToAggregate())
	}
}

func mustQuantity(s string) resource.Quantity { return resource.MustParse(s) }
