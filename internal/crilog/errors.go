package crilog

import "errors"

var (
	// ErrMalformed is wrapped by the error Read returns when a line of the
	// log file is not a CRI log record; the error names the line number.
	ErrMalformed = errors.New("malformed CRI log record")
	// ErrInvalidStream is returned for a stream name other than "stdout"
	// or "stderr" (or "" where any stream is meant).
	ErrInvalidStream = errors.New(`invalid log stream (want "stdout" or "stderr")`)
)
