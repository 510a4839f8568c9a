package image_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/podbox/podbox/image"
)

// A container start: import a rootfs once, then Get and Mount per container,
// Unmount when it is gone. (Needs root; not run by go test.)
func Example() {
	ctx := context.Background()
	s, err := image.Open(image.Options{Root: "/var/lib/podbox"})
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := s.Import(ctx, "/srv/rootfs", "localhost/app:v1", image.ImportOptions{
		Config: ocispec.ImageConfig{Cmd: []string{"/bin/sh"}},
	}); err != nil {
		fmt.Println(err)
		return
	}
	img, err := s.Get(ctx, "localhost/app:v1")
	if err != nil {
		fmt.Println(err)
		return
	}
	dir := filepath.Join("/var/lib/podbox/pods/uid/containers", "app")
	rootfs, err := s.Mount(ctx, img, dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer image.Unmount(dir)
	fmt.Println("run", img.Config.Config.Cmd, "in", rootfs)
}

// A pull as pull policy Always does it on every container start: the
// registry is asked for the manifest each time, and a present image is not
// downloaded again. (Needs root and a registry; not run by go test.)
func ExampleStore_Pull() {
	ctx := context.Background()
	s, err := image.Open(image.Options{Root: "/var/lib/podbox"})
	if err != nil {
		fmt.Println(err)
		return
	}
	img, err := s.Pull(ctx, "busybox:1.36", image.PullOptions{
		Progress: func(ev image.PullEvent) {
			if ev.Kind == image.PullLayerDone || ev.Kind == image.PullLayerSkipped {
				fmt.Println(ev.Kind, ev.Layer)
			}
		},
	})
	switch {
	case errors.Is(err, image.ErrInvalidName):
		fmt.Println("InvalidImageName:", err)
		return
	case errors.Is(err, image.ErrPull):
		fmt.Println("ErrImagePull:", err)
		return
	case err != nil:
		fmt.Println(err)
		return
	}
	fmt.Println(img.Name, img.ID, img.RepoDigests)
}
