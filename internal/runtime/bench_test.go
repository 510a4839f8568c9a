package runtime

import "testing"

// BenchmarkNewConfig measures the conversion of a pod container's spec (as
// the shim makes it: the pod's pinned namespaces, /dev/shm and /etc files,
// seccomp, masked paths) into libcontainer's configuration, which every
// container start pays.
func BenchmarkNewConfig(b *testing.B) {
	s := &Spec{
		ID: "pod-0123456789.c0.0", Rootfs: b.TempDir(), CgroupPath: "/podbox/pod0123/c0",
		Namespaces: Namespaces{Net: NS{Path: "/run/podbox/pods/default/p/ns/net"},
			IPC: NS{Path: "/run/podbox/pods/default/p/ns/ipc"}, UTS: NS{Path: "/run/podbox/pods/default/p/ns/uts"}},
		Shm: "/run/podbox/pods/default/p/shm",
		Binds: []Bind{
			{Source: "/run/podbox/pods/default/p/etc/hosts", Destination: "/etc/hosts", ReadOnly: true},
			{Source: "/run/podbox/pods/default/p/etc/hostname", Destination: "/etc/hostname", ReadOnly: true},
			{Source: "/run/podbox/pods/default/p/etc/resolv.conf", Destination: "/etc/resolv.conf", ReadOnly: true},
		},
		NoNewPrivileges: true, Seccomp: true, Masked: true,
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewConfig(s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNewConfigPause is the same for pause's minimal container.
func BenchmarkNewConfigPause(b *testing.B) {
	s := &Spec{ID: "pod-0123456789.pause", Rootfs: b.TempDir(), CgroupPath: "/podbox/pod0123/pause", Minimal: true,
		ReadonlyRootfs: true, NoNewPrivileges: true, Seccomp: true, Masked: true}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewConfig(s); err != nil {
			b.Fatal(err)
		}
	}
}
