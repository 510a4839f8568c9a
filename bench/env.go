package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/podbox/podbox/internal/cni"
	"github.com/podbox/podbox/internal/testutil"
)

// errInterrupted stops the scenarios after Ctrl-C (or SIGTERM).
var errInterrupted = errors.New("interrupted")

// The bench's own names: its CNI network and bridge (never the host's
// default podbox network), its cgroup parent and its image.
const (
	benchNetwork      = "podbox-bench"
	benchBridge       = "pbbench"
	benchSubnet       = "10.202.0.0/24"
	benchCgroupParent = "/podbox-bench"
	benchImage        = "localhost/busybox:bench"
	// imagePath is the bench image's PATH (podman's kube play uses only
	// the image's environment).
	imagePath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
)

// bench is one run of the benchmark: its temporary directory, the podbox
// binary with the global flags that keep it there, the peers found, the
// results so far and what is to be undone at the end.
type bench struct {
	ctx    context.Context
	dir    string
	podbox string
	pbArgs []string
	root   string // podbox --root
	state  string // podbox --state
	rootfs string // the busybox rootfs every image is made from
	n      int
	warm   int
	pods   int // density

	podman *podman // nil when missing or unusable (see notes)

	retries  int // podman pod rm that needed more than one try
	rows     []Row
	memory   []MemoryRow
	notes    []string
	failed   []string
	cleanups []func()
}

// stopped reports whether the run was interrupted.
func (b *bench) stopped() bool { return b.ctx.Err() != nil }

// onClean adds f to what clean runs, in reverse order.
func (b *bench) onClean(f func()) { b.cleanups = append(b.cleanups, f) }

// clean undoes everything the bench made, newest first.
func (b *bench) clean() {
	for i := len(b.cleanups) - 1; i >= 0; i-- {
		b.cleanups[i]()
	}
	b.cleanups = nil
}

// note records something the reader of the results should know (a peer
// skipped, a scenario that failed) and says it at once.
func (b *bench) note(format string, args ...any) {
	msg := strings.Join(strings.Fields(fmt.Sprintf(format, args...)), " ")
	if len(msg) > 400 {
		msg = msg[:400] + " …"
	}
	b.notes = append(b.notes, msg)
	fmt.Fprintln(os.Stderr, "note:", msg)
}

// setup makes the temporary directory, the busybox rootfs, podbox's network
// and image, and the peers.
func (b *bench) setup(podbox, pause string, peers bool) error {
	dir, err := os.MkdirTemp("", "podbox-bench-")
	if err != nil {
		return fmt.Errorf("make the bench directory: %w", err)
	}
	b.dir = dir
	b.onClean(func() {
		if err := os.RemoveAll(dir); err != nil {
			fmt.Fprintf(os.Stderr, "remove %s: %v\n", dir, err)
		}
	})
	b.rootfs = filepath.Join(dir, "rootfs")
	if err := testutil.BusyboxRootfsDir(b.rootfs); err != nil {
		return err
	}
	netDir := filepath.Join(dir, "net.d")
	if err := os.MkdirAll(netDir, 0o755); err != nil {
		return fmt.Errorf("make %s: %w", netDir, err)
	}
	// podbox's default network as this host would get it (masquerading
	// at the network level; the firewall plugin where FORWARD drops), on
	// a bridge of its own.
	conf := cni.Bridge{Name: benchNetwork, Bridge: benchBridge, Subnet: benchSubnet, NetworkMasquerade: true,
		Firewall: cni.ForwardDrops(), DataDir: filepath.Join(dir, "ipam")}.ConfList()
	if err := os.WriteFile(filepath.Join(netDir, benchNetwork+".conflist"), conf, 0o644); err != nil {
		return fmt.Errorf("write the bench network: %w", err)
	}
	b.onClean(func() { removeLink(benchBridge) })
	b.onClean(func() {
		_, sn, _ := net.ParseCIDR(benchSubnet)
		if err := cni.RemoveMasquerade(benchNetwork, []*net.IPNet{sn}, ""); err != nil {
			fmt.Fprintf(os.Stderr, "bench: remove the masquerading of %s: %v\n", benchNetwork, err)
		}
	})
	b.onClean(func() { removeCgroups(benchCgroupParent) })
	b.podbox = podbox
	b.root, b.state = filepath.Join(dir, "root"), filepath.Join(dir, "state")
	b.pbArgs = []string{"--root", b.root, "--state", b.state, "--log-dir", filepath.Join(dir, "log"),
		"--pause", pause, "--cgroup-parent", benchCgroupParent, "--cni-conf-dir", netDir, "--network", benchNetwork,
		"--registries-conf", filepath.Join(dir, "registries.conf"), "--signature-policy", filepath.Join(dir, "policy.json")}
	if err := writeRegistryConfig(dir); err != nil {
		return err
	}
	// Pods first, then unmount whatever is left under the directory.
	b.onClean(b.cleanPodbox)
	if _, err := b.pb("image", "import", b.rootfs, benchImage, "-c", "ENV "+imagePath); err != nil {
		return err
	}
	if peers {
		b.podman = b.setupPodman()
	} else {
		b.note("peers not measured (-peers=false)")
	}
	return nil
}

// pb runs podbox with the bench's global flags.
func (b *bench) pb(args ...string) (string, error) {
	return runCmd(b.ctx, nil, b.podbox, append(append([]string{}, b.pbArgs...), args...)...)
}

// cleanPodbox deletes every pod the bench made and unmounts what is left
// under its directory.
func (b *bench) cleanPodbox() {
	if _, err := b.pb("delete", "--all", "-A", "--grace-period", "0"); err != nil && !strings.Contains(err.Error(), "No resources") {
		fmt.Fprintf(os.Stderr, "delete the bench's pods: %v\n", err)
	}
	unmountUnder(b.dir)
}

// writeRegistryConfig writes an empty registries.conf and a policy that
// accepts any image: podbox and podman pull only from the bench's registry
// on 127.0.0.1.
func writeRegistryConfig(dir string) error {
	if err := os.WriteFile(filepath.Join(dir, "registries.conf"), []byte("unqualified-search-registries = []\n"), 0o644); err != nil {
		return fmt.Errorf("write registries.conf: %w", err)
	}
	policy := `{"default":[{"type":"insecureAcceptAnything"}]}` + "\n"
	if err := os.WriteFile(filepath.Join(dir, "policy.json"), []byte(policy), 0o644); err != nil {
		return fmt.Errorf("write policy.json: %w", err)
	}
	return nil
}

// removeLink deletes a network interface if it exists.
func removeLink(name string) {
	if _, err := os.Stat(filepath.Join("/sys/class/net", name)); err != nil {
		return
	}
	if out, err := exec.Command("ip", "link", "del", name).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "remove link %s: %v: %s\n", name, err, out)
	}
}

// removeCgroups removes the cgroup path (relative to each hierarchy) and
// everything below it that is empty, in every mounted hierarchy.
func removeCgroups(path string) {
	dirs, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", path))
	if fi, err := os.Stat(filepath.Join("/sys/fs/cgroup", path)); err == nil && fi.IsDir() {
		dirs = append(dirs, filepath.Join("/sys/fs/cgroup", path)) // cgroup v2
	}
	for _, d := range dirs {
		var all []string
		_ = filepath.WalkDir(d, func(p string, e os.DirEntry, err error) error {
			if err == nil && e.IsDir() {
				all = append(all, p)
			}
			return nil
		})
		for i := len(all) - 1; i >= 0; i-- {
			_ = os.Remove(all[i])
		}
	}
}

// unmountUnder lazily unmounts every mount point below dir, deepest first.
func unmountUnder(dir string) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return
	}
	var points []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && strings.HasPrefix(f[4], dir+"/") {
			points = append(points, f[4])
		}
	}
	for i := len(points) - 1; i >= 0; i-- {
		_ = exec.Command("umount", "-l", points[i]).Run()
	}
}
