package main

import (
	"os/exec"
	"strings"
)

// netavark leaves its base chains (NETAVARK_FORWARD, NETAVARK-HOSTPORT-*)
// and the jumps to them in the host's iptables after its last network is
// gone. iptablesMark records which of them exist before the bench; the
// returned function removes those the bench's podman made, and any rule
// left that names the peer's subnet or bridge. Nothing else is touched
// (other CNI chains may belong to other users of the host).
func iptablesMark() (undo func()) {
	before := map[string]bool{}
	for _, table := range []string{"filter", "nat"} {
		for _, c := range netavarkChains(table) {
			before[table+"/"+c] = true
		}
	}
	return func() {
		for _, table := range []string{"filter", "nat"} {
			rules := iptablesRules(table)
			made := map[string]bool{}
			for _, c := range netavarkChains(table) {
				if !before[table+"/"+c] {
					made[c] = true
				}
			}
			for _, r := range rules {
				if !strings.HasPrefix(r, "-A ") {
					continue
				}
				f := strings.Fields(r)
				target := ""
				for i := range f {
					if f[i] == "-j" && i+1 < len(f) {
						target = f[i+1]
					}
				}
				ours := strings.Contains(r, "10.203.0.") || strings.Contains(r, podmanBridge)
				if made[target] || (ours && !made[f[1]]) {
					deleteRule(table, r)
				}
			}
			for c := range made {
				_ = exec.Command("iptables", "-t", table, "-F", c).Run()
			}
			for c := range made {
				_ = exec.Command("iptables", "-t", table, "-X", c).Run()
			}
		}
	}
}

func iptablesRules(table string) []string {
	out, err := exec.Command("iptables", "-t", table, "-S").Output()
	if err != nil {
		return nil
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

func netavarkChains(table string) []string {
	var chains []string
	for _, r := range iptablesRules(table) {
		if f := strings.Fields(r); len(f) >= 2 && f[0] == "-N" && strings.HasPrefix(f[1], "NETAVARK") {
			chains = append(chains, f[1])
		}
	}
	return chains
}

// deleteRule deletes a rule given as iptables -S prints it.
func deleteRule(table, rule string) {
	args := append([]string{"-t", table, "-D"}, splitRule(strings.TrimPrefix(rule, "-A "))...)
	_ = exec.Command("iptables", args...).Run()
}

// splitRule splits an iptables -S line into arguments, keeping quoted
// comments whole.
func splitRule(s string) []string {
	var args []string
	var cur strings.Builder
	quoted, have := false, false
	for _, r := range s {
		switch {
		case r == '"':
			quoted, have = !quoted, true
		case r == ' ' && !quoted:
			if have {
				args = append(args, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteRune(r)
			have = true
		}
	}
	if have {
		args = append(args, cur.String())
	}
	return args
}
