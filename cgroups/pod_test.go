package cgroups

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	ocg "github.com/opencontainers/cgroups"
	"github.com/opencontainers/cgroups/manager"
	"github.com/podbox/podbox/internal/testutil"
)

// testParent returns a unique cgroup parent and checks, when the test ends,
// that nothing is left of it in any hierarchy.
func testParent(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	parent := "/podbox-unit-" + hex.EncodeToString(b)
	t.Cleanup(func() {
		if left := cgroupDirs(t, parent); len(left) > 0 {
			t.Errorf("left on the host: %v", left)
			// Best effort, deepest first, so that the host stays clean.
			for i := len(left) - 1; i >= 0; i-- {
				_ = os.Remove(left[i])
			}
		}
	})
	return parent
}

// cgroupDirs lists the directories of the cgroup p (and below) in every
// hierarchy mounted under /sys/fs/cgroup.
func cgroupDirs(t *testing.T, p string) []string {
	t.Helper()
	hier, err := filepath.Glob("/sys/fs/cgroup/*")
	if err != nil {
		t.Fatal(err)
	}
	if V2() {
		hier = []string{"/sys/fs/cgroup"}
	}
	var out []string
	for _, h := range hier {
		if fi, err := os.Lstat(h); err != nil || !fi.IsDir() {
			continue // cpu -> cpu,cpuacct and the like
		}
		root := filepath.Join(h, p)
		_ = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				out = append(out, path)
			}
			return nil
		})
	}
	return out
}

func TestPodPath(t *testing.T) {
	for _, tt := range []struct{ parent, uid, want string }{
		{"", "1234", "/podbox/pod1234"},
		{"/podbox", "1234", "/podbox/pod1234"},
		{"custom/parent", "u", "/custom/parent/podu"},
		{"/a/b/", "u", "/a/b/podu"},
	} {
		if got := PodPath(tt.parent, tt.uid); got != tt.want {
			t.Errorf("PodPath(%q, %q) = %q, want %q", tt.parent, tt.uid, got, tt.want)
		}
	}
	p := &Pod{path: "/podbox/podu"}
	if p.Path() != "/podbox/podu" || p.ContainerPath("web.0") != "/podbox/podu/web.0" {
		t.Errorf("Path %q ContainerPath %q", p.Path(), p.ContainerPath("web.0"))
	}
}

func TestMode(t *testing.T) {
	m := Mode()
	switch m {
	case "v2", "v1 (hybrid)", "v1":
	default:
		t.Fatalf("Mode() = %q", m)
	}
	_, err := os.Stat("/sys/fs/cgroup/cgroup.controllers")
	if V2() != (err == nil) || (m == "v2") != V2() {
		t.Errorf("Mode %q V2 %v, but /sys/fs/cgroup/cgroup.controllers exists: %v", m, V2(), err == nil)
	}
	if _, err := os.Stat("/sys/fs/cgroup/unified/cgroup.controllers"); err == nil && m != "v1 (hybrid)" {
		t.Errorf("Mode = %q on a host with a unified hierarchy beside v1", m)
	}
}

func TestCreateDestroy(t *testing.T) {
	testutil.RequireRoot(t)
	parent := testParent(t)
	if Exists(parent, "u1") {
		t.Fatal("Exists before CreatePod")
	}
	p, err := CreatePod(parent, "u1")
	if err != nil {
		t.Fatalf("CreatePod: %v", err)
	}
	if p.Path() != PodPath(parent, "u1") {
		t.Errorf("Path = %q, want %q", p.Path(), PodPath(parent, "u1"))
	}
	paths := p.mgr.GetPaths()
	if len(paths) == 0 {
		t.Fatal("no hierarchies")
	}
	for sub, dir := range paths {
		if sub == "devices" {
			continue // left to the container leaves (SkipDevices)
		}
		if !strings.HasSuffix(dir, p.Path()) {
			t.Errorf("%s: %s is not the pod's cgroup", sub, dir)
		}
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			t.Errorf("%s: %s missing: %v", sub, dir, err)
		}
	}
	for _, ctl := range []string{"memory", "pids", "cpu"} {
		if _, ok := paths[ctl]; !ok && !V2() {
			t.Errorf("no %s hierarchy in %v", ctl, paths)
		}
	}
	if !Exists(parent, "u1") {
		t.Error("Exists = false after CreatePod")
	}
	if Exists(parent, "u2") {
		t.Error("Exists(u2) = true")
	}
	if n, err := OOMKillCount(p.ContainerPath("missing")); err != nil || n != 0 {
		t.Errorf("OOMKillCount of a missing cgroup = %d, %v; want 0", n, err)
	}
	if n, err := OOMKillCount(p.Path()); err != nil || n != 0 {
		t.Errorf("OOMKillCount of a fresh cgroup = %d, %v; want 0", n, err)
	}

	// A second pod under the same parent keeps the parent alive.
	p2, err := CreatePod(parent, "u2")
	if err != nil {
		t.Fatalf("CreatePod u2: %v", err)
	}
	if err := p.Destroy(); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	if Exists(parent, "u1") {
		t.Error("Exists = true after Destroy")
	}
	if !Exists(parent, "u2") {
		t.Error("Destroy of u1 removed u2")
	}
	if err := p2.Destroy(); err != nil {
		t.Fatalf("Destroy u2: %v", err)
	}
	if left := cgroupDirs(t, parent); len(left) > 0 {
		t.Errorf("after the last pod, left: %v", left)
	}
	// Destroying again is harmless.
	if err := p.Destroy(); err != nil {
		t.Errorf("second Destroy: %v", err)
	}
}

// TestRemovePodKills places a process in a container leaf of the pod
// cgroup, in every hierarchy as libcontainer does, as a container whose shim
// died would leave it, and checks that RemovePod kills it and removes
// everything, the emptied parent included.
func TestRemovePodKills(t *testing.T) {
	testutil.RequireRoot(t)
	removeWithProcess(t, func(leaf string) (ocg.Manager, error) {
		return manager.New(&ocg.Cgroup{Path: leaf, Resources: &ocg.Resources{}})
	})
}

// TestRemovePodKillsOutsideDevices: on cgroup v1 the manager lists a
// cgroup's processes from the devices hierarchy only, and the pod level is
// made without it (SkipDevices), so a process that is in the pod cgroup
// everywhere but in devices (moved there by anything but libcontainer) is
// neither found nor killed, and the removal fails after ~9 s of retries.
func TestRemovePodKillsOutsideDevices(t *testing.T) {
	testutil.RequireRoot(t)
	if V2() {
		t.Skip("cgroup v1 only")
	}
	removeWithProcess(t, newManager)
}

func removeWithProcess(t *testing.T, leafManager func(string) (ocg.Manager, error)) {
	t.Helper()
	parent := testParent(t)
	p, err := CreatePod(parent, "k1")
	if err != nil {
		t.Fatalf("CreatePod: %v", err)
	}
	// The process is our child: reap it as soon as it dies, as the host's
	// init does for the orphans of a dead shim (a zombie keeps a v1 cgroup
	// busy until it is reaped).
	cmd := exec.Command("sleep", "100")
	if err := cmd.Start(); err != nil {
		_ = p.Destroy()
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var (
		waitErr error
		waited  bool
	)
	wait := func() error {
		if !waited {
			waitErr, waited = <-exited, true
		}
		return waitErr
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = wait()
	}()
	leafPath := p.ContainerPath("ctr.0")
	leaf, err := leafManager(leafPath)
	if err == nil {
		err = leaf.Apply(cmd.Process.Pid)
	}
	if err != nil {
		_ = cmd.Process.Kill()
		_ = RemovePod(parent, "k1")
		t.Fatalf("move the process into the pod: %v", err)
	}
	cg, _ := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/cgroup")
	if !strings.Contains(string(cg), leafPath) {
		t.Fatalf("process cgroups:\n%s\nwant %s", cg, leafPath)
	}

	if err := RemovePod(parent, "k1"); err != nil {
		_ = cmd.Process.Kill()
		_ = wait()
		_ = RemovePod(parent, "k1")
		t.Fatalf("RemovePod: %v", err)
	}
	err = wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Errorf("sleep ended with %v, want killed by SIGKILL", err)
	}
	if Exists(parent, "k1") {
		t.Error("Exists = true after RemovePod")
	}
	if left := cgroupDirs(t, parent); len(left) > 0 {
		t.Errorf("left after RemovePod: %v", left)
	}
	// A pod that is gone: not an error.
	if err := RemovePod(parent, "k1"); err != nil {
		t.Errorf("RemovePod of a removed pod: %v", err)
	}
	if err := RemovePod(parent, "never"); err != nil {
		t.Errorf("RemovePod of a pod that never existed: %v", err)
	}
}

func TestOOMKillCountMissing(t *testing.T) {
	n, err := OOMKillCount("/podbox-unit-does-not-exist/podx/c.0")
	if err != nil || n != 0 {
		t.Errorf("OOMKillCount of a missing cgroup = %d, %v; want 0", n, err)
	}
}
