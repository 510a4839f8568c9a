#!/bin/sh
# make demo: import a busybox image, run a two-container pod, show it, and
# delete it again. Uses podbox's default paths (/var/lib/podbox, /run/podbox,
# /var/log/podbox), so the image stays for you to use by hand afterwards.
set -eu
bin=${1:-bin}
podbox="$bin/podbox --pause $bin/podbox-pause"
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
# Interrupted (Ctrl-C, a closed pipe): leave no pod behind.
trap '$podbox delete web --force >/dev/null 2>&1; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM HUP PIPE

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { step "podbox $*"; $podbox "$@"; }

"$here/hack/busybox-rootfs.sh" "$tmp/busybox-rootfs.tar"
run image import "$tmp/busybox-rootfs.tar" localhost/busybox:1.36
run image ls
$podbox delete web --force >/dev/null 2>&1 || true
step "cat examples/pod.yaml"
cat "$here/examples/pod.yaml"
run run -f "$here/examples/pod.yaml"
run get
run get -o wide
sleep 2
run logs web -c client --tail 3
run exec web -c server -- sh -c 'echo "hostname: $(hostname)"; id; ps'
run get web -o json | head -40
echo "  ..."
run stop web --grace-period 1
run get
run delete web
trap 'rm -rf "$tmp"' EXIT
printf '\nDone. The image localhost/busybox:1.36 stays in the store: try\n  %s run -f examples/pod.yaml\n' "$bin/podbox"
