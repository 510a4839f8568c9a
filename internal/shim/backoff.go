package shim

import "time"

// Kubelet defaults for the container restart back-off.
const (
	DefaultBackOffBase = 10 * time.Second
	DefaultBackOffMax  = 300 * time.Second
)

// backOff is the kubelet's per-container restart back-off (client-go's
// flowcontrol.Backoff as the kubelet uses it): the first restart is
// immediate; after that each restart waits base, 2*base, ... up to max,
// counted from the last exit; an entry untouched for 2*max starts over.
type backOff struct {
	base, max time.Duration
	entries   map[string]*backOffEntry
}

type backOffEntry struct {
	delay      time.Duration
	lastUpdate time.Time
}

func newBackOff(base, max time.Duration) *backOff {
	if base <= 0 {
		base = DefaultBackOffBase
	}
	if max <= 0 {
		max = DefaultBackOffMax
	}
	if max < base {
		max = base
	}
	return &backOff{base: base, max: max, entries: map[string]*backOffEntry{}}
}

// wait returns how long a restart of key must still wait, given that the
// container last exited at finished; 0 means it may start now.
func (b *backOff) wait(key string, finished, now time.Time) time.Duration {
	e, ok := b.entries[key]
	if !ok || b.expired(e, now) {
		return 0
	}
	if until := finished.Add(e.delay); now.Before(until) {
		return until.Sub(now)
	}
	return 0
}

// current returns the delay the entry for key holds (for messages).
func (b *backOff) current(key string) time.Duration {
	if e, ok := b.entries[key]; ok {
		return e.delay
	}
	return 0
}

// next records a restart of key at now and grows its delay.
func (b *backOff) next(key string, now time.Time) {
	e, ok := b.entries[key]
	if !ok || b.expired(e, now) {
		b.entries[key] = &backOffEntry{delay: b.base, lastUpdate: now}
		return
	}
	e.delay *= 2
	if e.delay > b.max {
		e.delay = b.max
	}
	e.lastUpdate = now
}

func (b *backOff) expired(e *backOffEntry, now time.Time) bool {
	return now.Sub(e.lastUpdate) > 2*b.max
}
