package progress

import (
	"bytes"
	"fmt"
	"regexp"
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
	if !strings.Contains(out, "\x1b[2A") || !regexp.MustCompile(`\[=+> +\] 500B / 1kB 500B/s`).MatchString(out) {
		t.Errorf("no bars with bytes and rate redrawn in place:\n%q", out)
	}
	if !strings.Contains(out, "done: 1kB in 1s") {
		t.Errorf("no done line:\n%q", out)
	}
}

// On a narrow, short terminal lines never wrap and the finished layers fold
// into one line.
func TestBarsFitTheTerminal(t *testing.T) {
	var b bytes.Buffer
	r := New(&b)
	r.tty, r.width, r.height = true, 40, 4
	clock := time.Unix(0, 0)
	r.now = func() time.Time { return clock }
	for i := 0; i < 6; i++ {
		r.Event(Event{Image: "docker.io/library/some-long-image-name:1.0", Layer: fmt.Sprintf("sha256:%064d", i), Kind: Start, Size: 100})
	}
	for i := 0; i < 4; i++ {
		clock = clock.Add(time.Second)
		r.Event(Event{Image: "docker.io/library/some-long-image-name:1.0", Layer: fmt.Sprintf("sha256:%064d", i), Kind: Done})
	}
	r.Close()
	for _, line := range strings.Split(b.String(), "\n") {
		plain := strings.NewReplacer("\x1b[2K", "").Replace(line)
		if i := strings.LastIndex(plain, "A"); strings.HasPrefix(plain, "\x1b[") && i > 0 {
			plain = plain[i+1:]
		}
		if n := len([]rune(plain)); n > 39 {
			t.Errorf("line of %d runes on a 40-column terminal: %q", n, plain)
		}
	}
	if !strings.Contains(b.String(), "4 of 6 layers done") {
		t.Errorf("finished layers not folded:\n%q", b.String())
	}
}
