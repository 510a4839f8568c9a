package image

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Tests in this file need neither root nor anything installed.

func TestLegacyOptions(t *testing.T) {
	got := legacyOptions([]string{"/l/top", "/l/a:b,c"}, `/u\p`, "/w")
	want := `lowerdir=/l/top:/l/a\:b\,c,upperdir=/u\\p,workdir=/w,redirect_dir=nofollow,metacopy=off,index=off`
	if got != want {
		t.Errorf("legacyOptions =\n%s\nwant\n%s", got, want)
	}
}

func TestOCIName(t *testing.T) {
	cases := []struct {
		ann  map[string]string
		want string
		err  bool
	}{
		{map[string]string{annotationContainerdName: "busybox:1.36", ocispec.AnnotationRefName: "1.36"}, "docker.io/library/busybox:1.36", false},
		{map[string]string{ocispec.AnnotationRefName: "quay.io/a/b:v1"}, "quay.io/a/b:v1", false},
		{map[string]string{ocispec.AnnotationRefName: "busybox:1.36"}, "docker.io/library/busybox:1.36", false},
		{map[string]string{ocispec.AnnotationRefName: "localhost/x"}, "localhost/x:latest", false},
		{map[string]string{ocispec.AnnotationRefName: "1.36"}, "", false},
		{map[string]string{ocispec.AnnotationRefName: "latest"}, "", false},
		{map[string]string{ocispec.AnnotationRefName: "Bad/Name:x"}, "", false},
		{nil, "", false},
		{map[string]string{annotationContainerdName: "Bad/Name"}, "", true},
	}
	for _, c := range cases {
		got, err := ociName(ocispec.Descriptor{Annotations: c.ann})
		if got != c.want || (err != nil) != c.err {
			t.Errorf("ociName(%v) = %q, %v; want %q (error %v)", c.ann, got, err, c.want, c.err)
		}
	}
}

func TestNameUnnamed(t *testing.T) {
	srcs := []source{{names: []string{"a"}}, {}}
	if err := nameUnnamed(srcs, ""); !errors.Is(err, ErrNoName) {
		t.Errorf("no fallback: %v, want ErrNoName", err)
	}
	if err := nameUnnamed(srcs, "localhost/x:1"); err != nil || srcs[1].names[0] != "localhost/x:1" {
		t.Errorf("fallback: %v, %v", err, srcs[1].names)
	}
	if err := nameUnnamed([]source{{}, {}}, "localhost/x:1"); !errors.Is(err, ErrNoName) {
		t.Errorf("two unnamed: %v, want ErrNoName", err)
	}
}

func TestSniffArchive(t *testing.T) {
	dir := t.TempDir()
	layout := reg("oci-layout", "{}")
	cases := map[string]struct {
		data []byte
		want archiveKind
	}{
		"docker":         {buildTar(t, reg("manifest.json", "[]")), archiveDocker},
		"docker gzip":    {gzipBytes(t, buildTar(t, reg("./manifest.json", "[]"))), archiveDocker},
		"oci":            {buildTar(t, layout, reg("index.json", "{}")), archiveOCI},
		"docker 25 both": {buildTar(t, layout, reg("index.json", "{}"), reg("manifest.json", "[]")), archiveDocker},
		"oci no layout":  {buildTar(t, reg("index.json", "{}")), 0},
		"rootfs":         {buildTar(t, reg("etc/passwd", "")), 0},
		"junk":           {[]byte("junk"), 0},
	}
	for name, c := range cases {
		got, err := sniffArchive(writeFile(t, filepath.Join(dir, "a.tar"), c.data))
		if got != c.want || (err != nil) != (c.want == 0) {
			t.Errorf("%s: sniffArchive = %v, %v; want %v", name, got, err, c.want)
		}
	}
}

func TestUnmountRefusesForeignDir(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "precious"), []byte("x"))
	if err := Unmount(dir); err == nil {
		t.Fatal("Unmount removed a directory Mount did not make")
	}
	if _, err := os.Stat(filepath.Join(dir, "precious")); err != nil {
		t.Fatal(err)
	}
	if err := Unmount(filepath.Join(dir, "missing")); err != nil {
		t.Errorf("Unmount of a missing dir: %v", err)
	}
	empty := filepath.Join(dir, "ctr") // left by a Mount that died early
	if err := os.MkdirAll(filepath.Join(empty, "upper"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := Unmount(empty); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"precious"}, dirNames(t, dir)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
