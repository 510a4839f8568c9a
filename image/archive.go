//go:build !podbox_shim

package image

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/oci/layout"
	"go.podman.io/image/v5/pkg/compression"
)

type archiveKind int

const (
	archiveDocker archiveKind = iota + 1
	archiveOCI
)

// annotationContainerdName is where containerd, nerdctl and docker >= 25
// write the full image name in an oci-archive's index.json.
const annotationContainerdName = "io.containerd.image.name"

// archiveEntry cleans a tar entry name to a relative path ("" for the root).
func archiveEntry(name string) string {
	return strings.TrimPrefix(path.Clean("/"+name), "/")
}

// sniffArchive tells a docker-archive (manifest.json) from an oci-archive
// (oci-layout and index.json) by reading the tar headers. Docker >= 25 writes
// both; the docker-archive view, with RepoTags, is preferred.
func sniffArchive(file string) (archiveKind, error) {
	f, err := os.Open(file)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	rc, _, err := compression.AutoDecompress(f)
	if err != nil {
		return 0, fmt.Errorf("not an image archive: %w", err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	seen := map[string]bool{}
	for n := 0; ; n++ {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil && n == 0 {
			return 0, fmt.Errorf("not an image archive (not a tar file): %w", err)
		} else if err != nil {
			return 0, fmt.Errorf("corrupt archive: %w", err)
		}
		if hdr.Typeflag == tar.TypeReg {
			seen[archiveEntry(hdr.Name)] = true
		}
	}
	switch {
	case seen["manifest.json"]:
		return archiveDocker, nil
	case seen[ocispec.ImageIndexFile] && seen[ocispec.ImageLayoutFile]:
		return archiveOCI, nil
	}
	return 0, errors.New("not an image archive: it has neither manifest.json (docker-archive) nor oci-layout and index.json (oci-archive)")
}

// ociSources extracts the oci-archive file into dir and lists its images,
// one source per manifest, with the names the index gives it.
func ociSources(ctx context.Context, file, dir string) ([]source, error) {
	if err := extractOCIArchive(ctx, file, dir); err != nil {
		return nil, fmt.Errorf("extract oci-archive: %w", err)
	}
	data, err := os.ReadFile(filepath.Join(dir, ocispec.ImageIndexFile))
	if err != nil {
		return nil, err
	}
	var idx ocispec.Index
	if err := json.Unmarshal(data, &idx); err != nil {
		return nil, fmt.Errorf("parse index.json of oci-archive: %w", err)
	}
	var out []source
	byDigest := map[string]int{}
	for i, d := range idx.Manifests {
		name, err := ociName(d)
		if err != nil {
			return nil, err
		}
		if j, ok := byDigest[d.Digest.String()]; ok {
			if name != "" {
				out[j].names = append(out[j].names, name)
			}
			continue
		}
		ref, err := layout.NewIndexReference(dir, i)
		if err != nil {
			return nil, err
		}
		src := source{ref: ref}
		if name != "" {
			src.names = []string{name}
		}
		byDigest[d.Digest.String()] = len(out)
		out = append(out, src)
	}
	if len(out) == 0 {
		return nil, errors.New("the oci-archive holds no image")
	}
	return out, nil
}

// ociName is the name an oci-archive index entry gives its image, or "".
// A bare tag in org.opencontainers.image.ref.name ("1.36", "latest") is no
// name: it lacks the repository.
func ociName(d ocispec.Descriptor) (string, error) {
	if n := d.Annotations[annotationContainerdName]; n != "" {
		return localName(n)
	}
	if n := d.Annotations[ocispec.AnnotationRefName]; strings.ContainsAny(n, "/:") {
		if ln, err := localName(n); err == nil {
			return ln, nil
		}
	}
	return "", nil
}

// extractOCIArchive writes the directories and regular files of the tar
// archive (compressed or not) under dir; everything else (links, devices) is
// skipped, as no OCI layout needs it. Entries cannot leave dir: names are
// cleaned and every file is created through an os.Root.
func extractOCIArchive(ctx context.Context, file, dir string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	rc, _, err := compression.AutoDecompress(f)
	if err != nil {
		return err
	}
	defer rc.Close()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	tr := tar.NewReader(rc)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
		name := archiveEntry(hdr.Name)
		if name == "" {
			continue
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			err = root.MkdirAll(name, 0o700)
		case tar.TypeReg:
			err = extractFile(root, name, tr)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", hdr.Name, err)
		}
	}
}

func extractFile(root *os.Root, name string, r io.Reader) error {
	if d := path.Dir(name); d != "." {
		if err := root.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
