package shim

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/podbox/podbox/internal/kube"
	"github.com/podbox/podbox/internal/podstate"
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
