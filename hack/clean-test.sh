#!/bin/sh
# Remove what an interrupted test run may have left on this host: pod shims
# and containers in podbox test cgroups, mounts under the test directories,
# the test cgroups themselves and the test networks. Only touches test
# leftovers (cgroups named podbox-test-* / podbox-clitest-*, directories
# under /tmp, bridges pbt* and pbo*, namespaces pbt-out-*, rules of
# 10.201.0.0/16 and masquerading chains no rule jumps to).
set -u
for cg in /sys/fs/cgroup/*/podbox-test-* /sys/fs/cgroup/*/podbox-clitest-*; do
	[ -d "$cg" ] || continue
	find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null | xargs -r kill -9 2>/dev/null
done
pkill -9 -f ' shim /tmp/' 2>/dev/null
sleep 0.5
awk '{print $5}' /proc/self/mountinfo | grep -E '^/tmp/(Test|podbox-)' | sort -r | while read -r m; do
	umount -l "$m" 2>/dev/null
done
for cg in /sys/fs/cgroup/*/podbox-test-* /sys/fs/cgroup/*/podbox-clitest-*; do
	[ -d "$cg" ] || continue
	find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null
done
# Test networks: their bridges (pbt*) and any iptables rule of a test subnet
# (10.201.0.0/16) that a killed run could not delete.
for l in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | grep -E '^pb(t|o|x)' | cut -d@ -f1); do
	ip link del "$l" 2>/dev/null
done
for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep '^pbt-out-'); do
	ip netns del "$ns" 2>/dev/null
done
for t in filter nat; do
	iptables -t "$t" -S 2>/dev/null | grep -E '^-A .*(10\.201\.|podbox-test-)' | sed 's/^-A/-D/' | while read -r rule; do
		eval iptables -t "$t" "$rule" 2>/dev/null
	done
	iptables -t "$t" -S 2>/dev/null | grep -E '^-N CNI-(DN|[0-9a-f]{20})' | while read -r _ c; do
		iptables -t "$t" -S "$c" 2>/dev/null | grep -q -- '-A' || iptables -t "$t" -X "$c" 2>/dev/null
	done
done
# Masquerading chains of test networks: those no jump leads to any more.
iptables -t nat -S 2>/dev/null | grep -E '^-N PODBOX-MASQ-' | while read -r _ c; do
	iptables -t nat -S 2>/dev/null | grep -q -- "-j $c\$" || { iptables -t nat -F "$c"; iptables -t nat -X "$c"; } 2>/dev/null
done
rm -rf /tmp/Test* /tmp/podbox-test-bin-* /tmp/podbox-sandbox-test-* /tmp/podbox-test-net-* 2>/dev/null
exit 0
