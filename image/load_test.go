package image

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"
)

// whiteoutLayers are two layers: the second deletes a/x with a whiteout and
// makes o/ opaque.
func whiteoutLayers(t testing.TB) (bottom, top []byte) {
	bottom = buildTar(t,
		dir("a/"), reg("a/x", "x"), reg("a/y", "y"),
		dir("o/"), reg("o/old", "old"), dir("o/sub/"), reg("o/sub/deep", "deep"),
		reg("keep", "keep"),
	)
	top = buildTar(t,
		dir("a/"), reg("a/.wh.x", ""),
		dir("o/"), reg("o/.wh..wh..opq", ""), reg("o/new", "new"),
		reg("added", "added"),
	)
	return bottom, top
}

func TestLoadDockerArchiveWhiteouts(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	s := newStore(t)
	bottom, top := whiteoutLayers(t)
	archive := writeDockerArchive(t, filepath.Join(t.TempDir(), "save.tar"), dockerImage{
		tags:   []string{"localhost/two:1", "two:2"},
		layers: [][]byte{bottom, top},
		cmd:    []string{"/bin/sh"},
	})
	imgs, err := s.Load(ctx, archive, LoadOptions{Name: "localhost/unused:x"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, img := range imgs {
		names = append(names, img.Name)
		if img.ID != imgs[0].ID || img.Digest != imgs[0].Digest {
			t.Errorf("%s: ID %s digest %s differ from the other tag", img.Name, img.ID, img.Digest)
		}
	}
	want := []string{"localhost/two:1", "docker.io/library/two:2"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Fatalf("loaded names (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"/bin/sh"}, imgs[0].Config.Config.Cmd); diff != "" {
		t.Errorf("Cmd (-want +got):\n%s", diff)
	}
	list, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Name != "docker.io/library/two:2" || list[1].Name != "localhost/two:1" {
		t.Errorf("List = %v", list)
	}

	img, err := s.Get(ctx, "localhost/two:1")
	if err != nil {
		t.Fatal(err)
	}
	if len(img.Layers) != 2 {
		t.Fatalf("Layers = %v", img.Layers)
	}
	// The top layer holds the whiteouts in overlay form.
	checkWhiteoutForm(t, img.Layers[1])
	_, rootfs := mountT(t, s, img)
	checkWhiteoutsApplied(t, rootfs)
}

func checkWhiteoutForm(t *testing.T, layer string) {
	t.Helper()
	fi, err := os.Lstat(filepath.Join(layer, "a/x"))
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 || fi.Sys().(*syscall.Stat_t).Rdev != 0 {
		t.Errorf("a/x in the top layer is not a 0/0 whiteout: %v, %v", fi, err)
	}
	buf := make([]byte, 8)
	n, err := unix.Lgetxattr(filepath.Join(layer, "o"), "trusted.overlay.opaque", buf)
	if err != nil || string(buf[:n]) != "y" {
		t.Errorf("o/ in the top layer is not opaque: %q, %v", buf[:n], err)
	}
}

func checkWhiteoutsApplied(t *testing.T, rootfs string) {
	t.Helper()
	mustNotExist(t, filepath.Join(rootfs, "a/x"))
	mustNotExist(t, filepath.Join(rootfs, "o/old"))
	mustNotExist(t, filepath.Join(rootfs, "o/sub"))
	for name, body := range map[string]string{"a/y": "y", "o/new": "new", "keep": "keep", "added": "added"} {
		if got := readFile(t, filepath.Join(rootfs, name)); got != body {
			t.Errorf("%s = %q, want %q", name, got, body)
		}
	}
	if diff := cmp.Diff([]string{"new"}, dirNames(t, filepath.Join(rootfs, "o"))); diff != "" {
		t.Errorf("o/ (-want +got):\n%s", diff)
	}
}

func TestLoadOCIArchive(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	s := newStore(t)
	bottom, top := whiteoutLayers(t)
	other := buildTar(t, reg("other", "other"))
	path := writeOCIArchive(t, filepath.Join(t.TempDir(), "oci.tar"),
		ociImage{
			annotations: map[string]string{annotationContainerdName: "docker.io/library/ocitest:1", ocispec.AnnotationRefName: "1"},
			layers:      [][]byte{bottom, top},
		},
		ociImage{annotations: map[string]string{ocispec.AnnotationRefName: "quay.io/org/full:v2"}, layers: [][]byte{other}},
		ociImage{annotations: map[string]string{ocispec.AnnotationRefName: "latest"}, layers: [][]byte{other}, cmd: []string{"x"}},
	)
	if _, err := s.Load(ctx, path, LoadOptions{}); !errors.Is(err, ErrNoName) {
		t.Fatalf("Load of an archive with a bare tag: %v, want ErrNoName", err)
	}
	imgs, err := s.Load(ctx, path, LoadOptions{Name: "localhost/named:v1"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, img := range imgs {
		names = append(names, img.Name)
	}
	want := []string{"docker.io/library/ocitest:1", "quay.io/org/full:v2", "localhost/named:v1"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Fatalf("loaded names (-want +got):\n%s", diff)
	}
	img, err := s.Get(ctx, "ocitest:1")
	if err != nil {
		t.Fatal(err)
	}
	st := readManifest(t, s, img)
	if st.manifest.Layers[0].MediaType != ocispec.MediaTypeImageLayerGzip {
		t.Errorf("layer media type %s, want gzip kept", st.manifest.Layers[0].MediaType)
	}
	_, rootfs := mountT(t, s, img)
	checkWhiteoutsApplied(t, rootfs)
	if _, _, tmp, _ := storeFiles(t, s); tmp != 0 {
		t.Errorf("%d work directories left", tmp)
	}
}

func TestLoadWithoutName(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	s := newStore(t)
	layer := buildTar(t, reg("f", "f"))
	path := writeDockerArchive(t, filepath.Join(t.TempDir(), "save.tar"), dockerImage{layers: [][]byte{layer}})
	_, err := s.Load(ctx, path, LoadOptions{})
	if !errors.Is(err, ErrNoName) || !strings.Contains(err.Error(), "LoadOptions.Name") || !strings.Contains(err.Error(), path) {
		t.Fatalf("Load without a name: %v; want ErrNoName naming the file and LoadOptions.Name", err)
	}
	if blobs, layers, tmp, _ := storeFiles(t, s); blobs+layers+tmp != 0 {
		t.Errorf("failed load left %d blobs, %d layers, %d work dirs", blobs, layers, tmp)
	}
	imgs, err := s.Load(ctx, path, LoadOptions{Name: "localhost/given"})
	if err != nil {
		t.Fatal(err)
	}
	if len(imgs) != 1 || imgs[0].Name != "localhost/given:latest" {
		t.Fatalf("Load with a name: %v", imgs)
	}
	// Two unnamed images cannot share one name.
	two := writeDockerArchive(t, filepath.Join(t.TempDir(), "two.tar"),
		dockerImage{layers: [][]byte{layer}}, dockerImage{layers: [][]byte{layer}, cmd: []string{"x"}})
	if _, err := s.Load(ctx, two, LoadOptions{Name: "localhost/given"}); !errors.Is(err, ErrNoName) {
		t.Errorf("Load of two unnamed images with one name: %v, want ErrNoName", err)
	}
}

func TestLoadNotAnArchive(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	s := newStore(t)
	dir := t.TempDir()
	cases := map[string]string{
		"missing":  filepath.Join(dir, "missing.tar"),
		"empty":    writeFile(t, filepath.Join(dir, "empty.tar"), nil),
		"text":     writeFile(t, filepath.Join(dir, "text.tar"), []byte(strings.Repeat("not a tar\n", 100))),
		"rootfs":   writeFile(t, filepath.Join(dir, "rootfs.tar"), buildTar(t, reg("etc/hosts", ""))),
		"gz-junk":  writeFile(t, filepath.Join(dir, "junk.tar.gz"), gzipBytes(t, []byte("junk"))),
		"manifest": writeFile(t, filepath.Join(dir, "bad.tar"), buildTar(t, reg("manifest.json", "{not json"))),
		"no blobs": writeFile(t, filepath.Join(dir, "noblobs.tar"), buildTar(t,
			reg("oci-layout", `{"imageLayoutVersion":"1.0.0"}`),
			reg("index.json", `{"schemaVersion":2,"manifests":[{"mediaType":"`+ocispec.MediaTypeImageManifest+
				`","digest":"sha256:`+strings.Repeat("a", 64)+`","size":10,"annotations":{"`+annotationContainerdName+`":"x:1"}}]}`))),
	}
	for name, path := range cases {
		_, err := s.Load(ctx, path, LoadOptions{Name: "localhost/x"})
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: Load = %v, want an error naming %s", name, err, path)
		}
		t.Logf("%s: %v", name, err)
	}
	if blobs, layers, tmp, _ := storeFiles(t, s); blobs+layers+tmp != 0 {
		t.Errorf("failed loads left %d blobs, %d layers, %d work dirs", blobs, layers, tmp)
	}
}

func TestLoadCorruptLayer(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	s := newStore(t)
	layer := buildTar(t, reg("f", "content"))
	wrong := []digest.Digest{digest.SHA256.FromString("something else")}
	dir := t.TempDir()
	archives := map[string]string{
		"docker-archive": writeDockerArchive(t, filepath.Join(dir, "d.tar"),
			dockerImage{tags: []string{"localhost/bad:1"}, layers: [][]byte{layer}, diffIDs: wrong}),
		"oci-archive": writeOCIArchive(t, filepath.Join(dir, "o.tar"),
			ociImage{annotations: map[string]string{annotationContainerdName: "localhost/bad:1"}, layers: [][]byte{layer}, diffIDs: wrong}),
	}
	for name, path := range archives {
		_, err := s.Load(ctx, path, LoadOptions{})
		if err == nil {
			t.Errorf("%s: Load of a layer with a wrong DiffID succeeded", name)
			continue
		}
		t.Logf("%s: %v", name, err)
		if blobs, layers, tmp, _ := storeFiles(t, s); blobs+layers+tmp != 0 {
			t.Errorf("%s: refused load left %d blobs, %d layers, %d work dirs", name, blobs, layers, tmp)
		}
		mustNotExist(t, layerOf(s, wrong[0]))
		mustNotExist(t, layerOf(s, digest.SHA256.FromBytes(layer)))
	}
}
