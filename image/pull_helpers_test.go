package image

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/podbox/podbox/internal/testutil"
)

var (
	busyboxTarOnce sync.Once
	busyboxTar     []byte
	errBusyboxTar  error
)

// busyboxLayer is an uncompressed tar of a busybox rootfs, built once per
// test process.
func busyboxLayer(t testing.TB) []byte {
	t.Helper()
	busyboxTarOnce.Do(func() {
		dir, err := os.MkdirTemp("", "podbox-busybox-")
		if err != nil {
			errBusyboxTar = err
			return
		}
		defer os.RemoveAll(dir)
		if err := testutil.BusyboxRootfsDir(dir); err != nil {
			errBusyboxTar = err
			return
		}
		busyboxTar = testutil.TarDir(t, dir)
	})
	if errBusyboxTar != nil {
		t.Fatalf("busybox layer (install busybox-static): %v", errBusyboxTar)
	}
	return busyboxTar
}

// pullFixture is a registry with a layout to build images in, and the pull
// options that reach it hermetically: no host registries.conf, an
// accept-anything policy file, no credentials file, plain HTTP.
type pullFixture struct {
	reg    *testutil.Registry
	layout string
	opts   PullOptions
}

func newPullFixture(t testing.TB, reg *testutil.Registry) *pullFixture {
	t.Helper()
	dir := t.TempDir()
	f := &pullFixture{reg: reg, layout: filepath.Join(dir, "layout")}
	no := false
	f.opts = PullOptions{
		AuthFile:          filepath.Join(dir, "no-auth.json"),
		TLSVerify:         &no,
		RegistriesConf:    writeFile(t, filepath.Join(dir, "registries.conf"), nil),
		RegistriesConfDir: filepath.Join(dir, "registries.conf.d"),
		PolicyPath:        writeFile(t, filepath.Join(dir, "policy.json"), []byte(`{"default":[{"type":"insecureAcceptAnything"}]}`)),
	}
	if err := os.Mkdir(f.opts.RegistriesConfDir, 0o755); err != nil {
		t.Fatal(err)
	}
	return f
}

// image is a test image: the busybox layer and a small layer per name in
// own, with a config of its own.
func (f *pullFixture) image(t testing.TB, own ...string) testutil.TestImage {
	t.Helper()
	img := testutil.TestImage{
		Layers: [][]byte{busyboxLayer(t)},
		Config: ocispec.ImageConfig{Cmd: append([]string{"/bin/sh", "-c"}, own...), Env: []string{"PATH=/bin"}},
	}
	for _, o := range own {
		img.Layers = append(img.Layers, buildTar(t, dir("data/"), reg("data/"+o, "content of "+o)))
	}
	return img
}

// push writes img into the layout and pushes it to repo (e.g. "podbox/a:v1")
// as an OCI image; it returns the registry's manifest digest.
func (f *pullFixture) push(t testing.TB, repo string, img testutil.TestImage) digest.Digest {
	t.Helper()
	testutil.WriteOCILayout(t, f.layout, repo, img)
	return f.reg.Push(t, f.layout, repo, repo)
}

// pull pulls repo from the fixture's registry.
func (f *pullFixture) pull(t testing.TB, s *Store, repo string) *Image {
	t.Helper()
	img, err := s.Pull(context.Background(), f.reg.Ref(repo), f.opts)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// layerDigests are the blob digests of the layers of img as gzip-stored by
// WriteOCILayout.
func layerDigests(img testutil.TestImage) []digest.Digest {
	var out []digest.Digest
	for _, l := range img.Layers {
		out = append(out, digest.SHA256.FromBytes(testutil.Gzip(l)))
	}
	return out
}

// eventLog records pull events.
type eventLog struct {
	mu     sync.Mutex
	events []PullEvent
}

func (l *eventLog) add(ev PullEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, ev)
}

// kinds returns, per blob, the kinds of events it got, in order, with
// progress events left out (their number depends on timing).
func (l *eventLog) kinds() map[digest.Digest][]PullEventKind {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[digest.Digest][]PullEventKind{}
	for _, ev := range l.events {
		if ev.Kind != PullLayerProgress {
			out[ev.Layer] = append(out[ev.Layer], ev.Kind)
		}
	}
	return out
}

// storeHas reports which of the blobs the store keeps.
func storeHas(t testing.TB, s *Store, blobs ...digest.Digest) []bool {
	t.Helper()
	var out []bool
	for _, d := range blobs {
		ok, err := exists(filepath.Join(s.blobDir(), d.Encoded()))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ok)
	}
	return out
}

func repoDigest(reg *testutil.Registry, repo string, d digest.Digest) string {
	return fmt.Sprintf("%s@%s", reg.Ref(repo), d)
}
