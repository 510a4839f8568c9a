#!/bin/sh
# Remove what an interrupted test run may have left on this host: pod shims
# and containers in podbox test cgroups, mounts under the test directories,
# and the test cgroups themselves. Only touches test leftovers (cgroups
# named podbox-test-* / podbox-clitest-*, directories under /tmp).
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
rm -rf /tmp/Test* /tmp/podbox-test-bin-* /tmp/podbox-sandbox-test-* 2>/dev/null
exit 0
