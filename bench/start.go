package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Scenario 1, pod start: pause and one busybox `sleep 3600` container, from
// the command until the container runs, on the bench's network and with
// hostNetwork. The peer does the same with `podman pod create` + `podman
// run -d --pod` and with `podman kube play` of the same manifest. Every
// round deletes its pod with grace period 0 and records how long that took
// (scenario 2, delete.go).

// podManifest is the pod of scenarios 1, 2, 4 and 6, as JSON (which
// podman kube play reads as YAML).
func podManifest(name string, hostNetwork bool) string {
	pod := map[string]any{
		"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": name},
		"spec": map[string]any{
			"terminationGracePeriodSeconds": 0,
			"hostNetwork":                   hostNetwork,
			"containers":                    []any{map[string]any{"name": "a", "image": benchImage, "command": []string{"sleep", "3600"}}},
		},
	}
	data, _ := json.Marshal(pod)
	return string(data)
}

// writeManifest writes a manifest into the bench directory and returns
// its path.
func (b *bench) writeManifest(file, manifest string) (string, error) {
	path := filepath.Join(b.dir, file)
	if err := os.WriteFile(path, []byte(manifest), 0o644); err != nil {
		return "", fmt.Errorf("write manifest %s: %w", path, err)
	}
	return path, nil
}

// startSamples are the samples of one network mode.
type startSamples struct {
	pbStart, pbDelete     []time.Duration
	pmStart, pmDelete     []time.Duration
	kubeStart, kubeDelete []time.Duration
}

// startScenario measures scenarios 1 and 2.
func (b *bench) startScenario() error {
	for _, hostNet := range []bool{false, true} {
		mode := "networked"
		if hostNet {
			mode = "hostNetwork"
		}
		file, err := b.writeManifest("pod-"+mode+".json", podManifest("bench", hostNet))
		if err != nil {
			return err
		}
		var s startSamples
		pbRound := func(keep bool) error {
			start, del, err := b.podboxStartDelete(file, "bench")
			if keep && err == nil {
				s.pbStart, s.pbDelete = append(s.pbStart, start), append(s.pbDelete, del)
			}
			return err
		}
		var pmRound, kubeRound func(bool) error
		if b.podman != nil {
			network := podmanNetwork
			if hostNet {
				network = "host"
			}
			pmRound = b.peerRound("podman pod create + run", func(keep bool) error {
				start, del, err := b.podmanStartDelete(network)
				if keep && err == nil {
					s.pmStart, s.pmDelete = append(s.pmStart, start), append(s.pmDelete, del)
				}
				return err
			})
			kubeRound = b.peerRound("podman kube play", func(keep bool) error {
				start, del, err := b.kubePlayDelete(file, "bench", "a", hostNet)
				if keep && err == nil {
					s.kubeStart, s.kubeDelete = append(s.kubeStart, start), append(s.kubeDelete, del)
				}
				return err
			})
		}
		if err := alternate(b.warm, b.n, b.stopped, pbRound, pmRound, kubeRound); err != nil {
			return err
		}
		b.rows = append(b.rows,
			newRow("pod start", mode, s.pbStart, "podman pod create + run -d --pod", s.pmStart, ""),
			newRow("pod start", mode, s.pbStart, "podman kube play", s.kubeStart, ""))
		b.deleteRows(mode, &s)
	}
	return nil
}

// podboxStartDelete runs the pod in file, checks that its containers run
// and deletes it.
func (b *bench) podboxStartDelete(file, name string) (start, del time.Duration, err error) {
	if start, err = timed(func() error { _, err := b.pb("run", "-f", file); return err }); err != nil {
		return 0, 0, err
	}
	if err := b.podboxRunning(name); err != nil {
		return 0, 0, err
	}
	del, err = b.podboxDelete(name)
	return start, del, err
}

// podboxRunning checks that every container of the pod runs.
func (b *bench) podboxRunning(name string) error {
	out, err := b.pb("get", name, "-o", "json")
	if err != nil {
		return err
	}
	var p struct {
		Status struct {
			ContainerStatuses []struct {
				Name  string
				State map[string]any
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		return fmt.Errorf("read the status of pod %s: %w", name, err)
	}
	if len(p.Status.ContainerStatuses) == 0 {
		return fmt.Errorf("pod %s has no container status", name)
	}
	for _, cs := range p.Status.ContainerStatuses {
		if _, ok := cs.State["running"]; !ok {
			return fmt.Errorf("container %s of pod %s is not running: %v", cs.Name, name, cs.State)
		}
	}
	return nil
}

// podmanStartDelete makes a pod and its container with podman, checks
// that it runs, and removes the pod.
func (b *bench) podmanStartDelete(network string) (start, del time.Duration, err error) {
	p := b.podman
	start, err = timed(func() error {
		if _, err := b.pm(p, "pod", "create", "--name", "bench", "--network", network); err != nil {
			return err
		}
		_, err := b.pm(p, "run", "-d", "--pod", "bench", "--name", "bench-a", benchImage, "sleep", "3600")
		return err
	})
	if err != nil {
		_, _ = b.pm(p, "pod", "rm", "-f", "-t", "0", "bench")
		return 0, 0, err
	}
	if err := b.podmanRunning("bench", "bench-a"); err != nil {
		return 0, 0, err
	}
	del, err = b.podmanDelete("bench")
	return start, del, err
}

// kubePlayDelete plays the manifest with podman and removes its pod.
func (b *bench) kubePlayDelete(file, name, app string, hostNet bool) (start, del time.Duration, err error) {
	args := []string{"kube", "play", "-q", file}
	if !hostNet {
		args = append(args, "--network", podmanNetwork)
	}
	if start, err = timed(func() error { _, err := b.pm(b.podman, args...); return err }); err != nil {
		_, _ = b.pm(b.podman, "pod", "rm", "-f", "-t", "0", name)
		return 0, 0, err
	}
	if err := b.podmanRunning(name, name+"-"+app); err != nil {
		return 0, 0, err
	}
	del, err = b.podmanDelete(name)
	return start, del, err
}

// podmanRunning checks that the pod's infra container and the container
// ctr run.
func (b *bench) podmanRunning(pod, ctr string) error {
	out, err := b.pm(b.podman, "ps", "--filter", "pod="+pod, "--filter", "status=running", "--format", "{{.Names}} {{.IsInfra}}")
	if err != nil {
		return err
	}
	infra, app := false, false
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 2 {
			infra = infra || f[1] == "true"
			app = app || f[0] == ctr
		}
	}
	if !infra || !app {
		all, _ := b.pm(b.podman, "ps", "-a", "--filter", "pod="+pod, "--format", "{{.Names}} {{.Status}}")
		return fmt.Errorf("podman pod %s: the infra container or %s is not running: %s", pod, ctr, strings.TrimSpace(all))
	}
	return nil
}

// peerRound wraps a peer's round: when it fails, the failure is noted, the
// peer's pods are removed and the scenario goes on without it.
func (b *bench) peerRound(what string, round func(keep bool) error) func(bool) error {
	failed := false
	return func(keep bool) error {
		if failed {
			return nil
		}
		if err := round(keep); err != nil {
			if b.stopped() {
				return errInterrupted
			}
			failed = true
			b.note("%s failed, not measured further in this scenario: %v", what, err)
			_, _ = b.pm(b.podman, "pod", "rm", "-a", "-f", "-t", "0")
		}
		return nil
	}
}
