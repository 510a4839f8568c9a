package main

import "time"

// Scenario 0, the floor under every command: a CLI run that does nothing
// (`podbox version`, `podman version`): process start, Go runtime and
// package initialisation. Every podbox command, and each pod's shim and
// each container's init (the shim binary re-executed by libcontainer),
// pay it once.

// baselineScenario measures scenario 0.
func (b *bench) baselineScenario() error {
	var pbRuns, pmRuns []time.Duration
	pbRound := func(keep bool) error {
		d, err := timed(func() error { _, err := b.pb("version"); return err })
		if keep && err == nil {
			pbRuns = append(pbRuns, d)
		}
		return err
	}
	var pmRound func(bool) error
	if b.podman != nil {
		pmRound = b.peerRound("podman version", func(keep bool) error {
			d, err := timed(func() error { _, err := b.pm(b.podman, "version"); return err })
			if keep && err == nil {
				pmRuns = append(pmRuns, d)
			}
			return err
		})
	}
	if err := alternate(b.warm, b.n, b.stopped, pbRound, pmRound); err != nil {
		return err
	}
	b.rows = append(b.rows, newRow("CLI floor", "a command that does nothing (version)", pbRuns, "podman version", pmRuns, ""))
	return nil
}
