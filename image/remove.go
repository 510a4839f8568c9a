package image

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
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
	if err := s.remove(ctx, indexName(n)); err != nil {
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
	s.forgetRecords(idx)
	if !last {
		return nil
	}
	if err := s.collect(ctx); err != nil {
		return fmt.Errorf("collect garbage: %w", err)
	}
	return nil
}

// forgetRecords drops the repo digest records of names idx (just written)
// no longer has. Callers hold LOCK_EX. A record left behind does no harm (it
// no longer matches the index), so errors are ignored.
func (s *Store) forgetRecords(idx *ocispec.Index) {
	if recs, err := s.readRepoRecords(); err == nil && recs.prune(idx) {
		_ = s.writeRepoRecords(recs)
	}
}

// gcStats is what a garbage collection removed.
type gcStats struct {
	blobs, layers int
	bytes         int64 // disk space of the removed blobs and layer directories
}

// collect removes every blob and layer directory that no image of the index
// and no live lease refers to, and stale leases and temporary files. Callers
// hold LOCK_EX. If any image cannot be read, nothing is removed: what it
// refers to is unknown.
func (s *Store) collect(ctx context.Context) error {
	_, err := s.gc(ctx, false)
	return err
}

// gc is collect; with measure it also adds up the disk space it frees.
func (s *Store) gc(ctx context.Context, measure bool) (gcStats, error) {
	idx, err := s.readIndex()
	if err != nil {
		return gcStats{}, err
	}
	leases, err := s.leases(true)
	if err != nil {
		return gcStats{}, err
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
				return gcStats{}, err
			}
			roots = append(roots, sub.Manifests...)
			continue
		}
		st, err := readStored(s.blobDir(), d)
		if err != nil {
			return gcStats{}, fmt.Errorf("image %s %s: %w", refName(d), d.Digest, err)
		}
		for _, b := range st.blobs() {
			blobs[b.Digest.Encoded()] = true
		}
		for _, c := range st.chainIDs {
			layers[c.Encoded()] = true
		}
	}
	return s.sweep(blobs, layers, measure)
}

// sweep removes the blobs and layer directories not in keep, and the
// temporary files of interrupted index writes.
func (s *Store) sweep(keepBlobs, keepLayers map[string]bool, measure bool) (gcStats, error) {
	var st gcStats
	entries, err := os.ReadDir(s.blobDir())
	if err != nil {
		return st, err
	}
	for _, e := range entries {
		if keepBlobs[e.Name()] {
			continue
		}
		path := filepath.Join(s.blobDir(), e.Name())
		if measure {
			st.bytes += diskUsage(path)
		}
		if err := os.RemoveAll(path); err != nil {
			return st, err
		}
		st.blobs++
	}
	if entries, err = os.ReadDir(s.ociDir()); err != nil {
		return st, err
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			if err := os.Remove(filepath.Join(s.ociDir(), e.Name())); err != nil {
				return st, err
			}
		}
	}
	if entries, err = os.ReadDir(s.layersDir()); err != nil {
		return st, err
	}
	var w *workDir
	for _, e := range entries {
		if keepLayers[e.Name()] {
			continue
		}
		if w == nil {
			if w, err = s.newWorkDir("gc-"); err != nil {
				return st, err
			}
			defer func() { _ = w.Close() }()
		}
		// A layer directory disappears by rename, so it is never seen half
		// removed; its content goes with the work directory.
		gone := filepath.Join(w.path, e.Name())
		if err := os.Rename(filepath.Join(s.layersDir(), e.Name()), gone); err != nil {
			return st, fmt.Errorf("remove layer %s: %w", e.Name(), err)
		}
		if measure {
			st.bytes += diskUsage(gone)
		}
		st.layers++
	}
	if w != nil {
		return st, w.Close()
	}
	return st, nil
}

// diskUsage is the disk space the file or tree at path takes (allocated
// blocks, each inode counted once), as du reports it; unreadable parts count
// as nothing.
func diskUsage(path string) int64 {
	seen := map[[2]uint64]bool{}
	var total int64
	_ = filepath.WalkDir(path, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		var st unix.Stat_t
		if unix.Lstat(p, &st) != nil {
			return nil
		}
		key := [2]uint64{st.Dev, st.Ino}
		if !seen[key] {
			seen[key] = true
			total += st.Blocks * 512
		}
		return nil
	})
	return total
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
