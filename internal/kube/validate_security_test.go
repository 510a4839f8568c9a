package kube

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

func TestValidateSecurityValid(t *testing.T) {
	pod := testPod(func(p *corev1.Pod) {
		p.Spec.SecurityContext = &corev1.PodSecurityContext{
			RunAsUser: ptr(int64(1000)), RunAsGroup: ptr(int64(1000)), RunAsNonRoot: ptr(true),
			SupplementalGroups: []int64{5, 6}, FSGroup: ptr(int64(2000)),
			FSGroupChangePolicy:      ptr(corev1.FSGroupChangeOnRootMismatch),
			SupplementalGroupsPolicy: ptr(corev1.SupplementalGroupsPolicyStrict),
			SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: ptr("profiles/audit.json")},
			AppArmorProfile:          &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeUnconfined},
			Sysctls: []corev1.Sysctl{{Name: "net.ipv4.ip_unprivileged_port_start", Value: "0"}, {Name: "kernel.shmmax", Value: "65536"},
				{Name: "kernel.sem", Value: "250 32000 100 128"}, {Name: "fs.mqueue.msg_max", Value: "20"}, {Name: "net/ipv4/conf/all.rp_filter", Value: "1"}},
		}
		p.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "busybox", SecurityContext: &corev1.SecurityContext{
			Privileged: ptr(true), RunAsUser: ptr(int64(0)), RunAsNonRoot: ptr(false)}}}
		p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{
			Capabilities:             &corev1.Capabilities{Add: []corev1.Capability{"NET_BIND_SERVICE", "CAP_NET_RAW"}, Drop: []corev1.Capability{"all"}},
			AllowPrivilegeEscalation: ptr(false), ReadOnlyRootFilesystem: ptr(true), ProcMount: ptr(corev1.DefaultProcMount),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined},
		}
	})
	if errs := Validate(pod); len(errs) > 0 {
		t.Errorf("Validate = %v", errs.ToAggregate())
	}
}

func TestValidateSecurity(t *testing.T) {
	c0 := "spec.containers[0].securityContext."
	for _, tt := range []struct {
		name   string
		mutate func(p *corev1.Pod)
		want   []string
	}{
		{"privileged without escalation", func(p *corev1.Pod) {
			p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: ptr(true), AllowPrivilegeEscalation: ptr(false)}
		}, []string{c0 + "allowPrivilegeEscalation: Invalid value: false: cannot set `allowPrivilegeEscalation` to false and `privileged` to true"}},
		{"SYS_ADMIN without escalation", func(p *corev1.Pod) {
			p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{AllowPrivilegeEscalation: ptr(false),
				Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"CAP_SYS_ADMIN"}}}
		}, []string{c0 + "allowPrivilegeEscalation: Invalid value: false: cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN"}},
		{"unknown capability", func(p *corev1.Pod) {
			p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Capabilities: &corev1.Capabilities{
				Add: []corev1.Capability{"NET_ADMIN", "FLY"}, Drop: []corev1.Capability{"CAP_SWIM"}}}
		}, []string{c0 + `capabilities.add[1]: Invalid value: "FLY": unknown capability`, c0 + `capabilities.drop[0]: Invalid value: "CAP_SWIM": unknown capability`}},
		{"container IDs", func(p *corev1.Pod) {
			p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{RunAsUser: ptr(int64(-1)), RunAsGroup: ptr(int64(1 << 32))}
		}, []string{c0 + "runAsUser: Invalid value: -1: must be between 0 and 2147483647, inclusive",
			c0 + "runAsGroup: Invalid value: 4294967296: must be between 0 and 2147483647, inclusive"}},
		{"procMount", func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{{Name: "i", Image: "busybox", SecurityContext: &corev1.SecurityContext{ProcMount: ptr(corev1.ProcMountType("Half"))}}}
		}, []string{`spec.initContainers[0].securityContext.procMount: Unsupported value: "Half": supported values: "Default", "Unmasked"`}},
		{"seccomp", func(p *corev1.Pod) {
			p.Spec.SecurityContext = &corev1.PodSecurityContext{SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost}}
			p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{SeccompProfile: &corev1.SeccompProfile{
				Type: corev1.SeccompProfileTypeRuntimeDefault, LocalhostProfile: ptr("x.json")}}
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "b", Image: "busybox", SecurityContext: &corev1.SecurityContext{
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: ptr("../../etc/x.json")}}})
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "c", Image: "busybox", SecurityContext: &corev1.SecurityContext{
				SeccompProfile: &corev1.SeccompProfile{Type: "Strict"}}})
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "d", Image: "busybox", SecurityContext: &corev1.SecurityContext{
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: ptr("/abs.json")}}})
		}, []string{
			"spec.securityContext.seccompProfile.localhostProfile: Required value: must be set when seccomp type is Localhost",
			c0 + `seccompProfile.localhostProfile: Invalid value: "x.json": can only be set when seccomp type is Localhost`,
			`spec.containers[1].securityContext.seccompProfile.localhostProfile: Invalid value: "../../etc/x.json": must not contain '..'`,
			`spec.containers[2].securityContext.seccompProfile.type: Unsupported value: "Strict": supported values: "Localhost", "RuntimeDefault", "Unconfined"`,
			`spec.containers[3].securityContext.seccompProfile.localhostProfile: Invalid value: "/abs.json": must be a relative path`,
		}},
		{"AppArmor and SELinux", func(p *corev1.Pod) {
			p.Spec.SecurityContext = &corev1.PodSecurityContext{SELinuxOptions: &corev1.SELinuxOptions{Level: "s0:c1"},
				AppArmorProfile: &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeLocalhost, LocalhostProfile: ptr("k8s-nginx")}}
			p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{SELinuxOptions: &corev1.SELinuxOptions{Type: "spc_t"},
				AppArmorProfile: &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeUnconfined, LocalhostProfile: ptr("x")}}
		}, []string{
			"spec.securityContext.appArmorProfile.type: Forbidden: podbox does not load AppArmor profiles: use Unconfined or RuntimeDefault",
			"spec.securityContext.seLinuxOptions: Forbidden: podbox does not apply SELinux labels",
			c0 + `appArmorProfile.localhostProfile: Invalid value: "x": can only be set when AppArmor type is Localhost`,
			c0 + "seLinuxOptions: Forbidden: podbox does not apply SELinux labels",
		}},
		{"windows options on a linux pod", func(p *corev1.Pod) {
			p.Spec.OS = &corev1.PodOS{Name: corev1.Linux}
			p.Spec.SecurityContext = &corev1.PodSecurityContext{WindowsOptions: &corev1.WindowsSecurityContextOptions{RunAsUserName: ptr("admin")}}
		}, []string{"spec.securityContext.windowsOptions: Forbidden: may not be set for a linux pod"}},
		{"pod policies", func(p *corev1.Pod) {
			p.Spec.SecurityContext = &corev1.PodSecurityContext{FSGroupChangePolicy: ptr(corev1.PodFSGroupChangePolicy("Never")),
				SupplementalGroupsPolicy: ptr(corev1.SupplementalGroupsPolicy("Union"))}
		}, []string{
			`spec.securityContext.fsGroupChangePolicy: Unsupported value: "Never": supported values: "OnRootMismatch", "Always"`,
			`spec.securityContext.supplementalGroupsPolicy: Unsupported value: "Union": supported values: "Merge", "Strict"`,
		}},
		{"sysctls", func(p *corev1.Pod) {
			p.Spec.SecurityContext = &corev1.PodSecurityContext{Sysctls: []corev1.Sysctl{
				{Name: "kernel.panic", Value: "1"}, {Name: "vm.swappiness", Value: "1"}, {Name: "Net.IPv4"}, {Name: ""},
				{Name: "net.core.somaxconn", Value: "1"}, {Name: "net/core/somaxconn", Value: "2"},
			}}
		}, []string{
			`spec.securityContext.sysctls[0].name: Forbidden: forbidden sysctl: "kernel.panic" not allowlisted: only sysctls known to be namespaced (net.*, kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*) can be set for a pod`,
			`spec.securityContext.sysctls[1].name: Forbidden: forbidden sysctl: "vm.swappiness" not allowlisted: only sysctls known to be namespaced (net.*, kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*) can be set for a pod`,
			`spec.securityContext.sysctls[2].name: Invalid value: "Net.IPv4": must have at most 253 characters and match regex ([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?`,
			`spec.securityContext.sysctls[3].name: Required value`,
			`spec.securityContext.sysctls[5].name: Duplicate value: "net/core/somaxconn"`,
		}},
		{"sysctls of the host's namespaces", func(p *corev1.Pod) {
			p.Spec.HostNetwork, p.Spec.HostIPC = true, true
			p.Spec.SecurityContext = &corev1.PodSecurityContext{Sysctls: []corev1.Sysctl{
				{Name: "net.ipv4.ip_unprivileged_port_start", Value: "0"}, {Name: "kernel.shmmax", Value: "1"}}}
		}, []string{
			`spec.securityContext.sysctls[0].name: Invalid value: "net.ipv4.ip_unprivileged_port_start": may not be specified when 'hostNetwork' is true`,
			`spec.securityContext.sysctls[1].name: Invalid value: "kernel.shmmax": may not be specified when 'hostIPC' is true`,
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, errStrings(Validate(testPod(tt.mutate)))); diff != "" {
				t.Errorf("Validate (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSysctlNames(t *testing.T) {
	for _, tt := range []struct{ in, name, file, ns string }{
		{"net.ipv4.ip_forward", "net.ipv4.ip_forward", "net/ipv4/ip_forward", "net"},
		{"net/ipv4/conf/eth0.100/forwarding", "net.ipv4.conf.eth0/100.forwarding", "net/ipv4/conf/eth0.100/forwarding", "net"},
		{"net.ipv4.conf.eth0/100.forwarding", "net.ipv4.conf.eth0/100.forwarding", "net/ipv4/conf/eth0.100/forwarding", "net"},
		{"kernel.shmmax", "kernel.shmmax", "kernel/shmmax", "ipc"},
		{"kernel.msgmnb", "kernel.msgmnb", "kernel/msgmnb", "ipc"},
		{"kernel.sem", "kernel.sem", "kernel/sem", "ipc"},
		{"kernel/sem", "kernel.sem", "kernel/sem", "ipc"},
		{"fs.mqueue.queues_max", "fs.mqueue.queues_max", "fs/mqueue/queues_max", "ipc"},
		{"kernel.semx", "kernel.semx", "kernel/semx", ""},
		{"fs.mqueuex", "fs.mqueuex", "fs/mqueuex", ""},
		{"kernel.hostname", "kernel.hostname", "kernel/hostname", ""},
	} {
		if n, f, ns := SysctlName(tt.in), SysctlFile(tt.in), SysctlNamespace(tt.in); n != tt.name || f != tt.file || ns != tt.ns {
			t.Errorf("%s: name %q file %q namespace %q; want %q %q %q", tt.in, n, f, ns, tt.name, tt.file, tt.ns)
		}
	}
}

func TestSecurityWarnings(t *testing.T) {
	pod := testPod(func(p *corev1.Pod) {
		p.Annotations = map[string]string{"seccomp.security.alpha.kubernetes.io/pod": "runtime/default", "other": "x"}
		p.Spec.SecurityContext = &corev1.PodSecurityContext{
			Sysctls:             []corev1.Sysctl{{Name: "net.ipv4.ip_unprivileged_port_start", Value: "0"}, {Name: "kernel.msgmax", Value: "1"}},
			AppArmorProfile:     &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeRuntimeDefault},
			SELinuxChangePolicy: ptr(corev1.SELinuxChangePolicyRecursive),
		}
		p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{ProcMount: ptr(corev1.UnmaskedProcMount),
			WindowsOptions: &corev1.WindowsSecurityContextOptions{RunAsUserName: ptr("admin")}}
	})
	want := []string{
		`spec.securityContext.sysctls[1].name: "kernel.msgmax" is not a safe sysctl: a kubelet sets it only if its admin allows it (--allowed-unsafe-sysctls)`,
		"spec.securityContext.appArmorProfile: ignored: podbox applies no AppArmor profile (as containerd on a host without AppArmor)",
		"spec.securityContext.seLinuxChangePolicy: ignored: podbox applies no SELinux labels",
		"spec.containers[0].securityContext.windowsOptions: ignored: podbox runs Linux containers",
		"spec.containers[0].securityContext.procMount: Unmasked: a cluster's API server accepts it only with hostUsers: false, which podbox does not support; podbox unmasks /proc in the host's user namespace",
		"metadata.annotations[seccomp.security.alpha.kubernetes.io/pod]: ignored: use the securityContext's seccompProfile and appArmorProfile",
	}
	if diff := cmp.Diff(want, Warnings(pod)); diff != "" {
		t.Errorf("Warnings (-want +got):\n%s", diff)
	}
	if errs := Validate(pod); len(errs) > 0 {
		t.Errorf("a pod with only warnings is invalid: %v", errs.ToAggregate())
	}
}
