package sandbox_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/podbox/podbox/image"
	"github.com/podbox/podbox/internal/printers"
	"github.com/podbox/podbox/internal/testutil"
	"github.com/podbox/podbox/sandbox"
	corev1 "k8s.io/api/core/v1"
)

// pullEnv is an env with an empty image store of its own and a registry
// on 127.0.0.1 that registries.conf marks insecure (plain HTTP).
type pullEnv struct {
	*env
	reg    *testutil.Registry
	layout string // OCI layout the test images are pushed from
	base   []byte // busybox layer
}

func newPullEnv(t *testing.T) *pullEnv {
	reg := testutil.StartRegistry(t)
	conf := filepath.Join(t.TempDir(), "registries.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf("[[registry]]\nlocation = %q\ninsecure = true\n", reg.Host())), 0o644); err != nil {
		t.Fatal(err)
	}
	confDir := t.TempDir()
	storeRoot := filepath.Join(t.TempDir(), "root")
	e := newEnv(t, func(o *sandbox.Options) {
		o.Root, o.RegistriesConf, o.RegistriesConfDir = storeRoot, conf, confDir
	})
	return &pullEnv{env: e, reg: reg, layout: filepath.Join(t.TempDir(), "layout"),
		base: testutil.TarDir(t, testutil.BusyboxRootfs(t))}
}

// push pushes a busybox image to repo:tag; mark makes its config (and so
// its ID) distinct.
func (p *pullEnv) push(repoTag, mark string) {
	p.t.Helper()
	img := testutil.TestImage{Layers: [][]byte{p.base}, Config: ocispec.ImageConfig{
		Env: []string{"PATH=/bin", "MARK=" + mark}, Cmd: []string{"sh", "-c", "echo mark=$MARK; exit 1"},
	}}
	tag := strings.ReplaceAll(repoTag, "/", "-")
	tag = strings.ReplaceAll(tag, ":", "-") + "-" + mark
	testutil.WriteOCILayout(p.t, p.layout, tag, img)
	p.reg.Push(p.t, p.layout, tag, repoTag)
}

func (p *pullEnv) status(name string) corev1.ContainerStatus {
	p.t.Helper()
	pod, err := p.rt.Get(context.Background(), "default", name)
	if err != nil {
		p.t.Fatal(err)
	}
	if len(pod.Status.ContainerStatuses) == 0 {
		return corev1.ContainerStatus{}
	}
	return pod.Status.ContainerStatuses[0]
}

func (p *pullEnv) crashingPod(name, image string, policy corev1.PullPolicy) {
	p.run(fmt.Sprintf(`{apiVersion: v1, kind: Pod, metadata: {name: %s}, spec: {containers: [{name: a, image: %q, imagePullPolicy: %s}]}}`,
		name, image, policy))
}

// waitRestarts waits until the container started n+1 times.
func (p *pullEnv) waitRestarts(name string, n int32) corev1.ContainerStatus {
	p.t.Helper()
	var cs corev1.ContainerStatus
	eventually(p.t, 20*time.Second, func() string {
		cs = p.status(name)
		if cs.RestartCount < n {
			return fmt.Sprintf("%d restarts, want %d: %+v", cs.RestartCount, n, cs.State)
		}
		return ""
	})
	return cs
}

// Always contacts the registry on every start; IfNotPresent never when the
// image is present; Never never.
func TestPullPolicies(t *testing.T) {
	p := newPullEnv(t)
	img := p.reg.Ref("podbox/app:v1")
	p.push("podbox/app:v1", "1")

	p.reg.ResetCounts()
	p.crashingPod("always", img, corev1.PullAlways)
	p.waitRestarts("always", 3)
	zero := int64(0)
	_ = p.rt.Stop(context.Background(), "default", "always", sandbox.StopOptions{GracePeriod: &zero})
	starts := int(p.status("always").RestartCount) + 1
	c := p.reg.Counts()
	t.Logf("Always: %d starts, registry saw %+v", starts, c)
	if manifests := c.ManifestGET + c.ManifestHEAD; manifests != starts {
		t.Errorf("Always: %d manifest requests for %d starts, want one per start", manifests, starts)
	}
	if c.BlobGET > 2 { // the first start downloads the config and the layer
		t.Errorf("Always: %d blob downloads; an unchanged image must not be downloaded again", c.BlobGET)
	}

	p.reg.ResetCounts()
	p.crashingPod("ifnotpresent", img, corev1.PullIfNotPresent)
	p.waitRestarts("ifnotpresent", 2)
	p.crashingPod("never", img, corev1.PullNever)
	p.waitRestarts("never", 2)
	if c := p.reg.Counts(); c.ManifestGET+c.ManifestHEAD+c.BlobGET != 0 {
		t.Errorf("IfNotPresent/Never with the image present contacted the registry: %+v", c)
	}
	if id := p.status("never").ImageID; !strings.Contains(id, "@sha256:") {
		t.Errorf("imageID %q", id)
	}
}

// A new image behind the same tag is used by the next start under Always,
// not under IfNotPresent (as long as nothing else pulls the tag: the store
// is shared, as a node's is).
func TestRepushedTag(t *testing.T) {
	p := newPullEnv(t)
	img := p.reg.Ref("podbox/app:v1")
	p.push("podbox/app:v1", "1")
	p.crashingPod("ifnp", img, corev1.PullIfNotPresent)
	first := p.waitRestarts("ifnp", 1).ImageID
	p.push("podbox/app:v1", "2")
	before := p.status("ifnp")
	p.waitRestarts("ifnp", before.RestartCount+2)
	if id := p.status("ifnp").ImageID; id != first {
		t.Errorf("IfNotPresent switched image: %s -> %s", first, id)
	}
	_ = p.rt.Stop(context.Background(), "default", "ifnp", sandbox.StopOptions{})

	// Always: running mark 3, then mark 4 pushed: a later restart runs it.
	p.push("podbox/app:v1", "3")
	p.crashingPod("always", img, corev1.PullAlways)
	logOf := func() string {
		var out strings.Builder
		_ = p.rt.Logs(context.Background(), "default", "always", sandbox.LogOptions{Container: "a", Tail: -1}, &out)
		return out.String()
	}
	eventually(t, 10*time.Second, func() string {
		if l := logOf(); l != "mark=3\n" {
			return "first start's log " + l
		}
		return ""
	})
	p.push("podbox/app:v1", "4")
	eventually(t, 20*time.Second, func() string {
		if l := logOf(); l != "mark=4\n" {
			return "Always's latest start still logs " + l
		}
		return ""
	})
}

// An image that cannot be had: ErrImagePull, then ImagePullBackOff while
// retrying, and the pod starts by itself once the image is pushed.
func TestPullFailureThenPush(t *testing.T) {
	p := newPullEnv(t)
	img := p.reg.Ref("podbox/late:v1")
	p.run(fmt.Sprintf(`{apiVersion: v1, kind: Pod, metadata: {name: late}, spec: {
	  initContainers: [{name: init, image: %q, command: [sh, -c, "exit 0"]}],
	  containers: [{name: a, image: %q, command: [sleep, "1000"]}]}}`, img, img))
	seen := map[string]bool{}
	eventually(t, 10*time.Second, func() string {
		pod, _ := p.rt.Get(context.Background(), "default", "late")
		seen[printers.Row(pod, time.Now()).Status] = true
		if seen["Init:ErrImagePull"] && seen["Init:ImagePullBackOff"] {
			return ""
		}
		return fmt.Sprintf("statuses seen so far: %v", seen)
	})
	pod, _ := p.rt.Get(context.Background(), "default", "late")
	if w := pod.Status.InitContainerStatuses[0].State.Waiting; w == nil || !strings.Contains(w.Message, img) {
		t.Errorf("waiting state %+v does not name the image", w)
	}
	p.push("podbox/late:v1", "1")
	p.wait("late", sandbox.PodReady)
}

// Never with an absent image: ErrImageNeverPull, without contacting the
// registry; loading the image lets the pod start by itself.
func TestNeverPullThenLoad(t *testing.T) {
	p := newPullEnv(t)
	p.push("podbox/app:v1", "1")
	name := p.reg.Ref("podbox/app:v1")
	p.reg.ResetCounts()
	p.run(fmt.Sprintf(`{apiVersion: v1, kind: Pod, metadata: {name: never}, spec: {containers: [{name: a, image: %q, imagePullPolicy: Never, command: [sleep, "1000"]}]}}`, name))
	eventually(t, 5*time.Second, func() string {
		if w := p.status("never").State.Waiting; w == nil || w.Reason != "ErrImageNeverPull" ||
			w.Message != fmt.Sprintf("Container image %q is not present with pull policy of Never", name) {
			return fmt.Sprintf("state %+v", p.status("never").State)
		}
		return ""
	})
	// Put the image in the store without the registry knowing: an import.
	if _, err := p.rt.Images().Import(context.Background(), testutil.BusyboxRootfs(t), name, image.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	p.wait("never", sandbox.PodReady)
	if c := p.reg.Counts(); c.ManifestGET+c.ManifestHEAD+c.BlobGET != 0 {
		t.Errorf("Never contacted the registry: %+v", c)
	}
}

// A name that does not parse is InvalidImageName, and nothing is retried.
func TestInvalidImageName(t *testing.T) {
	p := newPullEnv(t)
	p.run(`{apiVersion: v1, kind: Pod, metadata: {name: bad}, spec: {containers: [{name: a, image: "Upper/Case:1"}]}}`)
	eventually(t, 5*time.Second, func() string {
		if w := p.status("bad").State.Waiting; w == nil || w.Reason != "InvalidImageName" {
			return fmt.Sprintf("state %+v", p.status("bad").State)
		}
		return ""
	})
	pod, _ := p.rt.Get(context.Background(), "default", "bad")
	if st := printers.Row(pod, time.Now()).Status; st != "InvalidImageName" {
		t.Errorf("STATUS %q", st)
	}
}

// An image a pod uses cannot be removed (the error names the pod); --force
// only untags it; prune keeps it while the pod exists.
func TestImageInUse(t *testing.T) {
	p := newPullEnv(t)
	p.push("podbox/app:v1", "1")
	name := p.reg.Ref("podbox/app:v1")
	p.run(fmt.Sprintf(`{apiVersion: v1, kind: Pod, metadata: {name: user}, spec: {containers: [{name: a, image: %q, command: [sleep, "1000"]}]}}`, name))
	p.push("podbox/other:v1", "2")
	if _, err := p.rt.Pull(context.Background(), p.reg.Ref("podbox/other:v1"), nil); err != nil {
		t.Fatal(err)
	}
	err := p.rt.RemoveImage(context.Background(), name, false)
	if !errors.Is(err, sandbox.ErrImageInUse) || !strings.Contains(err.Error(), "default/user") {
		t.Errorf("rm of an image in use: %v", err)
	}
	rep, err := p.rt.PruneImages(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Images) != 1 || !strings.Contains(rep.Images[0], "podbox/other") || rep.BytesFreed <= 0 {
		t.Errorf("prune: %+v", rep)
	}
	if _, err := p.rt.Images().Get(context.Background(), name); err != nil {
		t.Errorf("prune removed the image a pod uses: %v", err)
	}
	// A second name of the image the pod uses can go without --force: that
	// only untags.
	p.push("podbox/app:alias", "1")
	alias := p.reg.Ref("podbox/app:alias")
	if _, err := p.rt.Pull(context.Background(), alias, nil); err != nil {
		t.Fatal(err)
	}
	if err := p.rt.RemoveImage(context.Background(), alias, false); err != nil {
		t.Errorf("rm of a second name of an image in use: %v", err)
	}
	if err := p.rt.RemoveImage(context.Background(), name, true); err != nil {
		t.Errorf("rm --force: %v", err)
	}
	if _, err := p.rt.Images().Get(context.Background(), name); !errors.Is(err, image.ErrNotFound) {
		t.Errorf("after rm --force the name remains: %v", err)
	}
	if out, code := p.exec("user", "a", "true"); code != 0 {
		t.Errorf("the pod broke when its image was untagged: %q", out)
	}
}

// Pulls show as events with the time they took, and the usual lifecycle
// events are recorded and folded.
func TestPullEvents(t *testing.T) {
	p := newPullEnv(t)
	p.push("podbox/app:v1", "1")
	p.crashingPod("evts", p.reg.Ref("podbox/app:v1"), corev1.PullAlways)
	p.waitRestarts("evts", 2)
	evs, err := p.rt.Events(context.Background(), "default", "evts")
	if err != nil {
		t.Fatal(err)
	}
	byReason := map[string]sandbox.Event{}
	for _, e := range evs {
		byReason[e.Reason] = e
	}
	for _, r := range []string{"Scheduled", "Pulling", "Pulled", "Created", "Started", "BackOff"} {
		if _, ok := byReason[r]; !ok {
			t.Errorf("no %s event in %+v", r, evs)
		}
	}
	if m := byReason["Pulled"].Message; !strings.HasPrefix(m, fmt.Sprintf("Successfully pulled image %q in ", p.reg.Ref("podbox/app:v1"))) {
		t.Errorf("Pulled event %q", m)
	}
	if e := byReason["Started"]; e.Count < 2 || e.Object != "spec.containers{a}" {
		t.Errorf("Started event not folded over the restarts: %+v", e)
	}
}

// hangingRegistry accepts connections on 127.0.0.1 and, once hang is
// set, never answers them (until then it closes them at once).
func hangingRegistry(t *testing.T) (string, *atomic.Bool) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hang := &atomic.Bool{}
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			if !hang.Load() {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return l.Addr().String(), hang
}

func hungEnv(t *testing.T, stall time.Duration) (*env, string, *atomic.Bool) {
	host, hang := hangingRegistry(t)
	conf := filepath.Join(t.TempDir(), "registries.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf("[[registry]]\nlocation = %q\ninsecure = true\n", host)), 0o644); err != nil {
		t.Fatal(err)
	}
	storeRoot := filepath.Join(t.TempDir(), "root")
	confDir := t.TempDir()
	e := newEnv(t, func(o *sandbox.Options) {
		o.Root, o.RegistriesConf, o.RegistriesConfDir, o.PullStallTimeout = storeRoot, conf, confDir, stall
		o.BackOffBase = 100 * time.Millisecond
	})
	return e, host, hang
}

// A registry that never answers: run gives up after the stall timeout (the
// pod is created and shows ErrImagePull).
func TestHungRegistryRun(t *testing.T) {
	e, host, hang := hungEnv(t, time.Second)
	hang.Store(true)
	start := time.Now()
	e.run(fmt.Sprintf(`{apiVersion: v1, kind: Pod, metadata: {name: hung}, spec: {containers: [{name: a, image: "%s/podbox/app:v1", imagePullPolicy: Always}]}}`, host))
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("run took %v with a registry that never answers", took)
	}
	eventually(t, 10*time.Second, func() string {
		p, _ := e.rt.Get(context.Background(), "default", "hung")
		if w := p.Status.ContainerStatuses[0].State.Waiting; w == nil || !strings.Contains(w.Message, "no progress") {
			return fmt.Sprintf("state %+v", p.Status.ContainerStatuses[0].State)
		}
		return ""
	})
}

// A delete ends a pull the shim is stuck in at once.
func TestDeleteDuringHungPull(t *testing.T) {
	e, host, hang := hungEnv(t, time.Hour)
	e.run(fmt.Sprintf(`{apiVersion: v1, kind: Pod, metadata: {name: stuck}, spec: {containers: [{name: a, image: "%s/podbox/app:v1", imagePullPolicy: Always}]}}`, host))
	hang.Store(true) // the shim's retries now hang
	eventually(t, 5*time.Second, func() string {
		evs, _ := e.rt.Events(context.Background(), "default", "stuck")
		n := 0
		for _, ev := range evs {
			if ev.Reason == "Pulling" {
				n = ev.Count
			}
		}
		if n < 2 {
			return "the shim has not retried the pull yet"
		}
		return ""
	})
	start := time.Now()
	if err := e.rt.Delete(context.Background(), "default", "stuck", sandbox.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("delete during a hung pull took %v", took)
	}
	e.assertClean()
}

// Each container follows its own pull policy even when they share an image:
// with the registry down, Always fails while IfNotPresent and Never run the
// image the store has. Image names are never taken for transports.
func TestPoliciesPerContainer(t *testing.T) {
	p := newPullEnv(t)
	p.push("podbox/app:v1", "1")
	name := p.reg.Ref("podbox/app:v1")
	if _, err := p.rt.Pull(context.Background(), name, nil); err != nil {
		t.Fatal(err)
	}
	// Block the registry from now on (and docker.io: "oci:lay" is a docker
	// name, docker.io/library/oci:lay, which must not be read from disk).
	conf := filepath.Join(t.TempDir(), "registries.conf")
	blocked := fmt.Sprintf("[[registry]]\nlocation = %q\nblocked = true\n[[registry]]\nlocation = \"docker.io\"\nblocked = true\n", p.reg.Host())
	if err := os.WriteFile(conf, []byte(blocked), 0o644); err != nil {
		t.Fatal(err)
	}
	rt, err := sandbox.Open(func() sandbox.Options { o := p.rt.Options(); o.RegistriesConf = conf; return o }())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(p.dir, "cwd", "lay"), 0o755); err != nil {
		t.Fatal(err)
	}
	pod := pod(t, fmt.Sprintf(`{apiVersion: v1, kind: Pod, metadata: {name: mixed}, spec: {containers: [
	  {name: always, image: %[1]q, imagePullPolicy: Always, command: [sleep, "100"]},
	  {name: ifnp, image: %[1]q, imagePullPolicy: IfNotPresent, command: [sleep, "100"]},
	  {name: never, image: %[1]q, imagePullPolicy: Never, command: [sleep, "100"]},
	  {name: transport, image: "oci:lay", imagePullPolicy: IfNotPresent}]}}`, name))
	got, err := rt.Run(context.Background(), pod)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"always": "ErrImagePull", "ifnp": "running", "never": "running", "transport": "ErrImagePull"}
	for _, cs := range got.Status.ContainerStatuses {
		state := "running"
		if cs.State.Waiting != nil {
			state = cs.State.Waiting.Reason
		}
		// With the tests' 200ms back-off, ErrImagePull turns into
		// ImagePullBackOff after 100ms, which a loaded machine may take
		// to start the other containers.
		if state == "ImagePullBackOff" {
			state = "ErrImagePull"
		}
		if state != want[cs.Name] {
			t.Errorf("%s: %s (%+v), want %s", cs.Name, state, cs.State, want[cs.Name])
		}
	}
	// The failed pull names what was pulled: a registry name, not a layout.
	evs, err := rt.Events(context.Background(), "default", "mixed")
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, ev := range evs {
		if ev.Object == "spec.containers{transport}" && ev.Reason == "Failed" {
			msgs = append(msgs, ev.Message)
		}
	}
	if !strings.Contains(strings.Join(msgs, "\n"), "docker.io/library/oci:lay") {
		t.Errorf("oci:lay was not taken for a registry name: events %q", msgs)
	}
}

// An image that appears in the store is noticed without waiting out the
// back-off.
func TestImageAppearsDuringBackOff(t *testing.T) {
	e := newEnv(t, func(o *sandbox.Options) {
		o.Root = filepath.Join(t.TempDir(), "root")
		o.BackOffBase, o.BackOffMax = time.Minute, 5*time.Minute
	})
	e.run(`{apiVersion: v1, kind: Pod, metadata: {name: late}, spec: {containers: [{name: a, image: "localhost/late:1", imagePullPolicy: Never, command: [sleep, "100"]}]}}`)
	eventually(t, 5*time.Second, func() string {
		p, _ := e.rt.Get(context.Background(), "default", "late")
		if w := p.Status.ContainerStatuses[0].State.Waiting; w == nil || w.Reason != "ErrImageNeverPull" {
			return fmt.Sprintf("%+v", p.Status.ContainerStatuses[0].State)
		}
		return ""
	})
	if _, err := e.rt.Images().Import(context.Background(), testutil.BusyboxRootfs(t), "localhost/late:1", image.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	e.wait("late", sandbox.PodReady)
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the pod started %v after its image appeared (back-off 1m)", took)
	}
}
