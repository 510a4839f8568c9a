package image

import (
	"context"
	"fmt"
	"sort"
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"
)

// ImageDetails is everything `podbox image inspect` prints about an image.
type ImageDetails struct {
	Names        []string          `json:"names"` // every name of the image, sorted
	ID           digest.Digest     `json:"id"`    // config digest
	Digest       digest.Digest     `json:"digest"`
	RepoDigests  []string          `json:"repoDigests"`
	Created      time.Time         `json:"created"`
	Size         int64             `json:"size"` // config + layer blobs
	Architecture string            `json:"architecture"`
	OS           string            `json:"os"`
	Variant      string            `json:"variant,omitempty"`
	MediaType    string            `json:"mediaType"` // of the stored manifest
	Config       ocispec.Image     `json:"config"`    // the whole OCI image config
	Layers       []LayerDetails    `json:"layers"`    // bottom first
	History      []ocispec.History `json:"history"`
}

// LayerDetails describes one layer of an image.
type LayerDetails struct {
	Digest    digest.Digest `json:"digest"` // the blob, as stored
	Size      int64         `json:"size"`
	DiffID    digest.Digest `json:"diffID"` // the uncompressed content
	MediaType string        `json:"mediaType"`
}

// Inspect describes the image called name (normalised first; a name with a
// digest also finds an image pulled by tag with that repo digest). The error
// wraps ErrNotFound if there is no such image.
func (s *Store) Inspect(ctx context.Context, name string) (*ImageDetails, error) {
	n, err := NormalizeName(name)
	if err != nil {
		return nil, fmt.Errorf("inspect image: %w", err)
	}
	d, err := s.inspect(ctx, n)
	if err != nil {
		return nil, fmt.Errorf("inspect image %s: %w", n, err)
	}
	return d, nil
}

func (s *Store) inspect(ctx context.Context, n string) (*ImageDetails, error) {
	unlock, err := s.lock(ctx, unix.LOCK_SH)
	if err != nil {
		return nil, err
	}
	defer unlock()
	idx, recs, err := s.readIndexRecords()
	if err != nil {
		return nil, err
	}
	desc, ok := lookup(idx, recs, n)
	if !ok {
		return nil, ErrNotFound
	}
	st, err := readStored(s.blobDir(), desc)
	if err != nil {
		return nil, err
	}
	img := st.image(n)
	d := &ImageDetails{
		ID:           img.ID,
		Digest:       img.Digest,
		RepoDigests:  recs.repoDigests(idx, desc.Digest),
		Created:      img.Created,
		Size:         img.Size,
		Architecture: st.config.Architecture,
		OS:           st.config.OS,
		Variant:      st.config.Variant,
		MediaType:    desc.MediaType,
		Config:       st.config,
		History:      st.config.History,
	}
	for _, m := range idx.Manifests {
		if m.Digest == desc.Digest && refName(m) != "" {
			d.Names = append(d.Names, refName(m))
		}
	}
	sort.Strings(d.Names)
	for i, l := range st.manifest.Layers {
		d.Layers = append(d.Layers, LayerDetails{
			Digest: l.Digest, Size: l.Size, DiffID: st.config.RootFS.DiffIDs[i], MediaType: l.MediaType,
		})
	}
	return d, nil
}
