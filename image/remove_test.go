package image

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/podbox/podbox/internal/testutil"
)

func TestRemoveGC(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	s := newStore(t)
	src := testutil.BusyboxRootfs(t)
	// Two images sharing their one layer, different configs.
	a, err := s.Import(ctx, src, "localhost/a", ImportOptions{Config: ocispec.ImageConfig{Cmd: []string{"a"}}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Import(ctx, src, "localhost/b", ImportOptions{Config: ocispec.ImageConfig{Cmd: []string{"b"}}})
	if err != nil {
		t.Fatal(err)
	}
	if a.ID == b.ID {
		t.Fatal("the two imports made the same image")
	}
	if blobs, layers, _, _ := storeFiles(t, s); blobs != 5 || layers != 1 {
		t.Fatalf("two images sharing a layer: %d blobs, %d layers; want 5 and 1", blobs, layers)
	}
	if err := s.Remove(ctx, "localhost/nothere"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Remove of a missing image: %v, want ErrNotFound", err)
	}

	if err := s.Remove(ctx, "localhost/a"); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{a.ID.Encoded(), a.Digest.Encoded()} {
		mustNotExist(t, filepath.Join(s.blobDir(), d))
	}
	if blobs, layers, _, _ := storeFiles(t, s); blobs != 3 || layers != 1 {
		t.Errorf("after removing a: %d blobs, %d layers; want the shared layer kept (3 and 1)", blobs, layers)
	}
	if _, err := s.Get(ctx, "localhost/a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get of a removed image: %v, want ErrNotFound", err)
	}

	img, err := s.Get(ctx, "localhost/b")
	if err != nil {
		t.Fatal(err)
	}
	dir, rootfs := mountT(t, s, img)
	if err := s.Remove(ctx, "localhost/b"); !errors.Is(err, ErrInUse) {
		t.Fatalf("Remove of a mounted image: %v, want ErrInUse", err)
	}
	if _, err := os.Stat(filepath.Join(rootfs, "bin/busybox")); err != nil {
		t.Errorf("mount damaged by a refused Remove: %v", err)
	}
	if err := Unmount(dir); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(ctx, "localhost/b"); err != nil {
		t.Fatalf("Remove after Unmount: %v", err)
	}
	if blobs, layers, tmp, leases := storeFiles(t, s); blobs+layers+tmp+leases != 0 {
		t.Errorf("empty store keeps %d blobs, %d layers, %d work dirs, %d leases", blobs, layers, tmp, leases)
	}
	if list, err := s.List(ctx); err != nil || len(list) != 0 {
		t.Errorf("List of the empty store: %v, %v", list, err)
	}
}

func TestRemoveUntagsWhileMounted(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	s := newStore(t)
	bottom, top := whiteoutLayers(t)
	path := writeDockerArchive(t, filepath.Join(t.TempDir(), "save.tar"),
		dockerImage{tags: []string{"localhost/t:1", "localhost/t:2"}, layers: [][]byte{bottom, top}})
	if _, err := s.Load(ctx, path, LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	img, err := s.Get(ctx, "localhost/t:1")
	if err != nil {
		t.Fatal(err)
	}
	dir, _ := mountT(t, s, img)
	if err := s.Remove(ctx, "localhost/t:1"); err != nil {
		t.Fatalf("Remove of one of two names of a mounted image: %v", err)
	}
	if err := s.Remove(ctx, "localhost/t:2"); !errors.Is(err, ErrInUse) {
		t.Fatalf("Remove of the last name of a mounted image: %v, want ErrInUse", err)
	}
	if err := Unmount(dir); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(ctx, "localhost/t:2"); err != nil {
		t.Fatal(err)
	}
	if blobs, layers, _, _ := storeFiles(t, s); blobs+layers != 0 {
		t.Errorf("after removing every name: %d blobs, %d layers", blobs, layers)
	}
}

func TestGetRestoresMissingLayer(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	s := newStore(t)
	bottom, top := whiteoutLayers(t)
	path := writeDockerArchive(t, filepath.Join(t.TempDir(), "save.tar"),
		dockerImage{tags: []string{"localhost/r:1"}, layers: [][]byte{bottom, top}})
	if _, err := s.Load(ctx, path, LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	img, err := s.Get(ctx, "localhost/r:1")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range img.Layers { // as if a crash interrupted their creation
		if err := os.RemoveAll(l); err != nil {
			t.Fatal(err)
		}
	}
	again, err := s.Get(ctx, "localhost/r:1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(img.Layers, again.Layers); diff != "" {
		t.Errorf("Layers (-before +after):\n%s", diff)
	}
	checkWhiteoutForm(t, again.Layers[1])
	_, rootfs := mountT(t, s, again)
	checkWhiteoutsApplied(t, rootfs)
}

func TestOpenRemovesStaleWork(t *testing.T) {
	requireRoot(t)
	s := newStore(t)
	stale := filepath.Join(s.tmpDir(), "load-stale")
	if err := os.MkdirAll(filepath.Join(stale, "oci", "blobs"), 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(s.tmpDir(), "stray-file"), []byte("x"))
	live, err := s.newWorkDir("live-")
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	if _, err := Open(Options{Root: filepath.Dir(s.Dir())}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{filepath.Base(live.path)}, dirNames(t, s.tmpDir())); diff != "" {
		t.Errorf("tmp/ after Open (-want +got):\n%s", diff)
	}
}
