// Package testutil holds what podbox's tests share: root gating that fails
// instead of skipping, the pause binary and helper tools built for tests, a
// busybox rootfs from Debian's busybox-static, and checks that a test left
// nothing on the host (mounts, cgroups, processes).
package testutil
