package image

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"

	"github.com/podbox/podbox/internal/testutil"
)

// manyLayers loads a 50-layer image: its lowerdir option is longer than a
// page, which mount(2) cannot take.
func manyLayers(t *testing.T, s *Store) *Image {
	t.Helper()
	var layers [][]byte
	for i := range 50 {
		layers = append(layers, buildTar(t, reg(fmt.Sprintf("f%02d", i), fmt.Sprint(i)), reg("top", fmt.Sprint(i))))
	}
	path := writeDockerArchive(t, filepath.Join(t.TempDir(), "many.tar"),
		dockerImage{tags: []string{"localhost/many:1"}, layers: layers})
	if _, err := s.Load(context.Background(), path, LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	img, err := s.Get(context.Background(), "localhost/many:1")
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestMountAPIs(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	s := newStore(t)
	many := manyLayers(t, s)
	if n := len(legacyOptions(many.Layers, "/u", "/w")); n < os.Getpagesize() {
		t.Fatalf("options of %d bytes fit in a page: the test needs more layers", n)
	}
	if _, err := s.Import(ctx, testutil.BusyboxRootfs(t), "localhost/busybox:test", ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	busybox, err := s.Get(ctx, "localhost/busybox:test")
	if err != nil {
		t.Fatal(err)
	}
	legacy := &Store{dir: s.dir, legacyMount: true}
	for _, st := range []*Store{s, legacy} {
		api := map[bool]string{false: "new API", true: "mount(2)"}[st.legacyMount]
		dir, rootfs := mountT(t, st, many)
		for i := range 50 {
			if got := readFile(t, filepath.Join(rootfs, fmt.Sprintf("f%02d", i))); got != fmt.Sprint(i) {
				t.Errorf("%s: f%02d = %q", api, i, got)
			}
		}
		if got := readFile(t, filepath.Join(rootfs, "top")); got != "49" {
			t.Errorf("%s: top = %q, want the top layer's 49", api, got)
		}
		checkOverlayOptions(t, api, rootfs)
		if err := Unmount(dir); err != nil {
			t.Fatal(err)
		}
		_, rootfs = mountT(t, st, busybox)
		checkBusyboxRootfs(t, rootfs)
	}
}

// checkOverlayOptions checks that the mount at rootfs is overlay with
// redirect_dir=nofollow, as /proc/self/mountinfo shows it.
func checkOverlayOptions(t *testing.T, api, rootfs string) {
	t.Helper()
	data := readFile(t, "/proc/self/mountinfo")
	for _, line := range strings.Split(data, "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && f[4] == rootfs {
			if !strings.Contains(line, " - overlay ") || !strings.Contains(line, "redirect_dir=nofollow") {
				t.Errorf("%s: mountinfo: %s", api, line)
			}
			return
		}
	}
	t.Errorf("%s: %s not in mountinfo", api, rootfs)
}

func TestMountErrorsLeaveNothing(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	s := newStore(t)
	if _, err := s.Import(ctx, testutil.BusyboxRootfs(t), "localhost/busybox:test", ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	img, err := s.Get(ctx, "localhost/busybox:test")
	if err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	existing := filepath.Join(base, "existing")
	writeFile(t, filepath.Join(t.TempDir(), "x"), nil)
	if err := os.Mkdir(existing, 0o755); err != nil {
		t.Fatal(err)
	}
	unknown := *img
	unknown.Digest = digest.SHA256.FromString("not stored")
	cases := []struct {
		name string
		img  *Image
		dir  string
		is   error
	}{
		{"no parent", img, filepath.Join(base, "missing", "ctr"), nil},
		{"dir exists", img, existing, nil},
		{"unknown image", &unknown, filepath.Join(base, "unknown"), ErrNotFound},
		{"nil image", nil, filepath.Join(base, "nil"), nil},
	}
	for _, c := range cases {
		_, err := s.Mount(ctx, c.img, c.dir)
		if err == nil || (c.is != nil && !errors.Is(err, c.is)) {
			t.Errorf("%s: Mount = %v, want an error (%v)", c.name, err, c.is)
		}
		t.Logf("%s: %v", c.name, err)
	}
	if diff := slices.Compare([]string{"existing"}, dirNames(t, base)); diff != 0 {
		t.Errorf("failed mounts left %v", dirNames(t, base))
	}
	if len(dirNames(t, existing)) != 0 {
		t.Error("a failed Mount wrote into an existing directory")
	}
	if _, _, _, leases := storeFiles(t, s); leases != 0 {
		t.Errorf("failed mounts left %d leases", leases)
	}
	// An image removed between Get and Mount cannot be mounted.
	if err := s.Remove(ctx, "localhost/busybox:test"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Mount(ctx, img, filepath.Join(base, "late")); !errors.Is(err, ErrNotFound) {
		t.Errorf("Mount of a removed image: %v, want ErrNotFound", err)
	}
	mustNotExist(t, filepath.Join(base, "late"))
}

// TestGetMountTimings logs what the pod start path costs: Get of a present
// image, Mount and Unmount.
func TestGetMountTimings(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	s := newStore(t)
	if _, err := s.Import(ctx, testutil.BusyboxRootfs(t), "localhost/busybox:test", ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	var gets, mounts, unmounts []time.Duration
	var img *Image
	for range 200 {
		start := time.Now()
		var err error
		if img, err = s.Get(ctx, "localhost/busybox:test"); err != nil {
			t.Fatal(err)
		}
		gets = append(gets, time.Since(start))
	}
	base := t.TempDir()
	for i := range 20 {
		dir := filepath.Join(base, fmt.Sprint(i))
		start := time.Now()
		if _, err := s.Mount(ctx, img, dir); err != nil {
			t.Fatal(err)
		}
		mounts = append(mounts, time.Since(start))
		start = time.Now()
		if err := Unmount(dir); err != nil {
			t.Fatal(err)
		}
		unmounts = append(unmounts, time.Since(start))
	}
	t.Logf("Get: median %v (p90 %v); Mount: median %v; Unmount: median %v",
		median(gets, 50), median(gets, 90), median(mounts, 50), median(unmounts, 50))
	if m := median(gets, 50); m > time.Millisecond {
		t.Errorf("Get takes %v, want well under 1 ms", m)
	}
}

func median(d []time.Duration, pct int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)*pct/100]
}

func BenchmarkGet(b *testing.B) {
	requireRoot(b)
	ctx := context.Background()
	s := newStore(b)
	if _, err := s.Import(ctx, testutil.BusyboxRootfs(b), "localhost/busybox:test", ImportOptions{}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.Get(ctx, "localhost/busybox:test"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMountUnmount(b *testing.B) {
	requireRoot(b)
	ctx := context.Background()
	s := newStore(b)
	if _, err := s.Import(ctx, testutil.BusyboxRootfs(b), "localhost/busybox:test", ImportOptions{}); err != nil {
		b.Fatal(err)
	}
	img, err := s.Get(ctx, "localhost/busybox:test")
	if err != nil {
		b.Fatal(err)
	}
	dir := filepath.Join(b.TempDir(), "ctr")
	for b.Loop() {
		if _, err := s.Mount(ctx, img, dir); err != nil {
			b.Fatal(err)
		}
		if err := Unmount(dir); err != nil {
			b.Fatal(err)
		}
	}
}
