package image

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/podbox/podbox/internal/testutil"
)

// TestPullAuthAndTamperedBlob uses Debian's docker-registry with htpasswd
// authentication: a pull without credentials is refused, one with an auth
// file works, and a blob changed on the registry's disk after the push is
// refused with a digest error and leaves nothing in the store.
func TestPullAuthAndTamperedBlob(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	reg := testutil.StartDockerRegistry(t, "podbox", "s3cret")
	s := newStore(t)
	f := newPullFixture(t, reg)
	private := f.image(t, "private")
	f.push(t, "podbox/private:v1", private)

	for _, auth := range []string{"", "podbox:wrong"} {
		opts := f.opts
		if auth != "" {
			opts.AuthFile = writeAuthFile(t, reg.Host(), auth)
		}
		_, err := s.Pull(ctx, reg.Ref("podbox/private:v1"), opts)
		if !errors.Is(err, ErrPull) || !strings.Contains(err.Error(), "authentication required") {
			t.Errorf("pull with credentials %q: %v; want authentication required", auth, err)
		}
	}
	opts := f.opts
	opts.AuthFile = writeAuthFile(t, reg.Host(), "podbox:s3cret")
	img, err := s.Pull(ctx, reg.Ref("podbox/private:v1"), opts)
	if err != nil {
		t.Fatalf("pull with an auth file: %v", err)
	}
	if body := readFile(t, filepath.Join(img.Layers[1], "data/private")); body != "content of private" {
		t.Errorf("data/private = %q", body)
	}

	tampered := f.image(t, "tampered")
	f.push(t, "podbox/tampered:v1", tampered)
	blob := layerDigests(tampered)[1]
	data, err := os.ReadFile(reg.BlobFile(blob))
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0xff
	writeFile(t, reg.BlobFile(blob), data)
	blobsBefore, layersBefore := dirNames(t, s.blobDir()), dirNames(t, s.layersDir())
	for _, st := range []*Store{s, newStore(t)} { // with a shared base layer, and empty
		_, err = st.Pull(ctx, reg.Ref("podbox/tampered:v1"), opts)
		t.Logf("tampered blob: %v", err)
		if !errors.Is(err, ErrPull) || !strings.Contains(strings.ToLower(err.Error()), "digest") {
			t.Errorf("pull of a tampered blob: %v; want a digest error", err)
		}
		if _, err := st.Get(ctx, reg.Ref("podbox/tampered:v1")); !errors.Is(err, ErrNotFound) {
			t.Errorf("the tampered image got a name: %v", err)
		}
		if _, _, tmp, _ := storeFiles(t, st); tmp != 0 {
			t.Errorf("the refused pull left %d work dirs", tmp)
		}
	}
	if diff := cmp.Diff(blobsBefore, dirNames(t, s.blobDir())); diff != "" {
		t.Errorf("blobs after the refused pull (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(layersBefore, dirNames(t, s.layersDir())); diff != "" {
		t.Errorf("layers after the refused pull (-before +after):\n%s", diff)
	}
}

// writeAuthFile writes an auth.json with userPass ("user:password") for host.
func writeAuthFile(t *testing.T, host, userPass string) string {
	t.Helper()
	data := fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, host, base64.StdEncoding.EncodeToString([]byte(userPass)))
	return writeFile(t, filepath.Join(t.TempDir(), "auth.json"), []byte(data))
}
