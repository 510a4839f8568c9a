package testutil

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	digest "github.com/opencontainers/go-digest"
	"go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/oci/layout"
	"go.podman.io/image/v5/signature"
	"go.podman.io/image/v5/types"
)

// Registry is a container registry on 127.0.0.1 for tests, plain HTTP:
// go-containerregistry's in-process registry (StartRegistry), which counts
// the requests it serves and can serve a blob slowly, or Debian's
// docker-registry with htpasswd authentication (StartDockerRegistry), whose
// stored blobs a test can tamper with. Both are stopped by the test's
// cleanup.
type Registry struct {
	host       string // 127.0.0.1:PORT
	user, pass string
	root       string // docker-registry: storage root directory
	cacheDir   string // containers/image blob-info cache of the pushes

	mu       sync.Mutex
	counts   RegistryCounts
	slow     map[digest.Digest]int64 // bytes per second
	served   map[digest.Digest]int64 // bytes of blob GET bodies written
	stopping chan struct{}
}

// RegistryCounts are the requests a registry from StartRegistry has served.
type RegistryCounts struct {
	ManifestGET, ManifestHEAD int
	BlobGET, BlobHEAD         int
	// BlobGETs counts the blob GETs by digest.
	BlobGETs map[digest.Digest]int
}

// StartRegistry starts go-containerregistry's registry (blobs in memory) on
// 127.0.0.1 and a random port, behind a handler that counts manifest and
// blob requests.
func StartRegistry(t testing.TB) *Registry {
	t.Helper()
	r := &Registry{
		cacheDir: t.TempDir(),
		slow:     map[digest.Digest]int64{},
		served:   map[digest.Digest]int64{},
		stopping: make(chan struct{}),
	}
	r.counts.BlobGETs = map[digest.Digest]int{}
	inner := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewUnstartedServer(r.handler(inner))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Start()
	r.host = strings.TrimPrefix(srv.URL, "http://")
	t.Cleanup(func() {
		close(r.stopping) // slow downloads give up
		srv.CloseClientConnections()
		srv.Close()
	})
	return r
}

// Host is the registry's host:port, e.g. "127.0.0.1:40123".
func (r *Registry) Host() string { return r.host }

// Ref is the image reference of repo (e.g. "podbox/base:v1") in this
// registry.
func (r *Registry) Ref(repo string) string { return r.host + "/" + repo }

// Counts returns the requests served so far.
func (r *Registry) Counts() RegistryCounts {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.counts
	c.BlobGETs = make(map[digest.Digest]int, len(r.counts.BlobGETs))
	for d, n := range r.counts.BlobGETs {
		c.BlobGETs[d] = n
	}
	return c
}

// ResetCounts sets every count to zero.
func (r *Registry) ResetCounts() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.counts = RegistryCounts{BlobGETs: map[digest.Digest]int{}}
}

// SlowBlob makes GETs of the blob d send at most bytesPerSecond, in small
// flushed chunks, so that a test can interrupt a download half-way.
func (r *Registry) SlowBlob(d digest.Digest, bytesPerSecond int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.slow[d] = bytesPerSecond
}

// BlobBytesServed is how many bytes of the blob d GET responses have sent.
func (r *Registry) BlobBytesServed(d digest.Digest) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.served[d]
}

// handler counts the request, then serves it with inner.
func (r *Registry) handler(inner http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		parts := strings.Split(strings.Trim(req.URL.Path, "/"), "/")
		var kind, ref string
		if len(parts) >= 4 && parts[0] == "v2" {
			kind, ref = parts[len(parts)-2], parts[len(parts)-1]
		}
		r.mu.Lock()
		var rate int64
		switch {
		case kind == "manifests" && req.Method == http.MethodGet:
			r.counts.ManifestGET++
		case kind == "manifests" && req.Method == http.MethodHead:
			r.counts.ManifestHEAD++
		case kind == "blobs" && req.Method == http.MethodGet:
			r.counts.BlobGET++
			r.counts.BlobGETs[digest.Digest(ref)]++
			rate = r.slow[digest.Digest(ref)]
		case kind == "blobs" && req.Method == http.MethodHead:
			r.counts.BlobHEAD++
		}
		r.mu.Unlock()
		if kind == "blobs" && req.Method == http.MethodGet {
			w = &countingWriter{ResponseWriter: w, r: r, d: digest.Digest(ref), rate: rate, ctx: req.Context()}
		}
		inner.ServeHTTP(w, req)
	})
}

// countingWriter counts the body bytes of a blob GET and, with a rate,
// sends them slowly.
type countingWriter struct {
	http.ResponseWriter
	r    *Registry
	d    digest.Digest
	rate int64
	ctx  context.Context
}

func (w *countingWriter) Write(p []byte) (int, error) {
	if w.rate <= 0 {
		n, err := w.ResponseWriter.Write(p)
		w.add(n)
		return n, err
	}
	chunk := max(int(w.rate/20), 1) // 20 chunks a second
	written := 0
	for written < len(p) {
		select {
		case <-w.ctx.Done():
			return written, w.ctx.Err()
		case <-w.r.stopping:
			return written, http.ErrAbortHandler
		case <-time.After(50 * time.Millisecond):
		}
		end := min(written+chunk, len(p))
		n, err := w.ResponseWriter.Write(p[written:end])
		written += n
		w.add(n)
		if err != nil {
			return written, err
		}
		if f, ok := w.ResponseWriter.(http.Flusher); ok {
			f.Flush()
		}
	}
	return written, nil
}

func (w *countingWriter) add(n int) {
	w.r.mu.Lock()
	w.r.served[w.d] += int64(n)
	w.r.mu.Unlock()
}

// Push copies the image tagged tag in the OCI layout layoutDir to repo (e.g.
// "podbox/base:v1") in this registry, as an OCI image, and returns the
// digest of the manifest the registry now has.
func (r *Registry) Push(t testing.TB, layoutDir, tag, repo string) digest.Digest {
	t.Helper()
	return r.push(t, layoutDir, tag, repo, "", false)
}

// PushAll is Push of a multi-platform image (see WriteOCIIndex): the image
// index and every image it lists. It returns the index's digest.
func (r *Registry) PushAll(t testing.TB, layoutDir, tag, repo string) digest.Digest {
	t.Helper()
	return r.push(t, layoutDir, tag, repo, "", true)
}

// PushDocker is Push converting the image to a Docker v2 schema 2 manifest,
// as most of Docker Hub is: the registry's digest then differs from the one
// an OCI store keeps.
func (r *Registry) PushDocker(t testing.TB, layoutDir, tag, repo string) digest.Digest {
	t.Helper()
	return r.push(t, layoutDir, tag, repo, manifest.DockerV2Schema2MediaType, false)
}

func (r *Registry) push(t testing.TB, layoutDir, tag, repo, mimeType string, all bool) digest.Digest {
	t.Helper()
	src, err := layout.NewReference(layoutDir, tag)
	if err != nil {
		t.Fatalf("push %s:%s: %v", layoutDir, tag, err)
	}
	dest, err := docker.ParseReference("//" + r.Ref(repo))
	if err != nil {
		t.Fatalf("push to %s: %v", r.Ref(repo), err)
	}
	sys := r.SystemContext(t)
	pc, err := signature.NewPolicyContext(&signature.Policy{
		Default: signature.PolicyRequirements{signature.NewPRInsecureAcceptAnything()},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = pc.Destroy() }()
	opts := &copy.Options{SourceCtx: sys, DestinationCtx: sys, ForceManifestMIMEType: mimeType}
	if all {
		opts.ImageListSelection = copy.CopyAllImages
	}
	mb, err := copy.Image(context.Background(), pc, dest, src, opts)
	if err != nil {
		t.Fatalf("push %s:%s to %s: %v", layoutDir, tag, r.Ref(repo), err)
	}
	d, err := manifest.Digest(mb)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// SystemContext is a containers/image configuration that reaches this
// registry: plain HTTP, its credentials, no registries.conf and a blob-info
// cache of its own (never the host's).
func (r *Registry) SystemContext(t testing.TB) *types.SystemContext {
	t.Helper()
	conf := filepath.Join(r.cacheDir, "registries.conf")
	if _, err := os.Stat(conf); err != nil {
		if err := os.WriteFile(conf, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(r.cacheDir, "registries.conf.d"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	sys := &types.SystemContext{
		DockerInsecureSkipTLSVerify: types.OptionalBoolTrue,
		BlobInfoCacheDir:            r.cacheDir,
		SystemRegistriesConfPath:    conf,
		SystemRegistriesConfDirPath: filepath.Join(r.cacheDir, "registries.conf.d"),
		AuthFilePath:                filepath.Join(r.cacheDir, "no-auth.json"),
	}
	if r.user != "" {
		sys.DockerAuthConfig = &types.DockerAuthConfig{Username: r.user, Password: r.pass}
	}
	return sys
}
