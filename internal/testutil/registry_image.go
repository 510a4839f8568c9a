package testutil

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"syscall"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestImage is an image for WriteOCILayout.
type TestImage struct {
	// Layers are uncompressed layer tars, bottom first (see TarDir).
	Layers [][]byte
	// Config is the runtime configuration (Cmd, Env, ...); images that
	// differ only in their layers should differ here too, or they get the
	// same config.
	Config ocispec.ImageConfig
	// Uncompressed stores the layers as plain tars instead of gzip.
	Uncompressed bool
	// Architecture is the image's; runtime.GOARCH if empty.
	Architecture string
}

// testImageCreated is the creation time of every TestImage, so that the same
// TestImage always gives the same digests.
var testImageCreated = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// WriteOCILayout adds img to the OCI image layout in dir (created if
// missing) under the org.opencontainers.image.ref.name tag, replacing an
// image with that tag, and returns its manifest's descriptor. Layers are
// gzipped (deterministically: the same layer gives the same blob in every
// image) unless img.Uncompressed.
func WriteOCILayout(t testing.TB, dir, tag string, img TestImage) ocispec.Descriptor {
	t.Helper()
	desc, err := writeOCILayout(dir, tag, img)
	if err != nil {
		t.Fatalf("write OCI layout %s:%s: %v", dir, tag, err)
	}
	return desc
}

func writeOCILayout(dir, tag string, img TestImage) (ocispec.Descriptor, error) {
	desc, err := writeImage(dir, img)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	desc.Annotations = map[string]string{ocispec.AnnotationRefName: tag}
	return desc, addToIndex(dir, tag, desc)
}

// WriteOCIIndex adds to the OCI image layout in dir a multi-platform image:
// an image index (manifest list) of imgs, which should differ in their
// Architecture, under tag. It returns the index's descriptor.
func WriteOCIIndex(t testing.TB, dir, tag string, imgs ...TestImage) ocispec.Descriptor {
	t.Helper()
	list := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex}
	list.SchemaVersion = 2
	for _, img := range imgs {
		desc, err := writeImage(dir, img)
		if err != nil {
			t.Fatalf("write OCI layout %s:%s: %v", dir, tag, err)
		}
		desc.Platform = &ocispec.Platform{Architecture: architecture(img), OS: "linux"}
		list.Manifests = append(list.Manifests, desc)
	}
	data, err := json.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := putBlob(dir, ocispec.MediaTypeImageIndex, data)
	if err == nil {
		desc.Annotations = map[string]string{ocispec.AnnotationRefName: tag}
		err = addToIndex(dir, tag, desc)
	}
	if err != nil {
		t.Fatalf("write OCI layout %s:%s: %v", dir, tag, err)
	}
	return desc
}

func architecture(img TestImage) string {
	if img.Architecture != "" {
		return img.Architecture
	}
	return runtime.GOARCH
}

// putBlob writes data as a blob of the layout in dir.
func putBlob(dir, mediaType string, data []byte) (ocispec.Descriptor, error) {
	blobs := filepath.Join(dir, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		return ocispec.Descriptor{}, err
	}
	d := digest.SHA256.FromBytes(data)
	err := os.WriteFile(filepath.Join(blobs, d.Encoded()), data, 0o644)
	return ocispec.Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(data))}, err
}

// writeImage writes the blobs of img into the layout in dir and describes
// its manifest.
func writeImage(dir string, img TestImage) (ocispec.Descriptor, error) {
	put := func(mediaType string, data []byte) (ocispec.Descriptor, error) { return putBlob(dir, mediaType, data) }
	cfg := ocispec.Image{
		Created:  &testImageCreated,
		Platform: ocispec.Platform{Architecture: architecture(img), OS: "linux"},
		Config:   img.Config,
		RootFS:   ocispec.RootFS{Type: "layers"},
	}
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest}
	m.SchemaVersion = 2
	for i, l := range img.Layers {
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, digest.SHA256.FromBytes(l))
		cfg.History = append(cfg.History, ocispec.History{Created: &testImageCreated, CreatedBy: fmt.Sprintf("layer %d", i)})
		mediaType, data := ocispec.MediaTypeImageLayer, l
		if !img.Uncompressed {
			mediaType, data = ocispec.MediaTypeImageLayerGzip, Gzip(l)
		}
		desc, err := put(mediaType, data)
		if err != nil {
			return ocispec.Descriptor{}, err
		}
		m.Layers = append(m.Layers, desc)
	}
	data, err := json.Marshal(cfg)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if m.Config, err = put(ocispec.MediaTypeImageConfig, data); err != nil {
		return ocispec.Descriptor{}, err
	}
	if data, err = json.Marshal(m); err != nil {
		return ocispec.Descriptor{}, err
	}
	return put(ocispec.MediaTypeImageManifest, data)
}

// addToIndex puts desc into dir's index.json under tag.
func addToIndex(dir, tag string, desc ocispec.Descriptor) error {
	idx := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex}
	idx.SchemaVersion = 2
	data, err := os.ReadFile(filepath.Join(dir, ocispec.ImageIndexFile))
	if err == nil {
		if err := json.Unmarshal(data, &idx); err != nil {
			return err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	kept := idx.Manifests[:0]
	for _, d := range idx.Manifests {
		if d.Annotations[ocispec.AnnotationRefName] != tag {
			kept = append(kept, d)
		}
	}
	idx.Manifests = append(kept, desc)
	if data, err = json.Marshal(idx); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, ocispec.ImageLayoutFile), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, ocispec.ImageIndexFile), data, 0o644)
}

// Gzip compresses data deterministically.
func Gzip(data []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(data) // writes to a bytes.Buffer do not fail
	_ = zw.Close()
	return buf.Bytes()
}

// TarDir returns an uncompressed tar of the tree at dir, a layer for
// TestImage: entries sorted, owners and modes kept, symlinks and hard links
// as such, modification times fixed so that the same tree gives the same
// bytes.
func TarDir(t testing.TB, dir string) []byte {
	t.Helper()
	data, err := tarDir(dir)
	if err != nil {
		t.Fatalf("tar %s: %v", dir, err)
	}
	return data
}

func tarDir(dir string) ([]byte, error) {
	var paths []string
	err := filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err == nil && p != dir {
			paths = append(paths, p)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	inodes := map[uint64]string{}
	for _, p := range paths {
		if err := tarEntry(tw, dir, p, inodes); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func tarEntry(tw *tar.Writer, dir, p string, inodes map[uint64]string) error {
	fi, err := os.Lstat(p)
	if err != nil {
		return err
	}
	link := ""
	if fi.Mode()&fs.ModeSymlink != 0 {
		if link, err = os.Readlink(p); err != nil {
			return err
		}
	}
	hdr, err := tar.FileInfoHeader(fi, link)
	if err != nil {
		return err
	}
	rel, err := filepath.Rel(dir, p)
	if err != nil {
		return err
	}
	hdr.Name = filepath.ToSlash(rel)
	if fi.IsDir() {
		hdr.Name += "/"
	}
	hdr.ModTime, hdr.AccessTime, hdr.ChangeTime = testImageCreated, time.Time{}, time.Time{}
	hdr.Uname, hdr.Gname = "", ""
	hdr.Format = tar.FormatPAX
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && fi.Mode().IsRegular() && st.Nlink > 1 {
		if first, ok := inodes[st.Ino]; ok {
			hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, first, 0
		} else {
			inodes[st.Ino] = hdr.Name
		}
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if hdr.Typeflag != tar.TypeReg {
		return nil
	}
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(tw, f)
	return err
}
