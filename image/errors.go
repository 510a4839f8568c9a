package image

import "errors"

var (
	// ErrNotFound is returned (wrapped, with the normalised name) when no
	// image has the name asked for.
	ErrNotFound = errors.New("image not found")
	// ErrInUse is returned by Remove when a live Mount still uses the image.
	ErrInUse = errors.New("image is in use by a container")
	// ErrNoName is returned by Load and Pull when an image carries no usable
	// name and the options name none either.
	ErrNoName = errors.New("image has no name")
	// ErrInvalidName is wrapped by every error about an image reference that
	// does not parse (podbox reports InvalidImageName for it), and by Pull's
	// ErrNoName errors.
	ErrInvalidName = errors.New("invalid image name")
	// ErrPull is wrapped by every error of Pull that is not about the name:
	// the registry refused or failed (authentication required, manifest
	// unknown, connection refused, ...), a blob did not match its digest, the
	// signature policy rejected the image, the store could not keep it. The
	// message is containers/image's.
	ErrPull = errors.New("image pull failed")
)

// kindError gives err the sentinel kind for errors.Is without changing its
// message.
type kindError struct {
	kind error
	err  error
}

func (e *kindError) Error() string   { return e.err.Error() }
func (e *kindError) Unwrap() []error { return []error{e.kind, e.err} }

// withKind marks err as a kind error (ErrPull, ErrInvalidName), unless it
// is one already or nil.
func withKind(kind, err error) error {
	if err == nil || errors.Is(err, kind) {
		return err
	}
	return &kindError{kind: kind, err: err}
}
