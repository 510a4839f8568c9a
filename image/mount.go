package image

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/moby/sys/mountinfo"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"
)

// leaseFile, inside a Mount's dir, names the store and the image, so that
// Unmount, a package function, can find the lease.
const leaseFile = "lease.json"

// mountDirEntries is everything Mount puts into its dir.
var mountDirEntries = []string{leaseFile, "upper", "work", "rootfs", "empty"}

// Mount builds a container root filesystem from img: it creates dir (0700,
// its parent must exist) with upper/, work/ and rootfs/, and mounts on rootfs
// an overlay of the image's layers (read-only, top layer first) under upper/,
// with redirect_dir=nofollow,metacopy=off,index=off. The layers are those of
// the manifest img.Digest, unpacked again if missing; img.Layers is not used.
//
// Mount records a lease, leases/<sha256 of dir>, so that Remove refuses the
// image and garbage collection keeps it until Unmount(dir). On any error
// nothing is left behind. It returns dir/rootfs.
//
// It uses the new mount API (fsopen, one "lowerdir+" per layer, fsmount,
// move_mount: Linux >= 6.8, no limit on the number of layers) and falls back
// to mount(2) on older kernels.
func (s *Store) Mount(ctx context.Context, img *Image, dir string) (rootfs string, err error) {
	if img == nil {
		return "", errors.New("mount image: no image")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("mount image %s at %s: %w", img.Name, dir, err)
	}
	rootfs, err = s.mount(ctx, img, abs)
	if err != nil {
		return "", fmt.Errorf("mount image %s at %s: %w", img.Name, abs, err)
	}
	return rootfs, nil
}

func (s *Store) mount(ctx context.Context, img *Image, dir string) (_ string, retErr error) {
	var undo []func()
	defer func() {
		if retErr != nil {
			for _, f := range slices.Backward(undo) {
				f()
			}
		}
	}()
	if err := os.Mkdir(dir, 0o700); err != nil {
		return "", err
	}
	undo = append(undo, func() { os.RemoveAll(dir) })
	layers, l, err := s.takeLease(ctx, img, dir)
	if err != nil {
		return "", err
	}
	undo = append(undo, func() { os.Remove(s.leasePath(dir)) })
	data, err := json.Marshal(l)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, leaseFile), data, 0o600); err != nil {
		return "", err
	}
	upper, work, rootfs := filepath.Join(dir, "upper"), filepath.Join(dir, "work"), filepath.Join(dir, "rootfs")
	for _, d := range []string{upper, work, rootfs} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return "", err
		}
	}
	if err := os.Chmod(upper, 0o755); err != nil { // the container's "/"
		return "", err
	}
	if len(layers) == 0 { // an image without layers: overlay needs a lower
		empty := filepath.Join(dir, "empty")
		if err := os.Mkdir(empty, 0o755); err != nil {
			return "", err
		}
		layers = []string{empty}
	}
	lowers := slices.Clone(layers)
	slices.Reverse(lowers) // overlay lists the top layer first
	if err := mountOverlay(lowers, upper, work, rootfs, s.legacyMount); err != nil {
		return "", err
	}
	return rootfs, nil
}

// takeLease checks, under the shared lock, that the image is in the store,
// restores missing layer directories, and writes the lease for dir.
func (s *Store) takeLease(ctx context.Context, img *Image, dir string) ([]string, *lease, error) {
	unlock, err := s.lock(ctx, unix.LOCK_SH)
	if err != nil {
		return nil, nil, err
	}
	defer unlock()
	desc, err := s.manifestDesc(img.Digest)
	if err != nil {
		return nil, nil, err
	}
	st, err := readStored(s.blobDir(), desc)
	if err != nil {
		return nil, nil, err
	}
	layers, err := s.layerDirs(ctx, st)
	if err != nil {
		return nil, nil, err
	}
	l := &lease{Store: s.dir, Dir: dir, Name: img.Name, Image: st.manifest.Config.Digest.String(), Manifest: desc}
	data, err := json.Marshal(l)
	if err != nil {
		return nil, nil, err
	}
	// A lease need not outlive a power loss: the mount does not either.
	if err := writeFileRename(s.leasePath(dir), data, false); err != nil {
		return nil, nil, fmt.Errorf("record lease: %w", err)
	}
	return layers, l, nil
}

// manifestDesc describes the stored manifest d; ErrNotFound if the store no
// longer has it.
func (s *Store) manifestDesc(d digest.Digest) (ocispec.Descriptor, error) {
	path, err := blobPath(s.blobDir(), d)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return ocispec.Descriptor{}, fmt.Errorf("manifest %s: %w", d, ErrNotFound)
	} else if err != nil {
		return ocispec.Descriptor{}, err
	}
	var m struct {
		MediaType string `json:"mediaType"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("parse manifest %s: %w", d, err)
	}
	if m.MediaType == "" {
		m.MediaType = ocispec.MediaTypeImageManifest
	}
	return ocispec.Descriptor{MediaType: m.MediaType, Digest: d, Size: int64(len(data))}, nil
}

func (s *Store) leasePath(dir string) string {
	return filepath.Join(s.leasesDir(), digest.SHA256.FromString(dir).Encoded())
}

// Unmount undoes Mount: it unmounts dir/rootfs (retrying briefly while busy,
// detaching lazily as a last resort), removes dir and the lease, and, if the
// image has lost its last name meanwhile, removes what it leaves unused. A
// missing dir is not an error.
func Unmount(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("unmount %s: %w", dir, err)
	}
	if err := unmount(abs); err != nil {
		return fmt.Errorf("unmount %s: %w", abs, err)
	}
	return nil
}

func unmount(dir string) error {
	if ok, err := exists(dir); err != nil || !ok {
		return err
	}
	var l lease
	data, err := os.ReadFile(filepath.Join(dir, leaseFile))
	haveLease := err == nil && json.Unmarshal(data, &l) == nil && l.Store != ""
	if !haveLease { // refuse to remove a directory Mount did not make
		names, err := readDirNames(dir)
		if err != nil {
			return err
		}
		for _, n := range names {
			if !slices.Contains(mountDirEntries, n) {
				return fmt.Errorf("%s is not a rootfs directory made by Mount (it holds %q)", dir, n)
			}
		}
	}
	rootfs := filepath.Join(dir, "rootfs")
	if err := unmountRetry(rootfs); err != nil {
		return err
	}
	if ok, err := exists(rootfs); err != nil {
		return err
	} else if ok {
		if mounted, err := mountinfo.Mounted(rootfs); err != nil {
			return err
		} else if mounted {
			return fmt.Errorf("%s is still mounted", rootfs)
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if !haveLease {
		return nil
	}
	s := &Store{dir: l.Store}
	if err := os.Remove(s.leasePath(l.Dir)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove lease: %w", err)
	}
	if err := s.collectOrphan(l.Manifest.Digest); err != nil {
		return fmt.Errorf("collect garbage of image %s: %w", l.Image, err)
	}
	return nil
}

// collectOrphan collects garbage if the manifest d has no name any more: its
// image was replaced or removed while mounted.
func (s *Store) collectOrphan(d digest.Digest) error {
	ctx := context.Background()
	unlock, err := s.lock(ctx, unix.LOCK_SH)
	if err != nil {
		return err
	}
	idx, err := s.readIndex()
	unlock()
	if err != nil {
		return err
	}
	for _, m := range idx.Manifests {
		if m.Digest == d {
			return nil
		}
	}
	if unlock, err = s.lock(ctx, unix.LOCK_EX); err != nil {
		return err
	}
	defer unlock()
	return s.collect(ctx)
}

// unmountRetry unmounts everything mounted on path.
func unmountRetry(path string) error {
	busy := 0
	for range 100 {
		err := unix.Unmount(path, unix.UMOUNT_NOFOLLOW)
		switch {
		case err == nil:
			continue // something else may be stacked below
		case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOENT):
			return nil // not (or no longer) a mount point
		case errors.Is(err, unix.EBUSY) && busy < 20:
			busy++
			time.Sleep(10 * time.Millisecond)
		case errors.Is(err, unix.EBUSY):
			if err := unix.Unmount(path, unix.MNT_DETACH|unix.UMOUNT_NOFOLLOW); err != nil && !errors.Is(err, unix.EINVAL) {
				return fmt.Errorf("detach %s: %w", path, err)
			}
		default:
			return fmt.Errorf("unmount %s: %w", path, err)
		}
	}
	return fmt.Errorf("unmount %s: still mounted after 100 unmounts", path)
}

func readDirNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}
