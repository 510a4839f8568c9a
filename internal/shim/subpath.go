package shim

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"golang.org/x/sys/unix"
)

// maxSymlinks bounds the symlinks followed while resolving a subPath (the kernel's
// limit).
const maxSymlinks = 40

// errEscape marks a subPath that leads out of its volume.
var errEscape = errors.New("leads out of the volume")

// PrepareSubPath makes target (a new file or directory) a bind mount of subPath sub of
// the volume whose root is root, the way the kubelet prepares subPath mounts
// (CVE-2017-1002101, CVE-2021-25741): sub is resolved on the host, following symlinks,
// and refused if it is, or passes through, a symlink that leads out of the volume; a
// missing sub is made a directory (with the root's mode). The resolved path is then
// opened inside the root with openat2 (RESOLVE_IN_ROOT, filepath-securejoin) and the
// mount is made from that open file (/proc/thread-self/fd/N), so a symlink swapped in
// after the check cannot redirect it: the mount is of what was checked, or it fails.
func PrepareSubPath(root, sub, target string) error {
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return fmt.Errorf("resolve volume root: %w", err)
	}
	want, err := resolveInVolume(realRoot, sub)
	if err != nil {
		return err
	}
	rootFile, err := os.OpenFile(realRoot, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open volume root: %w", err)
	}
	defer rootFile.Close()
	rel, err := filepath.Rel(realRoot, want)
	if err != nil {
		return fmt.Errorf("subPath %q: %w", sub, err)
	}
	f, err := pathrs.OpenatInRoot(rootFile, rel)
	if errors.Is(err, fs.ErrNotExist) {
		var st os.FileInfo
		if st, err = rootFile.Stat(); err == nil {
			f, err = pathrs.MkdirAllHandle(rootFile, rel, st.Mode().Perm())
		}
	}
	if err != nil {
		return fmt.Errorf("open subPath %q in the volume: %w", sub, err)
	}
	defer f.Close()
	fdPath := "/proc/thread-self/fd/" + strconv.Itoa(int(f.Fd()))
	got, err := os.Readlink(fdPath)
	if err != nil {
		return fmt.Errorf("subPath %q: %w", sub, err)
	}
	if got != want {
		return fmt.Errorf("subPath %q: the path changed while it was opened (%s, not %s)", sub, got, want)
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return fmt.Errorf("subPath %q: %w", sub, err)
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
		return fmt.Errorf("create subPath mount point: %w", err)
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		err = os.Mkdir(target, 0o700)
	} else {
		var mp *os.File
		if mp, err = os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_RDONLY, 0o600); err == nil {
			err = mp.Close()
		}
	}
	if err != nil {
		return fmt.Errorf("create subPath mount point: %w", err)
	}
	if err := unix.Mount(fdPath, target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		_ = os.Remove(target)
		return fmt.Errorf("bind subPath %q: %w", sub, err)
	}
	return nil
}

// resolveInVolume resolves sub below root (a real path) as the kernel would, following
// symlinks, and returns the real path it names; a part that does not exist ends the
// resolution (the rest is appended). Where it ends up must be inside root.
func resolveInVolume(root, sub string) (string, error) {
	cur := root
	parts := strings.Split(sub, "/")
	links := 0
	for len(parts) > 0 {
		p := parts[0]
		parts = parts[1:]
		switch p {
		case "", ".":
			continue
		case "..":
			cur = filepath.Dir(cur)
			continue
		}
		next := filepath.Join(cur, p)
		fi, err := os.Lstat(next)
		if errors.Is(err, fs.ErrNotExist) {
			cur = filepath.Join(append([]string{next}, parts...)...)
			break
		}
		if err != nil {
			return "", fmt.Errorf("subPath %q: %w", sub, err)
		}
		if fi.Mode()&os.ModeSymlink == 0 {
			cur = next
			continue
		}
		if links++; links > maxSymlinks {
			return "", fmt.Errorf("subPath %q: too many levels of symbolic links", sub)
		}
		dest, err := os.Readlink(next)
		if err != nil {
			return "", fmt.Errorf("subPath %q: %w", sub, err)
		}
		if filepath.IsAbs(dest) {
			cur = "/"
		}
		parts = append(strings.Split(dest, "/"), parts...)
	}
	cur = filepath.Clean(cur)
	if cur != root && !strings.HasPrefix(cur, root+"/") {
		return "", fmt.Errorf("subPath %q %w (it resolves to %s, outside %s)", sub, errEscape, cur, root)
	}
	return cur, nil
}
