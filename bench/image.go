package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/podbox/podbox/image"
)

// Scenario 5, images: (a) the rootfs of a second container from an image
// already unpacked: podbox's image.Store Get + Mount (what the shim does
// for each container: one overlay mount over the unpacked layers), against
// `podman create` + `podman mount` (a container's rootfs from podman's
// store, through its CLI); (b) a pull of a 3-layer image (busybox, 4 MiB of
// incompressible data, a small top layer; built offline) from a registry
// on 127.0.0.1 into a store that does not hold it: `podbox image pull`
// against `podman pull`, the image removed after each.

// imageScenario measures scenario 5.
func (b *bench) imageScenario() error {
	if err := b.rootfsRows(); err != nil {
		return err
	}
	return b.pullRows()
}

func (b *bench) rootfsRows() error {
	store, err := image.Open(image.Options{Root: b.root})
	if err != nil {
		return fmt.Errorf("open podbox's image store in %s: %w", b.root, err)
	}
	mounts := filepath.Join(b.dir, "mounts")
	var pbRuns, pmRuns []time.Duration
	i := 0
	pbRound := func(keep bool) error {
		i++
		dir := filepath.Join(mounts, fmt.Sprint(i)) // Mount makes it
		if err := os.MkdirAll(mounts, 0o755); err != nil {
			return fmt.Errorf("make %s: %w", mounts, err)
		}
		d, err := timed(func() error {
			img, err := store.Get(b.ctx, benchImage)
			if err != nil {
				return err
			}
			_, err = store.Mount(b.ctx, img, dir)
			return err
		})
		if err != nil {
			return fmt.Errorf("mount a rootfs of %s: %w", benchImage, err)
		}
		if err := image.Unmount(dir); err != nil {
			return fmt.Errorf("unmount %s: %w", dir, err)
		}
		if keep {
			pbRuns = append(pbRuns, d)
		}
		return nil
	}
	var pmRound func(bool) error
	if b.podman != nil {
		pmRound = b.peerRound("podman create + mount", func(keep bool) error {
			name := fmt.Sprintf("rootfs-%d", i)
			d, err := timed(func() error {
				if _, err := b.pm(b.podman, "create", "--name", name, benchImage, "true"); err != nil {
					return err
				}
				_, err := b.pm(b.podman, "mount", name)
				return err
			})
			if _, rmErr := b.pm(b.podman, "rm", "-f", name); err == nil {
				err = rmErr
			}
			if keep {
				pmRuns = append(pmRuns, d)
			}
			return err
		})
	}
	if err := alternate(b.warm, b.n, b.stopped, pbRound, pmRound); err != nil {
		return err
	}
	b.rows = append(b.rows, newRow("image", "rootfs of a 2nd container, image unpacked", pbRuns, "podman create + mount", pmRuns,
		"podbox: Get+Mount in-process (the shim's step); podman: two CLI calls"))
	return nil
}

func (b *bench) pullRows() error {
	reg, err := b.startRegistry()
	if err != nil {
		return err
	}
	blobs, manifest, err := threeLayerImage(b.rootfs)
	if err != nil {
		return err
	}
	if err := reg.push(b.ctx, "bench/three", "v1", blobs, manifest); err != nil {
		return err
	}
	var size int
	for _, data := range blobs {
		size += len(data)
	}
	ref := reg.host + "/bench/three:v1"
	var pbRuns, pmRuns []time.Duration
	pbRound := func(keep bool) error {
		d, err := timed(func() error { _, err := b.pb("image", "pull", "--tls-verify=false", "-q", ref); return err })
		if err != nil {
			return err
		}
		if _, err := b.pb("image", "rm", ref); err != nil {
			return err
		}
		if keep {
			pbRuns = append(pbRuns, d)
		}
		return nil
	}
	var pmRound func(bool) error
	if b.podman != nil {
		policy := filepath.Join(b.dir, "policy.json")
		pmRound = b.peerRound("podman pull", func(keep bool) error {
			d, err := timed(func() error {
				_, err := b.pm(b.podman, "pull", "--tls-verify=false", "--signature-policy", policy, "-q", ref)
				return err
			})
			if err != nil {
				return err
			}
			if _, err := b.pm(b.podman, "rmi", ref); err != nil {
				return err
			}
			if keep {
				pmRuns = append(pmRuns, d)
			}
			return nil
		})
	}
	if err := alternate(b.warm, b.n, b.stopped, pbRound, pmRound); err != nil {
		return err
	}
	b.rows = append(b.rows, newRow("image", "pull of a 3-layer image from 127.0.0.1", pbRuns, "podman pull", pmRuns,
		fmt.Sprintf("%.1f MB of blobs; registry: %s", float64(size)/1e6, reg.kind)))
	return nil
}
