package shim

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/podbox/podbox/cgroups"
	"github.com/podbox/podbox/image"
	"github.com/podbox/podbox/internal/nsutil"
	"github.com/podbox/podbox/internal/podstate"
	"github.com/podbox/podbox/internal/runtime"
	"golang.org/x/sys/unix"
)

// Teardown removes everything a pod's sandbox made, working only from what
// is on disk, so it serves both a shim finishing normally and the CLI
// cleaning up after a shim that was killed: every container (killed if still
// running, then destroyed), container rootfs mounts and dirs, pinned
// namespaces, the /dev/shm tmpfs, the pod cgroup (killing anything left in
// it) and the pod's data dir. It keeps the pod's record, status and logs.
// It is idempotent and carries on past errors, returning them all.
func Teardown(dir podstate.Dir, rec *podstate.Record) error { return teardown(dir, rec, nil) }

// teardown is Teardown with the processes it runs (CNI plugins) started by
// start (nil: plainly); the shim passes startChild.
func teardown(dir podstate.Dir, rec *podstate.Record, start func(*exec.Cmd) (func() error, error)) error {
	var errs []error
	uid := string(rec.Pod.UID)
	// The directory must still be this pod's: a pod of the same name made
	// since must not be torn down in its place.
	if cur, err := dir.ReadRecord(); err == nil && cur.Pod.UID != rec.Pod.UID {
		return fmt.Errorf("tear down pod %s/%s: its directory now holds another pod (uid %s, not %s)",
			rec.Pod.Namespace, rec.Pod.Name, cur.Pod.UID, uid)
	}
	// The network is detached while the containers go: CNI DEL needs
	// only the pinned network namespace (unpinned below, once it is
	// done), and its plugins are most of a networked pod's teardown.
	netDone := make(chan error, 1)
	go func() { netDone <- detachNetwork(dir, rec, start) }()
	ids, err := runtime.List(dir.RuncRoot())
	if err != nil {
		errs = append(errs, err)
	}
	// Containers first, pause last.
	sort.SliceStable(ids, func(i, j int) bool { return ids[i] != pauseID && ids[j] == pauseID })
	for _, id := range ids {
		c, err := runtime.Load(dir.RuncRoot(), id)
		if err != nil {
			// State without a usable state.json (a crash mid-create).
			if rerr := os.RemoveAll(filepath.Join(dir.RuncRoot(), id)); rerr != nil {
				errs = append(errs, rerr)
			}
			continue
		}
		if err := c.Destroy(5 * time.Second); err != nil {
			errs = append(errs, err)
		}
	}
	dataDir := rec.Roots.DataDir(uid)
	ctrDirs, _ := filepath.Glob(filepath.Join(dataDir, "containers", "*"))
	for _, d := range ctrDirs {
		if err := image.Unmount(d); err != nil {
			errs = append(errs, err)
		}
	}
	if err := <-netDone; err != nil {
		errs = append(errs, err)
	}
	if err := nsutil.Unpin(dir.NsDir()); err != nil {
		errs = append(errs, err)
	}
	if err := unmountAll(dir.ShmDir()); err != nil {
		errs = append(errs, err)
	}
	if err := cgroups.RemovePod(rec.CgroupParent, uid); err != nil {
		errs = append(errs, err)
	}
	// Anything still mounted below the pod's directories goes too.
	for _, d := range []string{string(dir), dataDir} {
		if err := unmountAll(d); err != nil {
			errs = append(errs, err)
		}
	}
	for _, d := range []string{dataDir, dir.ShmDir(), dir.RuncRoot(), dir.EtcDir()} {
		// Never recursively through a mount that is left (a volume's).
		if m, _ := MountsUnder(d); len(m) > 0 {
			errs = append(errs, fmt.Errorf("remove %s: still mounted: %s", d, strings.Join(m, ", ")))
			continue
		}
		if err := nsutil.RemoveAllBusy(d); err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", d, err))
		}
	}
	_ = os.Remove(dir.Socket())
	return errors.Join(errs...)
}

// UnmountAll unmounts every mount at or below dir, deepest first.
func UnmountAll(dir string) error { return unmountAll(dir) }

func unmountAll(dir string) error {
	mounts, err := MountsUnder(dir)
	if err != nil {
		return err
	}
	var errs []error
	for i := len(mounts) - 1; i >= 0; i-- {
		if err := unix.Unmount(mounts[i], unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("unmount %s: %w", mounts[i], err))
		}
	}
	return errors.Join(errs...)
}

// MountsUnder lists the mount points at or below dir, in mount order, as
// the calling thread sees them.
func MountsUnder(dir string) ([]string, error) {
	// This thread's view: /proc/self is the main thread's, which need not
	// share this thread's mount namespace.
	f, err := os.Open("/proc/thread-self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("read mounts: %w", err)
	}
	defer f.Close()
	dir = filepath.Clean(dir)
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMount(fields[4])
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			out = append(out, mp)
		}
	}
	return out, sc.Err()
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space, ...).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			v, ok := octal(s[i+1 : i+4])
			if ok {
				b.WriteByte(v)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func octal(s string) (byte, bool) {
	var v byte
	for _, c := range []byte(s) {
		if c < '0' || c > '7' {
			return 0, false
		}
		v = v*8 + (c - '0')
	}
	return v, true
}
