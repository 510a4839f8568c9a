package image

import (
	"context"
	"fmt"
	"sort"

	digest "github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"
)

// Untag removes the name (normalised first) from the store. The image's data
// goes when no other name and no live Mount uses it any more; unlike Remove,
// Untag does not refuse a mounted image: its data stays until Unmount. (This
// is podbox's `image rm --force` of an image a pod uses.) The error wraps
// ErrNotFound if no image has the name.
func (s *Store) Untag(ctx context.Context, name string) error {
	n, err := NormalizeName(name)
	if err != nil {
		return fmt.Errorf("untag image: %w", err)
	}
	if err := s.untag(ctx, indexName(n)); err != nil {
		return fmt.Errorf("untag image %s: %w", n, err)
	}
	return nil
}

func (s *Store) untag(ctx context.Context, name string) error {
	unlock, err := s.lock(ctx, unix.LOCK_EX)
	if err != nil {
		return err
	}
	defer unlock()
	idx, err := s.readIndex()
	if err != nil {
		return err
	}
	desc, ok := findName(idx, name)
	if !ok {
		return ErrNotFound
	}
	last := true
	kept := idx.Manifests[:0:0]
	for _, d := range idx.Manifests {
		if refName(d) == name {
			continue
		}
		last = last && d.Digest != desc.Digest
		kept = append(kept, d)
	}
	idx.Manifests = kept
	if err := s.writeIndex(idx); err != nil {
		return err
	}
	s.forgetRecords(idx)
	if !last {
		return nil
	}
	// Leases keep what a live Mount uses.
	if err := s.collect(ctx); err != nil {
		return fmt.Errorf("collect garbage: %w", err)
	}
	return nil
}

// PruneReport is what Prune removed.
type PruneReport struct {
	Images     []string // the names removed, sorted
	Blobs      int      // blobs removed
	Layers     int      // unpacked layer directories removed
	BytesFreed int64    // disk space of those blobs and layer directories
}

// Prune removes every name for which keep returns false (the caller passes
// the images its pods use; keep sees each name once, as List gives it, and
// must not call the Store), then every blob, layer directory, lease and
// temporary file that nothing references, and reports what went. A nil keep
// keeps every image and only collects garbage. An image a live Mount uses
// loses its names but keeps its data until Unmount. A name that was moved to
// another image while keep ran is kept.
func (s *Store) Prune(ctx context.Context, keep func(*Image) bool) (PruneReport, error) {
	rep, err := s.prune(ctx, keep)
	if err != nil {
		return rep, fmt.Errorf("prune images in %s: %w", s.dir, err)
	}
	return rep, nil
}

func (s *Store) prune(ctx context.Context, keep func(*Image) bool) (PruneReport, error) {
	var rep PruneReport
	drop := map[string]digest.Digest{}
	if keep != nil {
		list, err := s.List(ctx)
		if err != nil {
			return rep, err
		}
		for _, img := range list {
			if !keep(img) {
				drop[img.Name] = img.Digest
			}
		}
	}
	if err := s.removeStaleTmp(); err != nil {
		return rep, err
	}
	unlock, err := s.lock(ctx, unix.LOCK_EX)
	if err != nil {
		return rep, err
	}
	defer unlock()
	idx, err := s.readIndex()
	if err != nil {
		return rep, err
	}
	kept := idx.Manifests[:0:0]
	for _, d := range idx.Manifests {
		if dg, ok := drop[refName(d)]; ok && dg == d.Digest {
			rep.Images = append(rep.Images, refName(d))
			continue
		}
		kept = append(kept, d)
	}
	if len(rep.Images) > 0 {
		idx.Manifests = kept
		if err := s.writeIndex(idx); err != nil {
			return rep, err
		}
	}
	s.forgetRecords(idx)
	sort.Strings(rep.Images)
	st, err := s.gc(ctx, true)
	rep.Blobs, rep.Layers, rep.BytesFreed = st.blobs, st.layers, st.bytes
	if err != nil {
		return rep, fmt.Errorf("collect garbage: %w", err)
	}
	return rep, nil
}
