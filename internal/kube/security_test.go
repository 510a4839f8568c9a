package kube

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

func TestEffectiveSecurityContext(t *testing.T) {
	rd := &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
	un := &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}
	podSC := &corev1.PodSecurityContext{
		RunAsUser: ptr(int64(1000)), RunAsGroup: ptr(int64(2000)), RunAsNonRoot: ptr(true), SeccompProfile: rd,
		SupplementalGroups: []int64{5}, FSGroup: ptr(int64(6)),
	}
	tests := []struct {
		name string
		pod  *corev1.PodSecurityContext
		ctr  *corev1.SecurityContext
		want *corev1.SecurityContext
	}{
		{"neither", nil, nil, &corev1.SecurityContext{}},
		{"pod only", podSC, nil, &corev1.SecurityContext{RunAsUser: ptr(int64(1000)), RunAsGroup: ptr(int64(2000)), RunAsNonRoot: ptr(true), SeccompProfile: rd}},
		{"container only", nil, &corev1.SecurityContext{Privileged: ptr(true), RunAsUser: ptr(int64(7))},
			&corev1.SecurityContext{Privileged: ptr(true), RunAsUser: ptr(int64(7))}},
		{"container overrides", podSC, &corev1.SecurityContext{RunAsUser: ptr(int64(0)), RunAsNonRoot: ptr(false), SeccompProfile: un,
			ReadOnlyRootFilesystem: ptr(true), Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}},
			&corev1.SecurityContext{RunAsUser: ptr(int64(0)), RunAsGroup: ptr(int64(2000)), RunAsNonRoot: ptr(false), SeccompProfile: un,
				ReadOnlyRootFilesystem: ptr(true), Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := &corev1.Pod{Spec: corev1.PodSpec{SecurityContext: tt.pod}}
			c := &corev1.Container{Name: "c", SecurityContext: tt.ctr}
			got := EffectiveSecurityContext(pod, c)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if got.RunAsUser != nil {
				*got.RunAsUser = 99 // a copy: the pod is not changed
				if (tt.pod != nil && *tt.pod.RunAsUser == 99) || (tt.ctr != nil && tt.ctr.RunAsUser != nil && *tt.ctr.RunAsUser == 99) {
					t.Error("the result shares memory with the pod")
				}
			}
		})
	}
}

func TestNoNewPrivileges(t *testing.T) {
	caps := func(add ...corev1.Capability) *corev1.Capabilities { return &corev1.Capabilities{Add: add} }
	for _, tt := range []struct {
		name string
		sc   corev1.SecurityContext
		want bool
	}{
		{"default", corev1.SecurityContext{}, true},
		{"allowed", corev1.SecurityContext{AllowPrivilegeEscalation: ptr(true)}, false},
		{"not allowed", corev1.SecurityContext{AllowPrivilegeEscalation: ptr(false)}, true},
		{"privileged", corev1.SecurityContext{Privileged: ptr(true)}, false},
		{"not privileged", corev1.SecurityContext{Privileged: ptr(false)}, true},
		{"SYS_ADMIN", corev1.SecurityContext{Capabilities: caps("SYS_ADMIN")}, false},
		{"CAP_SYS_ADMIN", corev1.SecurityContext{Capabilities: caps("CAP_SYS_ADMIN")}, false},
		{"ALL", corev1.SecurityContext{Capabilities: caps("all")}, false},
		{"other cap", corev1.SecurityContext{Capabilities: caps("NET_ADMIN")}, true},
	} {
		if got := NoNewPrivileges(&tt.sc); got != tt.want {
			t.Errorf("%s: NoNewPrivileges = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestSeccomp(t *testing.T) {
	local := corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: ptr("p.json")}
	for _, tt := range []struct {
		name string
		sc   corev1.SecurityContext
		want corev1.SeccompProfile
	}{
		{"unset: RuntimeDefault", corev1.SecurityContext{}, corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
		{"set", corev1.SecurityContext{SeccompProfile: &local}, local},
		{"privileged", corev1.SecurityContext{SeccompProfile: &local, Privileged: ptr(true)}, corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}},
	} {
		if got := Seccomp(&tt.sc); !cmp.Equal(got, tt.want) {
			t.Errorf("%s: Seccomp = %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func TestVerifyRunAsNonRoot(t *testing.T) {
	const podName = `"web_default(u1)"`
	for _, tt := range []struct {
		name      string
		pod       *corev1.PodSecurityContext
		ctr       *corev1.SecurityContext
		imageUser string
		want      string
	}{
		{"not asked", nil, nil, "", ""},
		{"asked false", &corev1.PodSecurityContext{RunAsNonRoot: ptr(false)}, nil, "", ""},
		{"root image", &corev1.PodSecurityContext{RunAsNonRoot: ptr(true)}, nil, "",
			"container has runAsNonRoot and image will run as root (pod: " + podName + ", container: app)"},
		{"uid 0 in the image", nil, &corev1.SecurityContext{RunAsNonRoot: ptr(true)}, "0:0",
			"container has runAsNonRoot and image will run as root (pod: " + podName + ", container: app)"},
		{"numeric image user", nil, &corev1.SecurityContext{RunAsNonRoot: ptr(true)}, "1000:1000", ""},
		{"named image user", nil, &corev1.SecurityContext{RunAsNonRoot: ptr(true)}, "app",
			"container has runAsNonRoot and image has non-numeric user (app), cannot verify user is non-root (pod: " + podName + ", container: app)"},
		{"runAsUser wins over the image", &corev1.PodSecurityContext{RunAsNonRoot: ptr(true), RunAsUser: ptr(int64(1000))}, nil, "root", ""},
		{"runAsUser 0", &corev1.PodSecurityContext{RunAsNonRoot: ptr(true)}, &corev1.SecurityContext{RunAsUser: ptr(int64(0))}, "1000",
			"container's runAsUser breaks non-root policy (pod: " + podName + ", container: app)"},
		{"container turns it off", &corev1.PodSecurityContext{RunAsNonRoot: ptr(true)}, &corev1.SecurityContext{RunAsNonRoot: ptr(false)}, "", ""},
		{"out of range", &corev1.PodSecurityContext{RunAsNonRoot: ptr(true)}, nil, "4294967296",
			"container has runAsNonRoot and image has an invalid user id (4294967296). (Must be 1-(2147483647)): must be between 0 and 2147483647, inclusive (pod: " + podName + ", container: app)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pod := &corev1.Pod{Spec: corev1.PodSpec{SecurityContext: tt.pod}}
			pod.Name, pod.Namespace, pod.UID = "web", "default", "u1"
			err := VerifyRunAsNonRoot(pod, &corev1.Container{Name: "app", SecurityContext: tt.ctr}, tt.imageUser)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("VerifyRunAsNonRoot = %q, want %q", got, tt.want)
			}
		})
	}
}
