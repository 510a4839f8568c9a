package crilog

import (
	"bytes"
	"io"
	"testing"
)

// BenchmarkWriterCopy measures the CRI formatting of a container's output
// (timestamp, stream, F/P tag per line) as the shim copies it to the log
// file: 1000 lines of 80 bytes per op.
func BenchmarkWriterCopy(b *testing.B) {
	line := append(bytes.Repeat([]byte("x"), 79), '\n')
	out := bytes.Repeat(line, 1000)
	w := NewWriter(io.Discard)
	b.SetBytes(int64(len(out)))
	b.ReportAllocs()
	for b.Loop() {
		if err := w.Copy(Stdout, bytes.NewReader(out)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriterCopyLongLine is the same for one 64 KiB line, split into
// partial records.
func BenchmarkWriterCopyLongLine(b *testing.B) {
	out := append(bytes.Repeat([]byte("y"), 64<<10), '\n')
	w := NewWriter(io.Discard)
	b.SetBytes(int64(len(out)))
	b.ReportAllocs()
	for b.Loop() {
		if err := w.Copy(Stderr, bytes.NewReader(out)); err != nil {
			b.Fatal(err)
		}
	}
}
