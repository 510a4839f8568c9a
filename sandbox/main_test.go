package sandbox_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/podbox/podbox/image"
	"github.com/podbox/podbox/internal/cni"
	"github.com/podbox/podbox/internal/kube"
	"github.com/podbox/podbox/internal/testutil"
	"github.com/podbox/podbox/sandbox"
	corev1 "k8s.io/api/core/v1"
)

// testImage is the busybox image every test pod uses (plus ipctool).
const testImage = "localhost/busybox:test"

// The test binary is re-executed as libcontainer's init and as pod shims:
// Init takes those roles over before the test framework starts, from an
// init function so that it runs on the main thread.
func init() { sandbox.Init() }

func TestMain(m *testing.M) {
	// The tests never touch the host's podbox network: its configuration
	// must not appear while they run (nor its masquerading chain, nor
	// its bridge).
	hostNet := []string{filepath.Join(cni.DefaultConfDir, cni.DefaultConfFile), "/sys/class/net/podbox0"}
	var before []bool
	for _, p := range hostNet {
		_, err := os.Stat(p)
		before = append(before, err == nil)
	}
	chain := cni.MasqueradeChain(cni.DefaultNetwork)
	hasChain := func() bool { return exec.Command("iptables", "-w", "-t", "nat", "-S", chain).Run() == nil }
	chainBefore := hasChain()
	code := m.Run()
	if sharedRoot != "" {
		os.RemoveAll(sharedRoot)
	}
	testutil.Cleanup()
	for i, p := range hostNet {
		if _, err := os.Stat(p); err == nil && !before[i] {
			fmt.Fprintf(os.Stderr, "FAIL: the tests made %s, of the host's podbox network\n", p)
			code = 1
		}
	}
	if hasChain() && !chainBefore {
		fmt.Fprintf(os.Stderr, "FAIL: the tests made the nat chain %s, of the host's podbox network\n", chain)
		code = 1
	}
	os.Exit(code)
}

var (
	sharedOnce sync.Once
	sharedRoot string
	sharedErr  error
)

// root returns the image root shared by the package's tests, with the test
// image imported once.
func root(t *testing.T) string {
	t.Helper()
	ipctool := testutil.Build(t, "github.com/podbox/podbox/internal/testutil/ipctool", false)
	grpchealth := testutil.Build(t, "github.com/podbox/podbox/internal/testutil/grpchealth", false)
	sharedOnce.Do(func() {
		sharedRoot, sharedErr = os.MkdirTemp("", "podbox-sandbox-test-")
		if sharedErr != nil {
			return
		}
		rootfs := filepath.Join(sharedRoot, "rootfs")
		if sharedErr = testutil.BusyboxRootfsDir(rootfs); sharedErr != nil {
			return
		}
		if sharedErr = copyFile(ipctool, filepath.Join(rootfs, "bin", "ipctool")); sharedErr != nil {
			return
		}
		if sharedErr = copyFile(grpchealth, filepath.Join(rootfs, "bin", "grpchealth")); sharedErr != nil {
			return
		}
		st, err := image.Open(image.Options{Root: sharedRoot})
		if err != nil {
			sharedErr = err
			return
		}
		_, sharedErr = st.Import(context.Background(), rootfs, testImage, image.ImportOptions{})
	})
	if sharedErr != nil {
		t.Fatalf("prepare test image: %v", sharedErr)
	}
	return sharedRoot
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// env is one test's isolated runtime: its own state and log dirs and cgroup
// parent, the shared image root. Cleanup deletes every pod and fails the
// test if anything is left on the host.
type env struct {
	t     *testing.T
	rt    *sandbox.Runtime
	dir   string
	cg    string
	root  string
	state string
	net   *testutil.Network
}

func newEnv(t *testing.T, tweaks ...func(*sandbox.Options)) *env {
	t.Helper()
	testutil.RequireRoot(t)
	root := root(t)
	dir := t.TempDir()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	e := &env{t: t, dir: dir, cg: "/podbox-test-" + hex.EncodeToString(b), root: root, state: filepath.Join(dir, "state"),
		net: testutil.TestNetwork(t)}
	opts := sandbox.Options{
		Root: root, State: e.state, LogDir: filepath.Join(dir, "log"),
		PauseBinary: testutil.PauseBinary(t), ShimBinary: testutil.ShimBinary(t), CgroupParent: e.cg,
		CNIConfDir: e.net.ConfDir, Network: e.net.Name,
		BackOffBase: 200 * time.Millisecond, BackOffMax: time.Second,
	}
	for _, tw := range tweaks {
		tw(&opts)
	}
	rt, err := sandbox.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	e.rt = rt
	e.root = rt.Options().Root
	t.Cleanup(func() {
		ctx := context.Background()
		if t.Failed() {
			logs, _ := filepath.Glob(filepath.Join(e.state, "pods", "*", "*", "shim.log"))
			for _, l := range logs {
				b, _ := os.ReadFile(l)
				t.Logf("%s:\n%s", l, b)
			}
		}
		pods, _ := rt.List(ctx, "")
		for _, p := range pods {
			if err := rt.Delete(ctx, p.Namespace, p.Name, sandbox.DeleteOptions{Force: true}); err != nil {
				t.Errorf("clean up pod %s: %v", p.Name, err)
			}
		}
		e.assertClean()
	})
	return e
}

// assertClean fails the test if any mount, cgroup or process of this env
// is left on the host.
func (e *env) assertClean() {
	e.t.Helper()
	leaks := testutil.Leaks([]string{e.dir, filepath.Join(e.root, "pods")}, e.cg)
	leaks = append(leaks, e.net.Leaks()...)
	if len(leaks) > 0 {
		e.t.Errorf("left on the host:\n%s", strings.Join(leaks, "\n"))
	}
}

// pod decodes a one-pod manifest the way `podbox run -f` does.
func pod(t *testing.T, manifest string) *corev1.Pod {
	t.Helper()
	m, err := kube.Decode(strings.NewReader(manifest), t.Name())
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Pods) != 1 {
		t.Fatalf("want one pod, got %d", len(m.Pods))
	}
	return m.Pods[0]
}

func (e *env) run(manifest string) *corev1.Pod {
	e.t.Helper()
	p, err := e.rt.Run(context.Background(), pod(e.t, manifest))
	if err != nil {
		e.t.Fatalf("run: %v", err)
	}
	return p
}

func (e *env) wait(name string, cond sandbox.Condition) *corev1.Pod {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p, err := e.rt.Wait(ctx, "default", name, cond)
	if err != nil {
		e.t.Fatalf("wait for %s: %v (status %+v)", name, err, p.Status)
	}
	return p
}

// exec runs a command in a container and returns its output and exit code.
func (e *env) exec(pod, ctr string, cmd ...string) (string, int) {
	e.t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		e.t.Fatal(err)
	}
	out := make(chan string)
	go func() { b, _ := io.ReadAll(r); out <- string(b) }()
	code, err := e.rt.Exec(context.Background(), "default", pod, sandbox.ExecOptions{
		Container: ctr, Command: cmd, Stdout: w, Stderr: w,
	})
	w.Close()
	s := <-out
	r.Close()
	if err != nil {
		e.t.Fatalf("exec %v in %s/%s: %v", cmd, pod, ctr, err)
	}
	return s, code
}

// eventually retries f until it returns "" (success) or the deadline.
func eventually(t *testing.T, d time.Duration, f func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		msg := f()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(msg)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sandboxLeaks lists what a stopped pod still holds on the host: mounts of
// its sandbox and containers, cgroups, processes.
func (e *env) sandboxLeaks(name string) []string {
	dir := filepath.Join(e.state, "pods", "default", name)
	return testutil.Leaks([]string{dir + "/ns", dir + "/shm", filepath.Join(e.root, "pods")}, e.cg)
}

// examplePause builds the pause binary for Example into dir (a real
// program installs it with `make install`).
func examplePause(dir string) string {
	out := filepath.Join(dir, "pause")
	cmd := exec.Command("go", "build", "-o", out, "github.com/podbox/podbox/pause")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build pause: %v\n%s", err, b)
	}
	return out
}
