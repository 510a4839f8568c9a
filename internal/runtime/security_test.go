package runtime

import (
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/cgroups/devices/config"
	"github.com/opencontainers/runc/libcontainer/configs"
	"golang.org/x/sys/unix"
)

func TestCapabilityName(t *testing.T) {
	for in, want := range map[string]string{
		"chown": "CAP_CHOWN", "CAP_CHOWN": "CAP_CHOWN", "Net_Admin": "CAP_NET_ADMIN", "cap_sys_admin": "CAP_SYS_ADMIN",
	} {
		if got, ok := CapabilityName(in); got != want || !ok {
			t.Errorf("CapabilityName(%q) = %q, %v; want %q, true", in, got, ok, want)
		}
	}
	if _, ok := CapabilityName("FLY"); ok {
		t.Error("CAP_FLY is known")
	}
}

func TestCapabilities(t *testing.T) {
	all := allCapabilities()
	without := func(set []string, drop ...string) []string {
		return slices.DeleteFunc(slices.Clone(set), func(c string) bool { return slices.Contains(drop, c) })
	}
	tests := []struct {
		name      string
		add, drop []string
		want      []string
	}{
		{"nothing", nil, nil, DefaultCapabilities},
		{"drop one", nil, []string{"CHOWN"}, without(DefaultCapabilities, "CAP_CHOWN")},
		{"drop with prefix, any case", nil, []string{"cap_chown", "Kill"}, without(DefaultCapabilities, "CAP_CHOWN", "CAP_KILL")},
		{"add one", []string{"NET_ADMIN"}, nil, append(slices.Clone(DefaultCapabilities), "CAP_NET_ADMIN")},
		{"add one already there", []string{"CAP_CHOWN"}, nil, DefaultCapabilities},
		{"drop ALL then add", []string{"NET_BIND_SERVICE"}, []string{"ALL"}, []string{"CAP_NET_BIND_SERVICE"}},
		{"drop all, lower case", nil, []string{"all"}, []string{}},
		{"add ALL", []string{"ALL"}, nil, all},
		{"add ALL drop one", []string{"ALL"}, []string{"SYS_ADMIN"}, without(all, "CAP_SYS_ADMIN")},
		{"add ALL drop ALL", []string{"ALL"}, []string{"ALL"}, []string{}},
		{"added and dropped: drop wins", []string{"SYS_TIME"}, []string{"SYS_TIME"}, DefaultCapabilities},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Capabilities(tt.add, tt.drop)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Capabilities(%v, %v) = %v, want %v", tt.add, tt.drop, got, tt.want)
			}
		})
	}
	if _, err := Capabilities([]string{"FLY"}, nil); err == nil || !strings.Contains(err.Error(), `unknown capability "FLY"`) {
		t.Errorf("unknown capability: %v", err)
	}
	if len(DefaultCapabilities) != 14 {
		t.Errorf("DefaultCapabilities changed: %v", DefaultCapabilities)
	}
}

func TestNewConfigPrivileged(t *testing.T) {
	s := baseSpec(t)
	s.Privileged, s.Masked, s.Seccomp, s.Capabilities = true, true, true, []string{}
	c := newConfig(t, s)
	bnd, err := BoundingSet()
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Capabilities.Effective) != len(bnd) || len(c.Capabilities.Bounding) != len(bnd) {
		t.Errorf("%d effective capabilities, the bounding set has %d", len(c.Capabilities.Effective), len(bnd))
	}
	if c.MaskPaths != nil || c.ReadonlyPaths != nil || c.Seccomp != nil {
		t.Errorf("masked %v read-only %v seccomp %v: want none", c.MaskPaths, c.ReadonlyPaths, c.Seccomp != nil)
	}
	rules := c.Cgroups.Devices
	if len(rules) != 1 || rules[0].Type != config.WildcardDevice || !rules[0].Allow || rules[0].Permissions != "rwm" {
		t.Errorf("device rules %+v, want allow all", rules)
	}
	var paths []string
	for _, d := range c.Devices {
		paths = append(paths, d.Path)
	}
	for _, want := range []string{"/dev/null", "/dev/zero", "/dev/urandom"} {
		if !slices.Contains(paths, want) {
			t.Errorf("host device %s missing from %v", want, paths)
		}
	}
	for _, p := range paths {
		if strings.HasPrefix(p, "/dev/pts/") || p == "/dev/console" || strings.HasPrefix(p, "/dev/shm/") {
			t.Errorf("device %s should be left to the runtime", p)
		}
	}
	for _, m := range c.Mounts {
		if (m.Destination == "/sys" || m.Destination == "/sys/fs/cgroup") && m.Flags&unix.MS_RDONLY != 0 {
			t.Errorf("%s is read-only in a privileged container", m.Destination)
		}
	}
	// Unprivileged: /sys stays read-only.
	s.Privileged = false
	for _, m := range newConfig(t, s).Mounts {
		if m.Destination == "/sys" && m.Flags&unix.MS_RDONLY == 0 {
			t.Error("/sys is writable in an unprivileged container")
		}
	}
}

// A profile of the pod's own replaces the default one; both formats work.
func TestNewConfigSeccompProfile(t *testing.T) {
	if !SeccompSupported() {
		s := baseSpec(t)
		s.Seccomp, s.SeccompProfile = true, []byte(`{"defaultAction":"SCMP_ACT_ALLOW"}`)
		if _, err := NewConfig(s); err == nil {
			t.Error("a profile was accepted by a binary without seccomp support")
		}
		t.Skip("built without seccomp support")
	}
	oci := `{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
	  "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}`
	docker := `{"defaultAction": "SCMP_ACT_ERRNO", "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]}],
	  "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
	    {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}}]}`
	rule := func(sc *configs.Seccomp, name string) *configs.Syscall {
		for _, r := range sc.Syscalls {
			if r.Name == name {
				return r
			}
		}
		return nil
	}
	s := baseSpec(t)
	s.Seccomp, s.SeccompProfile = true, []byte(oci)
	sc := newConfig(t, s).Seccomp
	if sc.DefaultAction != configs.Allow || len(sc.Syscalls) != 2 {
		t.Fatalf("OCI profile: default %v, %d rules", sc.DefaultAction, len(sc.Syscalls))
	}
	if r := rule(sc, "mkdir"); r == nil || r.Action != configs.Errno || r.ErrnoRet == nil || *r.ErrnoRet != 1 {
		t.Errorf("mkdir rule %+v", r)
	}
	s.SeccompProfile = []byte(docker)
	sc = newConfig(t, s).Seccomp
	if sc.DefaultAction != configs.Errno || rule(sc, "read") == nil || rule(sc, "mount") != nil {
		t.Errorf("Docker profile without CAP_SYS_ADMIN: default %v, rules %d, mount %v", sc.DefaultAction, len(sc.Syscalls), rule(sc, "mount"))
	}
	s.Capabilities = []string{"CAP_SYS_ADMIN"}
	if bnd, _ := BoundingSet(); bnd["CAP_SYS_ADMIN"] && rule(newConfig(t, s).Seccomp, "mount") == nil {
		t.Error("Docker profile: includes.caps CAP_SYS_ADMIN did not allow mount with the capability")
	}
	for _, bad := range []string{`{`, `{}`, `{"defaultAction": "SCMP_ACT_FLY"}`} {
		s.SeccompProfile = []byte(bad)
		if _, err := NewConfig(s); err == nil {
			t.Errorf("profile %s accepted", bad)
		}
		if err := CheckSeccompProfile([]byte(bad)); err == nil {
			t.Errorf("CheckSeccompProfile(%s) = nil", bad)
		}
	}
	if err := CheckSeccompProfile([]byte(docker)); err != nil {
		t.Errorf("CheckSeccompProfile: %v", err)
	}
	// Privileged: no filter, whatever the profile.
	s.SeccompProfile, s.Privileged = []byte(oci), true
	if newConfig(t, s).Seccomp != nil {
		t.Error("a privileged container got a seccomp filter")
	}
}
