package cni

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// natRules are the nat table's rules that name chain.
func natRules(t *testing.T, chain string) []string {
	t.Helper()
	out, err := exec.Command("iptables-save", "-t", "nat").Output()
	if err != nil {
		t.Fatalf("iptables-save: %v", err)
	}
	var rules []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "-A ") && strings.Contains(l, chain) {
			rules = append(rules, l)
		}
	}
	return rules
}

// chainExists reports whether the nat table has the chain.
func chainExists(chain string) bool {
	return exec.Command("iptables", "-w", "-t", "nat", "-S", chain).Run() == nil
}

// EnsureMasquerade makes a network's rules once per boot (the mark in the
// cache directory stands for them), never twice, and RemoveMasquerade
// takes them away. A network that does not ask for it gets nothing.
func TestEnsureMasquerade(t *testing.T) {
	if unix.Geteuid() != 0 {
		t.Fatal("needs root (iptables)")
	}
	dir := t.TempDir()
	name := fmt.Sprintf("podbox-test-masq-%d", os.Getpid())
	_, subnet, _ := net.ParseCIDR("10.199.254.0/24")
	conf := Bridge{Name: name, Bridge: "pbm0", Subnet: subnet.String(), NetworkMasquerade: true}.ConfList()
	if err := os.WriteFile(filepath.Join(dir, "n.conflist"), conf, 0o644); err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(dir, "cache")
	chain := MasqueradeChain(name)
	t.Cleanup(func() {
		if err := RemoveMasquerade(name, []*net.IPNet{subnet}, cache); err != nil {
			t.Error(err)
		}
		if left := natRules(t, chain); len(left) > 0 || chainExists(chain) {
			t.Errorf("left after RemoveMasquerade: %q (chain %s: %v)", left, chain, chainExists(chain))
		}
	})
	n, err := Load(Options{ConfDir: dir, Network: name, CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"-A POSTROUTING -s " + subnet.String() + ` -m comment --comment "podbox network ` + name + `" -j ` + chain,
		"-A " + chain + " -d " + subnet.String() + " -j RETURN",
		"-A " + chain + " -d 224.0.0.0/4 -j RETURN",
		"-A " + chain + " -j MASQUERADE",
	}
	check := func(when string) {
		t.Helper()
		if got := natRules(t, chain); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: rules\n%s\nwant\n%s", when, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	if err := n.EnsureMasquerade(); err != nil {
		t.Fatal(err)
	}
	check("first")
	if missing, _, err := n.MasqueradeMissing(); err != nil || len(missing) > 0 {
		t.Errorf("missing %v, %v", missing, err)
	}
	// The mark stands for the rules: with it, nothing is run (rules
	// flushed behind podbox's back stay flushed, and MasqueradeMissing
	// says so, naming the mark).
	if err := exec.Command("iptables", "-w", "-t", "nat", "-D", "POSTROUTING", "-s", subnet.String(), "-m", "comment",
		"--comment", "podbox network "+name, "-j", chain).Run(); err != nil {
		t.Fatal(err)
	}
	if err := n.EnsureMasquerade(); err != nil {
		t.Fatal(err)
	}
	if got := natRules(t, chain); len(got) != 3 {
		t.Errorf("with the mark, EnsureMasquerade ran iptables: %q", got)
	}
	missing, mark, err := n.MasqueradeMissing()
	if err != nil || len(missing) != 1 || missing[0] != subnet.String() || mark != filepath.Join(cache, "masquerade", name) {
		t.Errorf("missing %v, mark %q, %v; want %s and the mark", missing, mark, err, subnet)
	}
	// Without it (a new boot), the rules are made again, the jump not
	// doubled.
	if err := os.Remove(mark); err != nil {
		t.Fatal(err)
	}
	if err := n.EnsureMasquerade(); err != nil {
		t.Fatal(err)
	}
	check("again")
	// Pods starting together in a new boot: one jump, not one each.
	if err := RemoveMasquerade(name, []*net.IPNet{subnet}, cache); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := Load(Options{ConfDir: dir, Network: name, CacheDir: cache})
			if err == nil {
				err = n.EnsureMasquerade()
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	check("together")

	// Two subnets of one family share the chain: both stay out of it.
	two := filepath.Join(dir, "two")
	if err := os.MkdirAll(two, 0o755); err != nil {
		t.Fatal(err)
	}
	_, s1, _ := net.ParseCIDR("10.199.252.0/24")
	_, s2, _ := net.ParseCIDR("10.199.251.0/24")
	twoName := name + "-two"
	twoChain := MasqueradeChain(twoName)
	t.Cleanup(func() {
		if err := RemoveMasquerade(twoName, []*net.IPNet{s1, s2}, ""); err != nil {
			t.Error(err)
		}
		if left := natRules(t, twoChain); len(left) > 0 || chainExists(twoChain) {
			t.Errorf("left after RemoveMasquerade: %q (chain %s: %v)", left, twoChain, chainExists(twoChain))
		}
	})
	conf = []byte(`{"cniVersion": "1.0.0", "name": "` + twoName + `", "podbox": {"masquerade": ["` + s1.String() + `", "` + s2.String() + `"]},
 "plugins": [{"type": "bridge", "bridge": "pbm2", "ipam": {"type": "host-local", "ranges": [[{"subnet": "` + s1.String() + `"}], [{"subnet": "` + s2.String() + `"}]]}}]}`)
	if err := os.WriteFile(filepath.Join(two, "t.conflist"), conf, 0o644); err != nil {
		t.Fatal(err)
	}
	tn, err := Load(Options{ConfDir: two, Network: twoName, CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	if err := tn.EnsureMasquerade(); err != nil {
		t.Fatal(err)
	}
	comment := ` -m comment --comment "podbox network ` + twoName + `" -j ` + twoChain
	wantTwo := []string{
		"-A POSTROUTING -s " + s1.String() + comment,
		"-A POSTROUTING -s " + s2.String() + comment,
		"-A " + twoChain + " -d " + s1.String() + " -j RETURN",
		"-A " + twoChain + " -d " + s2.String() + " -j RETURN",
		"-A " + twoChain + " -d 224.0.0.0/4 -j RETURN",
		"-A " + twoChain + " -j MASQUERADE",
	}
	if got := natRules(t, twoChain); strings.Join(got, "\n") != strings.Join(wantTwo, "\n") {
		t.Errorf("two subnets: rules\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantTwo, "\n"))
	}

	plain := filepath.Join(dir, "plain")
	if err := os.MkdirAll(plain, 0o755); err != nil {
		t.Fatal(err)
	}
	conf = Bridge{Name: name + "-plain", Bridge: "pbm1", Subnet: "10.199.253.0/24"}.ConfList()
	if err := os.WriteFile(filepath.Join(plain, "p.conflist"), conf, 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Load(Options{ConfDir: plain, Network: name + "-plain", CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.EnsureMasquerade(); err != nil {
		t.Fatal(err)
	}
	if got := natRules(t, MasqueradeChain(name+"-plain")); len(got) > 0 {
		t.Errorf("a network without podbox.masquerade got rules: %q", got)
	}
}
