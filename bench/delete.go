package main

import "time"

// Scenario 2, pod delete with grace period 0: `podbox delete POD
// --grace-period 0` until it returns (the containers and pause are dead,
// the network detached, the sandbox and the pod's state removed), against
// `podman pod rm -f -t 0`. The samples come from the rounds of scenario 1,
// which delete the pod each started.

// podboxDelete deletes a podbox pod with grace period 0.
func (b *bench) podboxDelete(name string) (time.Duration, error) {
	return timed(func() error { _, err := b.pb("delete", name, "--grace-period", "0"); return err })
}

// podmanDelete removes a podman pod and its containers at once. podman
// 4.3 sometimes fails to remove a pod with init containers ("dependency
// exists", "container state improper"): it is asked again, up to two more
// times, the time of every try counted, and the retry noted.
func (b *bench) podmanDelete(name string) (time.Duration, error) {
	var err error
	start := time.Now()
	for try := range 3 {
		if _, err = b.pm(b.podman, "pod", "rm", "-f", "-t", "0", name); err == nil {
			if try > 0 {
				b.retries++
			}
			return time.Since(start), nil
		}
	}
	return 0, err
}

// deleteRows adds the delete rows of one network mode of scenario 1.
func (b *bench) deleteRows(mode string, s *startSamples) {
	b.rows = append(b.rows,
		newRow("pod delete, grace 0", mode+" (after pod create + run)", s.pbDelete, "podman pod rm -f -t 0", s.pmDelete, ""),
		newRow("pod delete, grace 0", mode+" (after kube play)", s.pbDelete, "podman pod rm -f -t 0", s.kubeDelete, ""))
}
