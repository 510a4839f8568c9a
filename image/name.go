package image

import (
	"errors"
	"fmt"

	"go.podman.io/image/v5/docker/reference"
)

// NormalizeName returns the fully qualified form of an image name, with the
// rules of Kubernetes and Docker: "busybox" becomes
// "docker.io/library/busybox:latest", "localhost/x" becomes "localhost/x:latest",
// "127.0.0.1:5000/a/b:v1" and "repo@sha256:…" are kept. The error names the
// input.
func NormalizeName(name string) (string, error) {
	if name == "" {
		return "", errors.New("normalize image name: the name is empty")
	}
	named, err := reference.ParseNormalizedNamed(name)
	if err != nil {
		return "", fmt.Errorf("normalize image name %q: %w", name, err)
	}
	return reference.TagNameOnly(named).String(), nil
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
		return "", fmt.Errorf("image name %q: a name with a digest cannot name a local image; use a tag", name)
	}
	return n, nil
}
