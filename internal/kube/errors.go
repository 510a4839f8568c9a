package kube

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNoCommand is returned by Command when neither the container nor its image says what
// to run.
var ErrNoCommand = errors.New("no command specified: the image has no Entrypoint or Cmd and the container sets no command")

// DecodeError lists everything wrong with one document of a manifest. Decode returns one
// per bad document (joined with errors.Join when there are several).
type DecodeError struct {
	// Source names the input, as given to Decode (usually a file name).
	Source string
	// Document is the 1-based position of the document in the stream; 0 when the problem
	// concerns the input as a whole (for example an empty input).
	Document int
	// Problems holds one error per problem, each starting with its field path when it has
	// one (for example "spec.containers[0].imagePullPolcy: unknown field").
	Problems []error
}

// Error prints one line per problem: "<source>: document <n>: <problem>".
func (e *DecodeError) Error() string {
	prefix := e.Source + ": "
	if e.Document > 0 {
		prefix += fmt.Sprintf("document %d: ", e.Document)
	}
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = prefix + p.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the problems, for errors.Is and errors.As.
func (e *DecodeError) Unwrap() []error { return e.Problems }
