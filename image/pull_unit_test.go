package image

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/types"
)

// Tests in this file need neither root nor anything installed.

func TestParsePullRef(t *testing.T) {
	dg := "sha256:" + strings.Repeat("a", 64)
	dir := t.TempDir()
	cases := []struct{ in, transport, name, str string }{
		{"busybox", "docker", "docker.io/library/busybox:latest", "docker.io/library/busybox:latest"},
		{"docker://busybox:1.36", "docker", "docker.io/library/busybox:1.36", "docker.io/library/busybox:1.36"},
		{"localhost:5000/x", "docker", "localhost:5000/x:latest", "localhost:5000/x:latest"},
		{"busybox@" + dg, "docker", "docker.io/library/busybox@" + dg, "docker.io/library/busybox@" + dg},
		{"r.io/x:1@" + dg, "docker", "r.io/x@" + dg, "r.io/x@" + dg},
		{"docker:latest", "docker", "docker.io/library/docker:latest", "docker.io/library/docker:latest"},
		// Transports Pull does not take are image names, as for Kubernetes.
		{"containers-storage:x", "docker", "docker.io/library/containers-storage:x", "docker.io/library/containers-storage:x"},
		{"oci:" + dir + ":v1", "oci", "", "oci:" + dir + ":v1"},
		{"oci-archive:/a.tar", "oci-archive", "", "oci-archive:/a.tar"},
		{"docker-archive:/a.tar:x:1", "docker-archive", "", "docker-archive:/a.tar:x:1"},
		{"dir:" + dir, "dir", "", "dir:" + dir},
	}
	for _, c := range cases {
		p, err := parsePullRef(c.in)
		if err != nil {
			t.Errorf("parsePullRef(%q): %v", c.in, err)
			continue
		}
		if p.transport != c.transport || p.name != c.name || p.String() != c.str {
			t.Errorf("parsePullRef(%q) = %s %q %q; want %s %q %q", c.in, p.transport, p.name, p, c.transport, c.name, c.str)
		}
	}
	for _, in := range []string{"", "Upper/Case", "docker-archive:", "busybox:bad tag", "r/x@sha256:short"} {
		if _, err := parsePullRef(in); !errors.Is(err, ErrInvalidName) {
			t.Errorf("parsePullRef(%q): %v, want ErrInvalidName", in, err)
		}
	}
}

func TestIndexName(t *testing.T) {
	dg := "sha256:" + strings.Repeat("b", 64)
	for in, want := range map[string]string{
		"docker.io/library/busybox:1.36":       "docker.io/library/busybox:1.36",
		"docker.io/library/busybox@" + dg:      "docker.io/library/busybox@" + dg,
		"docker.io/library/busybox:1.36@" + dg: "docker.io/library/busybox@" + dg,
		"127.0.0.1:5000/a/b:v1@" + dg:          "127.0.0.1:5000/a/b@" + dg,
		"localhost/x:latest":                   "localhost/x:latest",
		"not a name":                           "not a name",
	} {
		if got := indexName(in); got != want {
			t.Errorf("indexName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLayerEvent(t *testing.T) {
	layer := types.BlobInfo{Digest: digest.FromString("layer"), Size: 100, MediaType: ocispec.MediaTypeImageLayerGzip}
	config := types.BlobInfo{Digest: digest.FromString("config"), Size: 10, MediaType: ocispec.MediaTypeImageConfig}
	unknown := types.BlobInfo{Digest: digest.FromString("unknown"), Size: -1}
	cases := []struct {
		p    types.ProgressProperties
		want PullEvent
		ok   bool
	}{
		{types.ProgressProperties{Event: types.ProgressEventNewArtifact, Artifact: layer}, PullEvent{"n", PullLayerStart, layer.Digest, 100, 0}, true},
		{types.ProgressProperties{Event: types.ProgressEventRead, Artifact: layer, Offset: 40}, PullEvent{"n", PullLayerProgress, layer.Digest, 100, 40}, true},
		{types.ProgressProperties{Event: types.ProgressEventDone, Artifact: layer, Offset: 100}, PullEvent{"n", PullLayerDone, layer.Digest, 100, 100}, true},
		{types.ProgressProperties{Event: types.ProgressEventSkipped, Artifact: layer}, PullEvent{"n", PullLayerSkipped, layer.Digest, 100, 100}, true},
		{types.ProgressProperties{Event: types.ProgressEventNewArtifact, Artifact: unknown}, PullEvent{"n", PullLayerStart, unknown.Digest, -1, 0}, true},
		{types.ProgressProperties{Event: types.ProgressEventNewArtifact, Artifact: config}, PullEvent{}, false},
		{types.ProgressProperties{Event: types.ProgressEventDone, Artifact: types.BlobInfo{Digest: config.Digest}}, PullEvent{}, false},
	}
	for i, c := range cases {
		got, ok := layerEvent("n", config.Digest, c.p)
		if ok != c.ok || got != c.want {
			t.Errorf("case %d: layerEvent = %+v, %v; want %+v, %v", i, got, ok, c.want, c.ok)
		}
	}
	if PullLayerSkipped.String() != "skipped" || PullEventKind(42).String() != "PullEventKind(42)" {
		t.Error("PullEventKind.String")
	}
}

func TestOCIIndexName(t *testing.T) {
	entry := func(ann map[string]string) ocispec.Descriptor { return ocispec.Descriptor{Annotations: ann} }
	idx := &ocispec.Index{Manifests: []ocispec.Descriptor{
		entry(map[string]string{ocispec.AnnotationRefName: "v1"}),
		entry(map[string]string{ocispec.AnnotationRefName: "v2", annotationContainerdName: "docker.io/library/busybox:1.36"}),
	}}
	one := &ocispec.Index{Manifests: idx.Manifests[1:]}
	cases := []struct {
		idx   *ocispec.Index
		image string
		want  string
	}{
		{idx, "v1", ""},
		{idx, "v2", "docker.io/library/busybox:1.36"},
		{idx, "", ""}, // two images: containers/image asks which
		{one, "", "docker.io/library/busybox:1.36"},
		{idx, "@1", "docker.io/library/busybox:1.36"},
		{idx, "@7", ""},
		{idx, "localhost/whole:ref", "localhost/whole:ref"},
		{idx, "missing", ""},
	}
	for _, c := range cases {
		got, err := ociIndexName(c.idx, c.image)
		if err != nil || got != c.want {
			t.Errorf("ociIndexName(%q) = %q, %v; want %q", c.image, got, err, c.want)
		}
	}
}

func TestRepoRecords(t *testing.T) {
	m1, m2 := digest.FromString("m1"), digest.FromString("m2")
	idx := &ocispec.Index{}
	setName(idx, "r/a:1", ocispec.Descriptor{Digest: m1})
	setName(idx, "r/a:2", ocispec.Descriptor{Digest: m1})
	setName(idx, "r/b:1", ocispec.Descriptor{Digest: m2})
	recs := repoRecords{}
	setRecord(recs, "r/a:1", m1, "r/a@sha256:1")
	setRecord(recs, "r/a:2", m1, "r/a@sha256:1")
	setRecord(recs, "r/b:1", m1, "r/b@sha256:2") // stale: r/b:1 has moved to m2
	setRecord(recs, "r/gone:1", m1, "r/gone@sha256:3")
	if diff := cmp.Diff([]string{"r/a@sha256:1"}, recs.repoDigests(idx, m1)); diff != "" {
		t.Errorf("repoDigests(m1) (-want +got):\n%s", diff)
	}
	if got := recs.repoDigests(idx, m2); len(got) != 0 {
		t.Errorf("repoDigests(m2) = %v, want none (the record is stale)", got)
	}
	if d, ok := recs.find(idx, "r/a@sha256:1", "r/a:2"); !ok || d.Digest != m1 || refName(d) != "r/a:2" {
		t.Errorf("find = %v, %v; want r/a:2", d, ok)
	}
	if _, ok := recs.find(idx, "r/b@sha256:2", ""); ok {
		t.Error("find returned a stale record")
	}
	if !recs.prune(idx) || len(recs) != 2 || recs.prune(idx) {
		t.Errorf("prune kept %v", recs)
	}
	if !setRecord(recs, "r/a:1", m1, "") || setRecord(recs, "r/a:1", m1, "") {
		t.Error("setRecord with no repo digest")
	}
}

func TestLookup(t *testing.T) {
	m1, m2 := digest.FromString("m1"), digest.FromString("m2")
	idx := &ocispec.Index{}
	setName(idx, "docker.io/library/a:1", ocispec.Descriptor{Digest: m1})
	setName(idx, "docker.io/library/b@"+m2.String(), ocispec.Descriptor{Digest: m2})
	recs := repoRecords{}
	setRecord(recs, "docker.io/library/a:1", m1, "docker.io/library/a@"+m2.String())
	cases := map[string]digest.Digest{
		"docker.io/library/a:1":                m1,
		"docker.io/library/a@" + m2.String():   m1, // its repo digest
		"docker.io/library/a:9@" + m2.String(): m1, // the tag does not matter
		"docker.io/library/a@" + m1.String():   m1, // its stored manifest
		"docker.io/library/b@" + m2.String():   m2,
		"docker.io/library/b:x@" + m2.String(): m2,
		"docker.io/library/c@" + m1.String():   "", // another repository
		"docker.io/library/a:2":                "",
		"docker.io/library/b@" + m1.String():   "",
	}
	for n, want := range cases {
		d, ok := lookup(idx, recs, n)
		if ok != (want != "") || d.Digest != want {
			t.Errorf("lookup(%s) = %s, %v; want %q", n, d.Digest, ok, want)
		}
	}
}
