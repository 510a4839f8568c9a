package image

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	digest "github.com/opencontainers/go-digest"

	"github.com/podbox/podbox/internal/testutil"
)

// TestPullErrors checks that every failure names the image, wraps
// ErrInvalidName or ErrPull as it should, carries containers/image's reason,
// and leaves nothing in the store.
func TestPullErrors(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	s := newStore(t)
	f := newPullFixture(t, testutil.StartRegistry(t))
	f.push(t, "podbox/a:v1", f.image(t, "a1"))
	tmp := t.TempDir()
	reject := writeFile(t, filepath.Join(tmp, "reject.json"), []byte(`{"default":[{"type":"reject"}]}`))
	unknown := f.reg.Ref("podbox/a@" + digest.SHA256.FromString("nothing").String())
	bare := filepath.Join(tmp, "bare") // a layout whose image has a bare tag: no name
	testutil.WriteOCILayout(t, bare, "v1", f.image(t, "bare"))
	cases := []struct {
		name, ref string
		opts      func(o *PullOptions)
		kind      error
		msg       string
	}{
		{"invalid name", "Upper/Case:v1", nil, ErrInvalidName, "Upper/Case"},
		{"empty", "", nil, ErrInvalidName, "empty"},
		{"bad transport reference", "docker-archive:", nil, ErrInvalidName, "docker-archive"},
		{"bad Name option", "oci:" + f.layout + ":podbox/a:v1", func(o *PullOptions) { o.Name = "Bad Name" }, ErrInvalidName, "Bad Name"},
		{"no name", "oci:" + bare, nil, ErrNoName, "PullOptions.Name"},
		{"no name, by tag", "oci:" + bare + ":v1", nil, ErrInvalidName, "names no image"},
		{"repository unknown", f.reg.Ref("podbox/nothere:v1"), nil, ErrPull, "unknown"},
		{"digest unknown", unknown, nil, ErrPull, "manifest unknown"},
		{"connection refused", "127.0.0.1:1/podbox/a:v1", nil, ErrPull, "connection refused"},
		{"plain HTTP without TLSVerify=false", f.reg.Ref("podbox/a:v1"), func(o *PullOptions) { o.TLSVerify = nil }, ErrPull, "HTTP response to HTTPS client"},
		{"policy rejects", f.reg.Ref("podbox/a:v1"), func(o *PullOptions) { o.PolicyPath = reject }, ErrPull, "rejected"},
		{"policy file missing", f.reg.Ref("podbox/a:v1"), func(o *PullOptions) { o.PolicyPath = filepath.Join(tmp, "none.json") }, ErrPull, "none.json"},
		{"registries.conf missing", f.reg.Ref("podbox/a:v1"), func(o *PullOptions) { o.RegistriesConf = filepath.Join(tmp, "none.conf") }, ErrPull, "none.conf"},
	}
	for _, c := range cases {
		opts := f.opts
		if c.opts != nil {
			c.opts(&opts)
		}
		img, err := s.Pull(ctx, c.ref, opts)
		t.Logf("%s: %v", c.name, err)
		switch {
		case err == nil:
			t.Errorf("%s: Pull(%q) = %v, want an error", c.name, c.ref, img)
		case !errors.Is(err, c.kind):
			t.Errorf("%s: %v does not wrap %v", c.name, err, c.kind)
		case !errors.Is(c.kind, ErrPull) && errors.Is(err, ErrPull):
			t.Errorf("%s: %v wraps ErrPull", c.name, err)
		case !strings.Contains(err.Error(), c.msg) || (c.ref != "" && !strings.Contains(err.Error(), strings.SplitN(c.ref, "@", 2)[0])):
			t.Errorf("%s: %q does not say %q and name %q", c.name, err, c.msg, c.ref)
		}
	}
	// A policy rejects the image on a re-pull too, when nothing is downloaded.
	f.pull(t, s, "podbox/a:v1")
	opts := f.opts
	opts.PolicyPath = reject
	if _, err := s.Pull(ctx, f.reg.Ref("podbox/a:v1"), opts); !errors.Is(err, ErrPull) || !strings.Contains(err.Error(), "rejected") {
		t.Errorf("re-pull of a present image under a rejecting policy: %v", err)
	}
	if err := s.Remove(ctx, f.reg.Ref("podbox/a:v1")); err != nil {
		t.Fatal(err)
	}
	if blobs, layers, tmp, _ := storeFiles(t, s); blobs+layers+tmp != 0 {
		t.Errorf("failed pulls left %d blobs, %d layers, %d work dirs", blobs, layers, tmp)
	}
}

// TestPullRegistriesConf pulls through a registries.conf mirror (the
// registry's own name blocked, so nothing but the mirror is ever asked), from
// a registry marked insecure there, and with TLSVerify=false and the host's
// configuration files.
func TestPullRegistriesConf(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	s := newStore(t)
	f := newPullFixture(t, testutil.StartRegistry(t))
	pushed := f.push(t, "podbox/base:v1", f.image(t, "m1"))
	dir := t.TempDir()

	mirror := writeFile(t, filepath.Join(dir, "mirror.conf"), fmt.Appendf(nil, `
[[registry]]
location = "registry.podbox.invalid/podbox"
blocked = true
[[registry.mirror]]
location = "%s/podbox"
insecure = true
`, f.reg.Host()))
	opts := f.opts
	opts.RegistriesConf, opts.TLSVerify = mirror, nil
	img, err := s.Pull(ctx, "registry.podbox.invalid/podbox/base:v1", opts)
	if err != nil {
		t.Fatal(err)
	}
	if img.Name != "registry.podbox.invalid/podbox/base:v1" || img.Digest != pushed {
		t.Errorf("pull through the mirror = %s %s, want digest %s", img.Name, img.Digest, pushed)
	}
	if diff := cmp.Diff([]string{"registry.podbox.invalid/podbox/base@" + pushed.String()}, img.RepoDigests); diff != "" {
		t.Errorf("RepoDigests (-want +got):\n%s", diff)
	}
	if c := f.reg.Counts(); c.ManifestGET == 0 {
		t.Errorf("the mirror served no manifest: %+v", c)
	}
	if _, err := s.Pull(ctx, "registry.podbox.invalid/podbox/missing:v1", opts); !errors.Is(err, ErrPull) || !strings.Contains(err.Error(), "blocked") {
		t.Errorf("pull of an image the mirror lacks: %v; want the blocked registry refused", err)
	}

	insecure := writeFile(t, filepath.Join(dir, "insecure.conf"), fmt.Appendf(nil, "[[registry]]\nlocation = %q\ninsecure = true\n", f.reg.Host()))
	opts = f.opts
	opts.RegistriesConf, opts.TLSVerify = insecure, nil
	if _, err := s.Pull(ctx, f.reg.Ref("podbox/base:v1"), opts); err != nil {
		t.Errorf("pull from a registry marked insecure: %v", err)
	}
	yes := true
	opts.TLSVerify = &yes
	if _, err := s.Pull(ctx, f.reg.Ref("podbox/base:v1"), opts); !errors.Is(err, ErrPull) {
		t.Errorf("pull with TLSVerify=true from a plain-HTTP registry marked insecure: %v, want an error", err)
	}

	// The host's registries.conf and policy.json (or accept-anything where
	// there is none), and TLSVerify=false for this one pull.
	no := false
	if _, err := s.Pull(ctx, f.reg.Ref("podbox/base:v1"), PullOptions{TLSVerify: &no, AuthFile: f.opts.AuthFile}); err != nil {
		t.Errorf("pull with TLSVerify=false and the host's configuration: %v", err)
	}
}
