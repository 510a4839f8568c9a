package crilog

import (
	"fmt"
	"io"
	"sort"
	"time"
)

// assembler turns records into output lines: it joins each stream's partial
// records, applies the Stream, Since and Tail options and writes the lines.
type assembler struct {
	opts    ReadOptions
	out     io.Writer
	pending [2]pendingLine // by streamIndex
	seq     uint64         // order in which pending lines started
	tail    *lineRing      // non-nil until the tail is written
	scratch []byte
}

// pendingLine is a line whose records are still coming.
type pendingLine struct {
	active bool
	seq    uint64
	ts     time.Time // of its first record
	buf    []byte
}

func newAssembler(opts ReadOptions, out io.Writer) *assembler {
	a := &assembler{opts: opts, out: out}
	if opts.Tail >= 0 {
		a.tail = &lineRing{max: opts.Tail}
	}
	return a
}

func streamIndex(stream string) int {
	if stream == Stderr {
		return 1
	}
	return 0
}

// record takes the next line of the file.
func (a *assembler) record(line []byte, lineNo int) error {
	rec, err := parseRecord(line)
	if err != nil {
		return fmt.Errorf("line %d: %w", lineNo, err)
	}
	if a.opts.Stream != "" && rec.stream != a.opts.Stream {
		return nil
	}
	p := &a.pending[streamIndex(rec.stream)]
	if !p.active {
		*p = pendingLine{active: true, seq: a.seq, ts: rec.ts, buf: p.buf[:0]}
		a.seq++
	}
	p.buf = append(p.buf, rec.content...)
	if rec.partial {
		return nil
	}
	p.buf = append(p.buf, '\n')
	p.active = false
	return a.emit(p.ts, p.buf)
}

// emit filters a whole line by Since and sends it to the tail or out.
func (a *assembler) emit(ts time.Time, line []byte) error {
	if !a.opts.Since.IsZero() && ts.Before(a.opts.Since) {
		return nil
	}
	if a.tail != nil {
		a.tail.push(ts, line)
		return nil
	}
	return a.write(ts, line)
}

func (a *assembler) write(ts time.Time, line []byte) error {
	if a.opts.Timestamps {
		a.scratch = ts.UTC().AppendFormat(a.scratch[:0], timeFormatOut)
		a.scratch = append(a.scratch, ' ')
		a.scratch = append(a.scratch, line...)
		line = a.scratch
	}
	if _, err := a.out.Write(line); err != nil {
		return fmt.Errorf("write log output: %w", err)
	}
	return nil
}

// endTail writes the lines kept for Tail; from then on lines go straight
// to out.
func (a *assembler) endTail() error {
	if a.tail == nil {
		return nil
	}
	r := a.tail
	a.tail = nil
	for i := range r.lines {
		e := r.at(i)
		if err := a.write(e.ts, e.buf); err != nil {
			return err
		}
	}
	return nil
}

// finish ends the log: it takes its unterminated last line, if any, writes
// the lines still incomplete (in the order they started, without a
// newline), then the tail.
func (a *assembler) finish(last []byte, lineNo int) error {
	if len(last) > 0 {
		if err := a.record(last, lineNo); err != nil {
			return err
		}
	}
	var open []*pendingLine
	for i := range a.pending {
		if a.pending[i].active {
			open = append(open, &a.pending[i])
		}
	}
	sort.Slice(open, func(i, j int) bool { return open[i].seq < open[j].seq })
	for _, p := range open {
		p.active = false
		if err := a.emit(p.ts, p.buf); err != nil {
			return err
		}
	}
	return a.endTail()
}

// lineRing keeps the last max lines.
type lineRing struct {
	max   int
	lines []ringLine
	start int // index of the oldest line once full
}

type ringLine struct {
	ts  time.Time
	buf []byte
}

func (r *lineRing) push(ts time.Time, line []byte) {
	if r.max == 0 {
		return
	}
	if len(r.lines) < r.max {
		r.lines = append(r.lines, ringLine{ts: ts, buf: append([]byte(nil), line...)})
		return
	}
	e := &r.lines[r.start]
	e.ts, e.buf = ts, append(e.buf[:0], line...)
	r.start = (r.start + 1) % r.max
}

// at returns the i-th oldest line.
func (r *lineRing) at(i int) *ringLine {
	return &r.lines[(r.start+i)%len(r.lines)]
}
