package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	carchive "github.com/containerd/containerd/v2/pkg/archive"
	"github.com/containerd/log"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sirupsen/logrus"
	"go.podman.io/image/v5/pkg/compression"
	"golang.org/x/sys/unix"
)

// quiet returns ctx with a logger that discards what containerd's archive
// package would otherwise print on the process-wide logrus logger.
func quiet(ctx context.Context) context.Context {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return log.WithLogger(ctx, logrus.NewEntry(l))
}

// applyLayer unpacks the uncompressed layer stream r into the existing empty
// directory dst, converting whiteouts for overlayfs, and returns the digest
// of the whole stream (its DiffID).
func applyLayer(ctx context.Context, r io.Reader, dst string) (digest.Digest, error) {
	dg := digest.SHA256.Digester()
	tee := io.TeeReader(r, dg.Hash())
	if _, err := carchive.Apply(quiet(ctx), dst, tee, carchive.WithConvertWhiteout(carchive.OverlayConvertWhiteout)); err != nil {
		return "", err
	}
	// The tar reader stops at the end-of-archive marker; the DiffID covers
	// the padding after it too.
	if _, err := io.Copy(io.Discard, tee); err != nil {
		return "", err
	}
	return dg.Digest(), nil
}

// unpackLayer unpacks the layer blob at path (compressed or not) into dst,
// which must not exist yet, and checks that its uncompressed content has the
// digest diffID. On error dst is removed.
func unpackLayer(ctx context.Context, path string, diffID digest.Digest, dst string) (retErr error) {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	rc, _, err := compression.AutoDecompress(f)
	if err != nil {
		return err
	}
	defer rc.Close()
	if err := os.Mkdir(dst, 0o755); err != nil {
		return err
	}
	defer func() {
		if retErr != nil {
			os.RemoveAll(dst)
		}
	}()
	if err := os.Chmod(dst, 0o755); err != nil { // not subject to the umask
		return err
	}
	got, err := applyLayer(ctx, rc, dst)
	if err != nil {
		return err
	}
	if got != diffID {
		return fmt.Errorf("content does not match its DiffID: the config says %s, the layer is %s", diffID, got)
	}
	return nil
}

// verifyLayer checks that the layer blob at path uncompresses to content
// with the digest diffID, without unpacking it.
func verifyLayer(path string, diffID digest.Digest) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	rc, _, err := compression.AutoDecompress(f)
	if err != nil {
		return err
	}
	defer rc.Close()
	dg := digest.SHA256.Digester()
	if _, err := io.Copy(dg.Hash(), rc); err != nil {
		return err
	}
	if got := dg.Digest(); got != diffID {
		return fmt.Errorf("content does not match its DiffID: the config says %s, the layer is %s", diffID, got)
	}
	return nil
}

// layerDirs returns the unpacked layer directories of st, bottom -> top,
// unpacking from the store's blobs any that is missing. Callers hold the
// store lock, shared or exclusive: a layer directory only ever appears by
// rename, so concurrent readers may both unpack it and the second one wins
// nothing but loses nothing either.
func (s *Store) layerDirs(ctx context.Context, st *stored) ([]string, error) {
	dirs := make([]string, len(st.chainIDs))
	for i, c := range st.chainIDs {
		dirs[i] = s.layerDir(c.Encoded())
		_, err := os.Lstat(dirs[i])
		if err == nil {
			continue
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("layer %s: %w", c, err)
		}
		if err := s.restoreLayer(ctx, st.manifest.Layers[i], st.config.RootFS.DiffIDs[i], dirs[i]); err != nil {
			return nil, fmt.Errorf("unpack layer %s of image %s: %w", st.manifest.Layers[i].Digest, st.desc.Digest, err)
		}
	}
	return dirs, nil
}

// restoreLayer unpacks the store's blob desc into a work directory and
// renames it to dir.
func (s *Store) restoreLayer(ctx context.Context, desc ocispec.Descriptor, diffID digest.Digest, dir string) error {
	blob, err := blobPath(s.blobDir(), desc.Digest)
	if err != nil {
		return err
	}
	w, err := s.newWorkDir("unpack-")
	if err != nil {
		return err
	}
	defer func() { _ = w.Close() }()
	tmp := filepath.Join(w.path, "layer")
	if err := unpackLayer(ctx, blob, diffID, tmp); err != nil {
		return err
	}
	if err := w.sync(); err != nil {
		return err
	}
	return renameDir(tmp, dir)
}

// renameDir moves the directory from to to; if to exists already (another
// process put the same content there), from is left for its work directory
// to remove.
func renameDir(from, to string) error {
	err := os.Rename(from, to)
	if errors.Is(err, unix.EEXIST) || errors.Is(err, unix.ENOTEMPTY) {
		return nil
	}
	return err
}
