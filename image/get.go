package image

import (
	"context"
	"fmt"
	"sort"

	"golang.org/x/sys/unix"
)

// Get returns the image called name (normalised first) with its Layers,
// unpacking any layer directory that is missing (say after a crash). A name
// with a digest ("busybox@sha256:…"; a tag beside it does not matter) also
// finds an image pulled by tag whose repo digest it is, or an image of that
// repository stored with that manifest. The error wraps ErrNotFound, with the
// normalised name, if there is no such image, and ErrInvalidName if name does
// not parse. Get is on every container start: for a present image it reads
// index.json, the repo digests, the manifest and the config and stats the
// layer directories.
func (s *Store) Get(ctx context.Context, name string) (*Image, error) {
	n, err := NormalizeName(name)
	if err != nil {
		return nil, fmt.Errorf("get image: %w", err)
	}
	unlock, err := s.lock(ctx, unix.LOCK_SH)
	if err != nil {
		return nil, fmt.Errorf("get image %s: %w", n, err)
	}
	defer unlock()
	idx, err := s.readIndex()
	if err != nil {
		return nil, fmt.Errorf("get image %s: %w", n, err)
	}
	recs, err := s.readRepoRecords()
	if err != nil {
		return nil, fmt.Errorf("get image %s: %w", n, err)
	}
	desc, ok := lookup(idx, recs, n)
	if !ok {
		return nil, fmt.Errorf("get image %s: %w", n, ErrNotFound)
	}
	st, err := readStored(s.blobDir(), desc)
	if err != nil {
		return nil, fmt.Errorf("get image %s: %w", n, err)
	}
	img := st.image(n)
	img.RepoDigests = recs.repoDigests(idx, desc.Digest)
	if img.Layers, err = s.layerDirs(ctx, st); err != nil {
		return nil, fmt.Errorf("get image %s: %w", n, err)
	}
	return img, nil
}

// List returns every named image, sorted by Name, without Layers. An image
// with several names is listed once per name.
func (s *Store) List(ctx context.Context) ([]*Image, error) {
	unlock, err := s.lock(ctx, unix.LOCK_SH)
	if err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	defer unlock()
	idx, err := s.readIndex()
	if err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	recs, err := s.readRepoRecords()
	if err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	cache := map[string]*stored{}
	var out []*Image
	for _, d := range idx.Manifests {
		name := refName(d)
		if name == "" {
			continue
		}
		st, ok := cache[d.Digest.String()]
		if !ok {
			if st, err = readStored(s.blobDir(), d); err != nil {
				return nil, fmt.Errorf("list images: %s: %w", name, err)
			}
			cache[d.Digest.String()] = st
		}
		img := st.image(name)
		img.RepoDigests = recs.repoDigests(idx, d.Digest)
		out = append(out, img)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
