package crilog

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

const (
	// readBufferSize holds a whole record of MaxLineSize content, so lines
	// are usually parsed in place.
	readBufferSize = 64 * 1024
	// maxRecordSize bounds one line of a log file; a longer one is reported
	// as malformed instead of being buffered without end.
	maxRecordSize = 1 << 20
	// pollInterval is how often a follower re-reads the file and asks Done
	// when no change notification came.
	pollInterval = 200 * time.Millisecond
	// ctxCheckLines is how many lines Read reads between context checks.
	ctxCheckLines = 4096
)

// ReadOptions selects what Read writes, like the options of kubectl logs.
type ReadOptions struct {
	// Timestamps prefixes each line with its RFC3339Nano timestamp and a
	// space, like kubectl --timestamps (fixed nine-digit fraction, UTC).
	Timestamps bool
	// Tail writes only the last Tail whole lines (after the Stream and Since
	// filters); -1 writes all, 0 none (when following: only new lines).
	Tail int
	// Stream writes only the records of one stream: "", "stdout" or
	// "stderr".
	Stream string
	// Follow keeps reading as the file grows ...
	Follow bool
	// Done ... until Done reports true and the file is read to its end (the
	// container exited). With Done nil, Read follows until ctx is done.
	Done func() bool
	// Since writes only lines whose record is at or after this time; the
	// zero value writes all.
	Since time.Time
}

// Read writes the content of the log file at path to out: partial records
// are reassembled into whole lines (a line's timestamp is its first
// record's), and the stream tags and timestamps are removed unless
// opts.Timestamps. Output that ended without a newline is written without
// one, so reading back a file written by Copy gives exactly the bytes the
// container wrote (except that "\r\n" comes back as "\n").
//
// With opts.Follow, Read waits for the file to grow (inotify, with a poll
// as fallback and to ask opts.Done), and returns nil once opts.Done reports
// true and the file is read to its end; a line still incomplete then is
// written as it is. It returns ctx's error, wrapped, when ctx is done first.
//
// A line that is not a CRI record ends Read with an error wrapping
// ErrMalformed that names the line number.
func Read(ctx context.Context, path string, opts ReadOptions, out io.Writer) error {
	if opts.Stream != "" && opts.Stream != Stdout && opts.Stream != Stderr {
		return fmt.Errorf("read log %s: stream %q: %w", path, opts.Stream, ErrInvalidStream)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read log: %w", err)
	}
	defer f.Close()
	if opts.Tail == 0 && !opts.Follow {
		return nil
	}

	lr := &lineReader{br: bufio.NewReaderSize(f, readBufferSize)}
	asm := newAssembler(opts, out)
	var wt *waiter
	defer func() {
		if wt != nil {
			wt.close()
		}
	}()
	doneSeen := false
	for {
		if lr.lineNo%ctxCheckLines == 0 && ctx.Err() != nil {
			return fmt.Errorf("read log %s: %w", path, ctx.Err())
		}
		line, err := lr.next()
		if err == nil {
			if err := asm.record(line, lr.lineNo); err != nil {
				return fmt.Errorf("read log %s: %w", path, err)
			}
			continue
		}
		if !errors.Is(err, io.EOF) {
			return fmt.Errorf("read log %s: %w", path, err)
		}
		if !opts.Follow || doneSeen {
			if err := asm.finish(lr.rest(), lr.lineNo); err != nil {
				return fmt.Errorf("read log %s: %w", path, err)
			}
			return nil
		}
		if err := asm.endTail(); err != nil {
			return fmt.Errorf("read log %s: %w", path, err)
		}
		if opts.Done != nil && opts.Done() {
			doneSeen = true // read to the end once more, then stop
			continue
		}
		if wt == nil {
			// Read again once watched: a write may have come in between.
			wt = newWaiter(path)
			continue
		}
		if err := wt.wait(ctx, pollInterval); err != nil {
			return fmt.Errorf("follow log %s: %w", path, err)
		}
	}
}

// lineReader reads the lines of a file that may still grow: a last line
// without its newline is kept and completed by later reads.
type lineReader struct {
	br     *bufio.Reader
	carry  []byte // start of a line not yet ended
	lineNo int    // number of the last line returned
}

// next returns the next complete line without its newline, valid until the
// next call, or io.EOF when the file has no complete line left for now.
func (r *lineReader) next() ([]byte, error) {
	for {
		b, err := r.br.ReadSlice('\n')
		switch {
		case err == nil:
			r.lineNo++
			if len(r.carry) == 0 {
				return b[:len(b)-1], nil
			}
			line := append(r.carry, b[:len(b)-1]...)
			r.carry = line[:0]
			return line, nil
		case errors.Is(err, bufio.ErrBufferFull), errors.Is(err, io.EOF):
			r.carry = append(r.carry, b...)
			if len(r.carry) > maxRecordSize {
				return nil, fmt.Errorf("line %d: %w: longer than %d bytes", r.lineNo+1, ErrMalformed, maxRecordSize)
			}
			if errors.Is(err, io.EOF) {
				return nil, io.EOF
			}
		default:
			return nil, err
		}
	}
}

// rest returns the unterminated last line, if any, counting it as a line.
func (r *lineReader) rest() []byte {
	if len(r.carry) == 0 {
		return nil
	}
	r.lineNo++
	line := r.carry
	r.carry = nil
	return line
}
