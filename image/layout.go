package image

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	digest "github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/identity"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Image is one named image of the store.
type Image struct {
	Name   string        // fully normalised, e.g. "docker.io/library/busybox:1.36" or "localhost/busybox:1.36"
	ID     digest.Digest // config digest (what `image ls` shows as IMAGE ID, first 12 hex)
	Digest digest.Digest // manifest digest as stored
	// RepoDigests are the digests registries know this image by, as
	// "docker.io/library/busybox@sha256:…", one per repository it was pulled
	// from, sorted (none for an imported or loaded image). For a Docker v2s2
	// image or one picked from a manifest list they differ from Digest.
	RepoDigests []string
	Created     time.Time
	Size        int64         // sum of the blob sizes (config + layers)
	Config      ocispec.Image // Config.Entrypoint, Cmd, Env, WorkingDir, User, StopSignal, ...
	Layers      []string      // absolute unpacked layer dirs, bottom -> top (set by Get and Pull)
}

// maxJSONBlob bounds the manifests and configs the store reads into memory.
const maxJSONBlob = 8 << 20

const dockerManifestV2 = "application/vnd.docker.distribution.manifest.v2+json"

// blobPath returns where the blob d lives under blobDir (a blobs/sha256
// directory). Digests come from files we did not write (archives), so they are
// validated before they become path names.
func blobPath(blobDir string, d digest.Digest) (string, error) {
	if err := d.Validate(); err != nil {
		return "", fmt.Errorf("blob digest %q: %w", d, err)
	}
	if d.Algorithm() != digest.SHA256 {
		return "", fmt.Errorf("blob %s: only sha256 digests are supported", d)
	}
	return filepath.Join(blobDir, d.Encoded()), nil
}

// readIndex reads index.json; a store without one is empty.
func (s *Store) readIndex() (*ocispec.Index, error) {
	idx := &ocispec.Index{}
	data, err := os.ReadFile(s.indexPath())
	if errors.Is(err, fs.ErrNotExist) {
		idx.SchemaVersion = 2
		idx.MediaType = ocispec.MediaTypeImageIndex
		return idx, nil
	} else if err != nil {
		return nil, fmt.Errorf("read image index: %w", err)
	}
	if err := json.Unmarshal(data, idx); err != nil {
		return nil, fmt.Errorf("parse image index %s: %w", s.indexPath(), err)
	}
	return idx, nil
}

// writeIndex replaces index.json atomically. Callers hold LOCK_EX.
func (s *Store) writeIndex(idx *ocispec.Index) error {
	idx.SchemaVersion = 2
	idx.MediaType = ocispec.MediaTypeImageIndex
	if idx.Manifests == nil {
		idx.Manifests = []ocispec.Descriptor{}
	}
	data, err := json.Marshal(idx)
	if err != nil {
		return fmt.Errorf("encode image index: %w", err)
	}
	if err := writeFileAtomic(s.indexPath(), data); err != nil {
		return fmt.Errorf("write image index: %w", err)
	}
	return nil
}

func refName(d ocispec.Descriptor) string { return d.Annotations[ocispec.AnnotationRefName] }

// findName returns the index entry named name.
func findName(idx *ocispec.Index, name string) (ocispec.Descriptor, bool) {
	for _, d := range idx.Manifests {
		if refName(d) == name {
			return d, true
		}
	}
	return ocispec.Descriptor{}, false
}

// readJSONBlob reads the blob desc from blobDir, checks its size and digest
// and decodes it into v.
func readJSONBlob(blobDir string, desc ocispec.Descriptor, v any) error {
	path, err := blobPath(blobDir, desc.Digest)
	if err != nil {
		return err
	}
	if desc.Size > maxJSONBlob {
		return fmt.Errorf("blob %s: %d bytes is too large for a manifest or config", desc.Digest, desc.Size)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read blob %s: %w", desc.Digest, err)
	}
	if int64(len(data)) != desc.Size || digest.SHA256.FromBytes(data) != desc.Digest {
		return fmt.Errorf("blob %s: content does not match its digest and size", desc.Digest)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("parse blob %s: %w", desc.Digest, err)
	}
	return nil
}

// stored is an image manifest of a layout with its config.
type stored struct {
	desc     ocispec.Descriptor // the manifest
	manifest ocispec.Manifest
	config   ocispec.Image
	chainIDs []digest.Digest // one per layer, bottom -> top
}

// readStored reads the manifest desc and its config from blobDir.
func readStored(blobDir string, desc ocispec.Descriptor) (*stored, error) {
	switch desc.MediaType {
	case ocispec.MediaTypeImageManifest, dockerManifestV2:
	default:
		return nil, fmt.Errorf("manifest %s: media type %q is not an image manifest", desc.Digest, desc.MediaType)
	}
	st := &stored{desc: desc}
	if err := readJSONBlob(blobDir, desc, &st.manifest); err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	if err := readJSONBlob(blobDir, st.manifest.Config, &st.config); err != nil {
		return nil, fmt.Errorf("read config of manifest %s: %w", desc.Digest, err)
	}
	diffIDs := st.config.RootFS.DiffIDs
	if len(diffIDs) != len(st.manifest.Layers) {
		return nil, fmt.Errorf("image %s: config lists %d layers, manifest %d", desc.Digest, len(diffIDs), len(st.manifest.Layers))
	}
	for _, d := range diffIDs {
		if err := d.Validate(); err != nil {
			return nil, fmt.Errorf("image %s: diffID %q: %w", desc.Digest, d, err)
		}
	}
	st.chainIDs = identity.ChainIDs(append([]digest.Digest(nil), diffIDs...))
	return st, nil
}

// image describes st under name, without Layers.
func (st *stored) image(name string) *Image {
	img := &Image{
		Name:   name,
		ID:     st.manifest.Config.Digest,
		Digest: st.desc.Digest,
		Size:   st.manifest.Config.Size,
		Config: st.config,
	}
	if st.config.Created != nil {
		img.Created = *st.config.Created
	}
	for _, l := range st.manifest.Layers {
		img.Size += l.Size
	}
	return img
}

// blobs lists every blob st refers to: manifest, config and layers.
func (st *stored) blobs() []ocispec.Descriptor {
	return append([]ocispec.Descriptor{st.desc, st.manifest.Config}, st.manifest.Layers...)
}
