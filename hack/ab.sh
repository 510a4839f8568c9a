#!/bin/sh
# A/B of two podbox builds on this host: `podbox run` of a one-container pod
# (to its container running) and `podbox delete --grace-period 0`, the two
# builds alternating run by run so that the machine's drift hits both.
#
#   hack/ab.sh N OLD_BIN NEW_BIN [net|host]
#
# OLD_BIN and NEW_BIN are directories holding podbox, podbox-shim and
# podbox-pause (make all's bin/, or a worktree's). "net" (the default) runs
# the pod on podbox's default network, each build with a configuration
# directory of its own (so each writes its own default network); "host" uses
# hostNetwork. Prints min / median / p90 in ms per build and step. Needs
# root and /bin/busybox (busybox-static). Everything goes in a temporary
# directory, removed at the end; the default network's bridge podbox0 (and
# its masquerading chain) stay, as after any use of podbox.
set -eu
[ $# -ge 3 ] || { echo "usage: $0 N OLD_BIN NEW_BIN [net|host]" >&2; exit 2; }
n=$1 old=$(cd "$2" && pwd) new=$(cd "$3" && pwd) mode=${4:-net}
tmp=$(mktemp -d /tmp/podbox-ab-XXXXXX)
pb() { # pb BIN_DIR CONF_DIR ARGS...
	d=$1 c=$2
	shift 2
	"$d/podbox" --shim "$d/podbox-shim" --pause "$d/podbox-pause" --root "$tmp/root" --state "$tmp/state" \
		--log-dir "$tmp/log" --cni-conf-dir "$c" "$@"
}
cleanup() {
	pb "$new" "$tmp/net-new" delete --all --force >/dev/null 2>&1 || true
	awk '{print $5}' /proc/self/mountinfo | grep "^$tmp" | sort -r | xargs -r umount -l 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

mkdir -p "$tmp/rootfs/bin"
cp /bin/busybox "$tmp/rootfs/bin/"
for a in sh sleep; do ln -s busybox "$tmp/rootfs/bin/$a"; done
pb "$new" "$tmp/net-new" image import "$tmp/rootfs" localhost/ab:1 -c "ENV PATH=/bin" >/dev/null
net=""
[ "$mode" = host ] && net="hostNetwork: true"
cat >"$tmp/pod.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata: {name: ab}
spec:
  $net
  dnsPolicy: None
  dnsConfig: {nameservers: [127.0.0.1]}
  terminationGracePeriodSeconds: 0
  containers:
  - {name: c, image: localhost/ab:1, command: [sleep, "3600"]}
EOF
ms() { echo $((($(date +%s%N) - $1) / 100000)); }
i=0
while [ $i -lt "$n" ]; do
	i=$((i + 1))
	for side in old new; do
		d=$old
		[ $side = new ] && d=$new
		t=$(date +%s%N)
		pb "$d" "$tmp/net-$side" run -f "$tmp/pod.yaml" >/dev/null
		echo "$side run $(ms "$t")"
		sleep 0.2
		t=$(date +%s%N)
		pb "$d" "$tmp/net-$side" delete --grace-period 0 ab >/dev/null
		echo "$side delete $(ms "$t")"
	done
done >"$tmp/samples"
for key in "old run" "new run" "old delete" "new delete"; do
	grep "^$key " "$tmp/samples" | awk '{print $3 / 10}' | sort -n |
		awk -v k="$key" '{v[NR] = $1} END {printf "%-10s min %6.1f  median %6.1f  p90 %6.1f ms  (n %d)\n", k, v[1], v[int((NR + 1) / 2)], v[int(NR * 0.9 + 0.5)], NR}'
done
