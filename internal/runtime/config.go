package runtime

import (
	"errors"
	"fmt"
	"path/filepath"

	ocg "github.com/opencontainers/cgroups"
	"github.com/opencontainers/cgroups/devices/config"
	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/specconv"
	"golang.org/x/sys/unix"
)

const (
	mntNoExecSuidDev = unix.MS_NOEXEC | unix.MS_NOSUID | unix.MS_NODEV
	defaultNofile    = 1 << 20
)

// NewConfig turns a Spec into a libcontainer configuration. It reads only
// host facts that do not change (the capability bounding set, the caller's
// RLIMIT_NOFILE, seccomp support), so it is safe to call anywhere.
func NewConfig(s *Spec) (*configs.Config, error) {
	if s.ID == "" || s.Rootfs == "" || !filepath.IsAbs(s.Rootfs) {
		return nil, fmt.Errorf("container spec %q: an ID and an absolute rootfs are required", s.ID)
	}
	if s.CgroupPath == "" || !filepath.IsAbs(s.CgroupPath) {
		return nil, fmt.Errorf("container spec %q: cgroup path %q must be absolute", s.ID, s.CgroupPath)
	}
	caps, err := clampCapabilities(s.Capabilities)
	if err != nil {
		return nil, fmt.Errorf("container spec %q: %w", s.ID, err)
	}
	var rules []*config.Rule
	var devs []*config.Device
	for _, d := range specconv.AllowedDevices {
		rules = append(rules, &d.Rule)
		if d.Path != "" {
			devs = append(devs, d)
		}
	}
	c := &configs.Config{
		Rootfs:          s.Rootfs,
		Readonlyfs:      s.ReadonlyRootfs,
		Capabilities:    &configs.Capabilities{Bounding: caps, Effective: caps, Permitted: caps},
		Namespaces:      namespaces(s),
		Mounts:          mounts(s),
		Devices:         devs,
		NoNewPrivileges: s.NoNewPrivileges,
		Rlimits:         []configs.Rlimit{nofile(s.NofileLimit)},
		Cgroups: &ocg.Cgroup{
			Path:      s.CgroupPath,
			Resources: &ocg.Resources{Devices: rules},
		},
		// Networks: a new network namespace gets lo up; a pinned one already has it.
	}
	c.RootPropagation = s.RootPropagation
	if s.Namespaces.Net.Path == "" && !s.Namespaces.Net.Host {
		c.Networks = []*configs.Network{{Type: "loopback"}}
	}
	applyResources(c, s)
	if s.Masked {
		c.MaskPaths = maskedPaths
		c.ReadonlyPaths = readonlyPaths
	}
	if s.Seccomp && !s.Privileged {
		sc, err := seccompFor(s, caps)
		if err != nil {
			return nil, fmt.Errorf("container spec %q: %w", s.ID, err)
		}
		c.Seccomp = sc
	}
	if s.Privileged {
		if err := privileged(c); err != nil {
			return nil, fmt.Errorf("container spec %q: %w", s.ID, err)
		}
	}
	return c, nil
}

func namespaces(s *Spec) configs.Namespaces {
	ns := configs.Namespaces{{Type: configs.NEWNS}}
	add := func(t configs.NamespaceType, n NS) {
		if !n.Host {
			ns = append(ns, configs.Namespace{Type: t, Path: n.Path})
		}
	}
	add(configs.NEWNET, s.Namespaces.Net)
	add(configs.NEWIPC, s.Namespaces.IPC)
	add(configs.NEWUTS, s.Namespaces.UTS)
	add(configs.NEWPID, s.Namespaces.PID)
	if s.CgroupNS {
		ns = append(ns, configs.Namespace{Type: configs.NEWCGROUP})
	}
	return ns
}

func mounts(s *Spec) []*configs.Mount {
	m := []*configs.Mount{
		{Source: "proc", Destination: "/proc", Device: "proc", Flags: mntNoExecSuidDev},
		{Source: "tmpfs", Destination: "/dev", Device: "tmpfs", Flags: unix.MS_NOSUID | unix.MS_STRICTATIME, Data: "mode=755,size=65536k"},
	}
	if s.Minimal {
		return m
	}
	m = append(m,
		&configs.Mount{Source: "devpts", Destination: "/dev/pts", Device: "devpts", Flags: unix.MS_NOSUID | unix.MS_NOEXEC, Data: "newinstance,ptmxmode=0666,mode=0620,gid=5"},
	)
	if s.Shm != "" {
		m = append(m, &configs.Mount{Source: s.Shm, Destination: "/dev/shm", Device: "bind", Flags: unix.MS_BIND | unix.MS_REC})
	} else {
		m = append(m, &configs.Mount{Source: "shm", Destination: "/dev/shm", Device: "tmpfs", Flags: mntNoExecSuidDev, Data: "mode=1777,size=65536k"})
	}
	m = append(m,
		&configs.Mount{Source: "mqueue", Destination: "/dev/mqueue", Device: "mqueue", Flags: mntNoExecSuidDev},
		&configs.Mount{Source: "sysfs", Destination: "/sys", Device: "sysfs", Flags: mntNoExecSuidDev | unix.MS_RDONLY},
		&configs.Mount{Source: "cgroup", Destination: "/sys/fs/cgroup", Device: "cgroup", Flags: mntNoExecSuidDev | unix.MS_RDONLY},
	)
	for _, b := range s.Binds {
		fl := unix.MS_BIND | unix.MS_REC
		if b.ReadOnly {
			fl |= unix.MS_RDONLY
		}
		bm := &configs.Mount{Source: b.Source, Destination: b.Destination, Device: "bind", Flags: fl}
		if b.Propagation != 0 {
			bm.PropagationFlags = []int{b.Propagation}
		}
		m = append(m, bm)
	}
	return m
}

// nofile returns the RLIMIT_NOFILE to give a container: the wanted value (or
// the default), clamped to the caller's hard limit, which root without
// CAP_SYS_RESOURCE cannot raise.
func nofile(want uint64) configs.Rlimit {
	if want == 0 {
		want = defaultNofile
	}
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err == nil && rl.Max < want {
		want = rl.Max
	}
	return configs.Rlimit{Type: unix.RLIMIT_NOFILE, Hard: want, Soft: want}
}

// ErrNoSeccomp is returned when a profile is wanted but the binary was built
// without seccomp support.
var ErrNoSeccomp = errors.New("this binary was built without seccomp support (build with -tags seccomp and libseccomp-dev)")
