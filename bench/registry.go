package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// dockerRegistry is Debian's docker-registry (CNCF distribution 2.8).
const dockerRegistry = "/usr/bin/docker-registry"

// registry is the bench's image registry on 127.0.0.1, plain HTTP:
// Debian's docker-registry when installed (a process of its own, as a
// real registry is), else go-containerregistry's in-process one.
type registry struct {
	host string // 127.0.0.1:PORT
	kind string
	stop func()
}

// startRegistry starts the registry; stop (also added to the bench's
// cleanups) ends it.
func (b *bench) startRegistry() (*registry, error) {
	if _, err := os.Stat(dockerRegistry); err == nil {
		r, err := b.startDockerRegistry()
		if err == nil {
			return r, nil
		}
		b.note("docker-registry did not start (%v): using the in-process registry", err)
	} else {
		b.note("docker-registry is not installed: using the in-process registry (make bench-deps)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the in-process registry: %w", err)
	}
	srv := &http.Server{Handler: ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))),
		ErrorLog: log.New(io.Discard, "", 0), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	r := &registry{host: l.Addr().String(), kind: "in-process (go-containerregistry)", stop: func() { _ = srv.Close() }}
	b.onClean(r.stop)
	return r, nil
}

func (b *bench) startDockerRegistry() (*registry, error) {
	dir := filepath.Join(b.dir, "registry")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("make %s: %w", dir, err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("find a free port: %w", err)
	}
	host := l.Addr().String()
	l.Close()
	cfg := fmt.Sprintf("version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n"+
		"    rootdirectory: %s\n  maintenance:\n    uploadpurging:\n      enabled: false\nhttp:\n  addr: %s\n  secret: podbox-bench\n",
		filepath.Join(dir, "storage"), host)
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", cfgPath, err)
	}
	logf, err := os.Create(filepath.Join(dir, "registry.log"))
	if err != nil {
		return nil, fmt.Errorf("make the registry's log: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(dockerRegistry, "serve", cfgPath)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"} // no REGISTRY_* overrides from the host
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = noCtrlC()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", dockerRegistry, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	r := &registry{host: host, kind: "docker-registry " + debVersion("docker-registry"), stop: func() {
		_ = cmd.Process.Kill()
		<-exited
	}}
	client := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		select {
		case <-exited:
			out, _ := os.ReadFile(logf.Name())
			return nil, fmt.Errorf("docker-registry on %s exited: %s", host, strings.TrimSpace(string(out)))
		default:
		}
		resp, err := client.Get("http://" + host + "/v2/")
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			b.onClean(r.stop)
			return r, nil
		}
	}
	r.stop()
	return nil, fmt.Errorf("docker-registry on %s did not answer within 10s", host)
}

// threeLayerImage builds the pull scenario's image offline: the busybox
// rootfs, 4 MiB of incompressible data, and a small configuration layer,
// each gzipped. It returns the blobs by digest and the manifest.
func threeLayerImage(rootfs string) (blobs map[digest.Digest][]byte, manifest []byte, err error) {
	base, err := tarTree(rootfs, map[string][]byte{"etc/bench-image": []byte("layer 1\n")})
	if err != nil {
		return nil, nil, fmt.Errorf("tar %s: %w", rootfs, err)
	}
	data := make([]byte, 4<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i+8 <= len(data); i += 8 {
		v := rng.Uint64()
		for j := range 8 {
			data[i+j] = byte(v >> (8 * j))
		}
	}
	bulk, err := tarFiles(map[string][]byte{"opt/bench/data": data})
	if err != nil {
		return nil, nil, err
	}
	top, err := tarFiles(map[string][]byte{"etc/app.conf": []byte("mode=bench\n"), "opt/bench/run.sh": []byte("#!/bin/sh\nexec sleep 3600\n")})
	if err != nil {
		return nil, nil, err
	}
	blobs = map[digest.Digest][]byte{}
	created := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	cfg := ocispec.Image{Created: &created, Platform: ocispec.Platform{Architecture: runtime.GOARCH, OS: "linux"},
		Config: ocispec.ImageConfig{Cmd: []string{"sh"}, Env: []string{"PATH=/bin"}}, RootFS: ocispec.RootFS{Type: "layers"}}
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest}
	m.SchemaVersion = 2
	for _, layer := range [][]byte{base, bulk, top} {
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, digest.FromBytes(layer))
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		_, _ = zw.Write(layer)
		_ = zw.Close()
		d := digest.FromBytes(gz.Bytes())
		blobs[d] = gz.Bytes()
		m.Layers = append(m.Layers, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerGzip, Digest: d, Size: int64(gz.Len())})
	}
	cfgData, _ := json.Marshal(cfg)
	m.Config = ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digest.FromBytes(cfgData), Size: int64(len(cfgData))}
	blobs[m.Config.Digest] = cfgData
	manifest, _ = json.Marshal(m)
	return blobs, manifest, nil
}

// push uploads the blobs (monolithic uploads) and the manifest as
// repo:tag.
func (r *registry) push(ctx context.Context, repo, tag string, blobs map[digest.Digest][]byte, manifest []byte) error {
	base := &url.URL{Scheme: "http", Host: r.host}
	client := &http.Client{Timeout: time.Minute}
	do := func(method, target, contentType string, body []byte, want int) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		if resp.StatusCode != want {
			return nil, fmt.Errorf("%s %s: %s: %s", method, target, resp.Status, strings.TrimSpace(string(msg)))
		}
		return resp, nil
	}
	for d, data := range blobs {
		resp, err := do(http.MethodPost, base.JoinPath("v2", repo, "blobs", "uploads/").String(), "", nil, http.StatusAccepted)
		if err != nil {
			return fmt.Errorf("push blob %s to %s: %w", d, r.host, err)
		}
		loc, err := base.Parse(resp.Header.Get("Location"))
		if err != nil {
			return fmt.Errorf("push blob %s to %s: upload location: %w", d, r.host, err)
		}
		q := loc.Query()
		q.Set("digest", d.String())
		loc.RawQuery = q.Encode()
		if _, err := do(http.MethodPut, loc.String(), "application/octet-stream", data, http.StatusCreated); err != nil {
			return fmt.Errorf("push blob %s to %s: %w", d, r.host, err)
		}
	}
	if _, err := do(http.MethodPut, base.JoinPath("v2", repo, "manifests", tag).String(), ocispec.MediaTypeImageManifest, manifest, http.StatusCreated); err != nil {
		return fmt.Errorf("push manifest of %s:%s to %s: %w", repo, tag, r.host, err)
	}
	return nil
}

// tarTree tars the tree at dir (sorted, owners and modes kept, times
// fixed) with extra files added.
func tarTree(dir string, extra map[string][]byte) ([]byte, error) {
	var paths []string
	err := filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err == nil && p != dir {
			paths = append(paths, p)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	for _, p := range paths {
		if err := tarPath(tw, dir, p, dirs); err != nil {
			return nil, err
		}
	}
	if err := writeFiles(tw, extra, dirs); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

var layerTime = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

func tarPath(tw *tar.Writer, dir, p string, dirs map[string]bool) error {
	fi, err := os.Lstat(p)
	if err != nil {
		return err
	}
	link := ""
	if fi.Mode()&fs.ModeSymlink != 0 {
		if link, err = os.Readlink(p); err != nil {
			return err
		}
	}
	hdr, err := tar.FileInfoHeader(fi, link)
	if err != nil {
		return err
	}
	rel, err := filepath.Rel(dir, p)
	if err != nil {
		return err
	}
	hdr.Name = filepath.ToSlash(rel)
	if fi.IsDir() {
		dirs[hdr.Name] = true
		hdr.Name += "/"
	}
	hdr.ModTime, hdr.Uname, hdr.Gname, hdr.Format = layerTime, "", "", tar.FormatPAX
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if hdr.Typeflag != tar.TypeReg {
		return nil
	}
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(tw, f)
	return err
}

// tarFiles is a layer of regular files (and their parent directories).
func tarFiles(files map[string][]byte) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := writeFiles(tw, files, map[string]bool{}); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeFiles adds regular files to a layer, with the parent directories
// not in dirs (the directories written so far).
func writeFiles(tw *tar.Writer, files map[string][]byte, dirs map[string]bool) error {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		var missing []string
		for d := filepath.Dir(n); d != "." && !dirs[d]; d = filepath.Dir(d) {
			missing = append(missing, d)
		}
		for i := len(missing) - 1; i >= 0; i-- {
			dirs[missing[i]] = true
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: missing[i] + "/", Mode: 0o755, ModTime: layerTime}); err != nil {
				return err
			}
		}
		mode := int64(0o644)
		if strings.HasSuffix(n, ".sh") {
			mode = 0o755
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: n, Mode: mode, Size: int64(len(files[n])), ModTime: layerTime}); err != nil {
			return err
		}
		if _, err := tw.Write(files[n]); err != nil {
			return err
		}
	}
	return nil
}
