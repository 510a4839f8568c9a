//go:build !podbox_shim

package image

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	carchive "github.com/containerd/containerd/v2/pkg/archive"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/pkg/compression"
	compressiontypes "go.podman.io/image/v5/pkg/compression/types"
)

// DefaultPath is the PATH an imported image gets when ImportOptions.Config.Env
// sets none.
const DefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// ImportOptions configures Import.
type ImportOptions struct {
	// Config is the runtime configuration of the new image (Entrypoint, Cmd,
	// Env, WorkingDir, User, ...). DefaultPath is added to Env if it has no
	// PATH.
	Config ocispec.ImageConfig
	// Stdin is read when the source is "-".
	Stdin io.Reader
}

// Import makes a one-layer OCI image named name from src: a rootfs directory,
// a tar file (plain, gzip or zstd, sniffed from the content; xz and bzip2 are
// decompressed) or "-" for opts.Stdin. The image is for this host's OS and
// architecture and created now. Gzip and zstd tarballs are stored as they
// are; everything else as a plain tar layer.
//
// If name belongs to another image already, it moves to the new one (like
// `podman import`); the old image is removed unless another name or a live
// Mount still uses it.
func (s *Store) Import(ctx context.Context, src, name string, opts ImportOptions) (*Image, error) {
	n, err := localName(name)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", src, err)
	}
	img, err := s.importImage(ctx, src, n, opts)
	if err != nil {
		return nil, fmt.Errorf("import %s as %s: %w", src, n, err)
	}
	return img, nil
}

func (s *Store) importImage(ctx context.Context, src, name string, opts ImportOptions) (*Image, error) {
	in, closeIn, err := openImportSource(ctx, src, opts.Stdin)
	if err != nil {
		return nil, err
	}
	defer closeIn()
	w, err := s.newWorkDir("import-")
	if err != nil {
		return nil, err
	}
	defer func() { _ = w.Close() }()
	blobDir := filepath.Join(w.path, "blobs")
	if err := os.MkdirAll(filepath.Join(w.path, "layers"), 0o700); err != nil {
		return nil, err
	}
	if err := os.Mkdir(blobDir, 0o700); err != nil {
		return nil, err
	}
	tmpLayer := filepath.Join(w.path, "layer")
	layer, diffID, err := stageTarLayer(ctx, in, blobDir, tmpLayer)
	if err != nil {
		return nil, err
	}
	if err := os.Rename(tmpLayer, stagedLayerDir(w, diffID.Encoded())); err != nil {
		return nil, err
	}
	st, err := writeImportImage(blobDir, layer, diffID, opts.Config)
	if err != nil {
		return nil, err
	}
	if err := s.commit(ctx, w, blobDir, []staged{{names: []string{name}, st: st}}); err != nil {
		return nil, err
	}
	return st.image(name), nil
}

// openImportSource opens src as a tar stream. For a directory, the stream is
// written by a goroutine that closeIn waits for.
func openImportSource(ctx context.Context, src string, stdin io.Reader) (r io.Reader, closeIn func(), err error) {
	if src == "-" {
		if stdin == nil {
			return nil, nil, errors.New(`the source is "-" but ImportOptions.Stdin is nil`)
		}
		return stdin, func() {}, nil
	}
	fi, err := os.Stat(src)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case fi.Mode().IsRegular():
		f, err := os.Open(src)
		if err != nil {
			return nil, nil, err
		}
		return f, func() { f.Close() }, nil
	case fi.IsDir():
		pr, pw := io.Pipe()
		done := make(chan struct{})
		go func() {
			defer close(done)
			pw.CloseWithError(carchive.WriteDiff(quiet(ctx), pw, "", src))
		}()
		return pr, func() {
			pr.CloseWithError(errors.New("import finished"))
			<-done
		}, nil
	default:
		return nil, nil, fmt.Errorf("%s is neither a directory nor a regular file", src)
	}
}

// countWriter counts the bytes written through it.
type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// stageTarLayer reads the tar stream in once: it stores the blob in blobDir
// (kept compressed if gzip or zstd), unpacks it into dst and computes both the
// blob digest and the DiffID.
func stageTarLayer(ctx context.Context, in io.Reader, blobDir, dst string) (ocispec.Descriptor, digest.Digest, error) {
	desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer}
	algo, decompress, r, err := compression.DetectCompressionFormat(in)
	if err != nil {
		return desc, "", fmt.Errorf("read layer: %w", err)
	}
	f, err := os.CreateTemp(blobDir, "layer-")
	if err != nil {
		return desc, "", err
	}
	defer f.Close()
	if err := f.Chmod(0o644); err != nil {
		return desc, "", err
	}
	dg, size := digest.SHA256.Digester(), &countWriter{}
	sink := io.MultiWriter(f, dg.Hash(), size)
	raw := io.TeeReader(r, sink) // what is stored, if the input is kept as it is
	stream := raw
	if decompress != nil {
		switch algo.Name() {
		case compressiontypes.GzipAlgorithmName:
			desc.MediaType = ocispec.MediaTypeImageLayerGzip
		case compressiontypes.ZstdAlgorithmName:
			desc.MediaType = ocispec.MediaTypeImageLayerZstd
		default:
			raw = r // stored decompressed
		}
		dec, err := decompress(raw)
		if err != nil {
			return desc, "", fmt.Errorf("decompress layer (%s): %w", algo.Name(), err)
		}
		defer dec.Close()
		stream = dec
		if desc.MediaType == ocispec.MediaTypeImageLayer {
			stream = io.TeeReader(dec, sink)
		}
	}
	if err := os.Mkdir(dst, 0o755); err != nil {
		return desc, "", err
	}
	if err := os.Chmod(dst, 0o755); err != nil {
		return desc, "", err
	}
	diffID, err := applyLayer(ctx, stream, dst)
	if err != nil {
		return desc, "", fmt.Errorf("unpack layer: %w", err)
	}
	if _, err := io.Copy(io.Discard, raw); err != nil { // keep the whole input
		return desc, "", fmt.Errorf("read layer: %w", err)
	}
	if err := f.Close(); err != nil {
		return desc, "", err
	}
	desc.Digest, desc.Size = dg.Digest(), size.n
	if err := os.Rename(f.Name(), filepath.Join(blobDir, desc.Digest.Encoded())); err != nil {
		return desc, "", err
	}
	return desc, diffID, nil
}

// writeImportImage writes the config and manifest of a one-layer image into
// blobDir.
func writeImportImage(blobDir string, layer ocispec.Descriptor, diffID digest.Digest, rc ocispec.ImageConfig) (*stored, error) {
	now := time.Now().UTC().Truncate(time.Second)
	rc.Env = append([]string(nil), rc.Env...)
	if !hasPath(rc.Env) {
		rc.Env = append([]string{DefaultPath}, rc.Env...)
	}
	st := &stored{
		config: ocispec.Image{
			Created:  &now,
			Platform: ocispec.Platform{Architecture: runtime.GOARCH, OS: runtime.GOOS},
			Config:   rc,
			RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{diffID}},
			History:  []ocispec.History{{Created: &now, CreatedBy: "podbox image import"}},
		},
		chainIDs: []digest.Digest{diffID},
	}
	configDesc, err := putJSONBlob(blobDir, ocispec.MediaTypeImageConfig, st.config)
	if err != nil {
		return nil, err
	}
	st.manifest = ocispec.Manifest{
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    configDesc,
		Layers:    []ocispec.Descriptor{layer},
	}
	st.manifest.SchemaVersion = 2
	if st.desc, err = putJSONBlob(blobDir, ocispec.MediaTypeImageManifest, st.manifest); err != nil {
		return nil, err
	}
	return st, nil
}

func hasPath(env []string) bool {
	for _, e := range env {
		if strings.HasPrefix(e, "PATH=") {
			return true
		}
	}
	return false
}

// putJSONBlob writes v as a blob into blobDir and describes it.
func putJSONBlob(blobDir, mediaType string, v any) (ocispec.Descriptor, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("encode %s: %w", mediaType, err)
	}
	d := digest.SHA256.FromBytes(data)
	if err := os.WriteFile(filepath.Join(blobDir, d.Encoded()), data, 0o644); err != nil {
		return ocispec.Descriptor{}, err
	}
	return ocispec.Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(data))}, nil
}
