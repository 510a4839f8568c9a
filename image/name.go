package image

import (
	"fmt"

	"go.podman.io/image/v5/docker/reference"
)

// NormalizeName returns the fully qualified form of an image name, with the
// rules of Kubernetes and Docker: "busybox" becomes
// "docker.io/library/busybox:latest", "localhost/x" becomes "localhost/x:latest",
// "127.0.0.1:5000/a/b:v1" and "repo@sha256:…" are kept. The error names the
// input and wraps ErrInvalidName.
func NormalizeName(name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("normalize image name: the name is empty: %w", ErrInvalidName)
	}
	named, err := reference.ParseNormalizedNamed(name)
	if err != nil {
		return "", withKind(ErrInvalidName, fmt.Errorf("normalize image name %q: %w", name, err))
	}
	return reference.TagNameOnly(named).String(), nil
}

// indexName is the name under which index.json keeps the image called n (a
// normalised name): n itself, or for a name with a digest the repository and
// digest alone, without the tag ("r/x:1@sha256:…" is kept as "r/x@sha256:…";
// the digest decides the content, the tag is decoration).
func indexName(n string) string {
	named, err := reference.ParseNormalizedNamed(n)
	if err != nil {
		return n
	}
	if c, ok := named.(reference.Canonical); ok {
		if d, err := reference.WithDigest(reference.TrimNamed(named), c.Digest()); err == nil {
			return d.String()
		}
	}
	return n
}

// localName normalises a name an image will be stored under: a name with a
// digest cannot be given to content that was not fetched by that digest.
func localName(name string) (string, error) {
	n, err := NormalizeName(name)
	if err != nil {
		return "", err
	}
	named, err := reference.ParseNormalizedNamed(n)
	if err != nil {
		return "", fmt.Errorf("normalize image name %q: %w", name, err)
	}
	if _, ok := named.(reference.Digested); ok {
		return "", fmt.Errorf("image name %q: a name with a digest cannot name a local image; use a tag: %w", name, ErrInvalidName)
	}
	return n, nil
}
