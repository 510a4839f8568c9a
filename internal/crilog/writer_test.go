package crilog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// parsedRecord is a record with the parts tests compare.
type parsedRecord struct {
	Stream  string
	Partial bool
	Content string
}

// readRecords parses every line of the log file at path.
func readRecords(t *testing.T, path string) []parsedRecord {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		t.Fatalf("log file does not end with a newline: %q", data)
	}
	var recs []parsedRecord
	for i, line := range bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
		if len(data) == 0 {
			break
		}
		rec, err := parseRecord(line)
		if err != nil {
			t.Fatalf("line %d %q: %v", i+1, line, err)
		}
		if rec.ts.Location() != time.UTC {
			t.Errorf("line %d: timestamp %v is not UTC", i+1, rec.ts)
		}
		recs = append(recs, parsedRecord{rec.stream, rec.partial, string(rec.content)})
	}
	return recs
}

// copyToFile runs Copy of input (as stream) into a new log file and
// returns its path. maxLine 0 keeps MaxLineSize.
func copyToFile(t *testing.T, stream, input string, maxLine int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "0.log")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := NewWriter(f)
	if maxLine > 0 {
		w.maxLine = maxLine
	}
	if err := w.Copy(stream, strings.NewReader(input)); err != nil {
		t.Fatalf("Copy: %v", err)
	}
	return path
}

func TestCopyRecords(t *testing.T) {
	long := strings.Repeat("x", MaxLineSize)
	tests := []struct {
		name    string
		input   string
		maxLine int
		want    []parsedRecord
	}{
		{"empty input", "", 0, nil},
		{"one line", "hello\n", 0, []parsedRecord{{Stdout, false, "hello"}}},
		{"empty lines", "\n\na\n", 0, []parsedRecord{{Stdout, false, ""}, {Stdout, false, ""}, {Stdout, false, "a"}}},
		{"no newline at EOF", "a\nb", 0, []parsedRecord{{Stdout, false, "a"}, {Stdout, true, "b"}}},
		{"crlf", "a\r\nb\rc\n\r\n", 0, []parsedRecord{{Stdout, false, "a"}, {Stdout, false, "b\rc"}, {Stdout, false, ""}}},
		{"lone cr at EOF", "a\r", 0, []parsedRecord{{Stdout, true, "a\r"}}},
		{"exactly max", long + "\n", 0, []parsedRecord{{Stdout, false, long}}},
		{"max plus one", long + "y\n", 0, []parsedRecord{{Stdout, true, long}, {Stdout, false, "y"}}},
		{"three times max", long + long + long + "\n", 0, []parsedRecord{{Stdout, true, long}, {Stdout, true, long}, {Stdout, false, long}}},
		{"long without newline", long + "zz", 0, []parsedRecord{{Stdout, true, long}, {Stdout, true, "zz"}}},
		{"small max", "abcdefghij\nab\n", 4, []parsedRecord{
			{Stdout, true, "abcd"}, {Stdout, true, "efgh"}, {Stdout, false, "ij"}, {Stdout, false, "ab"},
		}},
		{"crlf at the split point", "abcd\r\nabcde\r\n", 4, []parsedRecord{
			{Stdout, false, "abcd"}, {Stdout, true, "abcd"}, {Stdout, false, "e"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := readRecords(t, copyToFile(t, Stdout, tt.input, tt.maxLine))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("records mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCopyLongLineThroughSmallReads checks the P/F split does not depend on
// how the stream arrives: a 50000-byte line written in odd-sized pieces
// through a pipe, with a "\r\n" ending split across writes.
func TestCopyLongLineThroughSmallReads(t *testing.T) {
	line := strings.Repeat("0123456789", 5000)
	path := filepath.Join(t.TempDir(), "0.log")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pr, pw := io.Pipe()
	go func() {
		// The line in 999-byte pieces, then "\r" and "\n" in separate writes.
		for b := []byte(line); len(b) > 0; {
			n := min(len(b), 999)
			pw.Write(b[:n])
			b = b[n:]
		}
		pw.Write([]byte("\r"))
		pw.Write([]byte("\ntail\n"))
		pw.Close()
	}()
	if err := NewWriter(f).Copy(Stderr, pr); err != nil {
		t.Fatal(err)
	}
	want := []parsedRecord{
		{Stderr, true, line[:MaxLineSize]},
		{Stderr, true, line[MaxLineSize : 2*MaxLineSize]},
		{Stderr, true, line[2*MaxLineSize : 3*MaxLineSize]},
		{Stderr, false, line[3*MaxLineSize:]},
		{Stderr, false, "tail"},
	}
	if diff := cmp.Diff(want, readRecords(t, path)); diff != "" {
		t.Errorf("records mismatch (-want +got):\n%s", diff)
	}
}

// TestRoundTripPipe writes random output through a real pipe, in random
// pieces, and checks Read gives back exactly those bytes.
func TestRoundTripPipe(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var in bytes.Buffer
	for i := 0; i < 300; i++ {
		n := rng.IntN(100)
		if i%50 == 7 {
			n = MaxLineSize*2 + rng.IntN(100) // long lines too
		}
		for j := 0; j < n; j++ {
			in.WriteByte(byte(' ' + rng.IntN(95)))
		}
		if i%40 != 39 {
			in.WriteByte('\n')
		}
	}
	in.WriteString("\n\nlast line without newline")
	input := in.Bytes()

	path := filepath.Join(t.TempDir(), "0.log")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		b := input
		for len(b) > 0 {
			n := min(len(b), 1+rng.IntN(5000))
			if _, err := pw.Write(b[:n]); err != nil {
				break
			}
			b = b[n:]
		}
		pw.Close()
	}()
	err = NewWriter(f).Copy(Stdout, pr)
	pr.Close()
	if err != nil {
		t.Fatalf("Copy: %v", err)
	}
	var out bytes.Buffer
	if err := Read(context.Background(), path, ReadOptions{Tail: -1}, &out); err != nil {
		t.Fatalf("Read: %v", err)
	}
	if !bytes.Equal(input, out.Bytes()) {
		t.Errorf("round trip changed the output: wrote %d bytes, read %d back", len(input), out.Len())
	}
}

// TestConcurrentCopiers runs a stdout and a stderr copier into one file and
// checks no record is torn and each stream reads back intact.
func TestConcurrentCopiers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := NewWriter(f)
	inputs := map[string]string{}
	for _, s := range []string{Stdout, Stderr} {
		var b strings.Builder
		for i := 0; i < 2000; i++ {
			fmt.Fprintf(&b, "%s line %d %s\n", s, i, strings.Repeat(s[3:4], i%300))
			if i%500 == 0 {
				b.WriteString(strings.Repeat(s[3:4], MaxLineSize+100) + "\n")
			}
		}
		inputs[s] = b.String()
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for s, in := range inputs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pr, pw := io.Pipe()
			go func() {
				// Small writes make the copiers alternate often.
				for b := []byte(in); len(b) > 0; {
					n := min(len(b), 777)
					pw.Write(b[:n])
					b = b[n:]
				}
				pw.Close()
			}()
			errs <- w.Copy(s, pr)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("Copy: %v", err)
		}
	}
	recs := readRecords(t, path) // fails on any torn record
	streams := map[string]bool{}
	for _, r := range recs {
		streams[r.Stream] = true
		if want := r.Stream[3:4]; !strings.Contains(r.Content, want) && r.Content != "" {
			t.Fatalf("record of %s holds foreign content %q", r.Stream, r.Content)
		}
	}
	for s, in := range inputs {
		var out bytes.Buffer
		if err := Read(context.Background(), path, ReadOptions{Tail: -1, Stream: s}, &out); err != nil {
			t.Fatal(err)
		}
		if out.String() != in {
			t.Errorf("%s read back differs from what was written (%d vs %d bytes)", s, out.Len(), len(in))
		}
	}
}

type errWriter struct{ n int }

var errDiskFull = errors.New("no space left on device")

func (e *errWriter) Write(p []byte) (int, error) {
	e.n++
	return 0, errDiskFull
}

// TestCopyWriteErrorDrains checks a failing log file does not stop Copy
// from draining the stream, and that the error comes back.
func TestCopyWriteErrorDrains(t *testing.T) {
	ew := &errWriter{}
	src := strings.NewReader(strings.Repeat("line\n", 1000))
	err := NewWriter(ew).Copy(Stdout, src)
	if !errors.Is(err, errDiskFull) {
		t.Fatalf("Copy = %v, want an error wrapping %v", err, errDiskFull)
	}
	if src.Len() != 0 || ew.n != 1000 {
		t.Errorf("Copy stopped early: %d bytes left unread, %d writes tried", src.Len(), ew.n)
	}
}

func TestCopyInvalidStream(t *testing.T) {
	err := NewWriter(io.Discard).Copy("stdin", strings.NewReader("x\n"))
	if !errors.Is(err, ErrInvalidStream) {
		t.Fatalf("Copy(stdin) = %v, want ErrInvalidStream", err)
	}
}

func TestRecordFormat(t *testing.T) {
	ts := time.Date(2016, 10, 6, 0, 17, 9, 669794202, time.FixedZone("CEST", 2*3600))
	got := string(appendRecord(nil, ts, Stdout, false, []byte("log content")))
	want := "2016-10-05T22:17:09.669794202Z stdout F log content\n"
	if got != want {
		t.Errorf("appendRecord = %q, want %q", got, want)
	}
	got = string(appendRecord(nil, ts.Truncate(time.Second), Stderr, true, nil))
	want = "2016-10-05T22:17:09Z stderr P \n"
	if got != want {
		t.Errorf("appendRecord = %q, want %q", got, want)
	}
}

// TestCopyCRAtBufferBoundary puts the "\r" of a "\r\n" ending at the very
// end of Copy's read buffer: it must still be dropped, and the line split
// as if it was never there (32767 = 4681 × 7).
func TestCopyCRAtBufferBoundary(t *testing.T) {
	content := strings.Repeat("a", copyBufferSize-1)
	recs := readRecords(t, copyToFile(t, Stdout, content+"\r\n", 7))
	if len(recs) != 4681 {
		t.Fatalf("got %d records, want 4681", len(recs))
	}
	for i, r := range recs {
		if r.Content != "aaaaaaa" || r.Partial != (i < 4680) {
			t.Fatalf("record %d = %+v, want 7 a's, partial %v", i, r, i < 4680)
		}
	}
}
