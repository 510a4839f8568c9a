// Package nsutil creates a pod's namespaces and pins them with bind mounts,
// the way CRI-O's pinns and `ip netns add` do, so that containers can join
// them by path and no PID reuse can redirect a join.
package nsutil

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// Names of the pinned namespace files inside a pod's ns directory.
const (
	Net = "net"
	IPC = "ipc"
	UTS = "uts"
	PID = "pid"
	// Sys is where the network namespace's sysfs is mounted (PinOptions.Sysfs).
	Sys = "sys"
)

// PinOptions selects which namespaces Pin creates.
type PinOptions struct {
	Net, IPC, UTS bool
	// Hostname is set once in the new UTS namespace (containers never set it:
	// a container sethostname()ing in the shared namespace would change it for
	// every container of the pod).
	Hostname string
	// Sysctls are set in the new network and IPC namespaces (the caller
	// checked that each belongs to one of them).
	Sysctls []Sysctl
	// Sysfs mounts the new network namespace's sysfs read-write on
	// dir/sys, for the pod's life. A network namespace has one sysfs,
	// read-only if its first mount was: with this, privileged containers
	// get a writable /sys whatever the order the pod's containers mount it
	// in (the others still mount it read-only).
	Sysfs bool
}

// Pin creates new network, IPC and UTS namespaces as opts selects, sets the
// hostname, brings the loopback interface up, and bind-mounts each one on
// dir/<name>. On error nothing is left pinned.
func Pin(dir string, opts PinOptions) (err error) {
	var flags int
	var names []string
	if opts.Net {
		flags |= unix.CLONE_NEWNET
		names = append(names, Net)
	}
	if opts.IPC {
		flags |= unix.CLONE_NEWIPC
		names = append(names, IPC)
	}
	if opts.UTS {
		flags |= unix.CLONE_NEWUTS
		names = append(names, UTS)
	}
	if flags == 0 {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("pin namespaces: %w", err)
	}
	defer func() {
		if err != nil {
			_ = Unpin(dir)
		}
	}()
	for _, n := range names {
		if err := createTarget(filepath.Join(dir, n)); err != nil {
			return err
		}
	}

	errc := make(chan error, 1)
	go func() {
		// This thread changes namespaces, so it stays locked until it is
		// back in the ones it started in. Were it left locked, the runtime
		// would discard it, except the main thread, which it wedges: the
		// process would then sit in the pod's namespaces for good.
		runtime.LockOSThread()
		orig, err := saveNamespaces(names)
		if err != nil {
			errc <- err
			return
		}
		err = pinOnThisThread(dir, flags, names, opts)
		if restoreNamespaces(orig) {
			runtime.UnlockOSThread()
		}
		errc <- err
	}()
	return <-errc
}

var nsFlags = map[string]int{Net: unix.CLONE_NEWNET, IPC: unix.CLONE_NEWIPC, UTS: unix.CLONE_NEWUTS}

// saveNamespaces opens the calling thread's namespaces of the given names.
func saveNamespaces(names []string) (map[string]int, error) {
	fds := map[string]int{}
	for _, n := range names {
		fd, err := unix.Open("/proc/thread-self/ns/"+n, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			for _, fd := range fds {
				unix.Close(fd)
			}
			return nil, fmt.Errorf("open %s namespace of this thread: %w", n, err)
		}
		fds[n] = fd
	}
	return fds, nil
}

// restoreNamespaces moves the calling thread back into the saved
// namespaces and closes them; it reports whether all moves succeeded.
func restoreNamespaces(fds map[string]int) bool {
	ok := true
	for n, fd := range fds {
		if err := unix.Setns(fd, nsFlags[n]); err != nil {
			ok = false
		}
		unix.Close(fd)
	}
	return ok
}

func pinOnThisThread(dir string, flags int, names []string, opts PinOptions) error {
	hostname := opts.Hostname
	if err := unix.Unshare(flags); err != nil {
		return fmt.Errorf("unshare pod namespaces: %w", err)
	}
	if flags&unix.CLONE_NEWUTS != 0 && hostname != "" {
		if err := unix.Sethostname([]byte(hostname)); err != nil {
			return fmt.Errorf("set pod hostname %q: %w", hostname, err)
		}
	}
	if flags&unix.CLONE_NEWNET != 0 {
		if err := loopbackUp(); err != nil {
			return err
		}
	}
	if err := setSysctls(opts.Sysctls); err != nil {
		return err
	}
	if opts.Sysfs && flags&unix.CLONE_NEWNET != 0 {
		if err := mountSysfs(filepath.Join(dir, Sys)); err != nil {
			return err
		}
	}
	for _, n := range names {
		src := "/proc/thread-self/ns/" + n
		dst := filepath.Join(dir, n)
		if err := unix.Mount(src, dst, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("pin %s namespace on %s: %w", n, dst, err)
		}
	}
	return nil
}

// loopbackUp sets IFF_UP on lo in the calling thread's network namespace (a
// socket belongs to the namespace of the thread that opens it).
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("bring lo up: socket: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return fmt.Errorf("bring lo up: %w", err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bring lo up: get flags: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bring lo up: set flags: %w", err)
	}
	return nil
}

// PinPID pins the PID namespace of process pid on dir/pid.
func PinPID(dir string, pid int) error {
	dst := filepath.Join(dir, PID)
	if err := createTarget(dst); err != nil {
		return err
	}
	src := "/proc/" + strconv.Itoa(pid) + "/ns/pid"
	if err := unix.Mount(src, dst, "", unix.MS_BIND, ""); err != nil {
		_ = os.Remove(dst)
		return fmt.Errorf("pin pid namespace of %d on %s: %w", pid, dst, err)
	}
	return nil
}

func createTarget(path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_RDONLY|unix.O_CLOEXEC, 0o400)
	if err != nil {
		return fmt.Errorf("create namespace pin %s: %w", path, err)
	}
	return f.Close()
}

// Unpin unmounts and removes every pinned namespace in dir, and dir itself.
// It is idempotent: what is already gone is not an error.
func Unpin(dir string) error {
	var errs []error
	for _, n := range []string{Net, IPC, UTS, PID, Sys} {
		errs = append(errs, unpin(filepath.Join(dir, n)))
	}
	if err := removeBusy(dir, os.Remove); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, fmt.Errorf("remove %s: %w", dir, err))
	}
	return errors.Join(errs...)
}

// UnpinPID unmounts and removes the PID namespace pinned in dir (pause's,
// before another pause is started in the same sandbox). Idempotent.
func UnpinPID(dir string) error { return unpin(filepath.Join(dir, PID)) }

func unpin(p string) error {
	if err := unix.Unmount(p, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unpin %s: %w", p, err)
	}
	if err := removeBusy(p, os.Remove); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", p, err)
	}
	return nil
}

// Path returns dir/name if that namespace is pinned there, else "".
func Path(dir, name string) string {
	p := filepath.Join(dir, name)
	var st, parent unix.Stat_t
	if unix.Stat(p, &st) != nil || unix.Stat(dir, &parent) != nil {
		return ""
	}
	// A pinned namespace file lives on nsfs, not on dir's file system.
	if st.Dev == parent.Dev {
		return ""
	}
	return p
}

// RemoveAllBusy is os.RemoveAll that waits out EBUSY for up to two
// seconds. A directory that was a mount point stays busy while any mount
// namespace still holds a copy of that mount: a container that is being set
// up clones the host's mounts, and the kernel releases the namespace of a
// process that just died a moment after it was reaped.
func RemoveAllBusy(path string) error { return removeBusy(path, os.RemoveAll) }

func removeBusy(path string, remove func(string) error) error {
	deadline := time.Now().Add(2 * time.Second)
	for {
		err := remove(path)
		if err == nil || !errors.Is(err, unix.EBUSY) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(10 * time.Millisecond)
	}
}
