package shim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/podbox/podbox/internal/kube"
	"github.com/podbox/podbox/internal/podstate"
	"github.com/podbox/podbox/internal/runtime"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
)

// podVolumes are a pod's volumes as set up on the host, each once, when the first
// container that mounts it is created; and what the pod's volumes and environment
// refer to. Safe for concurrent use.
type podVolumes struct {
	mu    sync.Mutex
	roots map[string]string // volume name → its root on the host, once set up
	objs  *kube.Objects
	// The pod's network addresses, once the network of the sandbox whose
	// readiness channel is netOf is attached.
	netOf  chan struct{}
	netIPs []string
}

// setNetIPs records the addresses of the network whose readiness channel is ready
// (before it is closed).
func (s *shim) setNetIPs(ready chan struct{}, ips []string) {
	s.vols.mu.Lock()
	defer s.vols.mu.Unlock()
	s.vols.netOf, s.vols.netIPs = ready, ips
}

func (s *shim) netIPsOf(ready chan struct{}) []string {
	s.vols.mu.Lock()
	defer s.vols.mu.Unlock()
	if s.vols.netOf != ready {
		return nil
	}
	return s.vols.netIPs
}

// objects are the ConfigMaps (from the pod's record) and Secrets (from its secret
// tmpfs) the pod was given.
func (s *shim) objects() (*kube.Objects, error) {
	s.vols.mu.Lock()
	defer s.vols.mu.Unlock()
	if s.vols.objs != nil {
		return s.vols.objs, nil
	}
	secrets, err := podstate.ReadSecrets(s.roots.SecretsDir(string(s.pod.UID)))
	if err != nil {
		return nil, err
	}
	s.vols.objs = kube.NewObjects(s.pod.Namespace, s.rec.ConfigMaps, secrets)
	return s.vols.objs, nil
}

// podFacts are the downward API's values that are not in the spec. With ips, the pod's
// addresses are waited for (the network is attached meanwhile).
func (s *shim) podFacts(ready chan struct{}, ips bool) (kube.PodFacts, error) {
	f := kube.PodFacts{CPUs: int64(goruntime.NumCPU())}
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) == nil {
		f.Memory = int64(si.Totalram) * int64(si.Unit)
	}
	if s.hostIP != "" {
		f.HostIPs = []string{s.hostIP}
	}
	if !ips {
		return f, nil
	}
	if s.pod.Spec.HostNetwork || !usesCNI(s.rec) {
		if s.pod.Spec.HostNetwork {
			f.PodIPs = f.HostIPs
		}
		return f, nil
	}
	if err := s.waitNetwork(ready); err != nil {
		return f, err
	}
	f.PodIPs = s.netIPsOf(ready)
	return f, nil
}

// needsPodIP reports whether a container's env refers to the pod's addresses.
func needsPodIP(c *corev1.Container) bool {
	for _, e := range c.Env {
		if vf := e.ValueFrom; vf != nil && vf.FieldRef != nil && strings.HasPrefix(vf.FieldRef.FieldPath, "status.podIP") {
			return true
		}
	}
	return false
}

// containerEnv is the environment of a container's process (see kube.EnvWithRefs)
// with what envFrom and valueFrom refer to looked up; secret reports values from
// Secrets. A reference that cannot be resolved is a CreateContainerConfigError.
func (s *shim) containerEnv(c *corev1.Container, imageEnv []string, ready chan struct{}) (env []string, secret bool, err error) {
	var refs *kube.EnvRefs
	if len(c.EnvFrom) > 0 || slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool { return e.ValueFrom != nil }) {
		objs, err := s.objects()
		if err != nil {
			return nil, false, err
		}
		facts, err := s.podFacts(ready, needsPodIP(c))
		if err != nil {
			return nil, false, err
		}
		if refs, err = kube.ResolveEnv(s.pod, c, objs, facts); err != nil {
			return nil, false, err
		}
		if len(refs.Skipped) > 0 {
			s.event(corev1.EventTypeWarning, "InvalidEnvironmentVariableNames", "",
				"Keys ["+strings.Join(refs.Skipped, ", ")+"] from the EnvFrom were skipped since they are invalid environment variable names.")
		}
	}
	return kube.EnvWithRefs(c, imageEnv, []string{"HOSTNAME=" + s.hostname}, refs), refs != nil && refs.Secret, nil
}

// writeExecEnv keeps the environment of an instance whose env has values from Secrets
// on the pod's secret tmpfs, for exec (status.json only names the file).
func (s *shim) writeExecEnv(inst *instance) error {
	dir := filepath.Join(s.roots.SecretsDir(string(s.pod.UID)), "env")
	if err := podstate.MountSecrets(s.roots.SecretsDir(string(s.pod.UID))); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create exec environment directory: %w", err)
	}
	data, err := json.Marshal(inst.exec.env)
	if err != nil {
		return fmt.Errorf("encode exec environment: %w", err)
	}
	path := filepath.Join(dir, inst.id+".json")
	if err := podstate.WriteFileAtomic(path, data, 0o600); err != nil {
		return err
	}
	inst.exec.envFile = path
	return nil
}

// ReadEnvFile reads an environment written for exec (see podstate.ExecDefaults).
func ReadEnvFile(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the container's environment: %w", err)
	}
	var env []string
	if err := json.Unmarshal(data, &env); err != nil {
		return nil, fmt.Errorf("parse the container's environment %s: %w", path, err)
	}
	return env, nil
}

// volumeRoot sets up volume name if it is not yet and returns its root on the host.
func (s *shim) volumeRoot(name string) (string, error) {
	var vol *corev1.Volume
	for i := range s.pod.Spec.Volumes {
		if s.pod.Spec.Volumes[i].Name == name {
			vol = &s.pod.Spec.Volumes[i]
		}
	}
	if vol == nil {
		return "", fmt.Errorf("volume %q not found in the pod", name)
	}
	objs, err := s.objects()
	if err != nil {
		return "", err
	}
	s.vols.mu.Lock()
	defer s.vols.mu.Unlock()
	if root, ok := s.vols.roots[name]; ok {
		return root, nil
	}
	uid := string(s.pod.UID)
	var fsGroup *int64
	if sc := s.pod.Spec.SecurityContext; sc != nil {
		fsGroup = sc.FSGroup
	}
	src := &vol.VolumeSource
	var root string
	switch {
	case src.HostPath != nil:
		t := corev1.HostPathUnset
		if src.HostPath.Type != nil {
			t = *src.HostPath.Type
		}
		root = src.HostPath.Path
		err = CheckHostPath(root, t)
	case src.EmptyDir != nil:
		root = filepath.Join(s.roots.VolumesDir(uid), "empty-dir", name)
		err = setupEmptyDir(root, src.EmptyDir, fsGroup)
	case src.ConfigMap != nil:
		root = filepath.Join(s.roots.VolumesDir(uid), "configmap", name)
		var files []kube.File
		if files, err = kube.ConfigMapFiles(src.ConfigMap, objs); err == nil {
			err = writeVolume(root, files, fsGroup)
		}
	case src.Secret != nil:
		root = filepath.Join(s.roots.SecretsDir(uid), "volumes", name)
		var files []kube.File
		if files, err = kube.SecretFiles(src.Secret, objs); err == nil {
			if err = podstate.MountSecrets(s.roots.SecretsDir(uid)); err == nil {
				err = writeVolume(root, files, fsGroup)
			}
		}
	case src.DownwardAPI != nil:
		root = filepath.Join(s.roots.VolumesDir(uid), "downward-api", name)
		var facts kube.PodFacts
		var files []kube.File
		if facts, err = s.podFacts(nil, false); err == nil {
			if files, err = kube.DownwardAPIFiles(s.pod, src.DownwardAPI, facts); err == nil {
				err = writeVolume(root, files, fsGroup)
			}
		}
	default:
		err = errors.New("volume type not supported by podbox")
	}
	if err != nil {
		return "", fmt.Errorf("MountVolume.SetUp failed for volume %q : %w", name, err)
	}
	if s.vols.roots == nil {
		s.vols.roots = map[string]string{}
	}
	s.vols.roots[name] = root
	return root, nil
}

// reasonContainerCreating is the waiting reason of a container whose volume could not
// be set up (the kubelet's pod stays ContainerCreating, with FailedMount events).
const reasonContainerCreating = "ContainerCreating"

// readOnlyVolume: configMap, secret and downwardAPI volumes are always mounted
// read-only, as by the kubelet.
func readOnlyVolume(src *corev1.VolumeSource) bool {
	return src.ConfigMap != nil || src.Secret != nil || src.DownwardAPI != nil
}

// setupEmptyDir makes an emptyDir volume: a directory (mode 0777), or a tmpfs of
// sizeLimit for medium Memory; with fsGroup owned by that group, setgid.
func setupEmptyDir(root string, src *corev1.EmptyDirVolumeSource, fsGroup *int64) error {
	if err := os.MkdirAll(root, 0o777); err != nil {
		return fmt.Errorf("create emptyDir: %w", err)
	}
	if src.Medium == corev1.StorageMediumMemory && !isMountPoint(root) {
		// (A shim that took over from one that died finds it mounted.)
		opts := "mode=0777"
		if src.SizeLimit != nil && src.SizeLimit.Sign() > 0 {
			opts += ",size=" + strconv.FormatInt(src.SizeLimit.Value(), 10)
		}
		if err := unix.Mount("podbox-emptydir", root, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, opts); err != nil {
			return fmt.Errorf("mount emptyDir tmpfs on %s: %w", root, err)
		}
	}
	mode := os.FileMode(0o777)
	if fsGroup != nil {
		if err := os.Lchown(root, -1, int(*fsGroup)); err != nil {
			return fmt.Errorf("set emptyDir group: %w", err)
		}
		mode |= os.ModeSetgid
	}
	if err := os.Chmod(root, mode); err != nil {
		return fmt.Errorf("set emptyDir mode: %w", err)
	}
	return nil
}

// isMountPoint reports whether path is mounted on (its device differs from its
// parent's).
func isMountPoint(path string) bool {
	var st, parent unix.Stat_t
	return unix.Stat(path, &st) == nil && unix.Stat(filepath.Dir(path), &parent) == nil && st.Dev != parent.Dev
}

// writeVolume writes the files of a configMap, secret or downwardAPI volume into root,
// whole or not at all: they are written into a new directory renamed to root. A root
// that exists is kept (the objects of a pod do not change; a shim that took over from
// one that died finds it, maybe mounted in containers). With fsGroup, files and
// directories belong to that group and the group may read them (directories setgid),
// as the kubelet's volume ownership does.
func writeVolume(root string, files []kube.File, fsGroup *int64) error {
	if _, err := os.Lstat(root); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(root), 0o755); err != nil {
		return fmt.Errorf("create volume directory: %w", err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(root), "."+filepath.Base(root)+".new-")
	if err != nil {
		return fmt.Errorf("create volume directory: %w", err)
	}
	if err := fillVolume(tmp, files, fsGroup); err != nil {
		_ = os.RemoveAll(tmp)
		return err
	}
	if err := os.Rename(tmp, root); err != nil {
		_ = os.RemoveAll(tmp)
		return fmt.Errorf("create volume directory: %w", err)
	}
	return nil
}

func fillVolume(root string, files []kube.File, fsGroup *int64) error {
	if err := os.Chmod(root, 0o755); err != nil {
		return fmt.Errorf("create volume directory: %w", err)
	}
	dirs := []string{root}
	for _, f := range files {
		// Paths are validated (relative, no ".."), and the directory is new.
		p := filepath.Join(root, f.Path)
		if !strings.HasPrefix(p, root+"/") {
			return fmt.Errorf("volume file path %q leaves the volume", f.Path)
		}
		for d := filepath.Dir(p); d != root && !slices.Contains(dirs, d); d = filepath.Dir(d) {
			dirs = append(dirs, d)
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("create volume directory: %w", err)
		}
		mode := f.Mode & 0o777
		w, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0o600)
		if err != nil {
			return fmt.Errorf("write volume file %s: %w", f.Path, err)
		}
		_, err = w.Write(f.Data)
		if fsGroup != nil && err == nil {
			err = w.Chown(-1, int(*fsGroup))
			mode |= 0o040
		}
		if err == nil {
			err = w.Chmod(mode)
		}
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("write volume file %s: %w", f.Path, err)
		}
	}
	if fsGroup != nil {
		for _, d := range dirs {
			if err := os.Lchown(d, -1, int(*fsGroup)); err != nil {
				return fmt.Errorf("set volume group: %w", err)
			}
			if err := os.Chmod(d, 0o755|os.ModeSetgid); err != nil {
				return fmt.Errorf("set volume mode: %w", err)
			}
		}
	}
	return nil
}

// CheckHostPath checks (and for the ...OrCreate types makes) a hostPath volume's path as
// the kubelet does, with its error text. Type "" checks nothing; a path that does not
// exist is then made a directory, as containerd does.
func CheckHostPath(path string, t corev1.HostPathType) error {
	fi, err := os.Stat(path)
	exists := err == nil
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("hostPath type check failed: %w", err)
	}
	mode := os.FileMode(0)
	if exists {
		mode = fi.Mode()
	}
	switch t {
	case corev1.HostPathUnset:
		if !exists {
			if err := os.MkdirAll(path, 0o755); err != nil {
				return fmt.Errorf("create hostPath %s: %w", path, err)
			}
		}
		return nil
	case corev1.HostPathDirectoryOrCreate:
		if !exists {
			if err := os.MkdirAll(path, 0o755); err != nil {
				return fmt.Errorf("hostPath type check failed: %w", err)
			}
			return nil
		}
		fallthrough
	case corev1.HostPathDirectory:
		if !exists || !mode.IsDir() {
			return fmt.Errorf("hostPath type check failed: %s is not a directory", path)
		}
	case corev1.HostPathFileOrCreate:
		if !exists {
			f, err := os.OpenFile(path, os.O_CREATE|os.O_RDONLY, 0o644)
			if err != nil {
				return fmt.Errorf("hostPath type check failed: %w", err)
			}
			return f.Close()
		}
		fallthrough
	case corev1.HostPathFile:
		if !exists || !mode.IsRegular() {
			return fmt.Errorf("hostPath type check failed: %s is not a file", path)
		}
	case corev1.HostPathSocket:
		if !exists || mode&os.ModeSocket == 0 {
			return fmt.Errorf("hostPath type check failed: %s is not a socket file", path)
		}
	case corev1.HostPathCharDev:
		if !exists || mode&os.ModeCharDevice == 0 {
			return fmt.Errorf("hostPath type check failed: %s is not a character device", path)
		}
	case corev1.HostPathBlockDev:
		if !exists || mode&os.ModeDevice == 0 || mode&os.ModeCharDevice != 0 {
			return fmt.Errorf("hostPath type check failed: %s is not a block device", path)
		}
	default:
		return fmt.Errorf("%s is an invalid volume type", t)
	}
	return nil
}

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
