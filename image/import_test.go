package image

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/pkg/compression"

	"github.com/podbox/podbox/internal/testutil"
)

func TestImportDirGetMountUnmount(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	s := newStore(t)
	src := testutil.BusyboxRootfs(t)
	before := time.Now().Add(-time.Second)
	img, err := s.Import(ctx, src, "localhost/busybox:test", ImportOptions{
		Config: ocispec.ImageConfig{Cmd: []string{"sh"}, User: "app", Env: []string{"FOO=bar"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if img.Name != "localhost/busybox:test" || img.ID == "" || img.Digest == "" || img.Size < 1<<20 {
		t.Errorf("imported image = %+v", img)
	}
	if img.Created.Before(before) || img.Created.After(time.Now()) {
		t.Errorf("Created = %v, want now", img.Created)
	}
	wantEnv := []string{DefaultPath, "FOO=bar"}
	if diff := cmp.Diff(wantEnv, img.Config.Config.Env); diff != "" {
		t.Errorf("Env (-want +got):\n%s", diff)
	}
	if img.Config.OS != "linux" || img.Config.Architecture != runtime.GOARCH || img.Config.Config.User != "app" {
		t.Errorf("config = %+v", img.Config)
	}

	got, err := s.Get(ctx, "localhost/busybox:test")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(img, got, cmp.FilterPath(func(p cmp.Path) bool { return p.String() == "Layers" }, cmp.Ignore())); diff != "" {
		t.Errorf("Get differs from Import (-import +get):\n%s", diff)
	}
	if len(got.Layers) != 1 || !strings.HasPrefix(got.Layers[0], s.layersDir()+"/") {
		t.Fatalf("Layers = %v", got.Layers)
	}
	layer := got.Layers[0]

	dir, rootfs := mountT(t, s, got)
	if rootfs != filepath.Join(dir, "rootfs") || !mountedAt(t, rootfs) {
		t.Fatalf("rootfs %s not mounted", rootfs)
	}
	checkBusyboxRootfs(t, rootfs)

	// Writes land in upper only; the layer stays as it was.
	writeFile(t, filepath.Join(rootfs, "new.txt"), []byte("new"))
	appendFile(t, filepath.Join(rootfs, "etc/passwd"), "changed:x:5:5::/:/bin/sh\n")
	if readFile(t, filepath.Join(dir, "upper", "new.txt")) != "new" {
		t.Error("write did not land in upper")
	}
	mustNotExist(t, filepath.Join(layer, "new.txt"))
	if strings.Contains(readFile(t, filepath.Join(layer, "etc/passwd")), "changed") {
		t.Error("write to a lower file reached the layer")
	}
	out, err := exec.Command("chroot", rootfs, "/bin/sh", "-c", "echo hi >/tmp/x && id -u app && ls /bin/sleep").CombinedOutput()
	if err != nil || string(out) != "1000\n/bin/sleep\n" {
		t.Errorf("chroot sh: %q, %v", out, err)
	}
	if readFile(t, filepath.Join(dir, "upper", "tmp", "x")) != "hi\n" {
		t.Error("write from the chroot did not land in upper")
	}

	if err := Unmount(dir); err != nil {
		t.Fatal(err)
	}
	if mountedAt(t, rootfs) {
		t.Error("rootfs still mounted after Unmount")
	}
	mustNotExist(t, dir)
	if _, _, _, leases := storeFiles(t, s); leases != 0 {
		t.Errorf("%d leases left after Unmount", leases)
	}
	if err := Unmount(dir); err != nil {
		t.Errorf("second Unmount: %v", err)
	}
	if _, err := os.Stat(filepath.Join(layer, "bin", "busybox")); err != nil {
		t.Errorf("layer damaged by Unmount: %v", err)
	}
}

// checkBusyboxRootfs checks what testutil.BusyboxRootfs put into a rootfs.
func checkBusyboxRootfs(t *testing.T, rootfs string) {
	t.Helper()
	if !strings.Contains(readFile(t, filepath.Join(rootfs, "etc/passwd")), "app:x:1000:1000::/home/app:/bin/sh") {
		t.Error("etc/passwd lacks app")
	}
	if target, err := os.Readlink(filepath.Join(rootfs, "bin/sh")); err != nil || target != "busybox" {
		t.Errorf("bin/sh -> %q, %v", target, err)
	}
	fi, err := os.Stat(filepath.Join(rootfs, "tmp"))
	if err != nil || fi.Mode()&os.ModeSticky == 0 || fi.Mode().Perm() != 0o777 {
		t.Errorf("tmp mode %v, %v", fi.Mode(), err)
	}
	fi, err = os.Stat(filepath.Join(rootfs, "home/app"))
	if err != nil || fi.Sys().(*syscall.Stat_t).Uid != 1000 {
		t.Errorf("home/app not owned by 1000: %v", err)
	}
	fi, err = os.Stat(rootfs)
	if err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("rootfs / mode %v, %v", fi.Mode(), err)
	}
}

func TestImportTarball(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	s := newStore(t)
	layer := buildTar(t,
		dir("etc/"), reg("etc/hello", "hello\n"),
		tarEntry{name: "bin/tool", body: "#!/bin/sh\n", mode: 0o4755, uid: 1000, gid: 1000},
		symlink("bin/link", "tool"),
		tarEntry{name: "bin/hard", typ: tar.TypeLink, link: "bin/tool", mode: 0o4755, uid: 1000, gid: 1000},
		tarEntry{name: "dev/null", typ: tar.TypeChar, mode: 0o666, devMajor: 1, devMinor: 3},
	)
	zst := zstdBytes(t, layer)
	cases := []struct {
		name, mediaType string
		data            []byte
		stdin           bool
	}{
		{"plain", ocispec.MediaTypeImageLayer, layer, false},
		{"gzip", ocispec.MediaTypeImageLayerGzip, gzipBytes(t, layer), false},
		{"zstd", ocispec.MediaTypeImageLayerZstd, zst, false},
		{"stdin-gzip", ocispec.MediaTypeImageLayerGzip, gzipBytes(t, layer), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src, opts := writeFile(t, filepath.Join(t.TempDir(), "rootfs.tar"), c.data), ImportOptions{}
			if c.stdin {
				src, opts.Stdin = "-", bytes.NewReader(c.data)
			}
			name := "localhost/tarball:" + c.name
			img, err := s.Import(ctx, src, name, opts)
			if err != nil {
				t.Fatal(err)
			}
			st := readManifest(t, s, img)
			if st.manifest.Layers[0].MediaType != c.mediaType || st.manifest.Layers[0].Size != int64(len(c.data)) {
				t.Errorf("layer descriptor %+v, want %s of %d bytes", st.manifest.Layers[0], c.mediaType, len(c.data))
			}
			if st.config.RootFS.DiffIDs[0].String() != digestOf(layer) {
				t.Errorf("DiffID %s, want %s", st.config.RootFS.DiffIDs[0], digestOf(layer))
			}
			got, err := s.Get(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			_, rootfs := mountT(t, s, got)
			checkTarballRootfs(t, rootfs)
		})
	}
}

func checkTarballRootfs(t *testing.T, rootfs string) {
	t.Helper()
	if readFile(t, filepath.Join(rootfs, "etc/hello")) != "hello\n" {
		t.Error("etc/hello")
	}
	fi, err := os.Stat(filepath.Join(rootfs, "bin/tool"))
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if fi.Mode()&os.ModeSetuid == 0 || st.Uid != 1000 || st.Gid != 1000 || st.Nlink != 2 {
		t.Errorf("bin/tool: mode %v uid %d gid %d nlink %d", fi.Mode(), st.Uid, st.Gid, st.Nlink)
	}
	if l, err := os.Readlink(filepath.Join(rootfs, "bin/link")); err != nil || l != "tool" {
		t.Errorf("bin/link -> %q, %v", l, err)
	}
	fi, err = os.Stat(filepath.Join(rootfs, "dev/null"))
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 || fi.Sys().(*syscall.Stat_t).Rdev != 0x103 {
		t.Errorf("dev/null: %v, %v", fi, err)
	}
}

func TestImportErrors(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	s := newStore(t)
	notTar := writeFile(t, filepath.Join(t.TempDir(), "junk"), bytes.Repeat([]byte("junk"), 300))
	cases := map[string]struct {
		src, name string
		opts      ImportOptions
	}{
		"missing source":   {"/nonexistent/rootfs.tar", "localhost/x", ImportOptions{}},
		"not a tar":        {notTar, "localhost/x", ImportOptions{}},
		"bad name":         {notTar, "Bad/Name", ImportOptions{}},
		"empty name":       {notTar, "", ImportOptions{}},
		"digest name":      {notTar, "localhost/x@sha256:" + strings.Repeat("0", 64), ImportOptions{}},
		"stdin without io": {"-", "localhost/x", ImportOptions{}},
		"device":           {"/dev/null", "localhost/x", ImportOptions{}},
	}
	for name, c := range cases {
		if _, err := s.Import(ctx, c.src, c.name, c.opts); err == nil {
			t.Errorf("%s: Import succeeded", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
	if blobs, layers, tmp, _ := storeFiles(t, s); blobs+layers+tmp != 0 {
		t.Errorf("failed imports left %d blobs, %d layers, %d work dirs", blobs, layers, tmp)
	}
	if _, err := s.Get(ctx, "localhost/x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after failed imports: %v, want ErrNotFound", err)
	}
}

func TestImportReplacesName(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	s := newStore(t)
	first := writeFile(t, filepath.Join(t.TempDir(), "1.tar"), buildTar(t, reg("v", "1")))
	second := writeFile(t, filepath.Join(t.TempDir(), "2.tar"), buildTar(t, reg("v", "2")))
	old, err := s.Import(ctx, first, "localhost/app:v", ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	oldImg, err := s.Get(ctx, "localhost/app:v")
	if err != nil {
		t.Fatal(err)
	}
	dir, rootfs := mountT(t, s, oldImg)
	img, err := s.Import(ctx, second, "localhost/app:v", ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, "localhost/app:v"); err != nil {
		t.Fatal(err)
	} else if got.ID == old.ID || got.ID != img.ID {
		t.Errorf("Get after replacing import: %s, want %s", got.ID, img.ID)
	}
	// The old image lost its name but is mounted: it stays until Unmount.
	if readFile(t, filepath.Join(rootfs, "v")) != "1" {
		t.Error("mounted old image changed")
	}
	if _, err := os.Stat(oldImg.Layers[0]); err != nil {
		t.Errorf("layer of the mounted image collected: %v", err)
	}
	if err := Unmount(dir); err != nil {
		t.Fatal(err)
	}
	mustNotExist(t, oldImg.Layers[0])
	blobs, layers, _, _ := storeFiles(t, s)
	if blobs != 3 || layers != 1 {
		t.Errorf("after Unmount: %d blobs, %d layers; want 3 and 1", blobs, layers)
	}
}

func readManifest(t *testing.T, s *Store, img *Image) *stored {
	t.Helper()
	desc, err := s.manifestDesc(img.Digest)
	if err != nil {
		t.Fatal(err)
	}
	st, err := readStored(s.blobDir(), desc)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func digestOf(data []byte) string { return digest.SHA256.FromBytes(data).String() }

func zstdBytes(t testing.TB, data []byte) []byte {
	t.Helper()
	algo, err := compression.AlgorithmByName("zstd")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := compression.CompressStream(&buf, algo, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(w, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func appendFile(t testing.TB, path, data string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(data); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
