package main

import "time"

// Scenario 6, exec: `podbox exec POD -- true` into the running container
// of a pod (networked) until it returns, against `podman exec CTR true`.

// execScenario measures scenario 6.
func (b *bench) execScenario() error {
	file, err := b.writeManifest("exec.json", podManifest("bench-exec", false))
	if err != nil {
		return err
	}
	if _, err := b.pb("run", "-f", file); err != nil {
		return err
	}
	defer func() { _, _ = b.podboxDelete("bench-exec") }()
	var pbRuns, pmRuns []time.Duration
	pbRound := func(keep bool) error {
		d, err := timed(func() error { _, err := b.pb("exec", "bench-exec", "--", "true"); return err })
		if keep {
			pbRuns = append(pbRuns, d)
		}
		return err
	}
	var pmRound func(bool) error
	if b.podman != nil {
		ready := false
		pmRound = b.peerRound("podman exec", func(keep bool) error {
			if !ready {
				if _, err := b.pm(b.podman, "pod", "create", "--name", "bench-exec", "--network", podmanNetwork); err != nil {
					return err
				}
				if _, err := b.pm(b.podman, "run", "-d", "--pod", "bench-exec", "--name", "bench-exec-a", benchImage, "sleep", "3600"); err != nil {
					return err
				}
				ready = true
			}
			d, err := timed(func() error { _, err := b.pm(b.podman, "exec", "bench-exec-a", "true"); return err })
			if keep {
				pmRuns = append(pmRuns, d)
			}
			return err
		})
		defer func() { _, _ = b.pm(b.podman, "pod", "rm", "-f", "-t", "0", "bench-exec") }()
	}
	if err := alternate(b.warm, b.n, b.stopped, pbRound, pmRound); err != nil {
		return err
	}
	b.rows = append(b.rows, newRow("exec", "`true` in a running container", pbRuns, "podman exec", pmRuns, ""))
	return nil
}
