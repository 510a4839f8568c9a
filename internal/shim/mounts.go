package shim

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/podbox/podbox/internal/kube"
	"github.com/podbox/podbox/internal/runtime"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
)

// containerMounts are the bind mounts of a container's volumeMounts, with the
// propagation its root needs. subPath mounts are prepared on the host first (see
// prepareSubPath). env is the container's environment, for subPathExpr.
func (s *shim) containerMounts(inst *instance, c *corev1.Container, env []string) ([]runtime.Bind, int, string, error) {
	var binds []runtime.Bind
	rootProp := 0
	vars := map[string]string{}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vars[k] = v
		}
	}
	for i, m := range c.VolumeMounts {
		root, err := s.volumeRoot(m.Name)
		if err != nil {
			return nil, 0, reasonContainerCreating, err
		}
		var src *corev1.VolumeSource
		for j := range s.pod.Spec.Volumes {
			if s.pod.Spec.Volumes[j].Name == m.Name {
				src = &s.pod.Spec.Volumes[j].VolumeSource
			}
		}
		b := runtime.Bind{Source: root, Destination: m.MountPath, ReadOnly: m.ReadOnly || readOnlyVolume(src)}
		sub := m.SubPath
		if m.SubPathExpr != "" {
			sub = kube.Expand(m.SubPathExpr, vars)
			if filepath.IsAbs(sub) || slices.Contains(strings.Split(sub, "/"), "..") {
				return nil, 0, "CreateContainerConfigError", fmt.Errorf("failed to prepare subPath for volumeMount %q of container %q: subPathExpr %q expands to %q, which is not a relative path inside the volume", m.Name, c.Name, m.SubPathExpr, sub)
			}
		}
		if sub != "" {
			target := filepath.Join(s.subPathDir(inst), strconv.Itoa(i))
			if err := PrepareSubPath(root, sub, target); err != nil {
				return nil, 0, "CreateContainerConfigError", fmt.Errorf("failed to prepare subPath for volumeMount %q of container %q: %w", m.Name, c.Name, err)
			}
			b.Source = target
		}
		switch p := m.MountPropagation; {
		case p == nil || *p == corev1.MountPropagationNone:
			b.Propagation = unix.MS_PRIVATE | unix.MS_REC
		case *p == corev1.MountPropagationHostToContainer:
			b.Propagation = unix.MS_SLAVE | unix.MS_REC
		case *p == corev1.MountPropagationBidirectional:
			real, err := filepath.EvalSymlinks(b.Source)
			if err == nil {
				err = sharedMount(real)
			}
			if err != nil {
				return nil, 0, "CreateContainerError", err
			}
			b.Propagation = unix.MS_SHARED | unix.MS_REC
			rootProp = unix.MS_SHARED | unix.MS_REC
		}
		binds = append(binds, b)
	}
	return binds, rootProp, "", nil
}

// mountOrder sorts binds so that a mount comes after those on its parents, as
// containerd does (by the number of path elements).
func mountOrder(binds []runtime.Bind) []runtime.Bind {
	depth := func(p string) int { return len(strings.Split(filepath.Clean(p), "/")) }
	slices.SortStableFunc(binds, func(a, b runtime.Bind) int { return depth(a.Destination) - depth(b.Destination) })
	return binds
}

// subPathDir holds the mount points of an instance's subPath mounts.
func (s *shim) subPathDir(inst *instance) string {
	return filepath.Join(s.roots.VolumesDir(string(s.pod.UID)), "subpaths", inst.id)
}

// releaseVolumes unmounts an instance's subPath mounts and removes its exec
// environment file.
func (s *shim) releaseVolumes(inst *instance) {
	dir := s.subPathDir(inst)
	if err := unmountAll(dir); err != nil {
		s.log.Warn("unmount subPath mounts", "container", inst.id, "err", err)
	} else if err := removeMountPoints(dir); err != nil {
		s.log.Warn("remove subPath mount points", "container", inst.id, "err", err)
	}
	if inst.exec.envFile != "" {
		_ = os.Remove(inst.exec.envFile)
	}
}

// removeMountPoints removes dir and the mount points in it, never recursively: a mount
// point still mounted (a directory that is not empty) makes it fail rather than
// delete what a volume holds.
func removeMountPoints(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", dir, err)
	}
	var errs []error
	for _, e := range entries {
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
			errs = append(errs, err)
		}
	}
	if err := os.Remove(dir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// sharedMount checks that path is on a shared mount (its mount has a "shared:N" peer
// group in mountinfo), which Bidirectional propagation needs, with containerd's text.
func sharedMount(path string) error {
	f, err := os.Open("/proc/thread-self/mountinfo")
	if err != nil {
		return fmt.Errorf("read mounts: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return fmt.Errorf("read mounts: %w", err)
	}
	mp, shared := mountOf(string(data), path)
	if !shared {
		return fmt.Errorf("path %q is mounted on %q but it is not a shared mount", path, mp)
	}
	return nil
}

// mountOf finds the mount point holding path in mountinfo (the last, longest match)
// and whether that mount is shared.
func mountOf(mountinfo, path string) (string, bool) {
	best, shared := "", false
	for _, line := range strings.Split(mountinfo, "\n") {
		fields := strings.Fields(line)
		if len(fields) < 7 {
			continue
		}
		mp := unescapeMount(fields[4])
		if mp != "/" && path != mp && !strings.HasPrefix(path, mp+"/") {
			continue
		}
		if len(mp) < len(best) {
			continue
		}
		best, shared = mp, false
		for _, opt := range fields[6:] {
			if opt == "-" {
				break
			}
			if strings.HasPrefix(opt, "shared:") {
				shared = true
			}
		}
	}
	return best, shared
}
