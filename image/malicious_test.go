package image

import (
	"archive/tar"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"

	"github.com/podbox/podbox/internal/testutil"
)

// TestMaliciousTarContained imports layers that try to write outside their
// directory and checks that nothing outside the store's layers changed: not
// /etc, not a victim directory, not the rest of the test root.
func TestMaliciousTarContained(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	s := newStore(t)
	testRoot := filepath.Dir(filepath.Dir(s.Dir()))
	victim := t.TempDir()
	writeFile(t, filepath.Join(victim, "secret"), []byte("secret"))
	evil := fmt.Sprintf("podbox-evil-%d", os.Getpid())
	var passwd unix.Stat_t
	if err := unix.Stat("/etc/passwd", &passwd); err != nil {
		t.Fatal(err)
	}
	for name, entries := range maliciousLayers(victim, evil) {
		src := writeFile(t, filepath.Join(t.TempDir(), "evil.tar"), buildTar(t, entries...))
		img, err := s.Import(ctx, src, "localhost/evil:"+strings.ReplaceAll(name, " ", "-"), ImportOptions{})
		t.Logf("%s: import: %v", name, err)
		if err == nil {
			got, err := s.Get(ctx, img.Name)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			buf := make([]byte, 64)
			if _, err := unix.Lgetxattr(filepath.Join(got.Layers[0], "r"), "trusted.overlay.redirect", buf); err == nil {
				t.Errorf("%s: trusted.overlay.redirect was set in the layer", name)
			}
		}
		checkHostUntouched(t, name, s, testRoot, victim, evil, passwd)
	}
}

// maliciousLayers are layers that try to write outside their directory: to
// /etc/<evil>, through /etc/passwd, or to victim/secret.
func maliciousLayers(victim, evil string) map[string][]tarEntry {
	return map[string][]tarEntry{
		"dotdot":               {reg("../../../../etc/"+evil, "x")},
		"absolute":             {reg("/etc/"+evil, "x")},
		"symlink abs dir":      {symlink("x", "/etc"), reg("x/"+evil, "x")},
		"symlink rel dir":      {symlink("y", "../../../../../../../../etc"), reg("y/"+evil, "x")},
		"symlink chain":        {symlink("a", "b"), symlink("b", "/etc"), reg("a/"+evil, "x")},
		"hardlink abs":         {hardlink("h", "/etc/passwd")},
		"hardlink rel":         {hardlink("h", "../../../../../../etc/passwd")},
		"hardlink victim":      {hardlink("h", victim+"/secret")},
		"hardlink via symlink": {symlink("s", victim), hardlink("h", "s/secret")},
		"whiteout via symlink": {symlink("w", victim), reg("w/.wh.secret", ""), reg("w/.wh..wh..opq", "")},
		"planted redirect": {{name: "r/", typ: tar.TypeDir, mode: 0o755,
			pax: map[string]string{"SCHILY.xattr.trusted.overlay.redirect": "/etc"}}},
	}
}

func checkHostUntouched(t *testing.T, name string, s *Store, testRoot, victim, evil string, passwd unix.Stat_t) {
	t.Helper()
	if _, err := os.Lstat("/etc/" + evil); err == nil {
		os.Remove("/etc/" + evil)
		t.Errorf("%s: ESCAPED: /etc/%s was written", name, evil)
	}
	var now unix.Stat_t
	if err := unix.Stat("/etc/passwd", &now); err != nil || now.Ino != passwd.Ino || now.Nlink != passwd.Nlink {
		t.Errorf("%s: ESCAPED: /etc/passwd changed (nlink %d -> %d)", name, passwd.Nlink, now.Nlink)
	}
	fi, err := os.Lstat(filepath.Join(victim, "secret"))
	if err != nil || !fi.Mode().IsRegular() || fi.Sys().(*syscall.Stat_t).Nlink != 1 || readFile(t, filepath.Join(victim, "secret")) != "secret" {
		t.Errorf("%s: ESCAPED: victim/secret changed: %v, %v", name, fi, err)
	}
	if n, _ := unix.Lgetxattr(victim, "trusted.overlay.opaque", make([]byte, 8)); n > 0 {
		t.Errorf("%s: ESCAPED: victim made opaque", name)
	}
	// Inside the test root, an evil file may only be in a layer directory.
	filepath.WalkDir(testRoot, func(path string, d fs.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), evil) && !strings.HasPrefix(path, s.layersDir()+"/") {
			t.Errorf("%s: ESCAPED: %s written outside the layers", name, path)
		}
		return nil
	})
}

// TestPullMaliciousLayers pulls the same malicious layers from a registry,
// each on top of a base layer, and checks that nothing outside the layer
// directories changed.
func TestPullMaliciousLayers(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	s := newStore(t)
	f := newPullFixture(t, testutil.StartRegistry(t))
	testRoot := filepath.Dir(filepath.Dir(s.Dir()))
	victim := t.TempDir()
	writeFile(t, filepath.Join(victim, "secret"), []byte("secret"))
	evil := fmt.Sprintf("podbox-evil-%d", os.Getpid())
	var passwd unix.Stat_t
	if err := unix.Stat("/etc/passwd", &passwd); err != nil {
		t.Fatal(err)
	}
	base := buildTar(t, dir("etc/"), reg("etc/hostname", "base"))
	i := 0
	for name, entries := range maliciousLayers(victim, evil) {
		i++
		repo := fmt.Sprintf("podbox/evil%d:v1", i)
		f.push(t, repo, testutil.TestImage{
			Layers: [][]byte{base, buildTar(t, entries...)},
			Config: ocispec.ImageConfig{Cmd: []string{name}},
		})
		img, err := s.Pull(ctx, f.reg.Ref(repo), f.opts)
		t.Logf("%s: pull: %v", name, err)
		if err == nil && len(img.Layers) == 2 {
			buf := make([]byte, 64)
			if _, err := unix.Lgetxattr(filepath.Join(img.Layers[1], "r"), "trusted.overlay.redirect", buf); err == nil {
				t.Errorf("%s: trusted.overlay.redirect was set in the layer", name)
			}
		}
		checkHostUntouched(t, name, s, testRoot, victim, evil, passwd)
	}
}
