package crilog

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// copyBufferSize is how much of a stream Copy reads at once.
const copyBufferSize = 32 * 1024

// Writer appends records to one log file. It is safe for concurrent use
// (the stdout and stderr copiers of a container share it), and each record
// is written with a single Write call, so with an *os.File a single
// write(2): records of different streams never interleave.
type Writer struct {
	mu      sync.Mutex
	w       io.Writer
	buf     []byte // record being written; guarded by mu
	now     func() time.Time
	maxLine int
}

// NewWriter returns a Writer appending records to f, usually a log file
// opened with os.O_WRONLY|os.O_APPEND|os.O_CREATE.
func NewWriter(f io.Writer) *Writer {
	return &Writer{w: f, now: time.Now, maxLine: MaxLineSize}
}

// Copy reads stream src until EOF and writes its lines as records tagged
// stream ("stdout"/"stderr"). Lines longer than MaxLineSize become P records
// and a final F record; output left without a newline at EOF becomes P
// records.
//
// A failed write to the log file does not stop Copy: it keeps draining src
// so the container never blocks on a full pipe, and returns the first write
// error at EOF. A read error other than io.EOF ends Copy after the data read
// so far is written.
func (w *Writer) Copy(stream string, src io.Reader) error {
	if stream != Stdout && stream != Stderr {
		return fmt.Errorf("copy %q log: %w", stream, ErrInvalidStream)
	}
	c := copier{w: w, stream: stream}
	br := bufio.NewReaderSize(src, copyBufferSize)
	var line []byte // content of the current line not yet written
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		switch {
		case err == nil: // line ends in '\n'
			content := line[:len(line)-1]
			if n := len(content); n > 0 && content[n-1] == '\r' {
				content = content[:n-1]
			}
			c.fullLine(content)
			line = line[:0]
		case errors.Is(err, bufio.ErrBufferFull):
			line = c.partialChunks(line)
		default:
			c.unterminated(line)
			if errors.Is(err, io.EOF) {
				return c.err
			}
			return errors.Join(fmt.Errorf("copy %s log: read: %w", stream, err), c.err)
		}
	}
}

// copier writes the records of one stream and remembers the first write
// error.
type copier struct {
	w      *Writer
	stream string
	err    error
}

func (c *copier) write(partial bool, content []byte) {
	if err := c.w.writeRecord(c.stream, partial, content); err != nil && c.err == nil {
		c.err = fmt.Errorf("write %s log record: %w", c.stream, err)
	}
}

// fullLine writes a complete line: P records while it is too long, then an
// F record with the rest (possibly empty, for an empty line).
func (c *copier) fullLine(content []byte) {
	for len(content) > c.w.maxLine {
		c.write(true, content[:c.w.maxLine])
		content = content[c.w.maxLine:]
	}
	c.write(false, content)
}

// partialChunks writes P records while line is longer than a record may be,
// and returns what is left, moved to the start of line. A trailing '\r' is
// not counted: it may be the start of a "\r\n" ending, which is dropped.
func (c *copier) partialChunks(line []byte) []byte {
	start := 0
	for {
		n := len(line) - start
		if n > 0 && line[len(line)-1] == '\r' {
			n--
		}
		if n <= c.w.maxLine {
			break
		}
		c.write(true, line[start:start+c.w.maxLine])
		start += c.w.maxLine
	}
	if start == 0 {
		return line
	}
	return append(line[:0], line[start:]...)
}

// unterminated writes output that ended without a newline as P records.
func (c *copier) unterminated(line []byte) {
	for len(line) > c.w.maxLine {
		c.write(true, line[:c.w.maxLine])
		line = line[c.w.maxLine:]
	}
	if len(line) > 0 {
		c.write(true, line)
	}
}

// writeRecord formats and writes one record with a single Write call. The
// timestamp is taken under the lock, so records of both streams are in
// timestamp order in the file (unless the wall clock steps back).
func (w *Writer) writeRecord(stream string, partial bool, content []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = appendRecord(w.buf[:0], w.now(), stream, partial, content)
	_, err := w.w.Write(w.buf)
	return err
}
