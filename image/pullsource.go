//go:build !podbox_shim

package image

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/directory"
	"go.podman.io/image/v5/docker"
	dockerarchive "go.podman.io/image/v5/docker/archive"
	"go.podman.io/image/v5/docker/reference"
	ociarchive "go.podman.io/image/v5/oci/archive"
	"go.podman.io/image/v5/oci/layout"
	"go.podman.io/image/v5/pkg/compression"
	"go.podman.io/image/v5/signature"
	"go.podman.io/image/v5/types"
)

// localTransports are the transports other than docker:// that Pull takes,
// with their parsers (called directly: nothing depends on which transports
// some import registered).
var localTransports = map[string]func(string) (types.ImageReference, error){
	"oci":            layout.ParseReference,
	"oci-archive":    ociarchive.ParseReference,
	"docker-archive": dockerarchive.ParseReference,
	"dir":            directory.Transport.ParseReference,
}

// defaultPolicyPath is the signature policy used when PullOptions.PolicyPath
// is empty.
const defaultPolicyPath = "/etc/containers/policy.json"

// pullSource is a parsed Pull reference.
type pullSource struct {
	ref       types.ImageReference
	transport string // "docker", "oci", "oci-archive", "docker-archive" or "dir"
	within    string // the reference without the transport prefix
	// name is the index name: for the docker transport the normalised
	// reference (a digest one without its tag); for the others the name the
	// source carries, or "" until sourceName finds it.
	name string
	repo reference.Named // docker transport: the repository, without tag or digest
}

// parsePullRef parses a Pull reference: a transport reference (oci:,
// oci-archive:, docker-archive:, dir:, docker://) or a Kubernetes / docker
// image name. Errors wrap ErrInvalidName.
func parsePullRef(s string) (*pullSource, error) {
	if t, rest, ok := strings.Cut(s, ":"); ok {
		switch {
		case t == "docker" && strings.HasPrefix(rest, "//"):
			return parseDockerRef(strings.TrimPrefix(rest, "//"))
		case localTransports[t] != nil:
			ref, err := localTransports[t](rest)
			if err != nil {
				return nil, withKind(ErrInvalidName, fmt.Errorf("parse %s reference %q: %w", t, rest, err))
			}
			return &pullSource{ref: ref, transport: t, within: rest}, nil
		}
	}
	return parseDockerRef(s)
}

// parseDockerRef parses a registry image name.
func parseDockerRef(s string) (*pullSource, error) {
	n, err := NormalizeName(s)
	if err != nil {
		return nil, err
	}
	key := indexName(n) // containers/image takes a tag or a digest, not both
	named, err := reference.ParseNormalizedNamed(key)
	if err != nil {
		return nil, withKind(ErrInvalidName, fmt.Errorf("parse image name %q: %w", s, err))
	}
	ref, err := docker.NewReference(named)
	if err != nil {
		return nil, withKind(ErrInvalidName, fmt.Errorf("image name %q: %w", s, err))
	}
	return &pullSource{ref: ref, transport: "docker", within: "//" + key, name: key, repo: reference.TrimNamed(named)}, nil
}

// String is the reference as the user would write it.
func (p *pullSource) String() string {
	if p.transport == "docker" {
		return p.name
	}
	return p.transport + ":" + p.within
}

// sourceName finds the name an image from a local transport is stored under:
// the one its reference or archive gives (a docker-archive's RepoTags, an OCI
// layout's or oci-archive's io.containerd.image.name annotation or whole
// reference in org.opencontainers.image.ref.name), else fallback. The error
// wraps ErrNoName and ErrInvalidName if there is none.
func sourceName(p *pullSource, sys *types.SystemContext, fallback string) (string, error) {
	var n string
	var err error
	switch p.transport {
	case "docker-archive":
		n, err = dockerArchiveName(p.ref, sys)
	case "oci":
		dir, image, _ := strings.Cut(p.within, ":")
		var idx *ocispec.Index
		if idx, err = readLayoutIndex(dir); err == nil {
			n, err = ociIndexName(idx, image)
		}
	case "oci-archive":
		file, image, _ := strings.Cut(p.within, ":")
		var idx *ocispec.Index
		if idx, err = readArchiveIndex(file); err == nil {
			n, err = ociIndexName(idx, image)
		}
	}
	if err != nil {
		return "", fmt.Errorf("read the image name from %s: %w", p, err)
	}
	if n == "" {
		n = fallback
	}
	if n == "" {
		return "", fmt.Errorf("%w: %s names no image; pass one with PullOptions.Name: %w", ErrNoName, p, ErrInvalidName)
	}
	return n, nil
}

// dockerArchiveName is the name of the docker-archive reference: its own
// reference, or the first RepoTag of the archive's only image.
func dockerArchiveName(ref types.ImageReference, sys *types.SystemContext) (string, error) {
	if named := ref.DockerReference(); named != nil {
		return localName(named.String())
	}
	if strings.Contains(ref.StringWithinTransport(), ":@") { // an image by index: no name
		return "", nil
	}
	path, _, _ := strings.Cut(ref.StringWithinTransport(), ":")
	r, err := dockerarchive.NewReader(sys, path)
	if err != nil {
		return "", err
	}
	defer func() { _ = r.Close() }()
	groups, err := r.List()
	if err != nil || len(groups) != 1 {
		return "", err // several images: containers/image refuses the reference anyway
	}
	for _, ref := range groups[0] {
		if named := ref.DockerReference(); named != nil {
			return localName(named.String())
		}
	}
	return "", nil
}

// ociIndexName is the name of the image an oci: or oci-archive: reference
// with this image part ("", a ref.name, or "@index") selects in idx.
func ociIndexName(idx *ocispec.Index, image string) (string, error) {
	if strings.HasPrefix(image, "@") {
		i, err := strconv.Atoi(image[1:])
		if err != nil || i < 0 || i >= len(idx.Manifests) {
			return "", nil // containers/image reports the bad index
		}
		return ociName(idx.Manifests[i])
	}
	if image == "" {
		if len(idx.Manifests) != 1 {
			return "", nil
		}
		return ociName(idx.Manifests[0])
	}
	if strings.ContainsAny(image, "/:") { // a whole reference: that is the name
		return localName(image)
	}
	for _, d := range idx.Manifests {
		if refName(d) == image {
			return ociName(d)
		}
	}
	return "", nil
}

func readLayoutIndex(dir string) (*ocispec.Index, error) {
	data, err := os.ReadFile(filepath.Join(dir, ocispec.ImageIndexFile))
	if err != nil {
		return nil, err
	}
	return parseIndex(data)
}

func parseIndex(data []byte) (*ocispec.Index, error) {
	var idx ocispec.Index
	if err := json.Unmarshal(data, &idx); err != nil {
		return nil, fmt.Errorf("parse index.json: %w", err)
	}
	return &idx, nil
}

// readArchiveIndex reads index.json out of an oci-archive, without
// extracting anything else.
func readArchiveIndex(file string) (*ocispec.Index, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rc, _, err := compression.AutoDecompress(f)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, errors.New("the oci-archive has no index.json")
		} else if err != nil {
			return nil, err
		}
		if hdr.Typeflag == tar.TypeReg && archiveEntry(hdr.Name) == ocispec.ImageIndexFile {
			data, err := io.ReadAll(io.LimitReader(tr, maxJSONBlob))
			if err != nil {
				return nil, err
			}
			return parseIndex(data)
		}
	}
}

// pullPolicy is the signature policy of a pull: the file at path, or if path
// is empty /etc/containers/policy.json, or if that does not exist either,
// accept anything (as podman and skopeo do). An explicit path that does not
// exist is an error.
func pullPolicy(path string) (*signature.PolicyContext, error) {
	explicit := path != ""
	if !explicit {
		path = defaultPolicyPath
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) && !explicit {
		return acceptAnything()
	} else if err != nil {
		return nil, fmt.Errorf("signature policy: %w", err)
	}
	pol, err := signature.NewPolicyFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("signature policy %s: %w", path, err)
	}
	return signature.NewPolicyContext(pol)
}

// pullSysContext is the containers/image configuration of one pull.
func (s *Store) pullSysContext(workDir string, opts PullOptions) *types.SystemContext {
	sys := s.sysContext(workDir)
	sys.AuthFilePath = opts.AuthFile
	sys.SystemRegistriesConfPath = opts.RegistriesConf
	sys.SystemRegistriesConfDirPath = opts.RegistriesConfDir
	sys.SignaturePolicyPath = opts.PolicyPath
	sys.DockerRegistryUserAgent = "podbox"
	if opts.TLSVerify != nil {
		sys.DockerInsecureSkipTLSVerify = types.NewOptionalBool(!*opts.TLSVerify)
	}
	return sys
}

// openedRef is a reference whose image source is open already: copy.Image
// then reads the manifest that Pull resolved, without asking the registry
// again (and so copies exactly the image of that digest). copy.Image closes
// the source; if it never took it, Close does.
type openedRef struct {
	types.ImageReference
	src   types.ImageSource
	taken bool
}

func (r *openedRef) NewImageSource(context.Context, *types.SystemContext) (types.ImageSource, error) {
	if r.taken {
		return nil, errors.New("internal error: the opened image source was taken already")
	}
	r.taken = true
	return r.src, nil
}

// Close closes the source unless copy.Image took it.
func (r *openedRef) Close() {
	if !r.taken {
		r.taken = true
		_ = r.src.Close()
	}
}
