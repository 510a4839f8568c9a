package nsutil

import (
	"bufio"
	"errors"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/podbox/podbox/internal/testutil"
	"golang.org/x/sys/unix"
)

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatalf("stat %s: %v", path, err)
	}
	return st.Ino
}

// mountsUnder lists the mount points at or below dir.
func mountsUnder(t *testing.T, dir string) []string {
	t.Helper()
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && (fields[4] == dir || strings.HasPrefix(fields[4], dir+"/")) {
			out = append(out, fields[4])
		}
	}
	return out
}

// hostNS returns the inode of this process's namespace of the given type,
// as seen by an ordinary thread (/proc/self/ns is the main thread's, which a
// Pin may have moved; see TestPinLeavesNoThreadBehind).
func hostNS(t *testing.T, name string) uint64 {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return inode(t, "/proc/thread-self/ns/"+name)
}

// threadsIn lists the threads of this process whose namespace of the given
// type has inode ino.
func threadsIn(t *testing.T, name string, ino uint64) []string {
	t.Helper()
	tasks, err := filepath.Glob("/proc/self/task/*")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, task := range tasks {
		var st unix.Stat_t
		if unix.Stat(filepath.Join(task, "ns", name), &st) == nil && st.Ino == ino {
			out = append(out, filepath.Base(task))
		}
	}
	return out
}

// inNamespaces runs fn on a thread that joined the pinned namespaces at
// paths (nstype by path). The thread is never unlocked, so the Go runtime
// discards it afterwards.
func inNamespaces(t *testing.T, paths map[string]int, fn func() error) error {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		for p, typ := range paths {
			fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				errc <- err
				return
			}
			err = unix.Setns(fd, typ)
			unix.Close(fd)
			if err != nil {
				errc <- err
				return
			}
		}
		errc <- fn()
	}()
	return <-errc
}

// TestPinLeavesNoThreadBehind: once Pin returns, no thread of the calling
// process may stay in the pod's namespaces. The Go runtime discards a
// thread whose goroutine exits locked, except the main thread (m0), which it
// wedges instead: a Pin that ran on m0 leaves the process's main thread, and
// so /proc/<pid>/ns/*, in the pod's namespaces for good, and keeps the
// network namespace alive after Unpin.
func TestPinLeavesNoThreadBehind(t *testing.T) {
	testutil.RequireRoot(t)
	base := t.TempDir()
	for i := range 20 {
		dir := filepath.Join(base, "ns", string(rune('a'+i)))
		if err := Pin(dir, PinOptions{Net: true, IPC: true, UTS: true, Hostname: "h"}); err != nil {
			t.Fatalf("Pin: %v", err)
		}
		ino := map[string]uint64{}
		for _, n := range []string{Net, IPC, UTS} {
			ino[n] = inode(t, Path(dir, n))
		}
		if err := Unpin(dir); err != nil {
			t.Fatalf("Unpin: %v", err)
		}
		for n, nsIno := range ino {
			if tasks := threadsIn(t, n, nsIno); len(tasks) > 0 {
				t.Fatalf("after Pin and Unpin (round %d), threads %v of this process are still in the pod's %s namespace (main thread %d)", i, tasks, n, os.Getpid())
			}
		}
	}
}

func TestPin(t *testing.T) {
	testutil.RequireRoot(t)
	dir := filepath.Join(t.TempDir(), "ns")
	t.Cleanup(func() { _ = Unpin(dir) })
	const hostname = "pinned-pod-host"
	if err := Pin(dir, PinOptions{Net: true, IPC: true, UTS: true, Hostname: hostname}); err != nil {
		t.Fatalf("Pin: %v", err)
	}
	if got := len(mountsUnder(t, dir)); got != 3 {
		t.Errorf("%d mounts under %s, want 3", got, dir)
	}
	for _, n := range []string{Net, IPC, UTS} {
		p := Path(dir, n)
		if p != filepath.Join(dir, n) {
			t.Fatalf("Path(%s) = %q, want %q", n, p, filepath.Join(dir, n))
		}
		if inode(t, p) == hostNS(t, n) {
			t.Errorf("%s pin is the host's namespace", n)
		}
	}
	if Path(dir, PID) != "" {
		t.Errorf("Path(pid) = %q for an unpinned namespace", Path(dir, PID))
	}
	if Path(dir, "bogus") != "" {
		t.Error("Path(bogus) is not empty")
	}
	if host, _ := os.Hostname(); host == hostname {
		t.Fatal("Pin changed the host's hostname")
	}

	// The hostname was set inside the pinned UTS namespace only.
	var got string
	err := inNamespaces(t, map[string]int{Path(dir, UTS): unix.CLONE_NEWUTS}, func() error {
		var u unix.Utsname
		if err := unix.Uname(&u); err != nil {
			return err
		}
		got = unix.ByteSliceToString(u.Nodename[:])
		return nil
	})
	if err != nil || got != hostname {
		t.Errorf("hostname in the UTS pin = %q, %v; want %q", got, err, hostname)
	}

	// lo is up inside the network namespace: 127.0.0.1 works there.
	err = inNamespaces(t, map[string]int{Path(dir, Net): unix.CLONE_NEWNET}, func() error {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		ifr, err := unix.NewIfreq("lo")
		if err != nil {
			return err
		}
		if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
			return err
		}
		if ifr.Uint16()&unix.IFF_UP == 0 {
			return errors.New("lo is down")
		}
		ifaces, err := net.Interfaces()
		if err != nil {
			return err
		}
		if len(ifaces) != 1 || ifaces[0].Name != "lo" {
			return errors.New("the pinned network namespace has other interfaces than lo")
		}
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer l.Close()
		c, err := net.Dial("tcp4", l.Addr().String())
		if err != nil {
			return err
		}
		return c.Close()
	})
	if err != nil {
		t.Errorf("loopback in the network pin: %v", err)
	}

	if err := Unpin(dir); err != nil {
		t.Fatalf("Unpin: %v", err)
	}
	if m := mountsUnder(t, dir); len(m) != 0 {
		t.Errorf("mounts left after Unpin: %v", m)
	}
	if _, err := os.Lstat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s still exists after Unpin: %v", dir, err)
	}
	if err := Unpin(dir); err != nil {
		t.Errorf("second Unpin: %v", err)
	}
	if Path(dir, Net) != "" {
		t.Error("Path(net) is not empty after Unpin")
	}
}

func TestPinSubset(t *testing.T) {
	testutil.RequireRoot(t)
	dir := filepath.Join(t.TempDir(), "ns")
	t.Cleanup(func() { _ = Unpin(dir) })
	// hostNetwork + hostIPC: only UTS; no hostname means the host's is kept.
	if err := Pin(dir, PinOptions{UTS: true}); err != nil {
		t.Fatalf("Pin: %v", err)
	}
	if Path(dir, UTS) == "" || Path(dir, Net) != "" || Path(dir, IPC) != "" {
		t.Errorf("pinned: uts %q net %q ipc %q; want uts only", Path(dir, UTS), Path(dir, Net), Path(dir, IPC))
	}
	host, _ := os.Hostname()
	var got string
	err := inNamespaces(t, map[string]int{Path(dir, UTS): unix.CLONE_NEWUTS}, func() error {
		var err error
		got, err = os.Hostname()
		return err
	})
	if err != nil || got != host {
		t.Errorf("hostname in the UTS pin = %q, %v; want the host's %q", got, err, host)
	}
	if err := Unpin(dir); err != nil {
		t.Fatal(err)
	}
	if m := mountsUnder(t, dir); len(m) != 0 {
		t.Errorf("mounts left after Unpin: %v", m)
	}
}

func TestPinNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ns")
	if err := Pin(dir, PinOptions{Hostname: "x"}); err != nil {
		t.Fatalf("Pin with nothing selected: %v", err)
	}
	if _, err := os.Lstat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Pin with nothing selected created %s", dir)
	}
}

func TestPinErrors(t *testing.T) {
	testutil.RequireRoot(t)
	t.Run("dir is a file", func(t *testing.T) {
		base := t.TempDir()
		file := filepath.Join(base, "ns")
		if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := Pin(file, PinOptions{Net: true, IPC: true, UTS: true}); err == nil {
			t.Fatal("Pin on a file succeeded")
		}
		if data, err := os.ReadFile(file); err != nil || string(data) != "x" {
			t.Errorf("the file was changed: %q, %v", data, err)
		}
		if m := mountsUnder(t, base); len(m) != 0 {
			t.Errorf("mounts left: %v", m)
		}
	})
	t.Run("bad hostname", func(t *testing.T) {
		base := t.TempDir()
		dir := filepath.Join(base, "ns")
		err := Pin(dir, PinOptions{Net: true, IPC: true, UTS: true, Hostname: strings.Repeat("h", 100)})
		if err == nil {
			_ = Unpin(dir)
			t.Fatal("Pin with a 100-character hostname succeeded")
		}
		if !strings.Contains(err.Error(), "hostname") {
			t.Errorf("error %q does not mention the hostname", err)
		}
		if m := mountsUnder(t, base); len(m) != 0 {
			t.Errorf("mounts left: %v", m)
		}
		if _, err := os.Lstat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left after a failed Pin: %v", dir, err)
		}
	})
}

func TestPathNotPinned(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, Net), nil, 0o400); err != nil {
		t.Fatal(err)
	}
	if p := Path(dir, Net); p != "" {
		t.Errorf("Path of a plain file = %q, want empty", p)
	}
	if p := Path(dir, IPC); p != "" {
		t.Errorf("Path of a missing file = %q, want empty", p)
	}
	if p := Path(filepath.Join(dir, "missing"), Net); p != "" {
		t.Errorf("Path in a missing directory = %q, want empty", p)
	}
}

func TestUnpinMissing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "never-pinned")
	if err := Unpin(dir); err != nil {
		t.Errorf("Unpin of a missing directory: %v", err)
	}
	// Leftover empty targets (a crash between create and mount) go too.
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{Net, UTS} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o400); err != nil {
			t.Fatal(err)
		}
	}
	if err := Unpin(dir); err != nil {
		t.Errorf("Unpin of unmounted targets: %v", err)
	}
	if _, err := os.Lstat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s left: %v", dir, err)
	}
}

func TestPinPID(t *testing.T) {
	testutil.RequireRoot(t)
	dir := filepath.Join(t.TempDir(), "ns")
	t.Cleanup(func() { _ = Unpin(dir) })
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := PinPID(dir, os.Getpid()); err != nil {
		t.Fatalf("PinPID: %v", err)
	}
	p := Path(dir, PID)
	if p == "" || inode(t, p) != inode(t, "/proc/self/ns/pid") {
		t.Errorf("Path(pid) = %q, not this process's PID namespace", p)
	}
	if err := PinPID(dir, os.Getpid()); err == nil {
		t.Error("second PinPID on the same dir succeeded")
	}
	if err := Unpin(dir); err != nil {
		t.Fatal(err)
	}
	if m := mountsUnder(t, dir); len(m) != 0 {
		t.Errorf("mounts left: %v", m)
	}
	// A process that does not exist: nothing is left.
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := PinPID(dir, 1<<30); err == nil {
		t.Error("PinPID of a missing process succeeded")
	}
	if _, err := os.Lstat(filepath.Join(dir, PID)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pin target left after a failed PinPID: %v", err)
	}
}
