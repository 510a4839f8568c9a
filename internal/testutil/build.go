package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var (
	buildMu    sync.Mutex
	buildCache = map[string]string{}
	buildDir   string
)

// Build compiles a main package of this module (e.g.
// "github.com/podbox/podbox/pause") once per test process, statically and
// without cgo unless cgo is set, and returns the binary's path. The binaries
// live in a directory removed by Cleanup.
func Build(t testing.TB, pkg string, cgo bool, tags ...string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	key := fmt.Sprint(pkg, cgo, tags)
	if p, ok := buildCache[key]; ok {
		return p
	}
	if buildDir == "" {
		d, err := os.MkdirTemp("", "podbox-test-bin-")
		if err != nil {
			t.Fatal(err)
		}
		buildDir = d
	}
	out := filepath.Join(buildDir, fmt.Sprintf("%s-%d", filepath.Base(pkg), len(buildCache)))
	args := []string{"build", "-trimpath", "-o", out}
	if len(tags) > 0 {
		args = append(args, "-tags", joinTags(tags))
	}
	args = append(args, pkg)
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if cgo {
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	buildCache[key] = out
	return out
}

func joinTags(tags []string) string {
	s := ""
	for i, t := range tags {
		if i > 0 {
			s += ","
		}
		s += t
	}
	return s
}

// Cleanup removes the binaries Build made and the test network; call it
// from TestMain after m.Run.
func Cleanup() {
	cleanupNetwork()
	buildMu.Lock()
	defer buildMu.Unlock()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
}

// PauseBinary builds podbox's pause program.
func PauseBinary(t testing.TB) string {
	return Build(t, "github.com/podbox/podbox/pause", false)
}

// ShimBinary builds podbox's shim program the way the Makefile does (cgo,
// seccomp, without containers/image).
func ShimBinary(t testing.TB) string {
	return Build(t, "github.com/podbox/podbox/cmd/podbox-shim", true, "seccomp", "podbox_shim", "containers_image_openpgp", "exclude_graphdriver_btrfs")
}
