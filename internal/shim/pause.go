package shim

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/podbox/podbox/internal/runtime"
	"golang.org/x/sys/unix"
)

// pauseID is pause's libcontainer ID. Container IDs always contain a dot
// (<name>.<restart>), so no container can take it.
const pauseID = "pause"

// pauseUID is the user pause runs as.
const pauseUID = 65535

// PauseRootfs returns a minimal read-only rootfs holding only the pause
// binary (as /pause) and the mount points libcontainer needs, made once per
// pause binary under root/pause. It is safe against concurrent callers.
func PauseRootfs(root, pauseBin string) (string, error) {
	st, err := os.Stat(pauseBin)
	if err != nil {
		return "", fmt.Errorf("pause binary: %w", err)
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("pause binary %s is not a regular file", pauseBin)
	}
	key := strconv.FormatInt(st.Size(), 10) + "-" + strconv.FormatInt(st.ModTime().UnixNano(), 10)
	dir := filepath.Join(root, "pause", key)
	if _, err := os.Stat(filepath.Join(dir, "pause")); err == nil {
		return dir, nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o711); err != nil {
		return "", fmt.Errorf("make pause rootfs: %w", err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".tmp-")
	if err != nil {
		return "", fmt.Errorf("make pause rootfs: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", fmt.Errorf("make pause rootfs: %w", err)
	}
	for _, d := range []string{"proc", "dev", "sys", "etc"} {
		if err := os.Mkdir(filepath.Join(tmp, d), 0o755); err != nil {
			return "", fmt.Errorf("make pause rootfs: %w", err)
		}
	}
	if err := copyFile(pauseBin, filepath.Join(tmp, "pause"), 0o555); err != nil {
		return "", fmt.Errorf("make pause rootfs: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil && !errors.Is(err, os.ErrExist) && !isNotEmpty(err) {
		return "", fmt.Errorf("make pause rootfs: %w", err)
	}
	return dir, nil
}

// isNotEmpty reports a rename onto a directory another process made first.
func isNotEmpty(err error) bool { return errors.Is(err, unix.ENOTEMPTY) }

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// pauseSpec is the libcontainer spec of a pod's pause container: its own
// read-only rootfs, no capabilities, no new privileges, uid 65535, the pod's
// net/ipc/uts namespaces, and a new PID namespace unless the pod uses the
// host's.
func pauseSpec(rootfs, cgroupPath string, ns runtime.Namespaces) *runtime.Spec {
	ns.PID = runtime.NS{Host: ns.PID.Host}
	return &runtime.Spec{
		ID:              pauseID,
		Rootfs:          rootfs,
		ReadonlyRootfs:  true,
		CgroupPath:      cgroupPath,
		Namespaces:      ns,
		Minimal:         true,
		Capabilities:    []string{},
		NoNewPrivileges: true,
		Seccomp:         true,
		Masked:          true,
		Resources:       pauseLimits,
	}
}

var pauseProcess = runtime.Process{
	Args: []string{"/pause"},
	Env:  []string{"PATH=/"},
	Cwd:  "/",
	UID:  pauseUID,
	GID:  pauseUID,
}
