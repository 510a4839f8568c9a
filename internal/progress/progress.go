// Package progress shows image pulls: on a terminal one bar per layer with
// bytes and rate, redrawn in place; otherwise one line per layer when it
// starts and when it is done. Several pulls may report at once.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/docker/go-units"
	"golang.org/x/sys/unix"
)

// Kind is what happened to a layer.
type Kind int

// Event kinds.
const (
	Start    Kind = iota // the layer's download begins (Size, if known)
	Progress             // Offset bytes are in
	Done                 // the layer is complete
	Skipped              // the store already had it
)

// Event is one step of one layer of one image.
type Event struct {
	Image  string
	Layer  string // digest
	Kind   Kind
	Size   int64 // -1 if unknown
	Offset int64
}

type layer struct {
	image, digest string
	size, offset  int64
	start, end    time.Time
	state         Kind
}

// Renderer turns events into output. It is safe for concurrent use.
type Renderer struct {
	w       io.Writer
	tty     bool
	width   int // terminal columns: lines are cut to fit
	height  int // terminal rows: at most height-1 lines are drawn
	mu      sync.Mutex
	layers  map[string]*layer
	order   []string
	drawn   int // lines the last redraw wrote (terminal)
	lastDrw time.Time
	now     func() time.Time
}

// New renders to w, with bars if w is a terminal.
func New(w io.Writer) *Renderer {
	r := &Renderer{w: w, layers: map[string]*layer{}, now: time.Now, width: 80, height: 24}
	if f, ok := w.(*os.File); ok {
		_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
		r.tty = err == nil
		if ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ); err == nil && ws.Col > 0 && ws.Row > 0 {
			r.width, r.height = int(ws.Col), int(ws.Row)
		}
	}
	return r
}

// Event records an event and updates the output.
func (r *Renderer) Event(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	key := e.Image + " " + e.Layer
	l, ok := r.layers[key]
	if !ok {
		l = &layer{image: e.Image, digest: e.Layer, size: e.Size, start: r.now()}
		r.layers[key] = l
		r.order = append(r.order, key)
	}
	if e.Size > 0 {
		l.size = e.Size
	}
	switch e.Kind {
	case Start:
		l.state = Start
		if !r.tty {
			_, _ = fmt.Fprintf(r.w, "Pulling %s: layer %s (%s)\n", e.Image, short(e.Layer), size(l.size))
		}
	case Progress:
		l.state, l.offset = Progress, e.Offset
	case Done:
		l.state, l.end = Done, r.now()
		if l.size > 0 {
			l.offset = l.size
		}
		if !r.tty {
			d := l.end.Sub(l.start)
			_, _ = fmt.Fprintf(r.w, "Pulled %s: layer %s, %s in %s (%s)\n", e.Image, short(e.Layer), size(l.offset), d.Round(time.Millisecond), rate(l.offset, d))
		}
	case Skipped:
		l.state, l.end = Skipped, r.now()
		if !r.tty {
			_, _ = fmt.Fprintf(r.w, "Layer %s of %s is already present\n", short(e.Layer), e.Image)
		}
	}
	if r.tty && (e.Kind != Progress || r.now().Sub(r.lastDrw) > 100*time.Millisecond) {
		r.redraw()
	}
}

// Close draws the final state.
func (r *Renderer) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.tty && len(r.order) > 0 {
		r.redraw()
	}
}

func (r *Renderer) redraw() {
	var lines []string
	done := 0
	for _, k := range r.order {
		l := r.layers[k]
		if l.state == Done || l.state == Skipped {
			done++
		}
		lines = append(lines, r.line(l))
	}
	// More layers than rows: finished ones fold into one summary line.
	if max := r.height - 1; len(lines) > max && max > 1 {
		var active []string
		for _, k := range r.order {
			if l := r.layers[k]; l.state != Done && l.state != Skipped {
				active = append(active, r.line(l))
			}
		}
		if len(active) > max-1 {
			active = active[len(active)-(max-1):]
		}
		lines = append([]string{fmt.Sprintf("%d of %d layers done", done, len(r.order))}, active...)
	}
	var b strings.Builder
	if r.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", r.drawn)
	}
	for _, line := range lines {
		b.WriteString("\x1b[2K")
		b.WriteString(fit(line, r.width-1))
		b.WriteByte('\n')
	}
	// Lines left over from a longer draw are cleared.
	for i := len(lines); i < r.drawn; i++ {
		b.WriteString("\x1b[2K\n")
	}
	if r.drawn > len(lines) {
		fmt.Fprintf(&b, "\x1b[%dA", r.drawn-len(lines))
	} else {
		r.drawn = len(lines)
	}
	r.lastDrw = r.now()
	_, _ = io.WriteString(r.w, b.String())
}

// fit cuts s to n runes, so a line never wraps (a wrapped line would break
// the redraw in place).
func fit(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	rs := []rune(s)
	return string(rs[:n])
}

// line is one layer's bar: (image,) layer, bar, bytes, rate, sized to
// the terminal's width.
func (r *Renderer) line(l *layer) string {
	prefix := short(l.digest) + " "
	if r.images() > 1 {
		name := l.image
		if len(name) > 24 {
			name = "…" + name[len(name)-23:]
		}
		prefix = fmt.Sprintf("%-24s %s", name, prefix)
	}
	switch l.state {
	case Skipped:
		return prefix + "already present"
	case Done:
		return fmt.Sprintf("%sdone: %s in %s", prefix, size(l.offset), l.end.Sub(l.start).Round(time.Millisecond))
	}
	tail := fmt.Sprintf(" %s / %s %s", size(l.offset), size(l.size), rate(l.offset, r.now().Sub(l.start)))
	width := r.width - 1 - utf8.RuneCountInString(prefix) - len(tail) - 2
	if width > 30 {
		width = 30
	}
	if width < 5 {
		width = 5
	}
	filled := 0
	if l.size > 0 {
		filled = int(float64(width) * float64(l.offset) / float64(l.size))
		if filled > width {
			filled = width
		}
	}
	bar := strings.Repeat("=", filled)
	if filled < width {
		bar += ">" + strings.Repeat(" ", width-filled-1)
	}
	return prefix + "[" + bar + "]" + tail
}

// images counts the images being shown.
func (r *Renderer) images() int {
	seen := map[string]bool{}
	for _, l := range r.layers {
		seen[l.image] = true
	}
	return len(seen)
}

func short(d string) string {
	if i := strings.IndexByte(d, ':'); i >= 0 && len(d) > i+13 {
		return d[i+1 : i+13]
	}
	return d
}

func size(n int64) string {
	if n < 0 {
		return "?"
	}
	return units.HumanSizeWithPrecision(float64(n), 3)
}

func rate(n int64, d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return units.HumanSizeWithPrecision(float64(n)/d.Seconds(), 3) + "/s"
}
