package crilog

import (
	"bytes"
	"fmt"
	"time"
)

// Stream names as they appear in records.
const (
	Stdout = "stdout"
	Stderr = "stderr"
)

// MaxLineSize is the longest content of one record, containerd's default
// max_container_log_line_size. Longer lines are split into P records.
const MaxLineSize = 16 * 1024

const (
	tagPartial = 'P'
	tagFull    = 'F'
	// timeFormatOut is how Read prints timestamps with Timestamps set: the
	// kubelet's fixed-width RFC3339Nano (kubelet types.RFC3339NanoFixed).
	timeFormatOut = "2006-01-02T15:04:05.000000000Z07:00"
)

// appendRecord appends one record, newline included, to dst.
func appendRecord(dst []byte, ts time.Time, stream string, partial bool, content []byte) []byte {
	dst = ts.UTC().AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, ' ')
	dst = append(dst, stream...)
	tag := byte(tagFull)
	if partial {
		tag = tagPartial
	}
	dst = append(dst, ' ', tag, ' ')
	dst = append(dst, content...)
	return append(dst, '\n')
}

// record is one parsed line of a log file.
type record struct {
	ts      time.Time
	stream  string // Stdout or Stderr
	partial bool
	content []byte // aliases the parsed line
}

// parseRecord parses one line of a log file, without its newline. Like the
// kubelet it accepts tags with ":"-separated extensions ("F:x") and looks
// only at the first one.
func parseRecord(line []byte) (record, error) {
	var rec record
	tsField, rest, ok := bytes.Cut(line, []byte{' '})
	if !ok {
		return rec, fmt.Errorf("%w: no timestamp", ErrMalformed)
	}
	ts, err := time.Parse(time.RFC3339Nano, string(tsField))
	if err != nil {
		return rec, fmt.Errorf("%w: timestamp %q: %w", ErrMalformed, tsField, err)
	}
	rec.ts = ts
	streamField, rest, ok := bytes.Cut(rest, []byte{' '})
	if !ok {
		return rec, fmt.Errorf("%w: no stream", ErrMalformed)
	}
	switch string(streamField) {
	case Stdout:
		rec.stream = Stdout
	case Stderr:
		rec.stream = Stderr
	default:
		return rec, fmt.Errorf("%w: unknown stream %q", ErrMalformed, streamField)
	}
	tagField, content, ok := bytes.Cut(rest, []byte{' '})
	if !ok {
		return rec, fmt.Errorf("%w: no tag", ErrMalformed)
	}
	tag, _, _ := bytes.Cut(tagField, []byte{':'})
	switch {
	case len(tag) == 1 && tag[0] == tagPartial:
		rec.partial = true
	case len(tag) == 1 && tag[0] == tagFull:
	default:
		return rec, fmt.Errorf("%w: unknown tag %q", ErrMalformed, tagField)
	}
	rec.content = content
	return rec, nil
}
