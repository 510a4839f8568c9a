package image

import "errors"

var (
	// ErrNotFound is returned (wrapped, with the normalised name) when no
	// image has the name asked for.
	ErrNotFound = errors.New("image not found")
	// ErrInUse is returned by Remove when a live Mount still uses the image.
	ErrInUse = errors.New("image is in use by a container")
	// ErrNoName is returned by Load when an image in the archive carries no
	// usable name and LoadOptions.Name is empty.
	ErrNoName = errors.New("image has no name")
)
