package shim

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/podbox/podbox/internal/podstate"
	"github.com/podbox/podbox/internal/runtime"
	corev1 "k8s.io/api/core/v1"
)

// imageRootfs is a rootfs with an /etc/passwd and an /etc/group where app
// (1000) is also in group tools (50).
func imageRootfs(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{
		"passwd": "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n",
		"group":  "root:x:0:\napp:x:1000:\ntools:x:50:app\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, "etc", name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestContainerUser(t *testing.T) {
	rootfs := imageRootfs(t)
	tests := []struct {
		name      string
		pod       *corev1.PodSecurityContext
		ctr       *corev1.SecurityContext
		imageUser string
		want      runtime.User
		err       string
	}{
		{"image user", nil, nil, "app", runtime.User{UID: 1000, GID: 1000, AdditionalGIDs: []uint32{50}, Home: "/home/app"}, ""},
		{"runAsUser found in passwd", &corev1.PodSecurityContext{RunAsUser: ptrTo(int64(1000))}, nil, "",
			runtime.User{UID: 1000, GID: 1000, AdditionalGIDs: []uint32{50}, Home: "/home/app"}, ""},
		{"runAsUser not in passwd: group 0", nil, &corev1.SecurityContext{RunAsUser: ptrTo(int64(4242))}, "app",
			runtime.User{UID: 4242, GID: 0, Home: "/"}, ""},
		{"runAsGroup over the image's group", &corev1.PodSecurityContext{RunAsGroup: ptrTo(int64(7))}, nil, "app:app",
			runtime.User{UID: 1000, GID: 7, AdditionalGIDs: []uint32{50}, Home: "/home/app"}, ""},
		{"fsGroup and supplementalGroups", &corev1.PodSecurityContext{RunAsUser: ptrTo(int64(1000)), FSGroup: ptrTo(int64(2000)),
			SupplementalGroups: []int64{3000, 50}}, nil, "",
			runtime.User{UID: 1000, GID: 1000, AdditionalGIDs: []uint32{50, 2000, 3000}, Home: "/home/app"}, ""},
		{"Strict: no groups from the image", &corev1.PodSecurityContext{RunAsUser: ptrTo(int64(1000)), FSGroup: ptrTo(int64(2000)),
			SupplementalGroupsPolicy: ptrTo(corev1.SupplementalGroupsPolicyStrict)}, nil, "",
			runtime.User{UID: 1000, GID: 1000, AdditionalGIDs: []uint32{2000}, Home: "/home/app"}, ""},
		{"runAsNonRoot", &corev1.PodSecurityContext{RunAsNonRoot: ptrTo(true)}, nil, "", runtime.User{},
			`container has runAsNonRoot and image will run as root (pod: "p_default(u)", container: c)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := &corev1.Pod{Spec: corev1.PodSpec{SecurityContext: tt.pod}}
			pod.Name, pod.Namespace, pod.UID = "p", "default", "u"
			s := &shim{pod: pod, rec: &podstate.Record{}}
			got, err := s.containerUser(&corev1.Container{Name: "c", SecurityContext: tt.ctr}, rootfs, tt.imageUser)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(got.AdditionalGIDs)
			if got.UID != tt.want.UID || got.GID != tt.want.GID || got.Home != tt.want.Home || !slices.Equal(got.AdditionalGIDs, tt.want.AdditionalGIDs) {
				t.Errorf("user %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestContainerSecurity(t *testing.T) {
	profiles := t.TempDir()
	if err := os.WriteFile(filepath.Join(profiles, "p.json"), []byte(`{"defaultAction":"SCMP_ACT_ALLOW"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	local := func(name string) *corev1.SeccompProfile {
		return &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: ptrTo(name)}
	}
	tests := []struct {
		name string
		pod  *corev1.PodSecurityContext
		ctr  *corev1.SecurityContext
		want security
		err  string
	}{
		{"defaults", nil, nil, security{noNewPrivs: true, masked: true, seccomp: true}, ""},
		{"privileged", nil, &corev1.SecurityContext{Privileged: ptrTo(true)}, security{privileged: true, masked: true}, ""},
		{"everything", &corev1.PodSecurityContext{SeccompProfile: local("p.json")}, &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptrTo(true), ReadOnlyRootFilesystem: ptrTo(true), ProcMount: ptrTo(corev1.UnmaskedProcMount),
			Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}, Add: []corev1.Capability{"kill"}}},
			security{caps: []string{"CAP_KILL"}, readonly: true, seccomp: true, profile: []byte(`{"defaultAction":"SCMP_ACT_ALLOW"}`)}, ""},
		{"unconfined", &corev1.PodSecurityContext{SeccompProfile: local("p.json")}, &corev1.SecurityContext{
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}}, security{noNewPrivs: true, masked: true}, ""},
		{"missing profile", nil, &corev1.SecurityContext{SeccompProfile: local("sub/none.json")}, security{},
			`read seccomp profile "sub/none.json": open ` + filepath.Join(profiles, "sub/none.json")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &shim{pod: &corev1.Pod{Spec: corev1.PodSpec{SecurityContext: tt.pod}}, rec: &podstate.Record{SeccompProfileRoot: profiles}}
			got, err := s.containerSecurity(&corev1.Container{Name: "c", SecurityContext: tt.ctr})
			if tt.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q...", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.privileged != tt.want.privileged || !slices.Equal(got.caps, tt.want.caps) || got.noNewPrivs != tt.want.noNewPrivs ||
				got.readonly != tt.want.readonly || got.masked != tt.want.masked || got.seccomp != tt.want.seccomp || string(got.profile) != string(tt.want.profile) {
				t.Errorf("security %+v, want %+v", got, tt.want)
			}
		})
	}
	// A profile name cannot climb out of the root.
	if _, err := ReadSeccompProfile(profiles, "../../etc/passwd"); err == nil || !strings.Contains(err.Error(), filepath.Join(profiles, "etc/passwd")) {
		t.Errorf("ReadSeccompProfile with ..: %v", err)
	}
}
