package cni

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Network-level masquerading.
//
// The bridge plugin's ipMasq gives every pod a chain of its own, made and
// removed with nine iptables runs on ADD and six on DEL: about 45 ms of a
// pod's start and 30 ms of its delete on these machines, on the critical
// path. podbox's default network masquerades at the network level instead,
// as podman's netavark does: one chain per network, made once per boot, and
// no iptables run per pod. A configuration list asks for it with a
// top-level "podbox" key, which libcni and the plugins ignore:
//
//	"podbox": {"masquerade": ["10.209.0.0/16"]}
//
// Traffic from those subnets to anywhere else but multicast is
// masqueraded, as the bridge plugin's ipMasq does it. Like the bridge
// itself, the rules belong to the network, not to a pod: they stay when the
// last pod goes.

// podboxKeys is the configuration list's "podbox" key.
type podboxKeys struct {
	Podbox struct {
		Masquerade []string `json:"masquerade"`
	} `json:"podbox"`
}

// MasqueradeSubnets are the subnets the network masquerades at the network
// level (its configuration's "podbox": {"masquerade": [...]}), checked.
func (n *Network) MasqueradeSubnets() ([]*net.IPNet, error) {
	var k podboxKeys
	if err := json.Unmarshal(n.list.Bytes, &k); err != nil {
		return nil, fmt.Errorf("network %q (%s): %w", n.list.Name, n.File, err)
	}
	var out []*net.IPNet
	for _, s := range k.Podbox.Masquerade {
		_, ipn, err := net.ParseCIDR(s)
		if err != nil {
			return nil, fmt.Errorf("network %q (%s): podbox.masquerade: %w", n.list.Name, n.File, err)
		}
		out = append(out, ipn)
	}
	return out, nil
}

// MasqueradeChain is the nat chain holding the network's masquerading
// rules (iptables' names are at most 28 characters).
func MasqueradeChain(network string) string {
	sum := sha256.Sum256([]byte(network))
	return "PODBOX-MASQ-" + hex.EncodeToString(sum[:4])
}

// EnsureMasquerade makes the network's masquerading rules, unless this
// boot has them already (a mark in the cache directory says so: one file
// read on every pod start, the iptables runs once per boot). A network
// without "podbox": {"masquerade"} needs nothing.
func (n *Network) EnsureMasquerade() error {
	subnets, err := n.MasqueradeSubnets()
	if err != nil || len(subnets) == 0 {
		return err
	}
	want := masqueradeMark(subnets)
	chain := MasqueradeChain(n.list.Name)
	if n.opts.CacheDir == "" {
		return ensureAll(n, chain, subnets)
	}
	mark := filepath.Join(n.opts.CacheDir, "masquerade", n.list.Name)
	if have, err := os.ReadFile(mark); err == nil && bytes.Equal(have, want) {
		return nil
	}
	// Pods starting together: one makes the rules, the others wait and
	// find the mark.
	if err := os.MkdirAll(filepath.Dir(mark), 0o700); err != nil {
		return fmt.Errorf("masquerade the traffic of network %q: %w", n.list.Name, err)
	}
	lock, err := os.OpenFile(mark+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("masquerade the traffic of network %q: %w", n.list.Name, err)
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return fmt.Errorf("masquerade the traffic of network %q: lock %s: %w", n.list.Name, lock.Name(), err)
	}
	if have, err := os.ReadFile(mark); err == nil && bytes.Equal(have, want) {
		return nil
	}
	if err := ensureAll(n, chain, subnets); err != nil {
		return err
	}
	// The rules are there: a mark that cannot be written (a full /run)
	// only means the next start makes them again.
	tmp := mark + ".tmp"
	if os.WriteFile(tmp, want, 0o600) == nil {
		_ = os.Rename(tmp, mark)
	}
	return nil
}

// ensureAll makes the rules of every subnet of the network: the chain of
// each address family at once (a second subnet must not flush the first
// one's rules).
func ensureAll(n *Network, chain string, subnets []*net.IPNet) error {
	for _, v6 := range []bool{false, true} {
		var fam []*net.IPNet
		for _, s := range subnets {
			if (s.IP.To4() == nil) == v6 {
				fam = append(fam, s)
			}
		}
		if len(fam) == 0 {
			continue
		}
		if err := ensureMasquerade(n.list.Name, chain, v6, fam); err != nil {
			return fmt.Errorf("masquerade the traffic of network %q (%s): %w", n.list.Name, n.File, err)
		}
	}
	return nil
}

// MasqueradeMissing lists the subnets whose masquerading jump is not in the
// nat table although this boot made it (something flushed the table: a
// firewall reload), and the mark file that makes podbox believe it is
// there (remove it, and the next pod start makes the rules again).
func (n *Network) MasqueradeMissing() (missing []string, mark string, err error) {
	subnets, err := n.MasqueradeSubnets()
	if err != nil || len(subnets) == 0 || n.opts.CacheDir == "" {
		return nil, "", err
	}
	mark = filepath.Join(n.opts.CacheDir, "masquerade", n.list.Name)
	if have, err := os.ReadFile(mark); err != nil || !bytes.Equal(have, masqueradeMark(subnets)) {
		return nil, mark, nil // not made this boot yet: the next pod start does
	}
	chain := MasqueradeChain(n.list.Name)
	for _, s := range subnets {
		jump := masqueradeJump(n.list.Name, chain, s)
		if iptables(s.IP.To4() == nil, append([]string{"-w", "-t", "nat", "-C", "POSTROUTING"}, jump...)...) != nil {
			missing = append(missing, s.String())
		}
	}
	return missing, mark, nil
}

// masqueradeMark is what the mark file holds: this boot and the subnets.
func masqueradeMark(subnets []*net.IPNet) []byte {
	boot, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	var b strings.Builder
	b.WriteString(strings.TrimSpace(string(boot)))
	for _, s := range subnets {
		b.WriteString(" " + s.String())
	}
	b.WriteString("\n")
	return []byte(b.String())
}

// ensureMasquerade writes the network's chain for the subnets of one
// address family (declaring it in an iptables-restore flushes it: running
// this again leaves the same rules) and jumps to it from POSTROUTING for
// each subnet whose jump is not there already.
func ensureMasquerade(network, chain string, v6 bool, subnets []*net.IPNet) error {
	multicast := "224.0.0.0/4"
	if v6 {
		multicast = "ff00::/8"
	}
	var in strings.Builder
	fmt.Fprintf(&in, "*nat\n:%s - [0:0]\n", chain)
	for _, s := range subnets {
		fmt.Fprintf(&in, "-A %s -d %s -j RETURN\n", chain, s)
	}
	fmt.Fprintf(&in, "-A %s -d %s -j RETURN\n", chain, multicast)
	fmt.Fprintf(&in, "-A %s -j MASQUERADE\n", chain)
	for _, s := range subnets {
		jump := masqueradeJump(network, chain, s)
		if iptables(v6, append([]string{"-w", "-t", "nat", "-C", "POSTROUTING"}, jump...)...) != nil {
			fmt.Fprintf(&in, "-A POSTROUTING %s\n", strings.Join(quoteRule(jump), " "))
		}
	}
	in.WriteString("COMMIT\n")
	restore := "iptables-restore"
	if v6 {
		restore = "ip6tables-restore"
	}
	cmd := sbinCommand(restore, "-w", "--noflush")
	cmd.Stdin = strings.NewReader(in.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w: %s", restore, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// masqueradeJump is the POSTROUTING rule that sends the subnet's traffic
// to the network's chain.
func masqueradeJump(network, chain string, subnet *net.IPNet) []string {
	return []string{"-s", subnet.String(), "-m", "comment", "--comment", "podbox network " + network, "-j", chain}
}

// quoteRule quotes the arguments iptables-restore would split.
func quoteRule(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " \t\"") {
			a = `"` + strings.ReplaceAll(a, `"`, `\"`) + `"`
		}
		out[i] = a
	}
	return out
}

// RemoveMasquerade removes a network's masquerading rules for subnets and
// its chain, and forgets that this boot has them (cacheDir: the network's
// cache directory, or ""). Rules that are not there are no error.
func RemoveMasquerade(network string, subnets []*net.IPNet, cacheDir string) error {
	chain := MasqueradeChain(network)
	var errs []error
	families := map[bool]bool{}
	for _, s := range subnets {
		v6 := s.IP.To4() == nil
		families[v6] = true
		for iptables(v6, append([]string{"-w", "-t", "nat", "-D", "POSTROUTING"}, masqueradeJump(network, chain, s)...)...) == nil {
		}
	}
	// The chains once no jump leads to them.
	for v6 := range families {
		if iptables(v6, "-w", "-t", "nat", "-S", chain) != nil {
			continue // no chain
		}
		if err := iptables(v6, "-w", "-t", "nat", "-F", chain); err != nil {
			errs = append(errs, err)
		}
		if err := iptables(v6, "-w", "-t", "nat", "-X", chain); err != nil {
			errs = append(errs, err)
		}
	}
	if cacheDir != "" {
		if err := os.Remove(filepath.Join(cacheDir, "masquerade", network)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// iptables runs iptables (ip6tables for IPv6) with args.
func iptables(v6 bool, args ...string) error {
	name := "iptables"
	if v6 {
		name = "ip6tables"
	}
	if out, err := sbinCommand(name, args...).CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// sbinCommand is a command for a program of the sbin directories, whatever
// the caller's PATH.
func sbinCommand(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env = withSbinPath(os.Environ())
	if p, err := lookSbin(name); err == nil {
		cmd.Path = p
	}
	return cmd
}
