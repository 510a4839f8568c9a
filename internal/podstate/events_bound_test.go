package podstate

import (
	"fmt"
	"strings"
	"testing"
)

// Events stay bounded: long messages are cut, the oldest go past the cap,
// repeats still fold.
func TestEventsBounded(t *testing.T) {
	var evs []Event
	for i := 0; i < maxEvents+50; i++ {
		evs = AddEvent(evs, Event{Type: "Warning", Reason: "Unhealthy", Message: fmt.Sprintf("probe failed %d", i)})
	}
	if len(evs) != maxEvents || evs[0].Message != "probe failed 50" {
		t.Errorf("%d events, first %q; want %d, the oldest dropped", len(evs), evs[0].Message, maxEvents)
	}
	evs = AddEvent(evs, Event{Type: "Warning", Reason: "Unhealthy", Message: "probe failed 549"})
	if n := evs[len(evs)-1].Count; n != 2 || len(evs) != maxEvents {
		t.Errorf("a repeat was not folded: count %d, %d events", n, len(evs))
	}
	evs = AddEvent(nil, Event{Message: strings.Repeat("x", 5000)})
	if l := len(evs[0].Message); l != maxEventMessage || !strings.HasSuffix(evs[0].Message, "...") {
		t.Errorf("message of %d bytes, want cut to %d", l, maxEventMessage)
	}
}
