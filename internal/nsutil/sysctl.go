package nsutil

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Sysctl is a kernel parameter of the pod's network or IPC namespace, set
// once when the namespaces are made, before any container starts.
type Sysctl struct {
	// Name is the sysctl as the pod names it (for messages); File is its
	// path below /proc/sys (net/ipv4/ip_forward).
	Name, File, Value string
}

// setSysctls writes each sysctl through /proc/sys. The calling thread must
// be in the pod's namespaces: a network or IPC sysctl file reads and
// writes the namespace of the thread that opens it.
func setSysctls(sysctls []Sysctl) error {
	for _, s := range sysctls {
		if s.File == "" || filepath.IsAbs(s.File) || strings.Contains("/"+s.File+"/", "/../") {
			return fmt.Errorf("set sysctl %s: bad file %q", s.Name, s.File)
		}
		f, err := os.OpenFile(filepath.Join("/proc/sys", s.File), os.O_WRONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
		if err != nil {
			return fmt.Errorf("set sysctl %s=%q: %w", s.Name, s.Value, err)
		}
		_, err = f.WriteString(s.Value)
		f.Close()
		if err != nil {
			return fmt.Errorf("set sysctl %s=%q: %w", s.Name, s.Value, err)
		}
	}
	return nil
}

// mountSysfs mounts the calling thread's network namespace's sysfs
// read-write on dir (created).
func mountSysfs(dir string) error {
	if err := os.Mkdir(dir, 0o700); err != nil {
		return fmt.Errorf("mount the pod's sysfs: %w", err)
	}
	if err := unix.Mount("sysfs", dir, "sysfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount the pod's sysfs on %s: %w", dir, err)
	}
	return nil
}
