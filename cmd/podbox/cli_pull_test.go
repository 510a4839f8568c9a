package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/podbox/podbox/internal/testutil"
)

// pushBusybox pushes n images sharing the busybox base layer, each with a
// small layer of its own, to reg as podbox/app<i>:v1.
func pushBusybox(t *testing.T, reg *testutil.Registry, n int) []string {
	t.Helper()
	base := testutil.TarDir(t, testutil.BusyboxRootfs(t))
	layout := filepath.Join(t.TempDir(), "layout")
	var refs []string
	for i := 0; i < n; i++ {
		own := t.TempDir()
		if err := os.WriteFile(filepath.Join(own, fmt.Sprintf("app%d", i)), []byte(fmt.Sprint(i)), 0o644); err != nil {
			t.Fatal(err)
		}
		img := testutil.TestImage{Layers: [][]byte{base, testutil.TarDir(t, own)},
			Config: ocispec.ImageConfig{Env: []string{"PATH=/bin"}, Cmd: []string{"sleep", "1000"}}}
		tag := fmt.Sprintf("app%d", i)
		testutil.WriteOCILayout(t, layout, tag, img)
		repo := fmt.Sprintf("podbox/app%d:v1", i)
		reg.Push(t, layout, tag, repo)
		refs = append(refs, reg.Ref(repo))
	}
	return refs
}

// image pull with and without --tls-verify, progress lines without a
// terminal, inspect, and 8 pulls at once sharing a base layer.
func TestCLIImagePull(t *testing.T) {
	c := newCLI(t)
	reg := testutil.StartRegistry(t)
	refs := pushBusybox(t, reg, 8)

	// Plain HTTP is refused unless the user says so.
	if _, errs, code := c.run("", "image", "pull", refs[0]); code == 0 || !strings.Contains(errs, refs[0]) {
		t.Errorf("pull over plain HTTP without --tls-verify=false: exit %d, %q", code, errs)
	}
	out, errs, code := c.run("", "image", "pull", "--tls-verify=false", refs[0])
	if code != 0 || out != refs[0]+"\n" {
		t.Fatalf("pull: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if !regexp.MustCompile(`(?m)^Pulling \S+: layer [0-9a-f]{12} \(.+\)$`).MatchString(errs) ||
		!regexp.MustCompile(`(?m)^Pulled \S+: layer [0-9a-f]{12}, .+ in .+ \(.+/s\)$`).MatchString(errs) {
		t.Errorf("progress lines:\n%s", errs)
	}
	var details []map[string]any
	if err := json.Unmarshal([]byte(c.ok("", "image", "inspect", refs[0])), &details); err != nil || len(details) != 1 {
		t.Fatalf("inspect: %v %v", err, details)
	}
	if rd, _ := details[0]["repoDigests"].([]any); len(rd) == 0 {
		t.Errorf("inspect has no repo digest: %v", details[0])
	}

	// 8 processes at once, images sharing the base layer.
	var wg sync.WaitGroup
	errsCh := make(chan string, len(refs))
	for _, ref := range refs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, e, code := c.run("", "image", "pull", "-q", "--tls-verify=false", ref); code != 0 {
				errsCh <- ref + ": " + e
			}
		}()
	}
	wg.Wait()
	close(errsCh)
	for e := range errsCh {
		t.Error(e)
	}
	names := strings.Fields(c.ok("", "image", "ls", "-q"))
	if len(names) != len(refs) {
		t.Errorf("image ls: %v, want %d images", names, len(refs))
	}
	index, err := os.ReadFile(filepath.Join(c.root, "images", "oci", "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range refs {
		if !strings.Contains(string(index), ref) {
			t.Errorf("index.json lacks %s", ref)
		}
	}
	layers, _ := os.ReadDir(filepath.Join(c.root, "images", "layers"))
	if len(layers) != len(refs)+1 {
		t.Errorf("%d layer dirs, want %d (the base once + one per image)", len(layers), len(refs)+1)
	}
}

// run pulls for the pod; an image that cannot be pulled is a warning and a
// status, not a refusal; image rm names the pod using an image.
func TestCLIRunPullsAndImageInUse(t *testing.T) {
	c := newCLI(t)
	reg := testutil.StartRegistry(t)
	refs := pushBusybox(t, reg, 1)
	conf := filepath.Join(c.dir, "registries.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf("[[registry]]\nlocation = %q\ninsecure = true\n", reg.Host())), 0o644); err != nil {
		t.Fatal(err)
	}
	g := []string{"--registries-conf", conf, "--registries-conf-dir", t.TempDir()}
	manifest := fmt.Sprintf(`{apiVersion: v1, kind: Pod, metadata: {name: pulled}, spec: {containers: [{name: a, image: %q}]}}`, refs[0])
	out, errs, code := c.run(manifest, append(g, "run", "-f", "-")...)
	if code != 0 || out != "pod/pulled created\n" || !strings.Contains(errs, "Pulled "+refs[0]) {
		t.Fatalf("run: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if out := c.ok("", "get", "pulled"); !regexp.MustCompile(`pulled\s+1/1\s+Running`).MatchString(out) {
		t.Errorf("get:\n%s", out)
	}
	_, errs, code = c.run("", append(g, "image", "rm", refs[0])...)
	if code == 0 || !strings.Contains(errs, "is used by pod default/pulled") {
		t.Errorf("image rm of an image in use: exit %d %q", code, errs)
	}
	missing := fmt.Sprintf(`{apiVersion: v1, kind: Pod, metadata: {name: missing}, spec: {containers: [{name: a, image: %q}]}}`, reg.Ref("podbox/nothere:v1"))
	out, errs, code = c.run(missing, append(g, "run", "-f", "-")...)
	if code != 0 || out != "pod/missing created\n" || !strings.Contains(errs, "Warning: pod/missing container a: ErrImagePull") {
		t.Errorf("run with an image that cannot be pulled: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if out := c.ok("", "get", "missing"); !regexp.MustCompile(`missing\s+0/1\s+(ErrImagePull|ImagePullBackOff)`).MatchString(out) {
		t.Errorf("get:\n%s", out)
	}
}

// Credentials the CLI found in the usual place ($HOME/.docker/config.json)
// serve the shim's later pulls too (restarts under Always).
func TestCLIAuthForLaterPulls(t *testing.T) {
	c := newCLI(t)
	reg := testutil.StartDockerRegistry(t, "podbox", "s3cret")
	base := testutil.TarDir(t, testutil.BusyboxRootfs(t))
	layout := filepath.Join(t.TempDir(), "layout")
	testutil.WriteOCILayout(t, layout, "v1", testutil.TestImage{Layers: [][]byte{base},
		Config: ocispec.ImageConfig{Env: []string{"PATH=/bin"}, Cmd: []string{"sh", "-c", "exit 1"}}})
	reg.Push(t, layout, "v1", "podbox/private:v1")
	home := t.TempDir()
	auth := fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, reg.Host(), base64.StdEncoding.EncodeToString([]byte("podbox:s3cret")))
	if err := os.MkdirAll(filepath.Join(home, ".docker"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".docker", "config.json"), []byte(auth), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(c.dir, "registries.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf("[[registry]]\nlocation = %q\ninsecure = true\n", reg.Host())), 0o644); err != nil {
		t.Fatal(err)
	}
	c.env = []string{"HOME=" + home, "XDG_RUNTIME_DIR=" + t.TempDir()}
	g := []string{"--registries-conf", conf, "--registries-conf-dir", t.TempDir(), "--backoff-base", "100ms", "--backoff-max", "200ms"}
	manifest := fmt.Sprintf(`{apiVersion: v1, kind: Pod, metadata: {name: priv}, spec: {containers: [{name: a, image: %q, imagePullPolicy: Always}]}}`, reg.Ref("podbox/private:v1"))
	c.ok(manifest, append(g, "run", "-f", "-")...)
	deadline := time.Now().Add(20 * time.Second)
	for {
		n, _ := strconv.Atoi(strings.TrimSpace(c.ok("", "get", "priv", "-o", "jsonpath={.status.containerStatuses[0].restartCount}")))
		if n >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("restarts: %d\n%s", n, c.ok("", "describe", "priv"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if out := c.ok("", "describe", "priv"); strings.Contains(out, "authentication required") {
		t.Errorf("a later pull lost the credentials:\n%s", out)
	}
}
