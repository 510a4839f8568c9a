package runtime

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/moby/profiles/seccomp"
	"github.com/moby/sys/capability"
	"github.com/opencontainers/cgroups/devices/config"
	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/specconv"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// CapabilityName turns a capability as a pod names it ("chown",
// "CAP_CHOWN", "Net_Admin") into its CAP_* form, and reports whether this
// system knows it.
func CapabilityName(s string) (string, bool) {
	name := "CAP_" + strings.TrimPrefix(strings.ToUpper(s), "CAP_")
	return name, KnownCapability(name)
}

// allCapabilities lists every capability this system knows, in CAP_* form,
// in the kernel's order.
func allCapabilities() []string {
	known := capability.ListKnown()
	out := make([]string, 0, len(known))
	for _, c := range known {
		out = append(out, capName(c))
	}
	return out
}

// Capabilities is a container's capability set given a security context's
// add and drop lists, with containerd's semantics: the default set, all
// known capabilities if add holds ALL, none if drop holds ALL, then each
// named capability added, then each named one dropped (so drop wins).
// Names may have the CAP_ prefix or not, in any case. The result still
// goes through the bounding set (NewConfig).
func Capabilities(add, drop []string) ([]string, error) {
	caps := slices.Clone(DefaultCapabilities)
	isAll := func(s string) bool { return strings.EqualFold(s, "ALL") }
	if slices.ContainsFunc(add, isAll) {
		caps = allCapabilities()
	}
	if slices.ContainsFunc(drop, isAll) {
		caps = []string{}
	}
	for _, a := range add {
		if isAll(a) {
			continue
		}
		name, ok := CapabilityName(a)
		if !ok {
			return nil, fmt.Errorf("unknown capability %q", a)
		}
		if !slices.Contains(caps, name) {
			caps = append(caps, name)
		}
	}
	for _, d := range drop {
		if isAll(d) {
			continue
		}
		name, ok := CapabilityName(d)
		if !ok {
			return nil, fmt.Errorf("unknown capability %q", d)
		}
		caps = slices.DeleteFunc(caps, func(c string) bool { return c == name })
	}
	return caps, nil
}

// seccompFor is the filter for a container: its own profile, or the
// default one. Without seccomp support the default profile is skipped (the
// binary says so in `podbox info`), but a profile of the pod's own is an
// error.
func seccompFor(s *Spec, caps []string) (*configs.Seccomp, error) {
	if len(s.SeccompProfile) == 0 {
		if !SeccompSupported() {
			return nil, nil
		}
		return defaultSeccomp(caps, SeccompArches(s.ImageArch))
	}
	if !SeccompSupported() {
		return nil, ErrNoSeccomp
	}
	return profileSeccomp(s.SeccompProfile, caps)
}

// profileSeccomp compiles a seccomp profile in the OCI (runtime-spec
// LinuxSeccomp) or Docker format (names, archMap, includes and excludes by
// capability and architecture) for a container with the given capabilities.
func profileSeccomp(data []byte, caps []string) (*configs.Seccomp, error) {
	rs := &specs.Spec{Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{
		Bounding: caps, Effective: caps, Permitted: caps,
	}}}
	prof, err := seccomp.LoadProfile(string(data), rs)
	if err != nil {
		return nil, fmt.Errorf("load seccomp profile: %w", err)
	}
	if prof == nil {
		// No default action and no syscalls: moby's reading is "no
		// filter"; a pod that names a profile wants one.
		return nil, errors.New("load seccomp profile: it has neither a defaultAction nor syscalls")
	}
	sc, err := specconv.SetupSeccomp(prof)
	if err != nil {
		return nil, fmt.Errorf("convert seccomp profile: %w", err)
	}
	return sc, nil
}

// CheckSeccompProfile reports whether data is a seccomp profile this
// binary can apply, so that a pod naming a broken one is refused before
// anything is made.
func CheckSeccompProfile(data []byte) error {
	if !SeccompSupported() {
		return ErrNoSeccomp
	}
	_, err := profileSeccomp(data, DefaultCapabilities)
	return err
}

// privileged turns c into containerd's privileged mode: every capability
// of the bounding set, every host device (the device cgroup allows all),
// /sys and /sys/fs/cgroup read-write, no masked or read-only paths, no
// seccomp filter.
func privileged(c *configs.Config) error {
	bnd, err := BoundingSet()
	if err != nil {
		return err
	}
	var caps []string
	for _, name := range allCapabilities() {
		if bnd[name] {
			caps = append(caps, name)
		}
	}
	c.Capabilities = &configs.Capabilities{Bounding: caps, Effective: caps, Permitted: caps}
	devs, err := hostDevices("/dev")
	if err != nil {
		return err
	}
	c.Devices = devs
	c.Cgroups.Devices = []*config.Rule{{
		Type: config.WildcardDevice, Major: config.Wildcard, Minor: config.Wildcard,
		Permissions: "rwm", Allow: true,
	}}
	for _, m := range c.Mounts {
		if m.Device == "sysfs" || m.Device == "cgroup" {
			m.Flags &^= unix.MS_RDONLY
		}
	}
	c.MaskPaths, c.ReadonlyPaths, c.Seccomp = nil, nil, nil
	return nil
}

// hostDevices lists the device nodes under dir (the host's /dev), for a
// privileged container, leaving out what the runtime mounts itself
// (devpts, shm, mqueue) and the console.
func hostDevices(dir string) ([]*config.Device, error) {
	skip := map[string]bool{"pts": true, "shm": true, "mqueue": true, "fd": true, ".lxc": true, ".lxd-mounts": true, ".udev": true}
	var out []*config.Device
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
				return nil // gone meanwhile, or not ours to read
			}
			return err
		}
		if d.IsDir() {
			if path != dir && skip[d.Name()] {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type()&(fs.ModeDevice|fs.ModeCharDevice) == 0 || d.Name() == "console" {
			return nil
		}
		var st unix.Stat_t
		if err := unix.Lstat(path, &st); err != nil {
			return nil // a node that vanished meanwhile is skipped
		}
		t := config.BlockDevice
		if st.Mode&unix.S_IFMT == unix.S_IFCHR {
			t = config.CharDevice
		}
		out = append(out, &config.Device{
			Rule: config.Rule{Type: t, Major: int64(unix.Major(st.Rdev)), Minor: int64(unix.Minor(st.Rdev)),
				Permissions: "rwm", Allow: true},
			Path: path, FileMode: os.FileMode(st.Mode & 0o777), Uid: st.Uid, Gid: st.Gid,
		})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list host devices in %s: %w", dir, err)
	}
	return out, nil
}
