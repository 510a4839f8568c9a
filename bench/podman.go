package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// The peer's network: a bridge and a subnet of its own, never podman's
// default network.
const (
	podmanNetwork = "podbox-bench-pm"
	podmanBridge  = "pbbench1"
	podmanSubnet  = "10.203.0.0/24"
)

// podman is the peer: Debian's podman, isolated in its own storage root,
// run root, network configuration and containers.conf under the bench's
// directory.
type podman struct {
	args    []string // global flags
	env     []string // CONTAINERS_CONF and CONTAINERS_REGISTRIES_CONF
	runtime string
	backend string
	version string
}

// setupPodman prepares podman and imports the bench image into its store,
// or notes why podman is not measured and returns nil.
func (b *bench) setupPodman() *podman {
	if _, err := exec.LookPath("podman"); err != nil {
		b.note("podman is not installed: no peer measured (make bench-deps installs it)")
		return nil
	}
	p, err := b.newPodman()
	if err != nil {
		b.note("podman cannot be used here, no peer measured: %v", err)
		return nil
	}
	return p
}

func (b *bench) newPodman() (*podman, error) {
	dir := filepath.Join(b.dir, "podman")
	netDir := filepath.Join(dir, "networks")
	if err := os.MkdirAll(netDir, 0o755); err != nil {
		return nil, fmt.Errorf("make %s: %w", netDir, err)
	}
	p := &podman{args: []string{"--root", filepath.Join(dir, "root"), "--runroot", filepath.Join(dir, "run")}}
	// crun 1.8 refuses cgroup v1 hybrid hosts ("cgroups in hybrid mode not
	// supported"): there podman runs with runc.
	p.runtime = "crun"
	if cgroupVersion() != "v2" {
		p.runtime = "runc"
	}
	if _, err := exec.LookPath(p.runtime); err != nil {
		return nil, fmt.Errorf("%s is not installed (make bench-deps)", p.runtime)
	}
	p.backend = "netavark"
	if _, err := os.Stat("/usr/lib/podman/netavark"); err != nil {
		p.backend = "cni"
	}
	// Root here may lack CAP_SYS_RESOURCE: podman's default RLIMIT_NOFILE
	// and RLIMIT_NPROC cannot be set then, so containers get the caller's
	// limits, RLIMIT_NPROC no higher than pid_max (podman's conmon runs
	// with that as its hard limit, and runc cannot raise it).
	var nofile, nproc unix.Rlimit
	_ = unix.Getrlimit(unix.RLIMIT_NOFILE, &nofile)
	_ = unix.Getrlimit(unix.RLIMIT_NPROC, &nproc)
	var pidMax uint64
	if _, err := fmt.Sscan(readTrim("/proc/sys/kernel/pid_max"), &pidMax); err == nil && pidMax > 0 {
		nproc.Max = min(nproc.Max, pidMax)
	}
	conf := fmt.Sprintf(`[containers]
default_ulimits = ["nofile=%d:%d", "nproc=%d:%d"]
[network]
network_backend = %q
network_config_dir = %q
default_network = %q
[engine]
tmp_dir = %q
runtime = %q
cgroup_manager = "cgroupfs"
events_logger = "none"
`, nofile.Max, nofile.Max, nproc.Max, nproc.Max, p.backend, netDir, podmanNetwork, filepath.Join(dir, "tmp"), p.runtime)
	confPath := filepath.Join(dir, "containers.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		return nil, fmt.Errorf("write %s: %w", confPath, err)
	}
	p.env = []string{"CONTAINERS_CONF=" + confPath, "CONTAINERS_REGISTRIES_CONF=" + filepath.Join(b.dir, "registries.conf")}
	if err := writePodmanNetwork(netDir, p.backend); err != nil {
		return nil, err
	}
	b.onClean(iptablesMark())
	b.onClean(func() { b.cleanPodman(p) })
	out, err := b.pm(p, "version", "--format", "{{.Client.Version}}")
	if err != nil {
		return nil, err
	}
	p.version = strings.TrimSpace(out)
	tar := filepath.Join(b.dir, "rootfs.tar")
	if _, err := runCmd(b.ctx, nil, "tar", "-C", b.rootfs, "-cf", tar, "."); err != nil {
		return nil, fmt.Errorf("tar the busybox rootfs: %w", err)
	}
	if _, err := b.pm(p, "import", "-q", "--change", "ENV "+imagePath, tar, benchImage); err != nil {
		return nil, fmt.Errorf("import the busybox rootfs into podman: %w", err)
	}
	return p, nil
}

// writePodmanNetwork writes the peer's bridge network in the format of the
// network backend: no DNS server (podbox has none either).
func writePodmanNetwork(dir, backend string) error {
	var data []byte
	var file string
	if backend == "netavark" {
		data, _ = json.MarshalIndent(map[string]any{
			"name": podmanNetwork, "id": strings.Repeat("b", 64), "driver": "bridge",
			"network_interface": podmanBridge, "created": time.Now().UTC().Format(time.RFC3339Nano),
			"subnets":      []any{map[string]any{"subnet": podmanSubnet, "gateway": "10.203.0.1"}},
			"ipv6_enabled": false, "internal": false, "dns_enabled": false,
			"ipam_options": map[string]any{"driver": "host-local"},
		}, "", "  ")
		file = podmanNetwork + ".json"
	} else {
		data, _ = json.MarshalIndent(map[string]any{"cniVersion": "0.4.0", "name": podmanNetwork, "plugins": []any{
			map[string]any{"type": "bridge", "bridge": podmanBridge, "isGateway": true, "ipMasq": true, "hairpinMode": true,
				"ipam": map[string]any{"type": "host-local", "ranges": []any{[]any{map[string]any{"subnet": podmanSubnet, "gateway": "10.203.0.1"}}},
					"routes": []any{map[string]any{"dst": "0.0.0.0/0"}}}},
			map[string]any{"type": "portmap", "capabilities": map[string]any{"portMappings": true}},
			map[string]any{"type": "firewall"},
		}}, "", "  ")
		file = podmanNetwork + ".conflist"
	}
	if err := os.WriteFile(filepath.Join(dir, file), data, 0o644); err != nil {
		return fmt.Errorf("write podman's bench network: %w", err)
	}
	return nil
}

// pm runs podman with the peer's flags and configuration.
func (b *bench) pm(p *podman, args ...string) (string, error) {
	return runCmd(b.ctx, p.env, "podman", append(append([]string{}, p.args...), args...)...)
}

// cleanPodman removes every pod, container, image and network of the
// peer's store, and its bridge.
func (b *bench) cleanPodman(p *podman) {
	for _, args := range [][]string{{"pod", "rm", "-a", "-f", "-t", "0"}, {"rm", "-a", "-f", "-t", "0"}, {"system", "reset", "--force"}} {
		if _, err := b.pm(p, args...); err != nil {
			fmt.Fprintf(os.Stderr, "clean podman: %v\n", err)
		}
	}
	removeLink(podmanBridge)
	unmountUnder(filepath.Join(b.dir, "podman"))
}

// cgroupVersion is "v2" on a unified host, "v1 (hybrid)" when cgroup v2 is
// mounted beside v1 hierarchies, else "v1".
func cgroupVersion() string {
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return "v2"
	}
	if err := unix.Statfs("/sys/fs/cgroup/unified", &st); err == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return "v1 (hybrid)"
	}
	return "v1"
}
