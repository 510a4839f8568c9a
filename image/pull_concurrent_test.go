package image

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/podbox/podbox/internal/testutil"
)

// The helper process of the pull tests: it pulls one reference into the
// store the parent names in the environment.
const (
	envPullRoot = "PODBOX_IMAGE_TEST_PULL_ROOT"
	envPullRef  = "PODBOX_IMAGE_TEST_PULL_REF"
	envPullOpts = "PODBOX_IMAGE_TEST_PULL_OPTS"
)

// helperOpts are the PullOptions a helper process gets (JSON).
type helperOpts struct {
	AuthFile, RegistriesConf, RegistriesConfDir, PolicyPath string
	TLSVerify                                               *bool
}

func TestHelperProcessPull(t *testing.T) {
	root := os.Getenv(envPullRoot)
	if root == "" {
		t.Skip("helper process of the pull tests")
	}
	var ho helperOpts
	if err := json.Unmarshal([]byte(os.Getenv(envPullOpts)), &ho); err != nil {
		t.Fatal(err)
	}
	s, err := Open(Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	opts := PullOptions{AuthFile: ho.AuthFile, RegistriesConf: ho.RegistriesConf, RegistriesConfDir: ho.RegistriesConfDir,
		PolicyPath: ho.PolicyPath, TLSVerify: ho.TLSVerify}
	if _, err := s.Pull(context.Background(), os.Getenv(envPullRef), opts); err != nil {
		t.Fatal(err)
	}
}

// startPullHelper starts a process that pulls ref into s.
func startPullHelper(t *testing.T, s *Store, ref string, opts PullOptions) (*exec.Cmd, *strings.Builder) {
	t.Helper()
	data, err := json.Marshal(helperOpts{opts.AuthFile, opts.RegistriesConf, opts.RegistriesConfDir, opts.PolicyPath, opts.TLSVerify})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcessPull$", "-test.count=1")
	cmd.Env = append(os.Environ(), envPullRoot+"="+filepath.Dir(s.Dir()), envPullRef+"="+ref, envPullOpts+"="+string(data))
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, out
}

// TestConcurrentPulls runs 8 pulls at once, 4 in goroutines and 4 in other
// processes, of 4 images that share their base layer, each image pulled
// under two names: every name ends up in index.json, and the base layer is
// stored once.
func TestConcurrentPulls(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	s := newStore(t)
	f := newPullFixture(t, testutil.StartRegistry(t))
	var want []string
	for i := range 4 {
		img := f.image(t, fmt.Sprintf("c%d", i))
		f.push(t, fmt.Sprintf("podbox/g%d:v1", i), img)
		f.push(t, fmt.Sprintf("podbox/p%d:v1", i), img)
		want = append(want, f.reg.Ref(fmt.Sprintf("podbox/g%d:v1", i)), f.reg.Ref(fmt.Sprintf("podbox/p%d:v1", i)))
	}
	sort.Strings(want)
	type helper struct {
		cmd *exec.Cmd
		out *strings.Builder
	}
	var helpers []helper
	for i := range 4 {
		cmd, out := startPullHelper(t, s, f.reg.Ref(fmt.Sprintf("podbox/p%d:v1", i)), f.opts)
		helpers = append(helpers, helper{cmd, out})
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range 4 {
		wg.Go(func() { _, errs[i] = s.Pull(ctx, f.reg.Ref(fmt.Sprintf("podbox/g%d:v1", i)), f.opts) })
	}
	wg.Wait()
	for _, h := range helpers {
		if err := h.cmd.Wait(); err != nil {
			t.Errorf("helper process: %v\n%s", err, h.out)
		}
	}
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	idx, err := s.readIndex()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range idx.Manifests {
		got = append(got, refName(d))
	}
	sort.Strings(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("index.json after concurrent pulls (-want +got):\n%s", diff)
	}
	blobs, layers, tmp, _ := storeFiles(t, s)
	// The base layer and 4 own layers, 4 configs, 4 manifests.
	if blobs != 13 || layers != 5 || tmp != 0 {
		t.Errorf("%d blobs (want 13), %d layer dirs (want 5), %d work dirs", blobs, layers, tmp)
	}
	base := layerDigests(f.image(t))[0]
	if has := storeHas(t, s, base); !has[0] {
		t.Error("the base layer blob is missing")
	}
	for _, n := range want {
		if _, err := s.Get(ctx, n); err != nil {
			t.Error(err)
		}
	}
	checkNoTmpFiles(t, s)
}

// checkNoTmpFiles fails if the store keeps any temporary file: work
// directories, or half-written files next to the index or among the blobs.
func checkNoTmpFiles(t *testing.T, s *Store) {
	t.Helper()
	if n := dirNames(t, s.tmpDir()); len(n) != 0 {
		t.Errorf("tmp/ holds %v", n)
	}
	for _, dir := range []string{s.ociDir(), s.blobDir(), s.layersDir()} {
		for _, n := range dirNames(t, dir) {
			if strings.HasPrefix(n, ".tmp") || strings.Contains(n, "put-blob") {
				t.Errorf("temporary file %s left in %s", n, dir)
			}
		}
	}
}

// TestPullKilled kills a process half-way through the download of a big
// layer: the store gets no name and no layer, and the next Open removes what
// the pull left.
func TestPullKilled(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	s := newStore(t)
	f := newPullFixture(t, testutil.StartRegistry(t))
	random := make([]byte, 8<<20)
	_, _ = rand.NewChaCha8([32]byte{1}).Read(random) // incompressible
	img := testutil.TestImage{
		Layers: [][]byte{busyboxLayer(t), buildTar(t, reg("big", string(random)))},
		Config: ocispec.ImageConfig{Cmd: []string{"/bin/sh"}},
	}
	f.push(t, "podbox/big:v1", img)
	big := layerDigests(img)[1]
	f.reg.SlowBlob(big, 2<<20) // 4 s for the whole layer

	cmd, out := startPullHelper(t, s, f.reg.Ref("podbox/big:v1"), f.opts)
	deadline := time.Now().Add(10 * time.Second)
	for f.reg.BlobBytesServed(big) < 256<<10 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	served := f.reg.BlobBytesServed(big)
	t.Logf("killed after %d of %d bytes of the big layer", served, len(random))
	if served < 256<<10 || served >= int64(len(random)) {
		t.Fatalf("the pull was not killed half-way (%d bytes served):\n%s", served, out)
	}
	if _, err := s.Get(ctx, f.reg.Ref("podbox/big:v1")); err == nil {
		t.Error("the killed pull named its image")
	}
	if _, layers, tmp, _ := storeFiles(t, s); layers != 0 || tmp == 0 {
		t.Errorf("after the kill: %d layer dirs (want none), %d work dirs (want the dead one's)", layers, tmp)
	}
	if _, err := Open(Options{Root: filepath.Dir(s.Dir())}); err != nil {
		t.Fatal(err)
	}
	checkNoTmpFiles(t, s)

	f.reg.SlowBlob(big, 0)
	got, err := s.Pull(ctx, f.reg.Ref("podbox/big:v1"), f.opts)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(got.Layers[1], "big")); err != nil || fi.Size() != int64(len(random)) {
		t.Errorf("big after a complete pull: %v, %v", fi, err)
	}
	checkNoTmpFiles(t, s)
}
