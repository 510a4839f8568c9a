package sandbox

import (
	"context"
	"errors"
	"os"
	"time"
)

// Event is one thing that happened to a pod, as kubectl describe lists
// events: repeats are folded into one with a count.
type Event struct {
	Type    string // Normal or Warning
	Reason  string // Scheduled, Pulling, Pulled, Created, Started, Killing, BackOff, Failed, ...
	Object  string // the container, e.g. spec.containers{app}; empty for the pod
	Message string
	Count   int
	First   time.Time
	Last    time.Time
}

// Events returns a pod's events, oldest first. They are kept with the pod
// (and survive its shim) until it is deleted.
func (r *Runtime) Events(ctx context.Context, namespace, name string) ([]Event, error) {
	namespace, dir, err := r.podDir(namespace, name)
	if err != nil {
		return nil, err
	}
	if _, err := dir.ReadRecord(); errors.Is(err, os.ErrNotExist) {
		return nil, notFound(namespace, name)
	}
	evs, err := dir.ReadEvents()
	if err != nil {
		return nil, err
	}
	out := make([]Event, len(evs))
	for i, e := range evs {
		out[i] = Event{Type: e.Type, Reason: e.Reason, Object: e.Object, Message: e.Message, Count: e.Count, First: e.First, Last: e.Last}
	}
	return out, nil
}
