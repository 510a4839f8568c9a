package nsutil

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/podbox/podbox/internal/testutil"
	"golang.org/x/sys/unix"
)

func readSysctl(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("/proc/sys", file))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// Sysctls land in the pinned network and IPC namespaces, not the host's.
func TestPinSysctls(t *testing.T) {
	testutil.RequireRoot(t)
	dir := filepath.Join(t.TempDir(), "ns")
	t.Cleanup(func() { _ = Unpin(dir) })
	hostPort, hostShm := readSysctl(t, "net/ipv4/ip_unprivileged_port_start"), readSysctl(t, "kernel/shmmni")
	err := Pin(dir, PinOptions{Net: true, IPC: true, UTS: true, Sysctls: []Sysctl{
		{Name: "net.ipv4.ip_unprivileged_port_start", File: "net/ipv4/ip_unprivileged_port_start", Value: "79"},
		{Name: "kernel.shmmni", File: "kernel/shmmni", Value: "1234"},
	}})
	if err != nil {
		t.Fatalf("Pin: %v", err)
	}
	var port, shm string
	err = inNamespaces(t, map[string]int{Path(dir, Net): unix.CLONE_NEWNET, Path(dir, IPC): unix.CLONE_NEWIPC}, func() error {
		port, shm = readSysctl(t, "net/ipv4/ip_unprivileged_port_start"), readSysctl(t, "kernel/shmmni")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if port != "79" || shm != "1234" {
		t.Errorf("in the pod's namespaces: port start %s, shmmni %s; want 79 and 1234", port, shm)
	}
	if p, s := readSysctl(t, "net/ipv4/ip_unprivileged_port_start"), readSysctl(t, "kernel/shmmni"); p != hostPort || s != hostShm {
		t.Errorf("the host's sysctls changed: %s %s, were %s %s", p, s, hostPort, hostShm)
	}
}

// A sysctl that cannot be set fails the pin, and nothing is left pinned.
func TestPinSysctlError(t *testing.T) {
	testutil.RequireRoot(t)
	dir := filepath.Join(t.TempDir(), "ns")
	for _, s := range []Sysctl{
		{Name: "net.ipv4.no_such_thing", File: "net/ipv4/no_such_thing", Value: "1"},
		{Name: "net.ipv4.ip_unprivileged_port_start", File: "net/ipv4/ip_unprivileged_port_start", Value: "many"},
		{Name: "x", File: "../x", Value: "1"},
	} {
		err := Pin(dir, PinOptions{Net: true, IPC: true, Sysctls: []Sysctl{s}})
		if err == nil || !strings.Contains(err.Error(), "set sysctl "+s.Name) {
			t.Errorf("Pin with %+v = %v, want a sysctl error", s, err)
		}
		if m := mountsUnder(t, dir); len(m) > 0 {
			t.Errorf("left pinned: %v", m)
		}
	}
}

// Sysfs: the pod's network namespace's sysfs is mounted read-write on
// dir/sys until Unpin.
func TestPinSysfs(t *testing.T) {
	testutil.RequireRoot(t)
	dir := filepath.Join(t.TempDir(), "ns")
	t.Cleanup(func() { _ = Unpin(dir) })
	if err := Pin(dir, PinOptions{Net: true, Sysfs: true}); err != nil {
		t.Fatalf("Pin: %v", err)
	}
	var st unix.Statfs_t
	if err := unix.Statfs(filepath.Join(dir, Sys), &st); err != nil || st.Type != unix.SYSFS_MAGIC || st.Flags&unix.ST_RDONLY != 0 {
		t.Errorf("%s: statfs %+v, %v; want a writable sysfs", filepath.Join(dir, Sys), st, err)
	}
	// The network namespace's own: its lo only, not the host's interfaces.
	ents, err := os.ReadDir(filepath.Join(dir, Sys, "class", "net"))
	if err != nil || len(ents) != 1 || ents[0].Name() != "lo" {
		t.Errorf("class/net of the pod's sysfs: %v, %v; want lo only", ents, err)
	}
	if err := Unpin(dir); err != nil {
		t.Fatal(err)
	}
	if m := mountsUnder(t, dir); len(m) > 0 {
		t.Errorf("left mounted: %v", m)
	}
}
