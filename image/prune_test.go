package image

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	digest "github.com/opencontainers/go-digest"

	"github.com/podbox/podbox/internal/testutil"
)

// TestUntagMounted untags a mounted image: the name goes at once, the data
// when the mount goes.
func TestUntagMounted(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	s := newStore(t)
	f := newPullFixture(t, testutil.StartRegistry(t))
	imgA, imgB := f.image(t, "a1"), f.image(t, "b1")
	f.push(t, "podbox/a:v1", imgA)
	f.push(t, "podbox/b:v1", imgB)
	f.pull(t, s, "podbox/a:v1")
	b := f.pull(t, s, "podbox/b:v1")
	dir, rootfs := mountT(t, s, b)

	if err := s.Untag(ctx, f.reg.Ref("podbox/b:v1")); err != nil {
		t.Fatalf("Untag of a mounted image: %v", err)
	}
	if _, err := s.Get(ctx, f.reg.Ref("podbox/b:v1")); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Untag: %v, want ErrNotFound", err)
	}
	if err := s.Untag(ctx, f.reg.Ref("podbox/b:v1")); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Untag: %v, want ErrNotFound", err)
	}
	recs, err := s.readRepoRecords()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := recs[f.reg.Ref("podbox/b:v1")]; ok {
		t.Error("the untagged name keeps its repo digest record")
	}
	own := layerDigests(imgB)[1]
	if has := storeHas(t, s, own, b.ID, b.Digest); !cmp.Equal(has, []bool{true, true, true}) {
		t.Errorf("blobs of the mounted, untagged image: %v, want all kept", has)
	}
	if got := readFile(t, filepath.Join(rootfs, "data/b1")); got != "content of b1" {
		t.Errorf("the mount lost data/b1: %q", got)
	}
	if err := Unmount(dir); err != nil {
		t.Fatal(err)
	}
	if has := storeHas(t, s, own, b.ID, b.Digest, layerDigests(imgA)[0]); !cmp.Equal(has, []bool{false, false, false, true}) {
		t.Errorf("after Unmount, blobs of b (own layer, config, manifest) and the shared base: %v; want b's gone, base kept", has)
	}
	if _, layers, _, _ := storeFiles(t, s); layers != 2 {
		t.Errorf("%d layer dirs, want a's 2", layers)
	}
}

// TestPrune keeps what keep says, removes the rest and what nothing
// references (stale work directories and temporary files too), and reports
// the disk space freed.
func TestPrune(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	s := newStore(t)
	f := newPullFixture(t, testutil.StartRegistry(t))
	imgs := map[string]testutil.TestImage{}
	for _, n := range []string{"keep", "drop", "mounted"} {
		imgs[n] = f.image(t, n)
		f.push(t, "podbox/"+n+":v1", imgs[n])
		f.pull(t, s, "podbox/"+n+":v1")
	}
	mounted, err := s.Get(ctx, f.reg.Ref("podbox/mounted:v1"))
	if err != nil {
		t.Fatal(err)
	}
	mountT(t, s, mounted)
	drop, err := s.Get(ctx, f.reg.Ref("podbox/drop:v1"))
	if err != nil {
		t.Fatal(err)
	}
	var want int64
	for _, d := range []digest.Digest{layerDigests(imgs["drop"])[1], drop.ID, drop.Digest} {
		want += diskUsage(filepath.Join(s.blobDir(), d.Encoded()))
	}
	want += diskUsage(drop.Layers[1])
	stale := filepath.Join(s.tmpDir(), "pull-dead")
	if err := os.MkdirAll(filepath.Join(stale, "oci"), 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(s.ociDir(), ".tmp-index.json-123"), []byte("{"))

	var asked []string
	rep, err := s.Prune(ctx, func(img *Image) bool {
		asked = append(asked, img.Name)
		return img.Name == f.reg.Ref("podbox/keep:v1")
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Prune: %+v (expected %d bytes)", rep, want)
	wantRep := PruneReport{
		Images: []string{f.reg.Ref("podbox/drop:v1"), f.reg.Ref("podbox/mounted:v1")},
		Blobs:  3, Layers: 1, BytesFreed: want,
	}
	if diff := cmp.Diff(wantRep, rep); diff != "" {
		t.Errorf("PruneReport (-want +got):\n%s", diff)
	}
	if len(asked) != 3 {
		t.Errorf("keep was asked about %v, want the 3 images", asked)
	}
	if list, err := s.List(ctx); err != nil || len(list) != 1 || list[0].Name != f.reg.Ref("podbox/keep:v1") {
		t.Errorf("List after Prune: %v, %v", list, err)
	}
	if has := storeHas(t, s, mounted.ID, mounted.Digest); !cmp.Equal(has, []bool{true, true}) {
		t.Errorf("blobs of the mounted image after Prune: %v, want kept until Unmount", has)
	}
	checkNoTmpFiles(t, s)

	rep, err = s.Prune(ctx, nil)
	if err != nil || !cmp.Equal(rep, PruneReport{}) {
		t.Errorf("Prune(nil) with nothing to collect: %+v, %v", rep, err)
	}
	if _, err := s.Get(ctx, f.reg.Ref("podbox/keep:v1")); err != nil {
		t.Errorf("Prune(nil) removed an image: %v", err)
	}
}
