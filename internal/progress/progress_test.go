package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestLinesWithoutTerminal(t *testing.T) {
	var b bytes.Buffer
	r := New(&b)
	clock := time.Unix(0, 0)
	r.now = func() time.Time { return clock }
	r.Event(Event{Image: "docker.io/library/busybox:1.36", Layer: "sha256:0123456789abcdef0123", Kind: Start, Size: 2 << 20})
	clock = clock.Add(500 * time.Millisecond)
	r.Event(Event{Image: "docker.io/library/busybox:1.36", Layer: "sha256:0123456789abcdef0123", Kind: Progress, Offset: 1 << 20})
	clock = clock.Add(500 * time.Millisecond)
	r.Event(Event{Image: "docker.io/library/busybox:1.36", Layer: "sha256:0123456789abcdef0123", Kind: Done})
	r.Event(Event{Image: "docker.io/library/busybox:1.36", Layer: "sha256:fedcba9876543210fedc", Kind: Skipped})
	r.Close()
	want := "Pulling docker.io/library/busybox:1.36: layer 0123456789ab (2.1MB)\n" +
		"Pulled docker.io/library/busybox:1.36: layer 0123456789ab, 2.1MB in 1s (2.1MB/s)\n" +
		"Layer fedcba987654 of docker.io/library/busybox:1.36 is already present\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestBarsOnTerminal(t *testing.T) {
	var b bytes.Buffer
	r := New(&b)
	r.tty = true
	clock := time.Unix(0, 0)
	r.now = func() time.Time { return clock }
	r.Event(Event{Image: "a", Layer: "sha256:111111111111111111", Kind: Start, Size: 1000})
	r.Event(Event{Image: "a", Layer: "sha256:222222222222222222", Kind: Start, Size: 1000})
	clock = clock.Add(time.Second)
	r.Event(Event{Image: "a", Layer: "sha256:111111111111111111", Kind: Progress, Offset: 500})
	r.Event(Event{Image: "a", Layer: "sha256:111111111111111111", Kind: Done})
	out := b.String()
	if !strings.Contains(out, "\x1b[2A") || !strings.Contains(out, "[============>           ]") {
		t.Errorf("no bars redrawn in place:\n%q", out)
	}
	if !strings.Contains(out, "done in 1s") || !strings.Contains(out, "500B/s") {
		t.Errorf("no size and rate:\n%q", out)
	}
}
