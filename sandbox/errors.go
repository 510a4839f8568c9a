package sandbox

import (
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Errors callers can test with errors.Is.
var (
	// ErrNotFound: no such pod.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists: a pod with that namespace and name exists.
	ErrAlreadyExists = errors.New("already exists")
	// ErrInvalid: the pod failed validation (see InvalidError).
	ErrInvalid = errors.New("invalid")
	// ErrShimGone: the pod's shim is not running.
	ErrShimGone = errors.New("the pod's shim is not running")
	// ErrCannotRecover: the pod's shim died and what it left does not let
	// a new one take over (it was started by a podbox without take-over);
	// delete the pod.
	ErrCannotRecover = errors.New("its shim died and was started by a podbox that cannot be taken over from: delete the pod")
)

// InvalidError lists every problem found in a pod, with field paths, like
// the API server's validation errors.
type InvalidError struct {
	Namespace, Name string
	Errs            field.ErrorList
}

func (e *InvalidError) Error() string {
	msgs := make([]string, len(e.Errs))
	for i, err := range e.Errs {
		msgs[i] = err.Error()
	}
	if len(msgs) == 1 {
		return fmt.Sprintf("Pod %q is invalid: %s", e.Name, msgs[0])
	}
	return fmt.Sprintf("Pod %q is invalid: [%s]", e.Name, strings.Join(msgs, ", "))
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

func notFound(namespace, name string) error {
	return fmt.Errorf("pods %q %w in namespace %q", name, ErrNotFound, namespace)
}
