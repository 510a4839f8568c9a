package main

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	tests := []struct {
		in   []float64
		want Summary
	}{
		{[]float64{5}, Summary{N: 1, Min: 5, Median: 5, P90: 5, Max: 5}},
		{[]float64{4, 1, 3, 2}, Summary{N: 4, Min: 1, Median: 2.5, P90: 4, Max: 4}},
		{[]float64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, Summary{N: 10, Min: 1, Median: 5.5, P90: 9, Max: 10}},
		{[]float64{3, 1, 2}, Summary{N: 3, Min: 1, Median: 2, P90: 3, Max: 3}},
	}
	for _, tt := range tests {
		if got := summarizeFloat(tt.in); got == nil || *got != tt.want {
			t.Errorf("summarizeFloat(%v) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
	if summarizeFloat(nil) != nil {
		t.Error("summarizeFloat(nil) is not nil")
	}
	if got := summarize([]time.Duration{1500 * time.Microsecond}); got.Median != 1.5 {
		t.Errorf("summarize(1.5ms) median = %v, want 1.5", got.Median)
	}
}

func TestRatio(t *testing.T) {
	r := newRow("s", "c", []time.Duration{50 * time.Millisecond}, "peer", []time.Duration{200 * time.Millisecond}, "")
	if r.Ratio != 0.25 {
		t.Errorf("ratio = %v, want 0.25", r.Ratio)
	}
	if r := newRow("s", "c", []time.Duration{time.Millisecond}, "peer", nil, ""); r.Ratio != 0 || r.PeerRun != nil {
		t.Errorf("no peer samples: ratio %v, peer %+v", r.Ratio, r.PeerRun)
	}
}

func TestAlternate(t *testing.T) {
	var order []string
	var kept []bool
	a := func(keep bool) error { order = append(order, "a"); kept = append(kept, keep); return nil }
	b := func(bool) error { order = append(order, "b"); return nil }
	if err := alternate(1, 2, func() bool { return false }, a, nil, b); err != nil {
		t.Fatal(err)
	}
	if want := []string{"a", "b", "b", "a", "a", "b"}; !slices.Equal(order, want) {
		t.Errorf("order %v, want %v", order, want)
	}
	if want := []bool{false, true, true}; !slices.Equal(kept, want) {
		t.Errorf("kept %v, want %v", kept, want)
	}
	if err := alternate(0, 3, func() bool { return true }, a); !errors.Is(err, errInterrupted) {
		t.Errorf("stopped: %v, want errInterrupted", err)
	}
}

func TestSplitRule(t *testing.T) {
	got := splitRule(`FORWARD -m comment --comment "netavark firewall plugin rules" -j NETAVARK_FORWARD`)
	want := []string{"FORWARD", "-m", "comment", "--comment", "netavark firewall plugin rules", "-j", "NETAVARK_FORWARD"}
	if !slices.Equal(got, want) {
		t.Errorf("splitRule = %q, want %q", got, want)
	}
}

func TestMarkdown(t *testing.T) {
	r := &Results{Rounds: 2, Pods: 3, Rows: []Row{
		newRow("pod start", "networked", []time.Duration{40 * time.Millisecond, 60 * time.Millisecond}, "podman", []time.Duration{200 * time.Millisecond, 300 * time.Millisecond}, ""),
		newRow("exec", "true", []time.Duration{time.Millisecond}, "podman exec", nil, ""),
	}, Notes: []string{"podman exec failed"}}
	md := r.markdown()
	for _, want := range []string{"| pod start | networked | 40.0 / **50.0** / 60.0 / 60.0 ms | podman | 200 / **250** / 300 / 300 ms | 0.20 |",
		"podman exec (not measured)", "- podman exec failed"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}
