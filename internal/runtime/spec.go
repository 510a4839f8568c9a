package runtime

import "github.com/podbox/podbox/cgroups"

// Spec is everything podbox decides about one container, independent of
// libcontainer's types. NewConfig turns it into a libcontainer config.
type Spec struct {
	// ID is the libcontainer ID: [A-Za-z0-9_+.-], unique in its state root.
	ID string
	// Rootfs is the absolute path of the container's root file system (an
	// overlay mount, or pause's own read-only directory).
	Rootfs         string
	ReadonlyRootfs bool
	// CgroupPath is the absolute cgroup path of the container's leaf.
	CgroupPath string
	Namespaces Namespaces
	// Minimal mounts only /proc and a /dev tmpfs (the pause container);
	// otherwise the usual set (devpts, shm, mqueue, sysfs, cgroup) is added.
	Minimal bool
	// Shm is bind-mounted on /dev/shm: the pod's shared tmpfs, or the host's
	// /dev/shm for hostIPC. Empty: a private tmpfs.
	Shm string
	// Binds are extra bind mounts (the pod's /etc/hosts, /etc/hostname,
	// /etc/resolv.conf, volumes).
	Binds []Bind
	// Capabilities in CAP_* form; nil means the default set. They are always
	// intersected with the host's bounding set.
	Capabilities    []string
	NoNewPrivileges bool
	// Seccomp applies the default profile when the binary supports seccomp.
	Seccomp bool
	// ImageArch is the image's architecture (GOARCH names), which decides
	// the ABIs the seccomp filter covers.
	ImageArch string
	// Masked hides the usual sensitive /proc and /sys paths and makes the
	// usual /proc paths read-only.
	Masked bool
	// NofileLimit is the RLIMIT_NOFILE for the container; 0 means the
	// default (clamped to the caller's hard limit).
	NofileLimit uint64
	// CgroupNS gives the container its own cgroup namespace.
	CgroupNS bool
	// Privileged is containerd's privileged mode: every capability of the
	// bounding set, every host device, /sys and /sys/fs/cgroup read-write,
	// and neither masked paths nor seccomp, whatever Masked and Seccomp say.
	Privileged bool
	// SeccompProfile is a seccomp profile (OCI or Docker JSON) to apply
	// instead of the default one when Seccomp is set.
	SeccompProfile []byte
	// RootPropagation is the propagation of the container's root mount
	// (unix.MS_SHARED|unix.MS_REC for a Bidirectional volume); 0 is
	// libcontainer's default, rslave.
	RootPropagation int
	// Resources are the container's cgroup limits (nil: none) and
	// OOMScoreAdj its oom_score_adj (nil: inherited).
	Resources   *cgroups.Limits
	OOMScoreAdj *int
}

// Namespaces says, per namespace, whether the container joins a pinned one,
// shares the host's, or gets a new one.
type Namespaces struct {
	Net, IPC, UTS, PID NS
}

// NS is one namespace choice: Host shares the host's (the caller's), Path
// joins a pinned namespace, and neither creates a new one.
type NS struct {
	Host bool
	Path string
}

// Bind is a bind mount into the container.
type Bind struct {
	Source, Destination string
	ReadOnly            bool
	// Propagation is the mount's propagation (unix.MS_SLAVE|unix.MS_REC,
	// unix.MS_SHARED|unix.MS_REC); 0 leaves it private.
	Propagation int
}

// Process is what runs in a container: its init or an exec'd process.
type Process struct {
	Args []string
	Env  []string
	Cwd  string
	UID  uint32
	GID  uint32
	// AdditionalGIDs are supplementary groups.
	AdditionalGIDs []uint32
}

// DefaultCapabilities is the capability set containers get by default: the
// set Docker, containerd and CRI-O grant.
var DefaultCapabilities = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

// maskedPaths and readonlyPaths are containerd's defaults.
var (
	maskedPaths = []string{
		"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
		"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
		"/sys/firmware", "/sys/devices/virtual/powercap",
	}
	readonlyPaths = []string{
		"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
	}
)
