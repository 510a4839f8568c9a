package image

import (
	"strings"
	"testing"
)

func TestNormalizeName(t *testing.T) {
	valid := map[string]string{
		"busybox":                                "docker.io/library/busybox:latest",
		"busybox:1.36":                           "docker.io/library/busybox:1.36",
		"library/busybox:1.36":                   "docker.io/library/busybox:1.36",
		"docker.io/busybox":                      "docker.io/library/busybox:latest",
		"index.docker.io/library/redis":          "docker.io/library/redis:latest",
		"myuser/app":                             "docker.io/myuser/app:latest",
		"localhost/x":                            "localhost/x:latest",
		"localhost/busybox:test":                 "localhost/busybox:test",
		"localhost:5000/x":                       "localhost:5000/x:latest",
		"127.0.0.1:5000/a/b:v1":                  "127.0.0.1:5000/a/b:v1",
		"quay.io/org/app:v1.2-rc.1":              "quay.io/org/app:v1.2-rc.1",
		"repo@sha256:" + strings.Repeat("a", 64): "docker.io/library/repo@sha256:" + strings.Repeat("a", 64),
		"r.io/repo:tag@sha256:" + strings.Repeat("b", 64): "r.io/repo:tag@sha256:" + strings.Repeat("b", 64),
	}
	for in, want := range valid {
		got, err := NormalizeName(in)
		if err != nil || got != want {
			t.Errorf("NormalizeName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	invalid := []string{
		"", "Upper/Case", "busybox:", ":tag", "a b", "busybox:bad tag", "-lead/x",
		"repo@sha256:short", "x//y", "busybox:" + strings.Repeat("t", 129), "http://docker.io/busybox",
	}
	for _, in := range invalid {
		got, err := NormalizeName(in)
		if err == nil {
			t.Errorf("NormalizeName(%q) = %q, want an error", in, got)
			continue
		}
		if in != "" && !strings.Contains(err.Error(), in) {
			t.Errorf("NormalizeName(%q): error %q does not name the input", in, err)
		}
	}
}

func TestLocalNameRefusesDigest(t *testing.T) {
	if _, err := localName("localhost/x@sha256:" + strings.Repeat("a", 64)); err == nil {
		t.Fatal("localName accepted a name with a digest")
	}
	if n, err := localName("x"); err != nil || n != "docker.io/library/x:latest" {
		t.Fatalf("localName(x) = %q, %v", n, err)
	}
}
