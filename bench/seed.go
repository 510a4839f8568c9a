package main

import (
	"encoding/json"
	"time"
)

// Scenario 3, the seed pod: the shape of the Kubernetes docs' myapp-pod,
// two init containers (an echo, then a short sleep) that run to completion
// one after the other, then the app, from the command until the app runs.
// podbox: `podbox run --wait --for=condition=Ready` (a plain run returns
// while the pod initialises); the peer: `podman kube play` of the same
// manifest, which returns once the init containers have exited and the app
// started, and the same by hand: `podman pod create`, `podman run` of each
// init container (attached: it returns when the container exits), then
// `podman run -d` of the app. podman 4.3's kube play fails on pods with
// init containers on loaded machines ("failed to remove once init
// container ... as it is running", podman#18477, fixed in 4.6): the second
// peer keeps a comparison when it does.

// seedManifest is the seed pod, as JSON.
func seedManifest() string {
	ctr := func(name string, cmd ...string) map[string]any {
		return map[string]any{"name": name, "image": benchImage, "command": cmd}
	}
	pod := map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": "seed"},
		"spec": map[string]any{
			"terminationGracePeriodSeconds": 0,
			"initContainers": []any{
				ctr("init-myservice", "sh", "-c", "echo myservice is up"),
				ctr("init-mydb", "sh", "-c", "sleep 0.01; echo mydb is up"),
			},
			"containers": []any{ctr("myapp", "sleep", "3600")},
		},
	}
	data, _ := json.Marshal(pod)
	return string(data)
}

// seedScenario measures scenario 3 on the bench's network.
func (b *bench) seedScenario() error {
	file, err := b.writeManifest("seed.json", seedManifest())
	if err != nil {
		return err
	}
	var pbStart, pbDel, pmStart, pmDel, byHand, byHandDel []time.Duration
	pbRound := func(keep bool) error {
		start, err := timed(func() error {
			_, err := b.pb("run", "-f", file, "--wait", "--for=condition=Ready", "--timeout", "60s")
			return err
		})
		if err != nil {
			return err
		}
		if err := b.podboxRunning("seed"); err != nil {
			return err
		}
		del, err := b.podboxDelete("seed")
		if keep && err == nil {
			pbStart, pbDel = append(pbStart, start), append(pbDel, del)
		}
		return err
	}
	var pmRound, handRound func(bool) error
	if b.podman != nil {
		handRound = b.peerRound("podman pod create + run of each container", func(keep bool) error {
			start, err := timed(b.seedByHand)
			if err == nil {
				err = b.podmanRunning("seed", "seed-myapp")
			}
			if err != nil {
				_, _ = b.podmanDelete("seed")
				return err
			}
			del, err := b.podmanDelete("seed")
			if keep && err == nil {
				byHand, byHandDel = append(byHand, start), append(byHandDel, del)
			}
			return err
		})
		pmRound = b.peerRound("podman kube play of the seed pod", func(keep bool) error {
			start, del, err := b.kubePlayDelete(file, "seed", "myapp", false)
			if keep && err == nil {
				pmStart, pmDel = append(pmStart, start), append(pmDel, del)
			}
			return err
		})
	}
	if err := alternate(b.warm, b.n, b.stopped, pbRound, pmRound, handRound); err != nil {
		return err
	}
	b.rows = append(b.rows,
		newRow("seed pod to app running", "networked, 2 init + 1 app", pbStart, "podman kube play", pmStart, ""),
		newRow("seed pod to app running", "networked, 2 init + 1 app", pbStart, "podman pod create + run ×3", byHand, ""),
		newRow("pod delete, grace 0", "seed pod (after kube play)", pbDel, "podman pod rm -f -t 0", pmDel, ""),
		newRow("pod delete, grace 0", "seed pod (after run ×3)", pbDel, "podman pod rm -f -t 0", byHandDel, ""))
	return nil
}

// seedByHand makes the seed pod with podman commands: the pod, each init
// container run to its exit in turn, then the app.
func (b *bench) seedByHand() error {
	p := b.podman
	if _, err := b.pm(p, "pod", "create", "--name", "seed", "--network", podmanNetwork); err != nil {
		return err
	}
	for _, c := range [][]string{{"seed-init-myservice", "echo myservice is up"}, {"seed-init-mydb", "sleep 0.01; echo mydb is up"}} {
		if _, err := b.pm(p, "run", "--pod", "seed", "--name", c[0], benchImage, "sh", "-c", c[1]); err != nil {
			return err
		}
	}
	_, err := b.pm(p, "run", "-d", "--pod", "seed", "--name", "seed-myapp", benchImage, "sleep", "3600")
	return err
}
