package runtime

import (
	"testing"

	"github.com/moby/sys/capability"
)

func TestKnownCapability(t *testing.T) {
	for name, want := range map[string]bool{
		"CAP_CHOWN": true, "CAP_SYS_ADMIN": true, "CAP_NET_BIND_SERVICE": true, "CAP_AUDIT_WRITE": true,
		"CAP_BOGUS": false, "chown": false, "CAP_chown": false, "": false, "CAP_": false, "SYS_ADMIN": false,
	} {
		if got := KnownCapability(name); got != want {
			t.Errorf("KnownCapability(%q) = %v, want %v", name, got, want)
		}
	}
	for _, c := range DefaultCapabilities {
		if !KnownCapability(c) {
			t.Errorf("default capability %s is unknown", c)
		}
	}
}

// TestBoundingSet compares BoundingSet with what moby/sys/capability reads
// for this process.
func TestBoundingSet(t *testing.T) {
	got, err := BoundingSet()
	if err != nil {
		t.Fatal(err)
	}
	caps, err := capability.NewPid2(0)
	if err != nil {
		t.Fatal(err)
	}
	if err := caps.Load(); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range capability.ListKnown() {
		name := capName(c)
		want := caps.Get(capability.BOUNDING, c)
		if got[name] != want {
			t.Errorf("BoundingSet()[%s] = %v, want %v", name, got[name], want)
		}
		if want {
			n++
		}
	}
	if len(got) != n {
		t.Errorf("BoundingSet has %d entries, want %d", len(got), n)
	}
	for name := range got {
		if !KnownCapability(name) {
			t.Errorf("BoundingSet holds unknown %q", name)
		}
	}
	again, err := BoundingSet()
	if err != nil || len(again) != len(got) {
		t.Errorf("second BoundingSet() = %d entries, %v; want %d", len(again), err, len(got))
	}
}

func TestReadBoundingSet(t *testing.T) {
	set, err := readBoundingSet()
	if err != nil {
		t.Fatal(err)
	}
	if len(set) == 0 {
		t.Error("empty bounding set")
	}
}
