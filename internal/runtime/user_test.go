package runtime

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/sys/unix"
)

const (
	testPasswd = "root:x:0:0:root:/root:/bin/sh\n" +
		"daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n" +
		"app:x:1000:1000:app:/home/app:/bin/sh\n" +
		"4242:x:3000:3000:numeric name:/home/n:/bin/sh\n"
	testGroup = "root:x:0:\n" +
		"daemon:x:1:\n" +
		"app:x:1000:app\n" +
		"staff:x:50:daemon,app\n" +
		"audio:x:29:app\n"
)

// rootfsWith makes a rootfs whose /etc holds the given files.
func rootfsWith(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(root, "etc", name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestResolveUser(t *testing.T) {
	root := rootfsWith(t, map[string]string{"passwd": testPasswd, "group": testGroup})
	tests := []struct {
		spec string
		want User
	}{
		{"", User{UID: 0, GID: 0, Home: "/root"}},
		{"root", User{UID: 0, GID: 0, Home: "/root"}},
		{"0", User{UID: 0, GID: 0, Home: "/root"}},
		{"daemon", User{UID: 1, GID: 1, Home: "/usr/sbin", AdditionalGIDs: []uint32{50}}},
		// The primary group is not repeated among the supplementary ones.
		{"app", User{UID: 1000, GID: 1000, Home: "/home/app", AdditionalGIDs: []uint32{50, 29}}},
		{"1000", User{UID: 1000, GID: 1000, Home: "/home/app", AdditionalGIDs: []uint32{50, 29}}},
		// An explicit group replaces the supplementary groups.
		{"app:staff", User{UID: 1000, GID: 50, Home: "/home/app"}},
		{"app:29", User{UID: 1000, GID: 29, Home: "/home/app"}},
		{"1000:1000", User{UID: 1000, GID: 1000, Home: "/home/app"}},
		{"daemon:4000", User{UID: 1, GID: 4000, Home: "/usr/sbin"}},
		// Numeric IDs need no entry.
		{"5000", User{UID: 5000, GID: 0, Home: "/"}},
		{"5000:6000", User{UID: 5000, GID: 6000, Home: "/"}},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := ResolveUser(root, tt.spec)
			if err != nil {
				t.Fatalf("ResolveUser(%q): %v", tt.spec, err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ResolveUser(%q) (-want +got):\n%s", tt.spec, diff)
			}
		})
	}
	for _, spec := range []string{"nobody2", "app:nogroup", "nobody2:staff"} {
		t.Run("unknown "+spec, func(t *testing.T) {
			u, err := ResolveUser(root, spec)
			if err == nil {
				t.Fatalf("ResolveUser(%q) = %+v, want an error", spec, u)
			}
			if !strings.Contains(err.Error(), spec) {
				t.Errorf("error %q does not name %q", err, spec)
			}
		})
	}
}

func TestResolveUserNoFiles(t *testing.T) {
	for name, root := range map[string]string{
		"no /etc":            t.TempDir(),
		"empty /etc":         rootfsWith(t, nil),
		"passwd is a dir":    rootfsWithDirs(t, "etc/passwd", "etc/group"),
		"dangling symlinks":  rootfsWithLinks(t, map[string]string{"etc/passwd": "/nowhere/passwd", "etc/group": "../../nowhere"}),
		"only a group file":  rootfsWith(t, map[string]string{"group": testGroup}),
		"only a passwd file": rootfsWith(t, map[string]string{"passwd": "x:x:7:7::/x:/bin/sh\n"}),
	} {
		t.Run(name, func(t *testing.T) {
			for spec, want := range map[string]User{
				"":          {Home: "/"},
				"1000":      {UID: 1000, Home: "/"},
				"1000:1000": {UID: 1000, GID: 1000, Home: "/"},
			} {
				got, err := ResolveUser(root, spec)
				if err != nil {
					t.Errorf("ResolveUser(%q): %v", spec, err)
					continue
				}
				if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("ResolveUser(%q) (-want +got):\n%s", spec, diff)
				}
			}
			if u, err := ResolveUser(root, "app"); err == nil {
				t.Errorf("ResolveUser(app) = %+v without an entry, want an error", u)
			}
		})
	}
}

func rootfsWithDirs(t *testing.T, dirs ...string) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func rootfsWithLinks(t *testing.T, links map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, target := range links {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// TestResolveUserSymlinkEscape: an image's /etc/passwd (or /etc) that is a
// symlink out of the rootfs must be resolved as if the rootfs were /, never
// read from the host.
func TestResolveUserSymlinkEscape(t *testing.T) {
	host := t.TempDir() // stands for the host: outside every rootfs below
	hostPasswd := filepath.Join(host, "passwd")
	if err := os.WriteFile(hostPasswd, []byte("evil:x:4242:4242::/evil:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(host, "group"), []byte("evilgrp:x:4343:evil\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	escapes := map[string]map[string]string{
		"absolute":         {"etc/passwd": hostPasswd, "etc/group": filepath.Join(host, "group")},
		"relative":         {"etc/passwd": strings.Repeat("../", 20) + hostPasswd[1:], "etc/group": strings.Repeat("../", 20) + host[1:] + "/group"},
		"etc is a symlink": {"etc": host},
		"via a directory":  {"etc": "/lib/../" + host[1:]},
	}
	for name, links := range escapes {
		t.Run(name, func(t *testing.T) {
			root := rootfsWithLinks(t, links)
			if u, err := ResolveUser(root, "evil"); err == nil {
				t.Fatalf("ResolveUser(evil) = %+v: read the host's passwd through a symlink", u)
			}
			if u, err := ResolveUser(root, "0:evilgrp"); err == nil {
				t.Fatalf("ResolveUser(0:evilgrp) = %+v: read the host's group through a symlink", u)
			}
			// The same path inside the rootfs is what counts.
			inside := filepath.Join(root, hostPasswd)
			if err := os.MkdirAll(filepath.Dir(inside), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(inside, []byte("evil:x:7:8::/inside:/bin/sh\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			u, err := ResolveUser(root, "evil")
			if err != nil {
				t.Fatalf("ResolveUser(evil) with the link target inside the rootfs: %v", err)
			}
			if want := (User{UID: 7, GID: 8, Home: "/inside"}); !cmp.Equal(u, want, cmpopts.EquateEmpty()) {
				t.Errorf("ResolveUser(evil) = %+v, want %+v", u, want)
			}
		})
	}
	// A link to the host's own /etc/passwd: inside the rootfs that is a link
	// to itself, and the host's users (Debian's daemon) stay invisible.
	t.Run("host /etc/passwd", func(t *testing.T) {
		root := rootfsWithLinks(t, map[string]string{"etc/passwd": "/etc/passwd", "etc/group": "/etc/group"})
		if u, err := ResolveUser(root, "daemon"); err == nil {
			t.Fatalf("ResolveUser(daemon) = %+v: read the host's /etc/passwd", u)
		}
	})
}

// TestResolveUserFIFO: an image whose /etc/passwd is a named pipe must not
// hang container creation (opening a FIFO for reading blocks until a writer
// shows up).
func TestResolveUserFIFO(t *testing.T) {
	root := rootfsWith(t, nil)
	fifo := filepath.Join(root, "etc", "passwd")
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := ResolveUser(root, "1000")
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Logf("ResolveUser with a FIFO passwd: %v", err)
		}
	case <-time.After(2 * time.Second):
		// Unblock the reader so that the goroutine ends.
		if f, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
			f.Close()
		}
		<-done
		t.Fatal("ResolveUser blocked on a FIFO /etc/passwd")
	}
}

func TestHasUser(t *testing.T) {
	for spec, want := range map[string]bool{
		"": false, "0": false, "1000": false, "1000:1000": false, "1000:staff": false,
		"app": true, "app:1000": true, "1a": true, "-1": true,
	} {
		if got := HasUser(spec); got != want {
			t.Errorf("HasUser(%q) = %v, want %v", spec, got, want)
		}
	}
}
