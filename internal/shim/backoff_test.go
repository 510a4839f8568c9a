package shim

import (
	"testing"
	"time"
)

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// TestBackOffCurve walks the shim's use of the back-off: a container that
// crashes right after every start restarts at once the first time, then
// waits base, 2*base, ... up to max (the kubelet's 0, 10s, 20s, 40s, 80s,
// 160s, 300s, 300s).
func TestBackOffCurve(t *testing.T) {
	b := newBackOff(0, 0)
	if b.base != DefaultBackOffBase || b.max != DefaultBackOffMax {
		t.Fatalf("defaults: base %s max %s, want %s %s", b.base, b.max, DefaultBackOffBase, DefaultBackOffMax)
	}
	now := t0
	// First exit: no entry, restart now.
	if w := b.wait("c", now, now); w != 0 {
		t.Fatalf("first restart waits %s, want 0", w)
	}
	if d := b.current("c"); d != 0 {
		t.Fatalf("current before any restart = %s, want 0", d)
	}
	b.next("c", now)
	want := []time.Duration{10, 20, 40, 80, 160, 300, 300, 300}
	for i, w := range want {
		w *= time.Second
		// The container runs one second and exits.
		now = now.Add(time.Second)
		finished := now
		if got := b.wait("c", finished, now); got != b.current("c") || got != w {
			t.Fatalf("restart %d: wait %s (current %s), want %s", i+2, got, b.current("c"), w)
		}
		// Half-way through the wait it is still in back-off.
		if got := b.wait("c", finished, now.Add(w/2)); got != w-w/2 {
			t.Fatalf("restart %d: half-way wait %s, want %s", i+2, got, w-w/2)
		}
		// The timer fires: the shim records the restart and starts it.
		now = now.Add(w)
		if got := b.wait("c", finished, now); got != 0 {
			t.Fatalf("restart %d: wait after the delay %s, want 0", i+2, got)
		}
		b.next("c", now)
	}
}

// TestBackOffLongRun: a container that ran longer than its delay before
// exiting restarts at once, but the delay keeps growing until the entry
// expires.
func TestBackOffLongRun(t *testing.T) {
	b := newBackOff(10*time.Second, 300*time.Second)
	b.next("c", t0)
	finished := t0.Add(time.Minute)
	if w := b.wait("c", finished, finished.Add(10*time.Second)); w != 0 {
		t.Errorf("exit at +1m, now +1m10s: wait %s, want 0", w)
	}
	if w := b.wait("c", finished, finished.Add(3*time.Second)); w != 7*time.Second {
		t.Errorf("exit at +1m, now +1m3s: wait %s, want 7s", w)
	}
}

// TestBackOffReset: an entry untouched for more than 2*max starts over (the
// kubelet's "reset after 10 minutes"); at exactly 2*max it still holds.
func TestBackOffReset(t *testing.T) {
	b := newBackOff(10*time.Second, 300*time.Second)
	last := t0
	b.next("c", last)
	for range 6 {
		last = last.Add(time.Second)
		b.next("c", last)
	}
	if d := b.current("c"); d != 300*time.Second {
		t.Fatalf("after 7 restarts current = %s, want 5m0s", d)
	}
	edge := last.Add(600 * time.Second)
	if w := b.wait("c", edge, edge); w != 300*time.Second {
		t.Errorf("exit exactly 2*max after the last restart: wait %s, want 5m0s", w)
	}
	later := last.Add(600*time.Second + time.Nanosecond)
	if w := b.wait("c", later, later); w != 0 {
		t.Errorf("exit after 2*max: wait %s, want 0 (expired)", w)
	}
	b.next("c", later)
	if d := b.current("c"); d != 10*time.Second {
		t.Errorf("after expiry current = %s, want base 10s", d)
	}
	// Not expired: it keeps growing from there.
	b.next("c", later.Add(time.Second))
	if d := b.current("c"); d != 20*time.Second {
		t.Errorf("after expiry and one restart current = %s, want 20s", d)
	}
}

// TestBackOffKeys checks that containers back off independently.
func TestBackOffKeys(t *testing.T) {
	b := newBackOff(time.Second, 4*time.Second)
	b.next("a", t0)
	b.next("a", t0)
	b.next("a", t0)
	b.next("b", t0)
	if a, c := b.current("a"), b.current("b"); a != 4*time.Second || c != time.Second {
		t.Errorf("current a=%s b=%s, want 4s 1s", a, c)
	}
	if w := b.wait("z", t0, t0); w != 0 {
		t.Errorf("unknown key waits %s, want 0", w)
	}
}

func TestNewBackOffClamps(t *testing.T) {
	tests := []struct {
		base, max, wantBase, wantMax time.Duration
	}{
		{0, 0, DefaultBackOffBase, DefaultBackOffMax},
		{-1, -1, DefaultBackOffBase, DefaultBackOffMax},
		{time.Second, 0, time.Second, DefaultBackOffMax},
		{time.Minute, time.Second, time.Minute, time.Minute},
		{100 * time.Millisecond, time.Second, 100 * time.Millisecond, time.Second},
	}
	for _, tt := range tests {
		b := newBackOff(tt.base, tt.max)
		if b.base != tt.wantBase || b.max != tt.wantMax {
			t.Errorf("newBackOff(%s, %s) = base %s max %s, want %s %s", tt.base, tt.max, b.base, b.max, tt.wantBase, tt.wantMax)
		}
	}
	// A max equal to base: the delay never grows.
	b := newBackOff(time.Minute, time.Second)
	b.next("c", t0)
	b.next("c", t0)
	if d := b.current("c"); d != time.Minute {
		t.Errorf("max clamped to base: current = %s, want 1m0s", d)
	}
}
