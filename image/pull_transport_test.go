package image

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"go.podman.io/image/v5/copy"

	"github.com/podbox/podbox/internal/testutil"
)

// copyImage copies an image between two transport references, with
// containers/image, as a test fixture.
func copyImage(t *testing.T, from, to string) {
	t.Helper()
	src, err := parsePullRef(from)
	if err != nil {
		t.Fatal(err)
	}
	dst, err := parsePullRef(to)
	if err != nil {
		t.Fatal(err)
	}
	pc, err := acceptAnything()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = pc.Destroy() }()
	sys := (&Store{dir: t.TempDir()}).sysContext(t.TempDir())
	if _, err := copy.Image(context.Background(), pc, dst.ref, src.ref, &copy.Options{SourceCtx: sys, DestinationCtx: sys}); err != nil {
		t.Fatalf("copy %s to %s: %v", from, to, err)
	}
}

// TestPullTransports pulls from oci:, oci-archive:, docker-archive: and dir:,
// each named by the source where it carries a name and by PullOptions.Name
// where it does not.
func TestPullTransports(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	s := newStore(t)
	f := newPullFixture(t, nil)
	img := f.image(t, "t1")
	testutil.WriteOCILayout(t, f.layout, "v1", img)
	testutil.WriteOCILayout(t, f.layout, "localhost/named:v1", img)
	tmp := t.TempDir()
	ociArchive := filepath.Join(tmp, "oci.tar")
	copyImage(t, "oci:"+f.layout+":v1", "oci-archive:"+ociArchive+":localhost/ociarchive:v1")
	unnamedArchive := filepath.Join(tmp, "unnamed.tar")
	copyImage(t, "oci:"+f.layout+":v1", "oci-archive:"+unnamedArchive)
	dockerArchive := filepath.Join(tmp, "docker.tar")
	copyImage(t, "oci:"+f.layout+":v1", "docker-archive:"+dockerArchive+":localhost/dockerarchive:v1")
	dirSrc := filepath.Join(tmp, "dir")
	copyImage(t, "oci:"+f.layout+":v1", "dir:"+dirSrc)

	cases := []struct{ ref, name, want string }{
		{"oci:" + f.layout + ":v1", "localhost/from-oci:v1", "localhost/from-oci:v1"},
		{"oci:" + f.layout + ":localhost/named:v1", "", "localhost/named:v1"},
		{"oci:" + f.layout + ":localhost/named:v1", "localhost/ignored:v1", "localhost/named:v1"},
		{"oci-archive:" + ociArchive, "", "localhost/ociarchive:v1"},
		{"oci-archive:" + unnamedArchive, "localhost/from-oci-archive:v1", "localhost/from-oci-archive:v1"},
		{"docker-archive:" + dockerArchive, "", "localhost/dockerarchive:v1"},
		{"docker-archive:" + dockerArchive + ":localhost/dockerarchive:v1", "", "localhost/dockerarchive:v1"},
		{"dir:" + dirSrc, "localhost/from-dir:v1", "localhost/from-dir:v1"},
	}
	for _, c := range cases {
		opts := f.opts
		opts.Name = c.name
		got, err := s.Pull(ctx, c.ref, opts)
		if err != nil {
			t.Errorf("Pull(%s): %v", c.ref, err)
			continue
		}
		if got.Name != c.want || len(got.Layers) != 2 || len(got.RepoDigests) != 0 {
			t.Errorf("Pull(%s) = %s, %d layers, repo digests %v; want %s, 2 layers, none", c.ref, got.Name, len(got.Layers), got.RepoDigests, c.want)
			continue
		}
		if body := readFile(t, filepath.Join(got.Layers[1], "data/t1")); body != "content of t1" {
			t.Errorf("Pull(%s): data/t1 = %q", c.ref, body)
		}
	}
	if _, err := s.Pull(ctx, "dir:"+dirSrc, f.opts); !errors.Is(err, ErrNoName) || !errors.Is(err, ErrInvalidName) {
		t.Errorf("pull of dir: without a name: %v, want ErrNoName", err)
	}
	if blobs, layers, tmp, _ := storeFiles(t, s); layers != 2 || tmp != 0 {
		t.Errorf("%d blobs, %d layer dirs (want 2, shared), %d work dirs", blobs, layers, tmp)
	}
}
