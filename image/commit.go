package image

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"
)

// staged is an image prepared in a work directory: its blobs are in the work
// directory's blob directory, its missing layers unpacked and verified under
// <work>/layers/<chainID>.
type staged struct {
	names []string
	st    *stored
	// repoDigest, for a registry pull, is the registry's digest of the
	// image (repo@sha256:…), recorded for every name; "" drops the record.
	repoDigest string
}

func stagedLayerDir(w *workDir, chainID string) string {
	return filepath.Join(w.path, "layers", chainID)
}

func exists(path string) (bool, error) {
	_, err := os.Lstat(path)
	if err == nil {
		return true, nil
	} else if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return false, err
}

// stageLayers makes sure that every layer of st is in the store or unpacked,
// DiffID verified, in the work directory. Layers the store has already (same
// chain ID and same blob) are trusted: they were verified when stored.
func (s *Store) stageLayers(ctx context.Context, w *workDir, blobDir string, st *stored) error {
	if err := os.MkdirAll(filepath.Join(w.path, "layers"), 0o700); err != nil {
		return err
	}
	for i, c := range st.chainIDs {
		desc, diffID := st.manifest.Layers[i], st.config.RootFS.DiffIDs[i]
		dst := stagedLayerDir(w, c.Encoded())
		if ok, err := exists(dst); err != nil {
			return err
		} else if ok {
			continue
		}
		blob, err := blobPath(blobDir, desc.Digest)
		if err != nil {
			return err
		}
		storeBlob, _ := blobPath(s.blobDir(), desc.Digest)
		haveDir, err := exists(s.layerDir(c.Encoded()))
		if err != nil {
			return err
		}
		if haveDir {
			haveBlob, err := exists(storeBlob)
			if err != nil {
				return err
			}
			if !haveBlob {
				if err := verifyLayer(blob, diffID); err != nil {
					return fmt.Errorf("verify layer %s: %w", desc.Digest, err)
				}
			}
			continue
		}
		if err := unpackLayer(ctx, blob, diffID, dst); err != nil {
			return fmt.Errorf("unpack layer %s: %w", desc.Digest, err)
		}
	}
	return nil
}

// commit moves the blobs and layers of images from the work directory w
// (blobs in blobDir) into the store and gives the images their names in
// index.json, under LOCK_EX. A name that pointed at another image moves;
// garbage collection then removes what no image and no lease still uses.
func (s *Store) commit(ctx context.Context, w *workDir, blobDir string, images []staged) error {
	if err := w.sync(); err != nil {
		return err
	}
	unlock, err := s.lock(ctx, unix.LOCK_EX)
	if err != nil {
		return err
	}
	defer unlock()
	for _, im := range images {
		if err := s.moveIn(ctx, w, blobDir, im.st); err != nil {
			return fmt.Errorf("store image %s: %w", im.st.desc.Digest, err)
		}
	}
	if err := syncDir(s.blobDir()); err != nil {
		return err
	}
	if err := syncDir(s.layersDir()); err != nil {
		return err
	}
	idx, err := s.readIndex()
	if err != nil {
		return err
	}
	recs, err := s.readRepoRecords()
	if err != nil {
		return err
	}
	moved, recsChanged := false, false
	for _, im := range images {
		for _, n := range im.names {
			if old, had := setName(idx, n, im.st.desc); had && old.Digest != im.st.desc.Digest {
				moved = true
			}
			if setRecord(recs, n, im.st.desc.Digest, im.repoDigest) {
				recsChanged = true
			}
		}
	}
	if recs.prune(idx) || recsChanged {
		if err := s.writeRepoRecords(recs); err != nil {
			return err
		}
	}
	if err := s.writeIndex(idx); err != nil {
		return err
	}
	if moved {
		// The images are stored and named: a failed collection only leaves
		// garbage that the next one removes, so it does not fail the commit.
		_ = s.collect(ctx)
	}
	return nil
}

// moveIn renames the blobs and staged layer directories of st into the
// store. Whatever the store has already is kept and the staged copy dropped.
func (s *Store) moveIn(ctx context.Context, w *workDir, blobDir string, st *stored) error {
	for _, b := range st.blobs() {
		src, err := blobPath(blobDir, b.Digest)
		if err != nil {
			return err
		}
		dst, _ := blobPath(s.blobDir(), b.Digest)
		if ok, err := exists(dst); err != nil {
			return err
		} else if ok {
			continue
		}
		if err := os.Rename(src, dst); err != nil {
			return fmt.Errorf("move blob %s into the store: %w", b.Digest, err)
		}
	}
	for i, c := range st.chainIDs {
		dst := s.layerDir(c.Encoded())
		if ok, err := exists(dst); err != nil {
			return err
		} else if ok {
			continue
		}
		src := stagedLayerDir(w, c.Encoded())
		ok, err := exists(src)
		if err != nil {
			return err
		}
		if !ok { // the store had it when we staged; it has been collected since
			if err := s.restoreLayer(ctx, st.manifest.Layers[i], st.config.RootFS.DiffIDs[i], dst); err != nil {
				return fmt.Errorf("unpack layer %s: %w", st.manifest.Layers[i].Digest, err)
			}
			continue
		}
		if err := renameDir(src, dst); err != nil {
			return fmt.Errorf("move layer %s into the store: %w", c, err)
		}
	}
	return nil
}

// setName points the index entry name at the manifest desc, adding the entry
// if needed, and returns the entry it replaced.
func setName(idx *ocispec.Index, name string, desc ocispec.Descriptor) (old ocispec.Descriptor, had bool) {
	entry := ocispec.Descriptor{
		MediaType:   desc.MediaType,
		Digest:      desc.Digest,
		Size:        desc.Size,
		Annotations: map[string]string{ocispec.AnnotationRefName: name},
	}
	for i, d := range idx.Manifests {
		if refName(d) == name {
			idx.Manifests[i] = entry
			return d, true
		}
	}
	idx.Manifests = append(idx.Manifests, entry)
	return ocispec.Descriptor{}, false
}

// setRecord records (or, with repoDigest "", forgets) the repo digest of
// name, which points at the manifest m, and reports whether recs changed.
func setRecord(recs repoRecords, name string, m digest.Digest, repoDigest string) bool {
	old, had := recs[name]
	if repoDigest == "" {
		delete(recs, name)
		return had
	}
	rec := repoRecord{Manifest: m, RepoDigest: repoDigest}
	recs[name] = rec
	return !had || old != rec
}
