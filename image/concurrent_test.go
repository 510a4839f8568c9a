package image

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/podbox/podbox/internal/testutil"
)

// The helper process of TestConcurrentImports: it imports, from several
// goroutines, into the store the parent test names in the environment.
const (
	envHelperRoot  = "PODBOX_IMAGE_TEST_HELPER_ROOT"
	envHelperSrc   = "PODBOX_IMAGE_TEST_HELPER_SRC"
	envHelperNames = "PODBOX_IMAGE_TEST_HELPER_NAMES"
)

func TestHelperProcessImports(t *testing.T) {
	root := os.Getenv(envHelperRoot)
	if root == "" {
		t.Skip("helper process of TestConcurrentImports")
	}
	s, err := Open(Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	if err := importAll(s, os.Getenv(envHelperSrc), strings.Split(os.Getenv(envHelperNames), ",")); err != nil {
		t.Fatal(err)
	}
}

// importAll imports src under every name, each from its own goroutine.
func importAll(s *Store, src string, names []string) error {
	var wg sync.WaitGroup
	errs := make([]error, len(names))
	for i, n := range names {
		wg.Go(func() { _, errs[i] = s.Import(context.Background(), src, n, ImportOptions{}) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func TestConcurrentImports(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	s := newStore(t)
	src := testutil.BusyboxRootfs(t)
	var mine, theirs, want []string
	for i := range 5 {
		mine = append(mine, fmt.Sprintf("localhost/here:%d", i))
		theirs = append(theirs, fmt.Sprintf("localhost/there:%d", i))
	}
	want = append(append(want, mine...), theirs...)

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcessImports$", "-test.count=1")
	cmd.Env = append(os.Environ(), envHelperRoot+"="+filepath.Dir(s.Dir()), envHelperSrc+"="+src,
		envHelperNames+"="+strings.Join(theirs, ","))
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	errHere := importAll(s, src, mine)
	if err := cmd.Wait(); err != nil {
		t.Errorf("helper process: %v\n%s", err, out.String())
	}
	if errHere != nil {
		t.Fatal(errHere)
	}
	list, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, img := range list {
		got = append(got, img.Name)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("List after concurrent imports (-want +got):\n%s", diff)
	}
	for _, n := range want {
		if _, err := s.Get(ctx, n); err != nil {
			t.Error(err)
		}
	}
	if _, layers, tmp, _ := storeFiles(t, s); layers != 1 || tmp != 0 {
		t.Errorf("%d layer dirs (want 1, shared), %d work dirs left", layers, tmp)
	}
}

func TestConcurrentMounts(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	s := newStore(t)
	if _, err := s.Import(ctx, testutil.BusyboxRootfs(t), "localhost/busybox:test", ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	var wg sync.WaitGroup
	errs := make([]error, 10)
	for i := range errs {
		wg.Go(func() {
			img, err := s.Get(ctx, "localhost/busybox:test")
			if err != nil {
				errs[i] = err
				return
			}
			dir := filepath.Join(base, fmt.Sprint(i))
			rootfs, err := s.Mount(ctx, img, dir)
			if err != nil {
				errs[i] = err
				return
			}
			if _, err := os.Stat(filepath.Join(rootfs, "bin/sh")); err != nil {
				errs[i] = err
			}
			if err := Unmount(dir); err != nil {
				errs[i] = err
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if len(dirNames(t, base)) != 0 || len(dirNames(t, s.leasesDir())) != 0 {
		t.Error("concurrent mounts left directories or leases")
	}
}
