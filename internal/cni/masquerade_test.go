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
		if left := natRules(t, chain); len(left) > 0 {
			t.Errorf("left after RemoveMasquerade: %q", left)
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
