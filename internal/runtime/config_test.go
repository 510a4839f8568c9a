package runtime

import (
	goruntime "runtime"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/configs/validate"
	"golang.org/x/sys/unix"
)

func baseSpec(t *testing.T) *Spec {
	t.Helper()
	return &Spec{ID: "pod.c0", Rootfs: t.TempDir(), CgroupPath: "/podbox-unit/podx/pod.c0"}
}

func newConfig(t *testing.T, s *Spec) *configs.Config {
	t.Helper()
	c, err := NewConfig(s)
	if err != nil {
		t.Fatalf("NewConfig: %v", err)
	}
	return c
}

func TestNewConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		spec Spec
		want string
	}{
		{"no ID", Spec{Rootfs: "/r", CgroupPath: "/c"}, "absolute rootfs"},
		{"no rootfs", Spec{ID: "x", CgroupPath: "/c"}, "absolute rootfs"},
		{"relative rootfs", Spec{ID: "x", Rootfs: "r/fs", CgroupPath: "/c"}, "absolute rootfs"},
		{"no cgroup path", Spec{ID: "x", Rootfs: "/r"}, "cgroup path"},
		{"relative cgroup path", Spec{ID: "x", Rootfs: "/r", CgroupPath: "podbox/pod1"}, `cgroup path "podbox/pod1" must be absolute`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewConfig(&tt.spec)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewConfig = %v, %v; want an error containing %q", c, err, tt.want)
			}
		})
	}
}

type nsWant struct {
	Type configs.NamespaceType
	Path string
}

func nsOf(c *configs.Config) []nsWant {
	var out []nsWant
	for _, n := range c.Namespaces {
		out = append(out, nsWant{n.Type, n.Path})
	}
	return out
}

func TestNewConfigNamespaces(t *testing.T) {
	tests := []struct {
		name     string
		ns       Namespaces
		cgroupNS bool
		want     []nsWant
		loopback bool
	}{
		{"all new", Namespaces{}, false, []nsWant{
			{configs.NEWNS, ""}, {configs.NEWNET, ""}, {configs.NEWIPC, ""}, {configs.NEWUTS, ""}, {configs.NEWPID, ""},
		}, true},
		{"pinned", Namespaces{Net: NS{Path: "/run/p/ns/net"}, IPC: NS{Path: "/run/p/ns/ipc"}, UTS: NS{Path: "/run/p/ns/uts"}, PID: NS{Path: "/proc/1/ns/pid"}}, false, []nsWant{
			{configs.NEWNS, ""}, {configs.NEWNET, "/run/p/ns/net"}, {configs.NEWIPC, "/run/p/ns/ipc"}, {configs.NEWUTS, "/run/p/ns/uts"}, {configs.NEWPID, "/proc/1/ns/pid"},
		}, false},
		{"host", Namespaces{Net: NS{Host: true}, IPC: NS{Host: true}, UTS: NS{Host: true}, PID: NS{Host: true}}, false, []nsWant{
			{configs.NEWNS, ""},
		}, false},
		{"host wins over path", Namespaces{Net: NS{Host: true, Path: "/x"}}, false, []nsWant{
			{configs.NEWNS, ""}, {configs.NEWIPC, ""}, {configs.NEWUTS, ""}, {configs.NEWPID, ""},
		}, false},
		{"mixed, cgroupns", Namespaces{Net: NS{Path: "/n"}, IPC: NS{Host: true}, PID: NS{Host: true}}, true, []nsWant{
			{configs.NEWNS, ""}, {configs.NEWNET, "/n"}, {configs.NEWUTS, ""}, {configs.NEWCGROUP, ""},
		}, false},
		{"new net only", Namespaces{IPC: NS{Path: "/i"}, UTS: NS{Host: true}, PID: NS{Host: true}}, false, []nsWant{
			{configs.NEWNS, ""}, {configs.NEWNET, ""}, {configs.NEWIPC, "/i"},
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := baseSpec(t)
			s.Namespaces, s.CgroupNS = tt.ns, tt.cgroupNS
			c := newConfig(t, s)
			if diff := cmp.Diff(tt.want, nsOf(c)); diff != "" {
				t.Errorf("namespaces (-want +got):\n%s", diff)
			}
			var want []*configs.Network
			if tt.loopback {
				want = []*configs.Network{{Type: "loopback"}}
			}
			if diff := cmp.Diff(want, c.Networks); diff != "" {
				t.Errorf("networks (-want +got):\n%s", diff)
			}
		})
	}
}

type mountWant struct {
	Source, Destination, Device string
	Flags                       int
}

func mountsOf(c *configs.Config) []mountWant {
	var out []mountWant
	for _, m := range c.Mounts {
		out = append(out, mountWant{m.Source, m.Destination, m.Device, m.Flags})
	}
	return out
}

func TestNewConfigMounts(t *testing.T) {
	const nes = unix.MS_NOEXEC | unix.MS_NOSUID | unix.MS_NODEV
	proc := mountWant{"proc", "/proc", "proc", nes}
	dev := mountWant{"tmpfs", "/dev", "tmpfs", unix.MS_NOSUID | unix.MS_STRICTATIME}
	devpts := mountWant{"devpts", "/dev/pts", "devpts", unix.MS_NOSUID | unix.MS_NOEXEC}
	rest := []mountWant{
		{"mqueue", "/dev/mqueue", "mqueue", nes},
		{"sysfs", "/sys", "sysfs", nes | unix.MS_RDONLY},
		{"cgroup", "/sys/fs/cgroup", "cgroup", nes | unix.MS_RDONLY},
	}
	binds := []Bind{
		{Source: "/run/p/etc/hosts", Destination: "/etc/hosts"},
		{Source: "/run/p/etc/resolv.conf", Destination: "/etc/resolv.conf", ReadOnly: true},
	}
	bindMounts := []mountWant{
		{"/run/p/etc/hosts", "/etc/hosts", "bind", unix.MS_BIND | unix.MS_REC},
		{"/run/p/etc/resolv.conf", "/etc/resolv.conf", "bind", unix.MS_BIND | unix.MS_REC | unix.MS_RDONLY},
	}
	tests := []struct {
		name string
		edit func(*Spec)
		want []mountWant
	}{
		{"minimal", func(s *Spec) { s.Minimal = true; s.Binds = binds; s.Shm = "/run/p/shm" }, []mountWant{proc, dev}},
		{"private shm", func(s *Spec) {}, slices.Concat([]mountWant{proc, dev, devpts, {"shm", "/dev/shm", "tmpfs", nes}}, rest)},
		{"pod shm and binds", func(s *Spec) { s.Shm = "/run/p/shm"; s.Binds = binds }, slices.Concat(
			[]mountWant{proc, dev, devpts, {"/run/p/shm", "/dev/shm", "bind", unix.MS_BIND | unix.MS_REC}}, rest, bindMounts)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := baseSpec(t)
			tt.edit(s)
			c := newConfig(t, s)
			if diff := cmp.Diff(tt.want, mountsOf(c)); diff != "" {
				t.Errorf("mounts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewConfigCapabilities(t *testing.T) {
	bnd, err := BoundingSet()
	if err != nil {
		t.Fatal(err)
	}
	var allKnown []string
	for _, c := range []string{
		"CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_SYS_RESOURCE", "CAP_NET_ADMIN", "CAP_SYS_PTRACE", "CAP_BPF",
		"CAP_CHECKPOINT_RESTORE", "CAP_PERFMON", "CAP_KILL",
	} {
		if KnownCapability(c) {
			allKnown = append(allKnown, c)
		}
	}
	inBounding := func(want []string) []string {
		out := []string{}
		for _, c := range want {
			if bnd[c] && !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
		return out
	}
	tests := []struct {
		name string
		caps []string
		want []string
	}{
		{"default", nil, inBounding(DefaultCapabilities)},
		{"explicit empty", []string{}, []string{}},
		{"clamped to the bounding set", allKnown, inBounding(allKnown)},
		{"duplicates and unknown names dropped", []string{"CAP_KILL", "CAP_BOGUS", "CAP_KILL", "kill", "CAP_CHOWN"}, inBounding([]string{"CAP_KILL", "CAP_CHOWN"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := baseSpec(t)
			s.Capabilities = tt.caps
			c := newConfig(t, s)
			cp := c.Capabilities
			if cp == nil {
				t.Fatal("no capabilities in the config")
			}
			if diff := cmp.Diff(tt.want, cp.Bounding); diff != "" {
				t.Errorf("bounding (-want +got):\n%s", diff)
			}
			if !slices.Equal(cp.Effective, cp.Bounding) || !slices.Equal(cp.Permitted, cp.Bounding) {
				t.Errorf("effective %v / permitted %v differ from bounding %v", cp.Effective, cp.Permitted, cp.Bounding)
			}
			if len(cp.Inheritable) != 0 || len(cp.Ambient) != 0 {
				t.Errorf("inheritable %v ambient %v, want none", cp.Inheritable, cp.Ambient)
			}
			for _, name := range cp.Bounding {
				if !bnd[name] {
					t.Errorf("%s is outside the host's bounding set", name)
				}
			}
		})
	}
	if !bnd["CAP_SYS_RESOURCE"] {
		t.Log("this host withholds CAP_SYS_RESOURCE from root: the clamping case drops it")
	}
	// The default set must not be modified by NewConfig.
	if len(DefaultCapabilities) != 14 || DefaultCapabilities[0] != "CAP_CHOWN" {
		t.Errorf("DefaultCapabilities changed: %v", DefaultCapabilities)
	}
}

func TestNewConfigFlags(t *testing.T) {
	s := baseSpec(t)
	c := newConfig(t, s)
	if c.NoNewPrivileges || c.Readonlyfs || c.MaskPaths != nil || c.ReadonlyPaths != nil || c.Seccomp != nil {
		t.Errorf("zero spec: nnp %v rofs %v masked %v ro %v seccomp %v; want all off",
			c.NoNewPrivileges, c.Readonlyfs, c.MaskPaths, c.ReadonlyPaths, c.Seccomp != nil)
	}
	if c.Rootfs != s.Rootfs || c.Cgroups == nil || c.Cgroups.Path != s.CgroupPath {
		t.Errorf("rootfs %q cgroups %+v, want %q and path %q", c.Rootfs, c.Cgroups, s.Rootfs, s.CgroupPath)
	}
	if c.Cgroups.Resources == nil || len(c.Cgroups.Devices) == 0 {
		t.Error("no device rules")
	}
	var devs []string
	for _, d := range c.Devices {
		devs = append(devs, d.Path)
	}
	for _, want := range []string{"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"} {
		if !slices.Contains(devs, want) {
			t.Errorf("device %s missing from %v", want, devs)
		}
	}

	s.NoNewPrivileges, s.ReadonlyRootfs, s.Masked = true, true, true
	c = newConfig(t, s)
	if !c.NoNewPrivileges || !c.Readonlyfs {
		t.Errorf("nnp %v rofs %v, want both", c.NoNewPrivileges, c.Readonlyfs)
	}
	for _, p := range []string{"/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware", "/proc/acpi", "/proc/scsi"} {
		if !slices.Contains(c.MaskPaths, p) {
			t.Errorf("%s not masked: %v", p, c.MaskPaths)
		}
	}
	for _, p := range []string{"/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs"} {
		if !slices.Contains(c.ReadonlyPaths, p) {
			t.Errorf("%s not read-only: %v", p, c.ReadonlyPaths)
		}
	}
}

func TestNewConfigNofile(t *testing.T) {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		want uint64
		get  uint64
	}{
		{"default", 0, min(uint64(1<<20), rl.Max)},
		{"small", 1024, min(uint64(1024), rl.Max)},
		{"above the hard limit", rl.Max + 1, rl.Max},
		{"huge", 1 << 40, rl.Max},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := baseSpec(t)
			s.NofileLimit = tt.want
			c := newConfig(t, s)
			want := []configs.Rlimit{{Type: unix.RLIMIT_NOFILE, Hard: tt.get, Soft: tt.get}}
			if diff := cmp.Diff(want, c.Rlimits); diff != "" {
				t.Errorf("rlimits (-want +got):\n%s", diff)
			}
		})
	}
}

// TestNewConfigValidates runs libcontainer's own validation (what
// libcontainer.Create does first) on the configs NewConfig builds.
func TestNewConfigValidates(t *testing.T) {
	specs := map[string]func(*Spec){
		"pause": func(s *Spec) {
			s.Minimal, s.ReadonlyRootfs, s.NoNewPrivileges, s.Masked = true, true, true, true
			s.Capabilities = []string{}
		},
		"app": func(s *Spec) {
			s.Shm = t.TempDir()
			s.Masked, s.Seccomp, s.CgroupNS = true, true, true
			s.Binds = []Bind{{Source: t.TempDir(), Destination: "/data"}}
		},
		"host namespaces": func(s *Spec) {
			s.Namespaces = Namespaces{Net: NS{Host: true}, IPC: NS{Host: true}, UTS: NS{Host: true}, PID: NS{Host: true}}
		},
	}
	for name, edit := range specs {
		t.Run(name, func(t *testing.T) {
			s := baseSpec(t)
			edit(s)
			c := newConfig(t, s)
			if err := validate.Validate(c); err != nil {
				t.Errorf("libcontainer rejects the config: %v", err)
			}
		})
	}
}

func TestSeccompSupported(t *testing.T) {
	if SeccompSupported() != builtWithSeccomp {
		t.Fatalf("SeccompSupported() = %v, but the test binary was built with seccomp = %v", SeccompSupported(), builtWithSeccomp)
	}
}

func TestSeccompArches(t *testing.T) {
	switch goruntime.GOARCH {
	case "amd64":
		for in, want := range map[string][]string{
			"": {"amd64"}, "amd64": {"amd64"}, "386": {"amd64", "x86"}, "arm64": {"amd64"}, "arm": {"amd64"},
		} {
			if got := SeccompArches(in); !slices.Equal(got, want) {
				t.Errorf("SeccompArches(%q) = %v, want %v", in, got, want)
			}
		}
	case "arm64":
		for in, want := range map[string][]string{
			"": {"arm64"}, "arm64": {"arm64"}, "arm": {"arm64", "arm"}, "386": {"arm64"},
		} {
			if got := SeccompArches(in); !slices.Equal(got, want) {
				t.Errorf("SeccompArches(%q) = %v, want %v", in, got, want)
			}
		}
	default:
		t.Skipf("no expectations for GOARCH %s", goruntime.GOARCH)
	}
}

func TestNewConfigSeccomp(t *testing.T) {
	if !SeccompSupported() {
		s := baseSpec(t)
		s.Seccomp = true
		if c := newConfig(t, s); c.Seccomp != nil {
			t.Error("a binary without seccomp support built a filter")
		}
		t.Skip("built without seccomp support")
	}
	for _, arch := range []string{"", "amd64", "386", "arm64"} {
		t.Run("arch="+arch, func(t *testing.T) {
			s := baseSpec(t)
			s.Seccomp, s.ImageArch = true, arch
			c := newConfig(t, s)
			sc := c.Seccomp
			if sc == nil {
				t.Fatal("no seccomp filter")
			}
			if want := SeccompArches(arch); !slices.Equal(sc.Architectures, want) {
				t.Errorf("architectures %v, want %v", sc.Architectures, want)
			}
			if sc.DefaultAction == configs.Allow || len(sc.Syscalls) < 100 {
				t.Errorf("default action %v with %d rules: not a default-deny profile", sc.DefaultAction, len(sc.Syscalls))
			}
		})
	}
	// Capabilities change the profile: CAP_SYS_ADMIN unlocks mount(2).
	allows := func(caps []string, name string) bool {
		s := baseSpec(t)
		s.Seccomp, s.Capabilities = true, caps
		for _, r := range newConfig(t, s).Seccomp.Syscalls {
			if r.Name == name && r.Action == configs.Allow && len(r.Args) == 0 {
				return true
			}
		}
		return false
	}
	if allows([]string{"CAP_CHOWN"}, "mount") {
		t.Error("mount allowed without CAP_SYS_ADMIN")
	}
	if bnd, _ := BoundingSet(); bnd["CAP_SYS_ADMIN"] && !allows([]string{"CAP_SYS_ADMIN"}, "mount") {
		t.Error("mount not allowed with CAP_SYS_ADMIN")
	}
	if !allows(nil, "read") {
		t.Error("read not allowed by the default profile")
	}
}
