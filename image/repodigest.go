package image

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/docker/reference"
	"golang.org/x/sys/unix"
)

// repoDigestsFile, next to index.json, records for every name that a
// registry pull gave, the digest the registry knows the image by: the "repo
// digest", docker.io/library/busybox@sha256:…. It differs from the stored
// manifest digest whenever the copy converted the manifest (Docker v2s2 to
// OCI) or picked one image of a manifest list.
const repoDigestsFile = "repodigests.json"

// repoRecord is what repodigests.json keeps for one name.
type repoRecord struct {
	// Manifest is the stored manifest the name pointed at when it was
	// pulled. The record only counts while the name still points there: an
	// Import or Load that moves the name makes it stale.
	Manifest   digest.Digest `json:"manifest"`
	RepoDigest string        `json:"repoDigest"`
}

// repoRecords are the records of repodigests.json, by name.
type repoRecords map[string]repoRecord

type repoRecordsFile struct {
	Names repoRecords `json:"names"`
}

func (s *Store) repoDigestsPath() string { return filepath.Join(s.ociDir(), repoDigestsFile) }

// readRepoRecords reads repodigests.json; a store without one has none.
func (s *Store) readRepoRecords() (repoRecords, error) {
	data, err := os.ReadFile(s.repoDigestsPath())
	if errors.Is(err, fs.ErrNotExist) {
		return repoRecords{}, nil
	} else if err != nil {
		return nil, fmt.Errorf("read repo digests: %w", err)
	}
	var f repoRecordsFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("parse repo digests %s: %w", s.repoDigestsPath(), err)
	}
	if f.Names == nil {
		f.Names = repoRecords{}
	}
	return f.Names, nil
}

// writeRepoRecords replaces repodigests.json atomically. Callers hold
// LOCK_EX and write it before index.json, the commit point: a crash in
// between leaves records that do not match the index, which do not count.
func (s *Store) writeRepoRecords(r repoRecords) error {
	data, err := json.Marshal(repoRecordsFile{Names: r})
	if err != nil {
		return fmt.Errorf("encode repo digests: %w", err)
	}
	if err := writeFileAtomic(s.repoDigestsPath(), data); err != nil {
		return fmt.Errorf("write repo digests: %w", err)
	}
	return nil
}

// valid reports whether the record of name still describes the image that
// name points at in idx.
func (r repoRecords) valid(idx *ocispec.Index, name string) (repoRecord, bool) {
	rec, ok := r[name]
	if !ok {
		return repoRecord{}, false
	}
	d, ok := findName(idx, name)
	return rec, ok && d.Digest == rec.Manifest
}

// repoDigests returns the repo digests of the stored manifest m, sorted:
// those recorded for every name that points at it.
func (r repoRecords) repoDigests(idx *ocispec.Index, m digest.Digest) []string {
	var out []string
	for _, d := range idx.Manifests {
		if d.Digest != m {
			continue
		}
		if rec, ok := r.valid(idx, refName(d)); ok && !slices.Contains(out, rec.RepoDigest) {
			out = append(out, rec.RepoDigest)
		}
	}
	slices.Sort(out)
	return out
}

// find returns the index entry of an image recorded with the repo digest
// repoDigest, preferring the one called name.
func (r repoRecords) find(idx *ocispec.Index, repoDigest, name string) (ocispec.Descriptor, bool) {
	if rec, ok := r.valid(idx, name); ok && rec.RepoDigest == repoDigest {
		return findName(idx, name)
	}
	for _, d := range idx.Manifests {
		if rec, ok := r.valid(idx, refName(d)); ok && rec.RepoDigest == repoDigest {
			return d, true
		}
	}
	return ocispec.Descriptor{}, false
}

// prune drops the records that no longer count and reports whether any went.
func (r repoRecords) prune(idx *ocispec.Index) bool {
	changed := false
	for name := range r {
		if _, ok := r.valid(idx, name); !ok {
			delete(r, name)
			changed = true
		}
	}
	return changed
}

// lookup finds the image called n (normalised) in idx: by its index name,
// and for a name with a digest also among the images pulled by tag whose
// repo digest it is, then among the images of that repository stored with
// that very manifest (loaded or imported ones).
func lookup(idx *ocispec.Index, recs repoRecords, n string) (ocispec.Descriptor, bool) {
	key := indexName(n)
	if d, ok := findName(idx, key); ok {
		return d, true
	}
	named, err := reference.ParseNormalizedNamed(key)
	if err != nil {
		return ocispec.Descriptor{}, false
	}
	c, ok := named.(reference.Canonical)
	if !ok {
		return ocispec.Descriptor{}, false
	}
	if d, ok := recs.find(idx, key, key); ok {
		return d, true
	}
	for _, d := range idx.Manifests {
		if d.Digest == c.Digest() && repository(refName(d)) == named.Name() {
			return d, true
		}
	}
	return ocispec.Descriptor{}, false
}

// repository is the repository of the normalised name n, "" if n does not
// parse.
func repository(n string) string {
	named, err := reference.ParseNormalizedNamed(n)
	if err != nil {
		return ""
	}
	return named.Name()
}

func (s *Store) readIndexRecords() (*ocispec.Index, repoRecords, error) {
	idx, err := s.readIndex()
	if err != nil {
		return nil, nil, err
	}
	recs, err := s.readRepoRecords()
	if err != nil {
		return nil, nil, err
	}
	return idx, recs, nil
}

// repoDigestsOf returns the repo digests of the stored manifest m, or none
// if they cannot be read.
func (s *Store) repoDigestsOf(ctx context.Context, m digest.Digest) []string {
	unlock, err := s.lock(ctx, unix.LOCK_SH)
	if err != nil {
		return nil
	}
	defer unlock()
	idx, recs, err := s.readIndexRecords()
	if err != nil {
		return nil
	}
	return recs.repoDigests(idx, m)
}
