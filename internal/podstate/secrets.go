package podstate

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
)

// SecretsDir is a pod's tmpfs for everything made of its Secrets: the Secrets it was
// given (secrets.json), its secret volumes, and the environment of containers that has
// values from Secrets. Nothing there ever reaches a disk; it is unmounted with the pod.
func (r Roots) SecretsDir(uid string) string { return filepath.Join(r.DataDir(uid), "secrets") }

// VolumesDir holds a pod's volumes that are on disk (emptyDir, configMap, downwardAPI)
// and the mount points of its subPath mounts.
func (r Roots) VolumesDir(uid string) string { return filepath.Join(r.DataDir(uid), "volumes") }

const secretsFile = "secrets.json"

// MountSecrets mounts the pod's secret tmpfs (root only: mode 0700), unless it is
// mounted already.
func MountSecrets(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create secret tmpfs directory: %w", err)
	}
	var st, parent unix.Stat_t
	if unix.Stat(dir, &st) == nil && unix.Stat(filepath.Dir(dir), &parent) == nil && st.Dev != parent.Dev {
		return nil // mounted already
	}
	if err := unix.Mount("podbox-secrets", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=0700"); err != nil {
		return fmt.Errorf("mount secret tmpfs on %s: %w", dir, err)
	}
	return nil
}

// WriteSecrets mounts the pod's secret tmpfs at dir and writes secrets there.
func WriteSecrets(dir string, secrets []corev1.Secret) error {
	if err := MountSecrets(dir); err != nil {
		return err
	}
	data, err := json.Marshal(secrets)
	if err != nil {
		return fmt.Errorf("encode secrets: %w", err)
	}
	return WriteFileAtomic(filepath.Join(dir, secretsFile), data, 0o600)
}

// ReadSecrets reads the Secrets written by WriteSecrets; none if there are none.
func ReadSecrets(dir string) ([]corev1.Secret, error) {
	data, err := os.ReadFile(filepath.Join(dir, secretsFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the pod's secrets: %w", err)
	}
	var out []corev1.Secret
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("parse the pod's secrets: %w", err)
	}
	return out, nil
}
