package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/moby/sys/mountinfo"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"
)

// requireRoot fails the test when not run as root: these tests mount, mknod
// and chown for real and must not pass by testing nothing. With -short (the
// Makefile's unit target) they are skipped, visibly.
func requireRoot(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs root: skipped with -short")
	}
	if os.Geteuid() != 0 {
		t.Fatal("this test needs root (mounts, mknod, chown): run `go test` as root, or with -short for the unit tests only")
	}
}

// newStore opens a store in a fresh temporary root. Its cleanup, which runs
// before the removal of the temporary directory, fails the test if anything
// is still mounted under the root and unmounts it so that nothing is left on
// the host.
func newStore(t testing.TB) *Store {
	t.Helper()
	root := t.TempDir()
	s, err := Open(Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		mounts, err := mountinfo.GetMounts(mountinfo.PrefixFilter(root))
		if err != nil {
			t.Errorf("read mountinfo: %v", err)
			return
		}
		for _, m := range mounts {
			t.Errorf("left mounted: %s", m.Mountpoint)
			unix.Unmount(m.Mountpoint, unix.MNT_DETACH)
		}
	})
	return s
}

// mountedAt reports whether anything is mounted exactly at path.
func mountedAt(t testing.TB, path string) bool {
	t.Helper()
	mounts, err := mountinfo.GetMounts(mountinfo.SingleEntryFilter(path))
	if err != nil {
		t.Fatal(err)
	}
	return len(mounts) > 0
}

// tarEntry is one entry of a tar built by a test.
type tarEntry struct {
	name     string
	typ      byte // tar.TypeReg if 0
	body     string
	link     string
	mode     int64
	uid, gid int
	devMajor int64
	devMinor int64
	pax      map[string]string
}

func reg(name, body string) tarEntry { return tarEntry{name: name, body: body} }
func dir(name string) tarEntry       { return tarEntry{name: name, typ: tar.TypeDir, mode: 0o755} }
func symlink(name, target string) tarEntry {
	return tarEntry{name: name, typ: tar.TypeSymlink, link: target}
}
func hardlink(name, target string) tarEntry {
	return tarEntry{name: name, typ: tar.TypeLink, link: target}
}

func buildTar(t testing.TB, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{
			Name: e.name, Typeflag: e.typ, Linkname: e.link, Mode: e.mode,
			Uid: e.uid, Gid: e.gid, Devmajor: e.devMajor, Devminor: e.devMinor, ModTime: time.Unix(1700000000, 0), PAXRecords: e.pax,
		}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gzipBytes(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeFile(t testing.TB, path string, data []byte) string {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// testConfig is an image config for the given uncompressed layers; diffIDs,
// if not nil, override the real ones.
func testConfig(t testing.TB, layers [][]byte, diffIDs []digest.Digest, cmd ...string) []byte {
	t.Helper()
	if diffIDs == nil {
		for _, l := range layers {
			diffIDs = append(diffIDs, digest.SHA256.FromBytes(l))
		}
	}
	created := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	cfg := ocispec.Image{
		Created:  &created,
		Platform: ocispec.Platform{Architecture: runtime.GOARCH, OS: "linux"},
		Config:   ocispec.ImageConfig{Cmd: cmd, Env: []string{"PATH=/bin", "FOO=bar"}, WorkingDir: "/"},
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: diffIDs},
	}
	data, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// dockerImage is one image of a docker-archive built by a test.
type dockerImage struct {
	tags    []string
	layers  [][]byte // uncompressed tars
	diffIDs []digest.Digest
	cmd     []string
}

// writeDockerArchive writes a `docker save`-style archive.
func writeDockerArchive(t testing.TB, path string, images ...dockerImage) string {
	t.Helper()
	type item struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	var entries []tarEntry
	var manifest []item
	seen := map[string]bool{}
	for _, im := range images {
		cfg := testConfig(t, im.layers, im.diffIDs, im.cmd...)
		it := item{Config: digest.SHA256.FromBytes(cfg).Encoded() + ".json", RepoTags: im.tags}
		if !seen[it.Config] {
			entries = append(entries, reg(it.Config, string(cfg)))
			seen[it.Config] = true
		}
		for _, l := range im.layers {
			name := digest.SHA256.FromBytes(l).Encoded() + "/layer.tar"
			it.Layers = append(it.Layers, name)
			if !seen[name] {
				entries = append(entries, reg(name, string(l)))
				seen[name] = true
			}
		}
		manifest = append(manifest, it)
	}
	data, err := json.Marshal(manifest)
	if err != nil {
		t.Fatal(err)
	}
	entries = append(entries, reg("manifest.json", string(data)))
	return writeFile(t, path, buildTar(t, entries...))
}

// ociImage is one image of an oci-archive built by a test.
type ociImage struct {
	annotations map[string]string
	layers      [][]byte // uncompressed tars, stored gzipped
	diffIDs     []digest.Digest
	cmd         []string
}

// writeOCIArchive writes an oci-archive (a tar of an OCI layout).
func writeOCIArchive(t testing.TB, path string, images ...ociImage) string {
	t.Helper()
	blobs := map[digest.Digest][]byte{}
	put := func(mediaType string, data []byte) ocispec.Descriptor {
		d := digest.SHA256.FromBytes(data)
		blobs[d] = data
		return ocispec.Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(data))}
	}
	idx := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex}
	idx.SchemaVersion = 2
	for _, im := range images {
		m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest}
		m.SchemaVersion = 2
		m.Config = put(ocispec.MediaTypeImageConfig, testConfig(t, im.layers, im.diffIDs, im.cmd...))
		for _, l := range im.layers {
			m.Layers = append(m.Layers, put(ocispec.MediaTypeImageLayerGzip, gzipBytes(t, l)))
		}
		data, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		d := put(ocispec.MediaTypeImageManifest, data)
		d.Annotations = im.annotations
		idx.Manifests = append(idx.Manifests, d)
	}
	index, err := json.Marshal(idx)
	if err != nil {
		t.Fatal(err)
	}
	entries := []tarEntry{
		reg("oci-layout", `{"imageLayoutVersion":"1.0.0"}`),
		reg("index.json", string(index)),
		dir("blobs/"), dir("blobs/sha256/"),
	}
	for d, data := range blobs {
		entries = append(entries, reg("blobs/sha256/"+d.Encoded(), string(data)))
	}
	return writeFile(t, path, buildTar(t, entries...))
}

// dirNames lists the names in dir.
func dirNames(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// storeFiles counts the blobs, layer directories, work directories and
// leases of the store.
func storeFiles(t testing.TB, s *Store) (blobs, layers, tmp, leases int) {
	t.Helper()
	return len(dirNames(t, s.blobDir())), len(dirNames(t, s.layersDir())),
		len(dirNames(t, s.tmpDir())), len(dirNames(t, s.leasesDir()))
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func mustNotExist(t testing.TB, path string) {
	t.Helper()
	if _, err := os.Lstat(path); err == nil {
		t.Errorf("%s exists, want it absent", path)
	} else if !os.IsNotExist(err) {
		t.Errorf("lstat %s: %v", path, err)
	}
}

func layerOf(s *Store, diffID digest.Digest) string {
	return filepath.Join(s.layersDir(), diffID.Encoded())
}

// mountT mounts img in a new directory under t.TempDir() and unmounts it in
// the test's cleanup (which runs before the removal of that directory).
func mountT(t testing.TB, s *Store, img *Image) (dir, rootfs string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "ctr")
	rootfs, err := s.Mount(context.Background(), img, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := Unmount(dir); err != nil {
			t.Error(err)
		}
		if mountedAt(t, rootfs) {
			t.Errorf("%s still mounted after Unmount", rootfs)
		}
		mustNotExist(t, dir)
	})
	return dir, rootfs
}
