//go:build !podbox_shim

package image

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/copy"
	dockerarchive "go.podman.io/image/v5/docker/archive"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/oci/layout"
	"go.podman.io/image/v5/signature"
	"go.podman.io/image/v5/types"
)

// LoadOptions configures Load.
type LoadOptions struct {
	// Name names an image of the archive that carries no usable name of its
	// own. Images that have names keep them.
	Name string
}

// source is one image of an archive and the names it will be stored under.
type source struct {
	ref   types.ImageReference
	names []string
}

// Load stores every image of a docker-archive (`docker save`) or an
// oci-archive, told apart by their content (compressed archives too), and
// returns one Image per name, without Layers. Every tag counts: `docker save
// a:1 a:2 b:3` gives three names. Names come from RepoTags (docker-archive) or
// from the annotations of index.json (oci-archive: io.containerd.image.name,
// or an org.opencontainers.image.ref.name that is a whole reference such as
// "busybox:1.36" rather than a bare tag). An image without a usable name takes
// opts.Name; without that either, Load fails with ErrNoName.
//
// Manifest lists select this host's platform. Every layer's DiffID is
// verified; a corrupt archive stores nothing. The archive is a local file the
// user chose, so no signature policy applies (accept anything).
func (s *Store) Load(ctx context.Context, archive string, opts LoadOptions) ([]*Image, error) {
	var fallback string
	if opts.Name != "" {
		n, err := localName(opts.Name)
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", archive, err)
		}
		fallback = n
	}
	imgs, err := s.load(ctx, archive, fallback)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", archive, err)
	}
	return imgs, nil
}

func (s *Store) load(ctx context.Context, archive, fallback string) ([]*Image, error) {
	kind, err := sniffArchive(archive)
	if err != nil {
		return nil, err
	}
	w, err := s.newWorkDir("load-")
	if err != nil {
		return nil, err
	}
	defer func() { _ = w.Close() }()
	sys := s.sysContext(w.path)
	var sources []source
	if kind == archiveDocker {
		r, err := dockerarchive.NewReader(sys, archive)
		if err != nil {
			return nil, fmt.Errorf("read docker-archive: %w", err)
		}
		defer func() { _ = r.Close() }()
		if sources, err = dockerSources(r); err != nil {
			return nil, err
		}
	} else if sources, err = ociSources(ctx, archive, filepath.Join(w.path, "src")); err != nil {
		return nil, err
	}
	if err := nameUnnamed(sources, fallback); err != nil {
		return nil, err
	}
	pc, err := acceptAnything()
	if err != nil {
		return nil, err
	}
	defer pc.Destroy()
	dest := filepath.Join(w.path, "oci")
	blobDir := filepath.Join(dest, "blobs", "sha256")
	var images []staged
	for _, src := range sources {
		st, err := copyToLayout(ctx, pc, sys, src.ref, dest, nil)
		if err != nil {
			return nil, fmt.Errorf("copy image %s: %w", src.names[0], err)
		}
		if err := s.stageLayers(ctx, w, blobDir, st); err != nil {
			return nil, fmt.Errorf("image %s: %w", src.names[0], err)
		}
		images = append(images, staged{names: src.names, st: st})
	}
	if err := s.commit(ctx, w, blobDir, images); err != nil {
		return nil, err
	}
	var out []*Image
	for _, im := range images {
		for _, n := range im.names {
			out = append(out, im.st.image(n))
		}
	}
	return out, nil
}

// sysContext is the containers/image configuration of the store: its own
// blob-info cache (never the one under /var/lib/containers), big temporary
// files in the operation's work directory, layers kept uncompressed.
func (s *Store) sysContext(workDir string) *types.SystemContext {
	return &types.SystemContext{
		BigFilesTemporaryDir:        workDir,
		BlobInfoCacheDir:            s.cacheDir(),
		OCIAcceptUncompressedLayers: true,
	}
}

// acceptAnything is the signature policy for local files the user handed
// over: there is nothing to verify them against.
func acceptAnything() (*signature.PolicyContext, error) {
	return signature.NewPolicyContext(&signature.Policy{
		Default: signature.PolicyRequirements{signature.NewPRInsecureAcceptAnything()},
	})
}

// copyToLayout copies src, checked against the policy pc, into the OCI layout
// dest (a staging layout in a work directory) and reads back what was stored.
// Progress reports go to progress, if not nil.
func copyToLayout(ctx context.Context, pc *signature.PolicyContext, sys *types.SystemContext, src types.ImageReference, dest string,
	progress chan types.ProgressProperties,
) (*stored, error) {
	destRef, err := layout.NewReference(dest, "")
	if err != nil {
		return nil, err
	}
	opts := &copy.Options{
		SourceCtx:          sys,
		DestinationCtx:     sys,
		ImageListSelection: copy.CopySystemImage,
	}
	if progress != nil {
		opts.Progress, opts.ProgressInterval = progress, progressInterval
	}
	mb, err := copy.Image(ctx, pc, destRef, src, opts)
	if err != nil {
		return nil, err
	}
	d, err := manifest.Digest(mb)
	if err != nil {
		return nil, err
	}
	desc := ocispec.Descriptor{MediaType: manifest.GuessMIMEType(mb), Digest: d, Size: int64(len(mb))}
	return readStored(filepath.Join(dest, "blobs", "sha256"), desc)
}

// dockerSources lists the images of a docker-archive with their RepoTags.
func dockerSources(r *dockerarchive.Reader) ([]source, error) {
	groups, err := r.List()
	if err != nil {
		return nil, fmt.Errorf("read docker-archive: %w", err)
	}
	var out []source
	for _, refs := range groups {
		if len(refs) == 0 {
			continue
		}
		src := source{ref: refs[0]}
		for _, ref := range refs {
			if named := ref.DockerReference(); named != nil {
				n, err := localName(named.String())
				if err != nil {
					return nil, err
				}
				src.names = append(src.names, n)
			}
		}
		out = append(out, src)
	}
	if len(out) == 0 {
		return nil, errors.New("the docker-archive holds no image")
	}
	return out, nil
}

// nameUnnamed gives the fallback name to the one image without a name.
func nameUnnamed(sources []source, fallback string) error {
	var unnamed []int
	for i, s := range sources {
		if len(s.names) == 0 {
			unnamed = append(unnamed, i)
		}
	}
	switch {
	case len(unnamed) == 0:
		return nil
	case fallback == "":
		return fmt.Errorf("%w: image %d of %d in the archive has none; pass one with LoadOptions.Name",
			ErrNoName, unnamed[0]+1, len(sources))
	case len(unnamed) > 1:
		return fmt.Errorf("%w: %d images in the archive have none, and LoadOptions.Name can name only one",
			ErrNoName, len(unnamed))
	}
	sources[unnamed[0]].names = []string{fallback}
	return nil
}
