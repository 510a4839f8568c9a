package main

import (
	"math"
	"slices"
	"time"
)

// Summary describes the samples of one measurement, in the row's unit
// (milliseconds unless the row says otherwise).
type Summary struct {
	N      int     `json:"n"`
	Min    float64 `json:"min"`
	Median float64 `json:"median"`
	P90    float64 `json:"p90"`
	Max    float64 `json:"max"`
}

// summarize summarizes durations in milliseconds; nil for no samples.
func summarize(ds []time.Duration) *Summary {
	v := make([]float64, len(ds))
	for i, d := range ds {
		v[i] = float64(d.Microseconds()) / 1000
	}
	return summarizeFloat(v)
}

// summarizeFloat computes min, median, p90 (nearest rank) and max of v;
// nil for no samples.
func summarizeFloat(v []float64) *Summary {
	if len(v) == 0 {
		return nil
	}
	s := slices.Clone(v)
	slices.Sort(s)
	median := s[len(s)/2]
	if len(s)%2 == 0 {
		median = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	p90 := s[int(math.Ceil(0.9*float64(len(s))))-1]
	r := func(f float64) float64 { return math.Round(f*10) / 10 }
	return &Summary{N: len(s), Min: r(s[0]), Median: r(median), P90: r(p90), Max: r(s[len(s)-1])}
}

// Row is one line of the results: a measurement of podbox and, where there
// is one, of the peer doing the same thing, with the ratio of the medians
// (podbox/peer: below 1 means podbox is faster).
type Row struct {
	Scenario string   `json:"scenario"`
	Case     string   `json:"case"`
	Unit     string   `json:"unit,omitempty"` // "ms" (default) or "KiB"
	Podbox   *Summary `json:"podbox,omitempty"`
	Peer     string   `json:"peer,omitempty"`
	PeerRun  *Summary `json:"peerRun,omitempty"`
	Ratio    float64  `json:"ratio,omitempty"`
	Note     string   `json:"note,omitempty"`
}

// newRow summarizes the samples of podbox and its peer.
func newRow(scenario, what string, podbox []time.Duration, peer string, peerRun []time.Duration, note string) Row {
	r := Row{Scenario: scenario, Case: what, Podbox: summarize(podbox), Peer: peer, PeerRun: summarize(peerRun), Note: note}
	r.setRatio()
	return r
}

func (r *Row) setRatio() {
	if r.Podbox != nil && r.PeerRun != nil && r.PeerRun.Median > 0 {
		r.Ratio = math.Round(r.Podbox.Median/r.PeerRun.Median*1000) / 1000
	}
}

// alternate runs podbox's round and the peers' rounds in turn, warm
// rounds first (dropped), the order flipped every round so that neither
// side always runs first. Each round function records its own samples and
// returns an error to stop.
func alternate(warm, n int, stop func() bool, rounds ...func(keep bool) error) error {
	for i := range warm + n {
		if stop() {
			return errInterrupted
		}
		order := slices.Clone(rounds)
		if i%2 == 1 {
			slices.Reverse(order)
		}
		for _, r := range order {
			if r == nil {
				continue
			}
			if err := r(i >= warm); err != nil {
				return err
			}
		}
	}
	return nil
}
