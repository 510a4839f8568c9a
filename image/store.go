package image

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"
)

// DefaultRoot is podbox's root directory when Options.Root is empty.
const DefaultRoot = "/var/lib/podbox"

// Options configures Open.
type Options struct {
	// Root is podbox's root directory (DefaultRoot if empty); the store lives
	// in <Root>/images.
	Root string
}

// Store is the local image store under <Root>/images. It holds no mutable
// state: it is safe for concurrent use by many goroutines, and several
// processes may open the same root at once (see the package documentation).
type Store struct {
	dir         string // <Root>/images, absolute
	legacyMount bool   // use mount(2) even where the new mount API works (tests)
}

// Open opens the store under opts.Root, creating its directories if needed
// and removing work directories left behind by operations that died. It is
// cheap: a few stats and one directory read.
func Open(opts Options) (*Store, error) {
	root := opts.Root
	if root == "" {
		root = DefaultRoot
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("open image store in %s: %w", root, err)
	}
	s := &Store{dir: filepath.Join(abs, "images")}
	if err := s.init(); err != nil {
		return nil, fmt.Errorf("open image store in %s: %w", s.dir, err)
	}
	return s, nil
}

func (s *Store) init() error {
	for _, d := range []string{s.dir, s.ociDir(), s.blobDir(), s.layersDir(), s.cacheDir(), s.tmpDir(), s.leasesDir()} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	layoutFile := filepath.Join(s.ociDir(), ocispec.ImageLayoutFile)
	if _, err := os.Stat(layoutFile); errors.Is(err, fs.ErrNotExist) {
		data := []byte(`{"imageLayoutVersion":"` + ocispec.ImageLayoutVersion + `"}`)
		if err := writeFileAtomic(layoutFile, data); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	return s.removeStaleTmp()
}

// Dir returns the store directory, <Root>/images.
func (s *Store) Dir() string { return s.dir }

func (s *Store) ociDir() string    { return filepath.Join(s.dir, "oci") }
func (s *Store) blobDir() string   { return filepath.Join(s.dir, "oci", "blobs", "sha256") }
func (s *Store) indexPath() string { return filepath.Join(s.dir, "oci", ocispec.ImageIndexFile) }
func (s *Store) layersDir() string { return filepath.Join(s.dir, "layers") }
func (s *Store) cacheDir() string  { return filepath.Join(s.dir, "cache") }
func (s *Store) tmpDir() string    { return filepath.Join(s.dir, "tmp") }
func (s *Store) leasesDir() string { return filepath.Join(s.dir, "leases") }
func (s *Store) lockPath() string  { return filepath.Join(s.dir, "lock") }

// layerDir is where the layer with this chain ID is unpacked.
func (s *Store) layerDir(chainID string) string { return filepath.Join(s.layersDir(), chainID) }

// lock takes the store's flock (unix.LOCK_SH or unix.LOCK_EX) on a file
// descriptor of its own, so goroutines of one process exclude each other as
// processes do. It gives up when ctx is done.
func (s *Store) lock(ctx context.Context, how int) (unlock func(), err error) {
	fd, err := unix.Open(s.lockPath(), unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open store lock %s: %w", s.lockPath(), err)
	}
	release := func() { unix.Close(fd) } // closing the last descriptor drops the flock
	if err := flockRetry(fd, how|unix.LOCK_NB); err == nil {
		return release, nil
	} else if !errors.Is(err, unix.EWOULDBLOCK) {
		unix.Close(fd)
		return nil, fmt.Errorf("lock store %s: %w", s.dir, err)
	}
	done := make(chan error, 1)
	go func() { done <- flockRetry(fd, how) }()
	select {
	case err := <-done:
		if err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("lock store %s: %w", s.dir, err)
		}
		return release, nil
	case <-ctx.Done():
		go func() {
			// The blocked flock still owns fd: close it once flock returns,
			// whatever it returned.
			if err := <-done; err != nil {
				_ = unix.Close(fd)
				return
			}
			_ = unix.Close(fd)
		}()
		return nil, fmt.Errorf("lock store %s: %w", s.dir, ctx.Err())
	}
}

func flockRetry(fd, how int) error {
	for {
		err := unix.Flock(fd, how)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// workDir is a private directory under tmp/ for one operation. It is held
// with an exclusive flock for as long as it is open, which is how Open tells
// the work of a live operation from the remains of a dead one.
type workDir struct {
	path string
	fd   int
}

// newWorkDir creates and locks a work directory under tmp/.
func (s *Store) newWorkDir(prefix string) (*workDir, error) {
	for range 10 {
		path, err := os.MkdirTemp(s.tmpDir(), prefix)
		if err != nil {
			return nil, fmt.Errorf("create work directory in %s: %w", s.tmpDir(), err)
		}
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.ENOENT) {
			continue // removed by a concurrent Open before we could lock it
		} else if err != nil {
			os.Remove(path)
			return nil, fmt.Errorf("open work directory %s: %w", path, err)
		}
		if err := flockRetry(fd, unix.LOCK_EX); err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("lock work directory %s: %w", path, err)
		}
		// A concurrent Open may have locked and removed it in between: make sure
		// the locked directory is still the one at path.
		var held, cur unix.Stat_t
		if unix.Fstat(fd, &held) == nil && unix.Stat(path, &cur) == nil && held.Dev == cur.Dev && held.Ino == cur.Ino {
			return &workDir{path: path, fd: fd}, nil
		}
		unix.Close(fd)
	}
	return nil, fmt.Errorf("create work directory in %s: raced with cleanup too often", s.tmpDir())
}

// Close removes the work directory and releases its lock.
func (w *workDir) Close() error {
	err := os.RemoveAll(w.path)
	unix.Close(w.fd)
	if err != nil {
		return fmt.Errorf("remove work directory %s: %w", w.path, err)
	}
	return nil
}

// sync flushes the filesystem holding the work directory, so that what was
// staged in it is on disk before index.json makes it visible.
func (w *workDir) sync() error {
	if err := unix.Syncfs(w.fd); err != nil {
		return fmt.Errorf("sync filesystem of %s: %w", w.path, err)
	}
	return nil
}

// removeStaleTmp removes every entry of tmp/ whose operation is gone.
func (s *Store) removeStaleTmp() error {
	entries, err := os.ReadDir(s.tmpDir())
	if err != nil {
		return err
	}
	for _, e := range entries {
		path := filepath.Join(s.tmpDir(), e.Name())
		if !e.IsDir() {
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("remove stale %s: %w", path, err)
			}
			continue
		}
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			continue // gone already
		}
		if unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB) == nil {
			err = os.RemoveAll(path)
		}
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("remove stale %s: %w", path, err)
		}
	}
	return nil
}

// writeFileAtomic replaces path with data: temporary file in the same
// directory, fsync, rename, fsync of the directory.
func writeFileAtomic(path string, data []byte) error { return writeFileRename(path, data, true) }

// writeFileRename replaces path with data through a temporary file and a
// rename, so readers never see part of it; durable adds the fsyncs that make
// it survive a power loss too.
func writeFileRename(path string, data []byte, durable bool) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(path)+"-")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if err == nil && durable {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if !durable {
		return nil
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
