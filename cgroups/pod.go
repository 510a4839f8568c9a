package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	ocg "github.com/opencontainers/cgroups"
	"github.com/opencontainers/cgroups/manager"
	"golang.org/x/sys/unix"
)

// DefaultParent is the cgroup under which podbox puts every pod.
const DefaultParent = "/podbox"

// Pod is the cgroup of one pod. Its zero value is not usable: get one from
// CreatePod.
type Pod struct {
	path string
	mgr  ocg.Manager
}

// PodPath returns the absolute cgroup path of the pod with the given UID.
func PodPath(parent, uid string) string {
	if parent == "" {
		parent = DefaultParent
	}
	return path.Join("/", parent, "pod"+uid)
}

// CreatePod creates the pod cgroup in every hierarchy (no process is moved
// into it). Device rules are left to the containers' own leaves: writing a
// deny-all rule at the pod level would make every child's rules fail on v1.
func CreatePod(parent, uid string) (*Pod, error) {
	p := PodPath(parent, uid)
	mgr, err := newManager(p)
	if err != nil {
		return nil, fmt.Errorf("create cgroup %s: %w", p, err)
	}
	for attempt := 0; ; attempt++ {
		err = mgr.Apply(-1)
		// ENOENT: another pod's teardown removed the empty parent between
		// our mkdirs; try again.
		if err == nil || !errors.Is(err, os.ErrNotExist) || attempt == 5 {
			break
		}
	}
	if err != nil {
		_ = mgr.Destroy()
		return nil, fmt.Errorf("create cgroup %s: %w", p, err)
	}
	return &Pod{path: p, mgr: mgr}, nil
}

func newManager(p string) (ocg.Manager, error) {
	return manager.New(&ocg.Cgroup{Path: p, Resources: &ocg.Resources{SkipDevices: true}})
}

// Path is the pod cgroup's absolute path (as libcontainer wants it).
func (p *Pod) Path() string { return p.path }

// ContainerPath is the absolute cgroup path of a container leaf in the pod.
func (p *Pod) ContainerPath(id string) string { return path.Join(p.path, id) }

// Destroy removes the pod cgroup and everything below it, killing any
// process still inside.
func (p *Pod) Destroy() error {
	return remove(p.path, p.mgr)
}

// RemovePod removes the cgroup of the pod with the given UID when no Pod
// value is at hand (a pod whose shim died). A cgroup that does not exist is
// not an error.
func RemovePod(parent, uid string) error {
	p := PodPath(parent, uid)
	mgr, err := newManager(p)
	if err != nil {
		return fmt.Errorf("remove cgroup %s: %w", p, err)
	}
	return remove(p, mgr)
}

func remove(p string, mgr ocg.Manager) error {
	// Kill whatever is left (a container whose parent died, a process that
	// escaped its leaf) so that rmdir can succeed. Retry: a process may be
	// forking while we kill.
	for i := 0; i < 50; i++ {
		pids := allPids(mgr)
		if len(pids) == 0 {
			break
		}
		for _, pid := range pids {
			_ = unix.Kill(pid, unix.SIGKILL)
		}
		time.Sleep(10 * time.Millisecond)
	}
	var parents []string
	for _, dir := range mgr.GetPaths() {
		parents = append(parents, filepath.Dir(dir))
	}
	if err := mgr.Destroy(); err != nil {
		return fmt.Errorf("remove cgroup %s: %w", p, err)
	}
	// The parent goes too once its last pod is gone (rmdir fails harmlessly
	// while other pods live; CreatePod retries if it loses that race).
	for _, dir := range parents {
		_ = unix.Rmdir(dir)
	}
	return nil
}

// Exists reports whether the pod cgroup with the given UID exists in any
// hierarchy.
func Exists(parent, uid string) bool {
	mgr, err := newManager(PodPath(parent, uid))
	if err != nil {
		return false
	}
	for _, dir := range mgr.GetPaths() {
		if _, err := os.Stat(dir); err == nil {
			return true
		}
	}
	return false
}

// Mode describes the host's cgroup setup: "v2", "v1 (hybrid)" or "v1".
func Mode() string {
	if ocg.IsCgroup2UnifiedMode() {
		return "v2"
	}
	if ocg.IsCgroup2HybridMode() {
		return "v1 (hybrid)"
	}
	return "v1"
}

// V2 reports whether the host uses the unified (v2) hierarchy only.
func V2() bool { return ocg.IsCgroup2UnifiedMode() }

// OOMKillCount returns how many processes the OOM killer has killed in the
// cgroup at the given absolute cgroup path (v1: memory.oom_control
// oom_kill, v2: memory.events oom_kill). A missing cgroup counts as 0.
func OOMKillCount(cgroupPath string) (uint64, error) {
	var file, dir string
	if ocg.IsCgroup2UnifiedMode() {
		dir, file = path.Join("/sys/fs/cgroup", cgroupPath), "memory.events"
	} else {
		dir, file = path.Join("/sys/fs/cgroup/memory", cgroupPath), "memory.oom_control"
	}
	data, err := os.ReadFile(path.Join(dir, file))
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read OOM kill count of %s: %w", cgroupPath, err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "oom_kill "); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("parse %s of %s: %w", file, cgroupPath, err)
			}
			return n, nil
		}
	}
	return 0, nil
}

// allPids lists the processes in the cgroup and below it in every
// hierarchy: on v1 the manager's own GetAllPids reads one hierarchy only,
// and a process can sit in the pod cgroup of some hierarchies only.
func allPids(mgr ocg.Manager) []int {
	seen := map[int]bool{}
	var out []int
	for _, dir := range mgr.GetPaths() {
		pids, err := ocg.GetAllPids(dir)
		if err != nil {
			continue
		}
		for _, p := range pids {
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out
}
