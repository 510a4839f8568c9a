package image

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"
)

// Remove removes the name (normalised first) from the store. If it was the
// image's last name, the image goes too, with every blob and layer directory
// no other image uses; while a live Mount uses such an image, Remove refuses
// with ErrInUse. Removing one of several names of an image only untags it.
// The error wraps ErrNotFound if no image has the name.
func (s *Store) Remove(ctx context.Context, name string) error {
	n, err := NormalizeName(name)
	if err != nil {
		return fmt.Errorf("remove image: %w", err)
	}
	if err := s.remove(ctx, n); err != nil {
		return fmt.Errorf("remove image %s: %w", n, err)
	}
	return nil
}

func (s *Store) remove(ctx context.Context, name string) error {
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
		if d.Digest == desc.Digest {
			last = false
		}
		kept = append(kept, d)
	}
	if last {
		leases, err := s.leases(false)
		if err != nil {
			return err
		}
		for _, l := range leases {
			if l.Manifest.Digest == desc.Digest {
				return fmt.Errorf("%w (rootfs mounted at %s)", ErrInUse, l.Dir)
			}
		}
	}
	idx.Manifests = kept
	if err := s.writeIndex(idx); err != nil {
		return err
	}
	if !last {
		return nil
	}
	if err := s.collect(ctx); err != nil {
		return fmt.Errorf("collect garbage: %w", err)
	}
	return nil
}

// collect removes every blob and layer directory that no image of the index
// and no live lease refers to, and stale leases and temporary files. Callers
// hold LOCK_EX. If any image cannot be read, nothing is removed: what it
// refers to is unknown.
func (s *Store) collect(ctx context.Context) error {
	idx, err := s.readIndex()
	if err != nil {
		return err
	}
	leases, err := s.leases(true)
	if err != nil {
		return err
	}
	roots := append([]ocispec.Descriptor(nil), idx.Manifests...)
	for _, l := range leases {
		roots = append(roots, l.Manifest)
	}
	blobs, layers := map[string]bool{}, map[string]bool{}
	for len(roots) > 0 {
		d := roots[0]
		roots = roots[1:]
		if blobs[d.Digest.Encoded()] {
			continue
		}
		blobs[d.Digest.Encoded()] = true
		if d.MediaType == ocispec.MediaTypeImageIndex {
			var sub ocispec.Index
			if err := readJSONBlob(s.blobDir(), d, &sub); err != nil {
				return err
			}
			roots = append(roots, sub.Manifests...)
			continue
		}
		st, err := readStored(s.blobDir(), d)
		if err != nil {
			return fmt.Errorf("image %s %s: %w", refName(d), d.Digest, err)
		}
		for _, b := range st.blobs() {
			blobs[b.Digest.Encoded()] = true
		}
		for _, c := range st.chainIDs {
			layers[c.Encoded()] = true
		}
	}
	return s.sweep(blobs, layers)
}

// sweep removes the blobs and layer directories not in keep.
func (s *Store) sweep(keepBlobs, keepLayers map[string]bool) error {
	entries, err := os.ReadDir(s.blobDir())
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !keepBlobs[e.Name()] {
			if err := os.RemoveAll(filepath.Join(s.blobDir(), e.Name())); err != nil {
				return err
			}
		}
	}
	if entries, err = os.ReadDir(s.ociDir()); err != nil {
		return err
	}
	for _, e := range entries { // temporary files of an interrupted writeIndex
		if strings.HasPrefix(e.Name(), ".tmp-") {
			if err := os.Remove(filepath.Join(s.ociDir(), e.Name())); err != nil {
				return err
			}
		}
	}
	if entries, err = os.ReadDir(s.layersDir()); err != nil {
		return err
	}
	var w *workDir
	for _, e := range entries {
		if keepLayers[e.Name()] {
			continue
		}
		if w == nil {
			if w, err = s.newWorkDir("gc-"); err != nil {
				return err
			}
			defer func() { _ = w.Close() }()
		}
		// A layer directory disappears by rename, so it is never seen half
		// removed; its content goes with the work directory.
		if err := os.Rename(filepath.Join(s.layersDir(), e.Name()), filepath.Join(w.path, e.Name())); err != nil {
			return fmt.Errorf("remove layer %s: %w", e.Name(), err)
		}
	}
	if w != nil {
		return w.Close()
	}
	return nil
}

// lease records that a Mount uses an image: leases/<sha256 of dir>.
type lease struct {
	Store    string             `json:"store"` // the store's Dir
	Dir      string             `json:"dir"`   // the Mount's dir
	Name     string             `json:"name,omitempty"`
	Image    string             `json:"image"` // config digest
	Manifest ocispec.Descriptor `json:"manifest"`
}

// leases returns the live leases: those whose mount directory exists. With
// prune (LOCK_EX held) the others are deleted.
func (s *Store) leases(prune bool) ([]lease, error) {
	entries, err := os.ReadDir(s.leasesDir())
	if err != nil {
		return nil, fmt.Errorf("read leases: %w", err)
	}
	var out []lease
	for _, e := range entries {
		path := filepath.Join(s.leasesDir(), e.Name())
		var l lease
		data, err := os.ReadFile(path)
		if err == nil {
			err = json.Unmarshal(data, &l)
		}
		if err != nil || strings.HasPrefix(e.Name(), ".tmp-") {
			if prune { // half-written by a Mount that died: it never mounted
				os.Remove(path)
			}
			continue
		}
		if ok, err := exists(l.Dir); err != nil {
			return nil, err
		} else if !ok {
			if prune {
				os.Remove(path)
			}
			continue
		}
		out = append(out, l)
	}
	return out, nil
}
