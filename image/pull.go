//go:build !podbox_shim

package image

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/docker/reference"
	cimage "go.podman.io/image/v5/image"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/signature"
	"go.podman.io/image/v5/types"
	"golang.org/x/sys/unix"
)

// progressInterval is how often a layer download reports its progress.
const progressInterval = 100 * time.Millisecond

// Pull fetches ref into the store and returns it, with Layers, as Get does.
// ref is a Kubernetes / docker image name, normalised by NormalizeName
// ("busybox" is docker.io/library/busybox:latest; "repo@sha256:…" is kept),
// or a transport reference: docker://, oci:, oci-archive:, docker-archive:,
// dir:.
//
// A registry is contacted on every Pull (pull policy Always depends on it):
// the manifest is fetched first, and if the store already has the image of
// that registry digest, complete, it is returned (and given the name, if it
// had another one) without any blob being downloaded. Otherwise the image is
// copied into a work directory, reusing every blob the store has, every blob
// verified against its digest and every layer against its DiffID, and then
// committed: a failed or killed Pull leaves no part of the image. Manifest
// lists select this host's platform. The registry's digest is recorded per
// name and reported in RepoDigests; an image pulled by digest is named
// repo@sha256:….
//
// Errors name the reference. A reference that does not parse, or names no
// image, wraps ErrInvalidName; every other error wraps ErrPull, with
// containers/image's message (authentication required, manifest unknown,
// connection refused, digest mismatch, rejected by policy, ...).
func (s *Store) Pull(ctx context.Context, ref string, opts PullOptions) (*Image, error) {
	var src *pullSource
	var err error
	if opts.RegistryOnly {
		src, err = parseDockerRef(ref)
	} else {
		src, err = parsePullRef(ref)
	}
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", ref, err)
	}
	ctx, opts, stop := watchStall(ctx, opts)
	defer stop()
	var fallback string
	if opts.Name != "" {
		if fallback, err = localName(opts.Name); err != nil {
			return nil, fmt.Errorf("pull %s: PullOptions.Name: %w", src, err)
		}
	}
	img, err := s.pull(ctx, src, fallback, opts)
	if err != nil {
		if cause := context.Cause(ctx); errors.Is(cause, ErrStalled) {
			err = cause
		}
		if !errors.Is(err, ErrInvalidName) {
			err = withKind(ErrPull, err)
		}
		return nil, fmt.Errorf("pull %s: %w", src, err)
	}
	return img, nil
}

// watchStall cancels ctx when the pull reports no progress for the stall
// timeout: every progress event (the manifest, layer bytes) resets the clock.
func watchStall(ctx context.Context, opts PullOptions) (context.Context, PullOptions, func()) {
	d := opts.StallTimeout
	if d == 0 {
		d = DefaultStallTimeout
	}
	if d < 0 {
		return ctx, opts, func() {}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	timer := time.AfterFunc(d, func() {
		cancel(fmt.Errorf("%w for %s: the registry stopped answering", ErrStalled, d))
	})
	user := opts.Progress
	opts.Progress = func(e PullEvent) {
		timer.Reset(d)
		if user != nil {
			user(e)
		}
	}
	return ctx, opts, func() { timer.Stop(); cancel(nil) }
}

func (s *Store) pull(ctx context.Context, src *pullSource, fallback string, opts PullOptions) (*Image, error) {
	_ = s.removeStaleTmp() // what killed pulls left; Open does it too
	w, err := s.newWorkDir("pull-")
	if err != nil {
		return nil, err
	}
	defer func() { _ = w.Close() }()
	sys := s.pullSysContext(w.path, opts)
	pc, err := pullPolicy(opts.PolicyPath)
	if err != nil {
		return nil, err
	}
	defer func() { _ = pc.Destroy() }()
	raw, err := src.ref.NewImageSource(ctx, sys) // a registry: the one manifest request
	if err != nil {
		return nil, err
	}
	opened := &openedRef{ImageReference: src.ref, src: raw}
	defer opened.Close()
	mb, mt, top, err := resolveManifest(ctx, raw, src)
	if err != nil {
		return nil, err
	}
	name := src.name
	if name == "" {
		if name, err = sourceName(src, sys, fallback); err != nil {
			return nil, err
		}
	}
	emit(opts.Progress, PullEvent{Image: name, Kind: PullManifest, Layer: top, Size: int64(len(mb))})
	var repoDigest string
	if src.transport == "docker" {
		rd, err := reference.WithDigest(src.repo, top)
		if err != nil {
			return nil, err
		}
		repoDigest = rd.String()
		if img, err := s.pullPresent(ctx, pc, raw, name, repoDigest); err != nil || img != nil {
			return img, err
		}
	}
	dest := filepath.Join(w.path, "oci")
	blobDir := filepath.Join(dest, "blobs", "sha256")
	config, err := s.linkKnownBlobs(ctx, raw, mb, mt, sys, blobDir)
	if err != nil {
		return nil, err
	}
	progress, stop := forwardProgress(name, config, opts.Progress)
	st, err := copyToLayout(ctx, pc, sys, opened, dest, progress)
	stop()
	if err != nil {
		return nil, err
	}
	if err := s.stageLayers(ctx, w, blobDir, st); err != nil {
		return nil, err
	}
	if err := s.commit(ctx, w, blobDir, []staged{{names: []string{name}, st: st, repoDigest: repoDigest}}); err != nil {
		return nil, err
	}
	img := st.image(name)
	for _, c := range st.chainIDs {
		img.Layers = append(img.Layers, s.layerDir(c.Encoded()))
	}
	img.RepoDigests = s.repoDigestsOf(ctx, st.desc.Digest)
	return img, nil
}

// resolveManifest reads the source's top-level manifest (a registry's is
// cached by the source, so copy.Image reads the same one) and its digest,
// which must be the one asked for, if any.
func resolveManifest(ctx context.Context, raw types.ImageSource, src *pullSource) ([]byte, string, digest.Digest, error) {
	mb, mt, err := raw.GetManifest(ctx, nil)
	if err != nil {
		return nil, "", "", fmt.Errorf("read manifest: %w", err)
	}
	top, err := manifest.Digest(mb)
	if err != nil {
		return nil, "", "", fmt.Errorf("digest manifest: %w", err)
	}
	if named := src.ref.DockerReference(); named != nil {
		if c, ok := named.(reference.Canonical); ok && c.Digest() != top {
			return nil, "", "", fmt.Errorf("manifest does not match the digest asked for: got %s, want %s", top, c.Digest())
		}
	}
	return mb, mt, top, nil
}

// pullPresent returns the stored image pulled from repoDigest, giving it the
// name name if needed, or nil if the store lacks it or any of its blobs. The
// signature policy is checked all the same.
func (s *Store) pullPresent(ctx context.Context, pc *signature.PolicyContext, raw types.ImageSource, name, repoDigest string) (*Image, error) {
	desc, named, err := s.findPulled(ctx, name, repoDigest)
	if err != nil || desc == nil {
		return nil, err
	}
	if ok, err := pc.IsRunningImageAllowed(ctx, cimage.UnparsedInstance(raw, nil)); err != nil {
		return nil, fmt.Errorf("source image rejected: %w", err)
	} else if !ok {
		return nil, errors.New("source image rejected by the signature policy")
	}
	if !named {
		if ok, err := s.retag(ctx, name, *desc, repoDigest); err != nil || !ok {
			return nil, err
		}
	}
	unlock, err := s.lock(ctx, unix.LOCK_SH)
	if err != nil {
		return nil, err
	}
	defer unlock()
	st, err := readStored(s.blobDir(), *desc)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil // removed meanwhile (rm, prune): pull it for real
	}
	if err != nil {
		return nil, err
	}
	img := st.image(name)
	if img.Layers, err = s.layerDirs(ctx, st); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if idx, recs, err := s.readIndexRecords(); err == nil {
		img.RepoDigests = recs.repoDigests(idx, desc.Digest)
	}
	return img, nil
}

// findPulled looks, under LOCK_SH, for a stored image recorded as pulled
// from repoDigest whose blobs are all there, and reports whether name
// already names it with that record.
func (s *Store) findPulled(ctx context.Context, name, repoDigest string) (*ocispec.Descriptor, bool, error) {
	unlock, err := s.lock(ctx, unix.LOCK_SH)
	if err != nil {
		return nil, false, err
	}
	defer unlock()
	idx, recs, err := s.readIndexRecords()
	if err != nil {
		return nil, false, err
	}
	desc, ok := recs.find(idx, repoDigest, name)
	if !ok {
		return nil, false, nil
	}
	st, err := readStored(s.blobDir(), desc)
	if err != nil {
		return nil, false, nil // damaged: pull it again
	}
	for _, b := range st.blobs() {
		p, err := blobPath(s.blobDir(), b.Digest)
		if err != nil {
			return nil, false, nil
		}
		if ok, err := exists(p); err != nil || !ok {
			return nil, false, err
		}
	}
	rec, ok := recs.valid(idx, name)
	return &desc, ok && rec.RepoDigest == repoDigest, nil
}

// retag points name at the stored manifest desc, pulled from repoDigest,
// under LOCK_EX. It reports false if no name holds desc any more (its blobs
// may be gone): the caller then pulls.
func (s *Store) retag(ctx context.Context, name string, desc ocispec.Descriptor, repoDigest string) (bool, error) {
	unlock, err := s.lock(ctx, unix.LOCK_EX)
	if err != nil {
		return false, err
	}
	defer unlock()
	idx, recs, err := s.readIndexRecords()
	if err != nil {
		return false, err
	}
	held := false
	for _, d := range idx.Manifests {
		held = held || d.Digest == desc.Digest
	}
	if !held {
		return false, nil
	}
	old, had := setName(idx, name, desc)
	setRecord(recs, name, desc.Digest, repoDigest)
	recs.prune(idx)
	if err := s.writeRepoRecords(recs); err != nil {
		return false, err
	}
	if err := s.writeIndex(idx); err != nil {
		return false, err
	}
	if had && old.Digest != desc.Digest {
		_ = s.collect(ctx) // the name moved; what the old image leaves is garbage
	}
	return true, nil
}

// linkKnownBlobs hard-links into the staging blob directory every blob of
// the image (of this platform's instance, for a manifest list) that the
// store has already, so that copy.Image skips it instead of downloading it
// again. It returns the source's config digest. A manifest it cannot read is
// left for copy.Image to report.
func (s *Store) linkKnownBlobs(ctx context.Context, raw types.ImageSource, mb []byte, mt string, sys *types.SystemContext, blobDir string) (digest.Digest, error) {
	if err := os.MkdirAll(blobDir, 0o700); err != nil {
		return "", err
	}
	if manifest.MIMETypeIsMultiImage(mt) {
		list, err := manifest.ListFromBlob(mb, mt)
		if err != nil {
			return "", nil
		}
		d, err := list.ChooseInstance(sys)
		if err != nil {
			return "", nil
		}
		if mb, mt, err = raw.GetManifest(ctx, &d); err != nil {
			return "", nil
		}
	}
	m, err := manifest.FromBlob(mb, mt)
	if err != nil {
		return "", nil
	}
	blobs := []types.BlobInfo{m.ConfigInfo()}
	for _, l := range m.LayerInfos() {
		blobs = append(blobs, l.BlobInfo)
	}
	for _, b := range blobs {
		from, err := blobPath(s.blobDir(), b.Digest)
		if err != nil {
			continue
		}
		err = os.Link(from, filepath.Join(blobDir, b.Digest.Encoded()))
		if err != nil && !errors.Is(err, os.ErrNotExist) && !errors.Is(err, os.ErrExist) {
			return "", fmt.Errorf("reuse blob %s: %w", b.Digest, err)
		}
	}
	return m.ConfigInfo().Digest, nil
}

// forwardProgress turns containers/image's progress reports on layers into
// PullEvents for fn, from a goroutine of its own; stop, after the copy,
// waits for the last one. Without fn there is no channel.
func forwardProgress(name string, config digest.Digest, fn func(PullEvent)) (ch chan types.ProgressProperties, stop func()) {
	if fn == nil {
		return nil, func() {}
	}
	ch = make(chan types.ProgressProperties, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for p := range ch {
			if ev, ok := layerEvent(name, config, p); ok {
				fn(ev)
			}
		}
	}()
	return ch, func() { close(ch); <-done } // containers/image never closes it
}

// layerEvent converts one progress report; reports on the config are
// dropped.
func layerEvent(name string, config digest.Digest, p types.ProgressProperties) (PullEvent, bool) {
	a := p.Artifact
	switch a.MediaType {
	case ocispec.MediaTypeImageConfig, manifest.DockerV2Schema2ConfigMediaType:
		return PullEvent{}, false
	}
	if a.Digest == config && config != "" {
		return PullEvent{}, false
	}
	ev := PullEvent{Image: name, Layer: a.Digest, Size: a.Size, Offset: int64(p.Offset)}
	if ev.Size < 0 {
		ev.Size = -1
	}
	switch p.Event {
	case types.ProgressEventNewArtifact:
		ev.Kind = PullLayerStart
	case types.ProgressEventRead:
		ev.Kind = PullLayerProgress
	case types.ProgressEventDone:
		ev.Kind = PullLayerDone
	case types.ProgressEventSkipped:
		ev.Kind, ev.Offset = PullLayerSkipped, max(ev.Size, 0)
	default:
		return PullEvent{}, false
	}
	return ev, true
}

func emit(fn func(PullEvent), ev PullEvent) {
	if fn != nil {
		fn(ev)
	}
}
