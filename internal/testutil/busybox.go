package testutil

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// BusyboxBinary is Debian's statically linked busybox (package busybox-static).
const BusyboxBinary = "/bin/busybox"

const (
	busyboxPasswd = "root:x:0:0:root:/root:/bin/sh\n" +
		"nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n" +
		"app:x:1000:1000::/home/app:/bin/sh\n"
	busyboxGroup = "root:x:0:\n" +
		"nogroup:x:65534:\n" +
		"app:x:1000:\n"
)

// BusyboxRootfs builds a busybox root filesystem in a new t.TempDir() and
// returns its path (see BusyboxRootfsDir). It fails the test if busybox-static
// is not installed.
func BusyboxRootfs(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat(BusyboxBinary); err != nil {
		t.Fatalf("%s is missing (%v): install busybox-static (apt-get install busybox-static)", BusyboxBinary, err)
	}
	dir := t.TempDir()
	if err := BusyboxRootfsDir(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// BusyboxRootfsDir builds a busybox root filesystem in dir (created if
// missing): bin/busybox (a copy of /bin/busybox) and one symlink per applet
// in bin/ (sh, ls, ps, nc, httpd, ipcs, sleep, ...); etc/passwd with root,
// nobody and app (1000:1000, home /home/app); etc/group with root, nogroup and
// app; tmp (1777), root (0700), home/app (owned by 1000:1000 when run as
// root), and empty dev, proc and sys for the runtime's mounts.
func BusyboxRootfsDir(dir string) error {
	if err := buildBusybox(dir); err != nil {
		return fmt.Errorf("build busybox rootfs in %s: %w", dir, err)
	}
	return nil
}

func buildBusybox(dir string) error {
	applets, err := busyboxApplets()
	if err != nil {
		return err
	}
	for _, d := range []string{"bin", "etc", "dev", "proc", "sys", "tmp", "root", "home/app"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	if err := copyFile(BusyboxBinary, filepath.Join(dir, "bin", "busybox"), 0o755); err != nil {
		return err
	}
	for _, a := range applets {
		link := filepath.Join(dir, "bin", a)
		if err := os.Symlink("busybox", link); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
	}
	files := map[string]string{"etc/passwd": busyboxPasswd, "etc/group": busyboxGroup}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	if err := os.Chmod(filepath.Join(dir, "tmp"), os.ModeSticky|0o777); err != nil {
		return err
	}
	if err := os.Chmod(filepath.Join(dir, "root"), 0o700); err != nil {
		return err
	}
	if os.Geteuid() == 0 {
		if err := os.Lchown(filepath.Join(dir, "home", "app"), 1000, 1000); err != nil {
			return err
		}
	}
	return nil
}

// busyboxApplets lists the applets of /bin/busybox, busybox itself excluded.
func busyboxApplets() ([]string, error) {
	out, err := exec.Command(BusyboxBinary, "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --list (install busybox-static): %w", BusyboxBinary, err)
	}
	var applets []string
	for _, a := range strings.Fields(string(out)) {
		if a != "busybox" && !strings.Contains(a, "/") {
			applets = append(applets, a)
		}
	}
	if len(applets) == 0 {
		return nil, fmt.Errorf("%s --list printed no applets", BusyboxBinary)
	}
	return applets, nil
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Chmod(dst, mode)
}
