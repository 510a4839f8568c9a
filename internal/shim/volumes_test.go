package shim

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/podbox/podbox/internal/kube"
	"github.com/podbox/podbox/internal/testutil"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// volumeTree makes a volume with symlinks in and out of it, next to a
// directory outside it.
func volumeTree(t *testing.T) (root, outside string) {
	t.Helper()
	base := t.TempDir()
	root, outside = filepath.Join(base, "vol"), filepath.Join(base, "outside")
	for _, d := range []string{root + "/a/b", outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"in":       "a/b",                  // inside
		"a/up":     "..",                   // the root itself
		"abs-out":  outside,                // absolute, out
		"rel-out":  "../outside",           // relative, out
		"deep-out": "a/b/../../../outside", // out through ..
		"loop":     "loop",
		"chain":    "in/../../../outside", // in, then out
		"a/b/file": "/etc/passwd",
	}
	for l, target := range links {
		if err := os.Symlink(target, filepath.Join(root, l)); err != nil {
			t.Fatal(err)
		}
	}
	return root, outside
}

func TestResolveInVolume(t *testing.T) {
	root, _ := volumeTree(t)
	ok := map[string]string{
		"a":           root + "/a",
		"in":          root + "/a/b",
		"in/new/dir":  root + "/a/b/new/dir",
		"a/up":        root,
		"a/up/in":     root + "/a/b",
		"missing/x/y": root + "/missing/x/y",
	}
	for sub, want := range ok {
		got, err := resolveInVolume(root, sub)
		if err != nil || got != want {
			t.Errorf("resolveInVolume(%q) = %q, %v; want %q", sub, got, err, want)
		}
	}
	for _, sub := range []string{"abs-out", "abs-out/x", "rel-out", "deep-out", "chain", "in/file", "a/up/abs-out/new"} {
		if got, err := resolveInVolume(root, sub); !errors.Is(err, errEscape) {
			t.Errorf("resolveInVolume(%q) = %q, %v; want an escape", sub, got, err)
		}
	}
	if _, err := resolveInVolume(root, "loop"); err == nil || !strings.Contains(err.Error(), "too many levels") {
		t.Errorf("a symlink loop: %v", err)
	}
}

func TestPrepareSubPath(t *testing.T) {
	testutil.RequireRoot(t)
	root, outside := volumeTree(t)
	if err := os.WriteFile(filepath.Join(root, "a/b/data"), []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	targets := t.TempDir()
	n := 0
	prepare := func(sub string) (string, error) {
		n++
		target := filepath.Join(targets, "sp", strings.Repeat("x", n))
		return target, PrepareSubPath(root, sub, target)
	}
	defer func() {
		if err := unmountAll(targets); err != nil {
			t.Error(err)
		}
	}()
	// A file through a symlink inside the volume.
	target, err := prepare("in/data")
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(target); err != nil || string(b) != "data" {
		t.Errorf("subPath file: %q, %v", b, err)
	}
	// A missing directory is made, inside.
	target, err = prepare("in/new/dir")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(target, "f"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "a/b/new/dir/f")); err != nil {
		t.Errorf("the subPath directory is not the volume's: %v", err)
	}
	// Escapes: refused, nothing made outside, no mount point left.
	for _, sub := range []string{"abs-out", "abs-out/new", "rel-out/new", "deep-out", "chain/new"} {
		target, err := prepare(sub)
		if !errors.Is(err, errEscape) {
			t.Errorf("PrepareSubPath(%q): %v, want an escape", sub, err)
		}
		if _, err := os.Lstat(target); err == nil {
			t.Errorf("PrepareSubPath(%q) left %s", sub, target)
		}
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("made outside the volume: %v", entries)
	}
	if err := removeMountPoints(filepath.Join(targets, "sp")); err == nil {
		t.Error("removeMountPoints removed mounted mount points")
	}
}

func TestCheckHostPath(t *testing.T) {
	testutil.RequireRoot(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", filepath.Join(dir, "sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	blk := filepath.Join(dir, "blk")
	if err := unix.Mknod(blk, unix.S_IFBLK|0o600, int(unix.Mkdev(7, 201))); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "sock")
	tests := []struct {
		path string
		typ  corev1.HostPathType
		want string // "" = no error; else the error suffix
	}{
		{dir, corev1.HostPathDirectory, ""},
		{file, corev1.HostPathDirectory, "is not a directory"},
		{dir + "/none", corev1.HostPathDirectory, "is not a directory"},
		{file, corev1.HostPathFile, ""},
		{dir, corev1.HostPathFile, "is not a file"},
		{sock, corev1.HostPathFile, "is not a file"},
		{sock, corev1.HostPathSocket, ""},
		{file, corev1.HostPathSocket, "is not a socket file"},
		{"/dev/null", corev1.HostPathCharDev, ""},
		{blk, corev1.HostPathCharDev, "is not a character device"},
		{blk, corev1.HostPathBlockDev, ""},
		{"/dev/null", corev1.HostPathBlockDev, "is not a block device"},
		{file, corev1.HostPathDirectoryOrCreate, "is not a directory"},
		{dir, corev1.HostPathFileOrCreate, "is not a file"},
		{dir + "/made/dir", corev1.HostPathDirectoryOrCreate, ""},
		{dir + "/madefile", corev1.HostPathFileOrCreate, ""},
		{dir + "/unset", corev1.HostPathUnset, ""},
		{dir, "Weird", "Weird is an invalid volume type"},
	}
	for _, tc := range tests {
		err := CheckHostPath(tc.path, tc.typ)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s as %q: %v", tc.path, tc.typ, err)
		case tc.want != "" && (err == nil || !strings.HasSuffix(err.Error(), tc.want)):
			t.Errorf("%s as %q: %v, want ...%s", tc.path, tc.typ, err, tc.want)
		case tc.want != "" && tc.typ != "Weird" && err.Error() != "hostPath type check failed: "+tc.path+" "+tc.want:
			t.Errorf("%s as %q: %q is not the kubelet's text", tc.path, tc.typ, err)
		}
	}
	// What the ...OrCreate types (and "") made, with the kubelet's modes.
	assertOwner(t, dir+"/made/dir", 0, 0, os.ModeDir|0o755)
	assertOwner(t, dir+"/madefile", 0, 0, 0o644)
	assertOwner(t, dir+"/unset", 0, 0, os.ModeDir|0o755)
}

func TestVolumeOwnership(t *testing.T) {
	testutil.RequireRoot(t)
	base := t.TempDir()
	gid := int64(4242)
	// emptyDir: group-owned, setgid, writable by all.
	root := filepath.Join(base, "empty")
	if err := setupEmptyDir(root, &corev1.EmptyDirVolumeSource{}, &gid); err != nil {
		t.Fatal(err)
	}
	assertOwner(t, root, 0, 4242, os.ModeDir|os.ModeSetgid|0o777)
	// Memory emptyDir: a tmpfs of its sizeLimit.
	mem := filepath.Join(base, "mem")
	limit := resource.MustParse("4Mi")
	if err := setupEmptyDir(mem, &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory, SizeLimit: &limit}, nil); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = unmountAll(mem) }()
	var st unix.Statfs_t
	if err := unix.Statfs(mem, &st); err != nil || st.Type != unix.TMPFS_MAGIC || st.Blocks*uint64(st.Bsize) != 4<<20 {
		t.Errorf("memory emptyDir: type %x, %d bytes, %v", st.Type, st.Blocks*uint64(st.Bsize), err)
	}
	// Files of a configMap/secret volume: group-readable, dirs setgid.
	vol := filepath.Join(base, "vol")
	if err := writeVolume(vol, []kube.File{{Path: "d/key", Data: []byte("v"), Mode: 0o400}}, &gid); err != nil {
		t.Fatal(err)
	}
	assertOwner(t, filepath.Join(vol, "d/key"), 0, 4242, 0o440)
	assertOwner(t, filepath.Join(vol, "d"), 0, 4242, os.ModeDir|os.ModeSetgid|0o755)
	// Without fsGroup, modes are as asked.
	vol2 := filepath.Join(base, "vol2")
	if err := writeVolume(vol2, []kube.File{{Path: "key", Data: []byte("v"), Mode: 0o400}}, nil); err != nil {
		t.Fatal(err)
	}
	assertOwner(t, filepath.Join(vol2, "key"), 0, 0, 0o400)
	assertOwner(t, vol2, 0, 0, os.ModeDir|0o755)
	// A volume written already is kept as it is (a shim taking over).
	if err := writeVolume(vol2, []kube.File{{Path: "other", Data: []byte("v"), Mode: 0o400}}, nil); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(base); len(entries) != 4 {
		t.Errorf("volumes and temporary directories: %v", entries)
	}
	if _, err := os.Stat(filepath.Join(vol2, "other")); err == nil {
		t.Error("writeVolume rewrote a volume")
	}
	// A memory emptyDir mounted already is not mounted again.
	if err := setupEmptyDir(mem, &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory}, nil); err != nil {
		t.Fatal(err)
	}
	if mounts, _ := MountsUnder(mem); len(mounts) != 1 {
		t.Errorf("memory emptyDir set up twice: %v", mounts)
	}
}

func assertOwner(t *testing.T, path string, uid, gid uint32, mode os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if st.Uid != uid || st.Gid != gid || fi.Mode() != mode {
		t.Errorf("%s: %d:%d %v, want %d:%d %v", path, st.Uid, st.Gid, fi.Mode(), uid, gid, mode)
	}
}

func TestMountOf(t *testing.T) {
	mi := `22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
30 22 0:25 / /srv rw,relatime - tmpfs tmpfs rw
31 30 0:26 / /srv/shared\040dir rw master:3 shared:7 - tmpfs tmpfs rw
32 22 0:27 / /srvx rw - tmpfs tmpfs rw
`
	for path, want := range map[string]struct {
		mp     string
		shared bool
	}{
		"/var/lib/x":        {"/", true},
		"/srv":              {"/srv", false},
		"/srv/a/b":          {"/srv", false},
		"/srv/shared dir/x": {"/srv/shared dir", true},
		"/srvx/y":           {"/srvx", false},
		"/srv/shared dirty": {"/srv", false},
	} {
		mp, shared := mountOf(mi, path)
		if mp != want.mp || shared != want.shared {
			t.Errorf("mountOf(%q) = %q, %v; want %q, %v", path, mp, shared, want.mp, want.shared)
		}
	}
}
