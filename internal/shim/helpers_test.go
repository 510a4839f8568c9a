package shim

import (
	"testing"

	digest "github.com/opencontainers/go-digest"
	"github.com/podbox/podbox/image"
	"golang.org/x/sys/unix"
)

func TestUnescapeMount(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/run/podbox/pods/ns/p", "/run/podbox/pods/ns/p"},
		{`/tmp/with\040space`, "/tmp/with space"},
		{`/a\011tab\012nl`, "/a\ttab\nnl"},
		{`/back\134slash`, `/back\slash`},
		{`\040\040`, "  "},
		{`/bad\09x`, `/bad\09x`},     // not octal: kept
		{`/short\04`, `/short\04`},   // too short: kept
		{`/trailing\`, `/trailing\`}, // lone backslash
		{`/x\101\102`, "/xAB"},
	}
	for _, tt := range tests {
		if got := unescapeMount(tt.in); got != tt.want {
			t.Errorf("unescapeMount(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestStopSignal(t *testing.T) {
	tests := []struct {
		in   string
		want unix.Signal
	}{
		{"", unix.SIGTERM},
		{"SIGQUIT", unix.SIGQUIT},
		{"QUIT", unix.SIGQUIT},
		{"quit", unix.SIGQUIT},
		{"sigint", unix.SIGINT},
		{"3", unix.SIGQUIT},
		{"9", unix.SIGKILL},
		{"SIGWINCH", unix.SIGWINCH},
		{"SIGUSR1", unix.SIGUSR1},
		{"64", unix.Signal(64)},
		{"0", unix.SIGTERM},
		{"65", unix.SIGTERM},
		{"-1", unix.SIGTERM},
		{"SIGBOGUS", unix.SIGTERM},
		{"bogus", unix.SIGTERM},
		{"SIG", unix.SIGTERM},
	}
	for _, tt := range tests {
		if got := stopSignal(tt.in); got != tt.want {
			t.Errorf("stopSignal(%q) = %d (%v), want %d (%v)", tt.in, got, got, tt.want, tt.want)
		}
	}
}

// TestStopSignalRealtime: systemd-based images say STOPSIGNAL SIGRTMIN+3
// (systemd re-executes itself on SIGTERM instead of shutting down). Docker,
// containerd and CRI-O (moby/sys/signal) map RTMIN+n to 34+n.
func TestStopSignalRealtime(t *testing.T) {
	tests := []struct {
		in   string
		want unix.Signal
	}{
		{"SIGRTMIN+3", 37},
		{"RTMIN+3", 37},
		{"SIGRTMIN", 34},
		{"SIGRTMAX", 64},
		{"SIGRTMAX-1", 63},
	}
	for _, tt := range tests {
		if got := stopSignal(tt.in); got != tt.want {
			t.Errorf("stopSignal(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestImageID(t *testing.T) {
	const (
		cfg = digest.Digest("sha256:1111111111111111111111111111111111111111111111111111111111111111")
		man = digest.Digest("sha256:2222222222222222222222222222222222222222222222222222222222222222")
	)
	tests := []struct {
		name string
		img  image.Image
		want string
	}{
		{"tag", image.Image{Name: "docker.io/library/busybox:1.36", ID: cfg, Digest: man}, "docker.io/library/busybox@" + man.String()},
		{"registry port, no tag", image.Image{Name: "localhost:5000/busybox", ID: cfg, Digest: man}, "localhost:5000/busybox@" + man.String()},
		{"registry port and tag", image.Image{Name: "localhost:5000/team/busybox:v1", ID: cfg, Digest: man}, "localhost:5000/team/busybox@" + man.String()},
		{"digest reference", image.Image{Name: "docker.io/library/busybox@" + man.String(), ID: cfg, Digest: man}, "docker.io/library/busybox@" + man.String()},
		{"no manifest digest", image.Image{Name: "localhost/busybox:1.36", ID: cfg}, cfg.String()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := imageID(&tt.img); got != tt.want {
				t.Errorf("imageID = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestImageIDTagAndDigest: a reference with both a tag and a digest
// (repo:tag@sha256:...) must give repo@<manifest digest>, as the kubelet's
// imageID has no tag.
func TestImageIDTagAndDigest(t *testing.T) {
	const man = digest.Digest("sha256:2222222222222222222222222222222222222222222222222222222222222222")
	img := image.Image{Name: "docker.io/library/busybox:1.36@" + man.String(), Digest: man}
	if got, want := imageID(&img), "docker.io/library/busybox@"+man.String(); got != want {
		t.Errorf("imageID = %q, want %q", got, want)
	}
}
