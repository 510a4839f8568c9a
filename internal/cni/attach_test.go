package cni_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/podbox/podbox/internal/cni"
	"github.com/podbox/podbox/internal/testutil"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testutil.Cleanup()
	os.Exit(code)
}

// netns makes a named network namespace for the test.
func netns(t *testing.T, name string) string {
	t.Helper()
	testutil.RequireRoot(t)
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	return "/var/run/netns/" + name
}

// An attachment is made with an address of the network, with host ports;
// its DEL releases everything, also when the ADD's cache is gone (a shim
// that died before libcni wrote it): the DEL then runs with the network's
// configuration.
func TestAddDel(t *testing.T) {
	tn := testutil.TestNetwork(t)
	for _, lost := range []bool{false, true} {
		cache := t.TempDir()
		opts := cni.Options{ConfDir: tn.ConfDir, Network: tn.Name, CacheDir: cache}
		n, err := cni.Load(opts)
		if err != nil {
			t.Fatal(err)
		}
		ns := netns(t, "podbox-cni-test")
		ports := []cni.PortMapping{{HostPort: 18111, ContainerPort: 80, Protocol: "tcp"}}
		ips, err := n.Add(context.Background(), "pod-1", ns, ports)
		if err != nil {
			t.Fatal(err)
		}
		if len(ips) != 1 || !tn.Subnet.Contains(ips[0]) {
			t.Fatalf("addresses %v, want one in %s", ips, tn.Subnet)
		}
		if l := tn.Leaks(); len(l) == 0 {
			t.Fatal("an attachment left no trace to check its removal by")
		}
		if lost {
			if err := os.RemoveAll(filepath.Join(cache, "results")); err != nil {
				t.Fatal(err)
			}
		}
		if err := cni.Del(context.Background(), opts, "pod-1", ns, ports); err != nil {
			t.Fatal(err)
		}
		if l := tn.Leaks(); len(l) > 0 {
			t.Errorf("lost cache %v: left after the DEL:\n%s", lost, strings.Join(l, "\n"))
		}
		if c, err := net.Dial("tcp", "127.0.0.1:18111"); err == nil {
			c.Close()
			t.Error("host port 18111 still answers")
		}
		_ = exec.Command("ip", "netns", "del", "podbox-cni-test").Run()
	}
}
