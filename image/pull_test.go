package image

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"
	digest "github.com/opencontainers/go-digest"

	"github.com/podbox/podbox/internal/testutil"
)

// TestPullRegistry pulls from the counting in-process registry: a first pull
// downloads each blob once; a second pull of the unchanged image makes one
// manifest request and no blob request; an image sharing the base layer
// downloads only its own.
func TestPullRegistry(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	s := newStore(t)
	f := newPullFixture(t, testutil.StartRegistry(t))
	imgA := f.image(t, "a1", "a2")
	pushedA := f.push(t, "podbox/a:v1", imgA)
	var events eventLog
	opts := f.opts
	opts.Progress = events.add

	a, err := s.Pull(ctx, f.reg.Ref("podbox/a:v1"), opts)
	if err != nil {
		t.Fatal(err)
	}
	c := f.reg.Counts()
	for _, l := range layerDigests(imgA) {
		if c.BlobGETs[l] != 1 {
			t.Errorf("layer %s downloaded %d times, want 1", l, c.BlobGETs[l])
		}
	}
	if c.BlobGET != 4 || c.ManifestGET != 1 { // 3 layers + config
		t.Errorf("first pull: %d blob GETs (want 4), %d manifest GETs (want 1)", c.BlobGET, c.ManifestGET)
	}
	if a.Name != f.reg.Ref("podbox/a:v1") || a.Digest != pushedA || len(a.Layers) != 3 {
		t.Errorf("Pull = %+v; want name %s, digest %s, 3 layers", a, f.reg.Ref("podbox/a:v1"), pushedA)
	}
	if diff := cmp.Diff([]string{repoDigest(f.reg, "podbox/a", pushedA)}, a.RepoDigests); diff != "" {
		t.Errorf("RepoDigests (-want +got):\n%s", diff)
	}
	want := map[digest.Digest][]PullEventKind{pushedA: {PullManifest}}
	for _, l := range layerDigests(imgA) {
		want[l] = []PullEventKind{PullLayerStart, PullLayerDone}
	}
	if diff := cmp.Diff(want, events.kinds()); diff != "" {
		t.Errorf("progress events (-want +got):\n%s", diff)
	}
	_, rootfs := mountT(t, s, a)
	if got := readFile(t, filepath.Join(rootfs, "data/a2")); got != "content of a2" {
		t.Errorf("data/a2 = %q", got)
	}
	if _, err := os.Stat(filepath.Join(rootfs, "bin/sh")); err != nil {
		t.Error(err)
	}

	f.reg.ResetCounts()
	again, err := s.Pull(ctx, f.reg.Ref("podbox/a:v1"), f.opts)
	if err != nil {
		t.Fatal(err)
	}
	if c := f.reg.Counts(); c.ManifestGET+c.ManifestHEAD != 1 || c.BlobGET+c.BlobHEAD != 0 {
		t.Errorf("re-pull of an unchanged image: %+v; want one manifest request, no blob request", c)
	}
	if again.ID != a.ID || !cmp.Equal(again.Layers, a.Layers) || !cmp.Equal(again.RepoDigests, a.RepoDigests) {
		t.Errorf("re-pull = %+v, want %+v", again, a)
	}

	imgB := f.image(t, "b1")
	f.push(t, "podbox/b:v1", imgB)
	f.reg.ResetCounts()
	events = eventLog{}
	if _, err := s.Pull(ctx, f.reg.Ref("podbox/b:v1"), opts); err != nil {
		t.Fatal(err)
	}
	c = f.reg.Counts()
	if base, own := layerDigests(imgB)[0], layerDigests(imgB)[1]; c.BlobGETs[base] != 0 || c.BlobGETs[own] != 1 || c.BlobGET != 2 {
		t.Errorf("pull of b sharing a's base layer: %+v; want only b's layer and config", c)
	}
	if k := events.kinds()[layerDigests(imgB)[0]]; !cmp.Equal(k, []PullEventKind{PullLayerSkipped}) {
		t.Errorf("events of the shared base layer: %v, want [skipped]", k)
	}
	if _, layers, tmp, _ := storeFiles(t, s); layers != 4 || tmp != 0 {
		t.Errorf("%d layer dirs (want 4: base, a1, a2, b1), %d work dirs", layers, tmp)
	}
}

// TestPullRepushedTag re-pushes a different image under a pulled tag: Get
// keeps returning the old image until the next Pull fetches the new one; the
// old one, still mounted, keeps its data.
func TestPullRepushedTag(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	s := newStore(t)
	f := newPullFixture(t, testutil.StartRegistry(t))
	imgA := f.image(t, "a1", "a2")
	f.push(t, "podbox/a:v1", imgA)
	a := f.pull(t, s, "podbox/a:v1")
	dir, _ := mountT(t, s, a)
	imgA2 := f.image(t, "a1", "a3")
	pushedA2 := f.push(t, "podbox/a:v1", imgA2)
	if got, err := s.Get(ctx, f.reg.Ref("podbox/a:v1")); err != nil || got.ID != a.ID {
		t.Fatalf("Get after the re-push, before a pull: %v, %v; want the old image %s", got, err, a.ID)
	}
	a2, err := s.Pull(ctx, f.reg.Ref("podbox/a:v1"), f.opts)
	if err != nil {
		t.Fatal(err)
	}
	if a2.ID == a.ID || a2.Digest != pushedA2 {
		t.Errorf("pull after the re-push: ID %s digest %s; want a new image, digest %s", a2.ID, a2.Digest, pushedA2)
	}
	if got, err := s.Get(ctx, f.reg.Ref("podbox/a:v1")); err != nil || got.ID != a2.ID {
		t.Errorf("Get after the pull: %v, %v; want %s", got, err, a2.ID)
	}
	if diff := cmp.Diff([]string{repoDigest(f.reg, "podbox/a", pushedA2)}, a2.RepoDigests); diff != "" {
		t.Errorf("RepoDigests after the re-push (-want +got):\n%s", diff)
	}
	// The old image is still mounted: its own layer stays until Unmount.
	old := layerDigests(imgA)
	if has := storeHas(t, s, old[2], a.Digest); !cmp.Equal(has, []bool{true, true}) {
		t.Errorf("blobs of the mounted old image: %v, want kept", has)
	}
	if err := Unmount(dir); err != nil {
		t.Fatal(err)
	}
	if has := storeHas(t, s, old[0], old[1], old[2], a.Digest); !cmp.Equal(has, []bool{true, true, false, false}) {
		t.Errorf("after Unmount, blobs base, a1 (shared), a2, old manifest: %v; want the old image's own gone", has)
	}
}

// TestPullDockerManifest pulls a Docker v2s2 image: the stored (OCI) digest
// differs from the registry's, which is recorded as the repo digest and
// found by Get, Inspect and Pull by digest.
func TestPullDockerManifest(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	s := newStore(t)
	f := newPullFixture(t, testutil.StartRegistry(t))
	img := f.image(t, "d1")
	testutil.WriteOCILayout(t, f.layout, "d", img)
	pushed := f.reg.PushDocker(t, f.layout, "d", "podbox/d:v1")
	tagged := f.pull(t, s, "podbox/d:v1")
	if tagged.Digest == pushed {
		t.Fatalf("stored digest %s equals the registry's: the image was not converted", pushed)
	}
	rd := repoDigest(f.reg, "podbox/d", pushed)
	if diff := cmp.Diff([]string{rd}, tagged.RepoDigests); diff != "" {
		t.Errorf("RepoDigests (-want +got):\n%s", diff)
	}
	got, err := s.Get(ctx, rd)
	if err != nil || got.ID != tagged.ID {
		t.Fatalf("Get by repo digest: %v, %v", got, err)
	}
	for _, name := range []string{rd, f.reg.Ref("podbox/d:v1") + "@" + pushed.String()} {
		if _, err := s.Get(ctx, name); err != nil {
			t.Errorf("Get(%s): %v", name, err)
		}
	}
	if _, err := s.Get(ctx, f.reg.Ref("podbox/d@"+digest.SHA256.FromString("other").String())); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get by an unknown digest: %v, want ErrNotFound", err)
	}

	f.reg.ResetCounts()
	byDigest, err := s.Pull(ctx, rd, f.opts)
	if err != nil {
		t.Fatal(err)
	}
	if c := f.reg.Counts(); c.ManifestGET+c.ManifestHEAD != 1 || c.BlobGET != 0 {
		t.Errorf("pull by the digest of a present image: %+v; want one manifest request and no blob", c)
	}
	if byDigest.ID != tagged.ID || byDigest.Name != rd {
		t.Errorf("pull by digest = %s %s, want %s %s", byDigest.Name, byDigest.ID, rd, tagged.ID)
	}
	d, err := s.Inspect(ctx, f.reg.Ref("podbox/d:v1"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{f.reg.Ref("podbox/d:v1"), rd}, d.Names); diff != "" {
		t.Errorf("Inspect names (-want +got):\n%s", diff)
	}
	if len(d.Layers) != 2 || d.Layers[1].DiffID != digest.SHA256.FromBytes(img.Layers[1]) || d.OS != "linux" ||
		d.ID != tagged.ID || !cmp.Equal(d.RepoDigests, []string{rd}) || len(d.History) != 2 || d.Config.Config.Cmd[2] != "d1" {
		t.Errorf("Inspect = %+v", d)
	}
	// Untagging the tag keeps the image under its digest name.
	if err := s.Untag(ctx, f.reg.Ref("podbox/d:v1")); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, rd); err != nil || got.ID != tagged.ID || !cmp.Equal(got.RepoDigests, []string{rd}) {
		t.Errorf("Get by digest after untagging the tag: %+v, %v", got, err)
	}
	if _, err := s.Get(ctx, f.reg.Ref("podbox/d:v1")); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get of the untagged name: %v", err)
	}
}

// TestPullManifestList pulls a multi-platform image: this host's image is
// stored, the list's digest is the repo digest, and a re-pull downloads
// nothing.
func TestPullManifestList(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	s := newStore(t)
	f := newPullFixture(t, testutil.StartRegistry(t))
	host, other := f.image(t, "host"), f.image(t, "other")
	other.Architecture = "riscv64"
	if runtime.GOARCH == "riscv64" {
		other.Architecture = "s390x"
	}
	testutil.WriteOCIIndex(t, f.layout, "multi", host, other)
	list := f.reg.PushAll(t, f.layout, "multi", "podbox/multi:v1")
	hostDesc := testutil.WriteOCILayout(t, t.TempDir(), "x", host) // the same blobs: the same digest

	img := f.pull(t, s, "podbox/multi:v1")
	if img.Digest != hostDesc.Digest || img.Config.Architecture != runtime.GOARCH {
		t.Errorf("pulled %s (%s), want this host's image %s", img.Digest, img.Config.Architecture, hostDesc.Digest)
	}
	if body := readFile(t, filepath.Join(img.Layers[1], "data/host")); body != "content of host" {
		t.Errorf("data/host = %q", body)
	}
	rd := repoDigest(f.reg, "podbox/multi", list)
	if diff := cmp.Diff([]string{rd}, img.RepoDigests); diff != "" {
		t.Errorf("RepoDigests (-want +got):\n%s", diff)
	}
	if c := f.reg.Counts(); c.BlobGETs[layerDigests(other)[1]] != 0 {
		t.Errorf("the other platform's layer was downloaded: %+v", c)
	}
	f.reg.ResetCounts()
	if _, err := s.Pull(ctx, f.reg.Ref("podbox/multi:v1"), f.opts); err != nil {
		t.Fatal(err)
	}
	if c := f.reg.Counts(); c.ManifestGET+c.ManifestHEAD != 1 || c.BlobGET != 0 {
		t.Errorf("re-pull of a multi-platform image: %+v; want one manifest request, no blob", c)
	}
	if got, err := s.Get(ctx, rd); err != nil || got.ID != img.ID {
		t.Errorf("Get by the list's digest: %v, %v", got, err)
	}
}
