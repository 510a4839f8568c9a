package testutil

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/podbox/podbox/internal/cni"
	"golang.org/x/sys/unix"
)

// Network is a CNI network of one test process's own: a bridge and a /24
// no other test process uses (allocated under a lock in /tmp), masquerade
// off, its configuration, host-local addresses and libcni cache in
// directories of its own. Tests never touch the host's default network.
type Network struct {
	Name, Bridge string
	Subnet       *net.IPNet
	ConfDir      string // holds <Name>.conflist
	DataDir      string // host-local's address reservations
	dir          string
}

var (
	netMu  sync.Mutex
	netOne *Network
)

// subnetsFile records which test subnet each live test process holds.
const subnetsFile = "/tmp/podbox-test-subnets"

// TestNetwork returns the test process's network, making it on first use.
// Cleanup removes it (bridge, files, the subnet's allocation).
func TestNetwork(t testing.TB) *Network {
	t.Helper()
	netMu.Lock()
	defer netMu.Unlock()
	if netOne != nil {
		return netOne
	}
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	dir, err := os.MkdirTemp("", "podbox-test-net-")
	if err != nil {
		t.Fatal(err)
	}
	n := &Network{Name: "podbox-test-" + id, Bridge: "pbt" + id, dir: dir,
		ConfDir: filepath.Join(dir, "net.d"), DataDir: filepath.Join(dir, "ipam")}
	if n.Subnet, err = allocateSubnet(); err != nil {
		os.RemoveAll(dir)
		t.Fatalf("test network: %v", err)
	}
	if err := os.MkdirAll(n.ConfDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(n.ConfDir, n.Name+".conflist"), n.ConfList(), 0o644); err != nil {
		t.Fatal(err)
	}
	netOne = n
	return n
}

// ConfList is the network's configuration: podbox's kind of bridge
// network, without masquerading, with the firewall plugin (so its rules'
// removal is checked too).
func (n *Network) ConfList() []byte {
	return cni.Bridge{Name: n.Name, Bridge: n.Bridge, Subnet: n.Subnet.String(), Firewall: true, DataDir: n.DataDir}.ConfList()
}

// Leaks lists what the network still holds for pods: interfaces on its
// bridge, address reservations, iptables rules naming it or its subnet.
func (n *Network) Leaks() []string {
	var out []string
	if ifs, err := os.ReadDir("/sys/class/net/" + n.Bridge + "/brif"); err == nil {
		for _, i := range ifs {
			out = append(out, "interface "+i.Name()+" on bridge "+n.Bridge)
		}
	}
	ents, _ := os.ReadDir(filepath.Join(n.DataDir, n.Name))
	for _, e := range ents {
		if ip := net.ParseIP(e.Name()); ip != nil {
			out = append(out, "address reservation "+e.Name()+" in "+filepath.Join(n.DataDir, n.Name))
		}
	}
	for _, table := range []string{"filter", "nat"} {
		save, err := exec.Command("iptables-save", "-t", table).Output()
		if err != nil {
			out = append(out, "iptables-save -t "+table+": "+err.Error())
			continue
		}
		prefix := strings.TrimSuffix(n.Subnet.IP.String(), ".0") + "."
		for _, l := range strings.Split(string(save), "\n") {
			if strings.HasPrefix(l, "-A ") && (strings.Contains(l, `"`+n.Name+`"`) || strings.Contains(l, " "+prefix) || strings.Contains(l, n.Bridge)) {
				out = append(out, "iptables ("+table+"): "+l)
			}
		}
	}
	return out
}

// cleanupNetwork removes the process's network: its bridge, directories and
// subnet allocation.
func cleanupNetwork() {
	netMu.Lock()
	defer netMu.Unlock()
	if netOne == nil {
		return
	}
	_ = exec.Command("ip", "link", "del", netOne.Bridge).Run()
	os.RemoveAll(netOne.dir)
	releaseSubnet(netOne.Subnet)
	netOne = nil
}

// allocateSubnet picks a /24 in 10.201.0.0/16 that no live test process
// holds and no route of the host covers, and records it for this process.
func allocateSubnet() (*net.IPNet, error) {
	lock, err := os.OpenFile(subnetsFile+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return nil, err
	}
	held := readSubnets()
	routes := hostRoutes()
	for k := 0; k < 256; k++ {
		_, sn, _ := net.ParseCIDR(fmt.Sprintf("10.201.%d.0/24", k))
		if _, taken := held[sn.String()]; taken {
			continue
		}
		used := false
		for _, r := range routes {
			if r.Contains(sn.IP) || sn.Contains(r.IP) {
				used = true
				break
			}
		}
		if used {
			continue
		}
		held[sn.String()] = os.Getpid()
		return sn, writeSubnets(held)
	}
	return nil, fmt.Errorf("no free /24 left in 10.201.0.0/16 (see %s)", subnetsFile)
}

func releaseSubnet(sn *net.IPNet) {
	lock, err := os.OpenFile(subnetsFile+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return
	}
	defer lock.Close()
	if unix.Flock(int(lock.Fd()), unix.LOCK_EX) != nil {
		return
	}
	held := readSubnets()
	delete(held, sn.String())
	_ = writeSubnets(held)
}

// readSubnets reads the allocations of live processes (a process that died
// without releasing its subnet leaves an entry that is dropped here).
func readSubnets() map[string]int {
	held := map[string]int{}
	f, err := os.Open(subnetsFile)
	if err != nil {
		return held
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 2 {
			continue
		}
		pid, err := strconv.Atoi(fields[1])
		if err != nil || syscall.Kill(pid, 0) != nil {
			continue
		}
		held[fields[0]] = pid
	}
	return held
}

func writeSubnets(held map[string]int) error {
	var b strings.Builder
	for sn, pid := range held {
		fmt.Fprintf(&b, "%s %d\n", sn, pid)
	}
	return os.WriteFile(subnetsFile, []byte(b.String()), 0o600)
}

// hostRoutes are the IPv4 destinations of the host's routes, other than
// the default route.
func hostRoutes() []*net.IPNet {
	data, err := os.ReadFile("/proc/net/route")
	if err != nil {
		return nil
	}
	var out []*net.IPNet
	for _, l := range strings.Split(string(data), "\n")[1:] {
		f := strings.Fields(l)
		if len(f) < 8 {
			continue
		}
		dst, err1 := strconv.ParseUint(f[1], 16, 32)
		mask, err2 := strconv.ParseUint(f[7], 16, 32)
		if err1 != nil || err2 != nil || mask == 0 {
			continue
		}
		// Little-endian hex, as the kernel prints it.
		ip := net.IPv4(byte(dst), byte(dst>>8), byte(dst>>16), byte(dst>>24))
		m := net.IPv4Mask(byte(mask), byte(mask>>8), byte(mask>>16), byte(mask>>24))
		out = append(out, &net.IPNet{IP: ip.Mask(m), Mask: m})
	}
	return out
}

// OwnNetwork is a network of one test's own (a bridge, a /24, directories),
// beside the process's TestNetwork; with masquerade, podbox masquerades its
// traffic at the network level (cni.Bridge.NetworkMasquerade). The test's
// cleanup removes it all, masquerading rules included.
func OwnNetwork(t testing.TB, masquerade bool) *Network {
	t.Helper()
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	n := &Network{Name: "podbox-test-own-" + id, Bridge: "pbo" + id, dir: t.TempDir()}
	n.ConfDir, n.DataDir = filepath.Join(n.dir, "net.d"), filepath.Join(n.dir, "ipam")
	var err error
	if n.Subnet, err = allocateSubnet(); err != nil {
		t.Fatalf("test network: %v", err)
	}
	t.Cleanup(func() {
		if masquerade {
			if err := cni.RemoveMasquerade(n.Name, []*net.IPNet{n.Subnet}, ""); err != nil {
				t.Errorf("remove the masquerading of %s: %v", n.Name, err)
			}
		}
		_ = exec.Command("ip", "link", "del", n.Bridge).Run()
		releaseSubnet(n.Subnet)
	})
	if err := os.MkdirAll(n.ConfDir, 0o755); err != nil {
		t.Fatal(err)
	}
	conf := cni.Bridge{Name: n.Name, Bridge: n.Bridge, Subnet: n.Subnet.String(), NetworkMasquerade: masquerade, Firewall: true, DataDir: n.DataDir}
	if err := os.WriteFile(filepath.Join(n.ConfDir, n.Name+".conflist"), conf.ConfList(), 0o644); err != nil {
		t.Fatal(err)
	}
	return n
}

// Outside is a network namespace of a test's own, joined to the host by a
// veth pair on a /24 of its own: a stand-in for a host beyond this one.
type Outside struct {
	NS             string // its name, for ip netns exec
	HostIP, PeerIP net.IP // the host's end and the namespace's
}

// NewOutside makes an Outside; the test's cleanup removes it.
func NewOutside(t testing.TB) *Outside {
	t.Helper()
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	sn, err := allocateSubnet()
	if err != nil {
		t.Fatalf("outside network: %v", err)
	}
	o := &Outside{NS: "pbt-out-" + id, HostIP: make(net.IP, 4), PeerIP: make(net.IP, 4)}
	copy(o.HostIP, sn.IP.To4())
	copy(o.PeerIP, sn.IP.To4())
	o.HostIP[3], o.PeerIP[3] = 1, 2
	host, peer := "pbx"+id, "pby"+id
	t.Cleanup(func() {
		_ = exec.Command("ip", "link", "del", host).Run()
		_ = exec.Command("ip", "netns", "del", o.NS).Run()
		releaseSubnet(sn)
	})
	for _, args := range [][]string{
		{"netns", "add", o.NS},
		{"link", "add", host, "type", "veth", "peer", "name", peer},
		{"link", "set", peer, "netns", o.NS},
		{"addr", "add", o.HostIP.String() + "/24", "dev", host},
		{"link", "set", host, "up"},
		{"-n", o.NS, "addr", "add", o.PeerIP.String() + "/24", "dev", peer},
		{"-n", o.NS, "link", "set", peer, "up"},
		{"-n", o.NS, "link", "set", "lo", "up"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	return o
}
