package podstate

import (
	"errors"
	"os"
	"time"
)

// Event is one thing that happened to a pod, as kubectl describe shows
// events: repeats of the same event are folded into one with a count.
type Event struct {
	Type    string    `json:"type"` // Normal or Warning
	Reason  string    `json:"reason"`
	Object  string    `json:"object,omitempty"` // e.g. spec.containers{app}
	Message string    `json:"message"`
	Count   int       `json:"count"`
	First   time.Time `json:"firstTimestamp"`
	Last    time.Time `json:"lastTimestamp"`
}

// ReadEvents reads a pod's events (none if the file does not exist).
func (d Dir) ReadEvents() ([]Event, error) {
	var evs []Event
	err := readJSON(d.EventsFile(), &evs)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return evs, err
}

// WriteEvents writes a pod's events atomically.
func (d Dir) WriteEvents(evs []Event) error { return writeJSON(d.EventsFile(), evs) }

// Bounds on what a pod keeps: the API server takes event messages of up
// to 1 KiB, and a cluster keeps events for an hour; a pod here keeps its
// last maxEvents (a probe failing with a changing output for days must not
// grow the file, rewritten on every change, without end).
const (
	maxEventMessage = 1024
	maxEvents       = 500
)

// AddEvent appends an event to the list, or folds it into the last one
// with the same type, reason, object and message. A long message is cut
// to 1 KiB; past maxEvents the oldest events go.
func AddEvent(evs []Event, e Event) []Event {
	if len(e.Message) > maxEventMessage {
		e.Message = e.Message[:maxEventMessage-3] + "..."
	}
	for i := len(evs) - 1; i >= 0; i-- {
		x := &evs[i]
		if x.Type == e.Type && x.Reason == e.Reason && x.Object == e.Object && x.Message == e.Message {
			x.Count++
			x.Last = e.Last
			return evs
		}
	}
	if e.Count == 0 {
		e.Count = 1
	}
	evs = append(evs, e)
	if len(evs) > maxEvents {
		evs = append(evs[:0], evs[len(evs)-maxEvents:]...)
	}
	return evs
}
