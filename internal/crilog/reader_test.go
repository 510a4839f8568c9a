package crilog

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// t0 is the time of the first record of hand-made log files.
var t0 = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

// rec is a record of a hand-made log file, sec seconds after t0.
type rec struct {
	sec     int
	stream  string
	partial bool
	content string
}

func writeLog(t *testing.T, recs []rec) string {
	t.Helper()
	var b []byte
	for _, r := range recs {
		b = appendRecord(b, t0.Add(time.Duration(r.sec)*time.Second), r.stream, r.partial, []byte(r.content))
	}
	path := filepath.Join(t.TempDir(), "0.log")
	if err := os.WriteFile(path, b, 0o640); err != nil {
		t.Fatal(err)
	}
	return path
}

// interleaved has long lines split into partial records of both streams
// interleaved, as two copiers write them.
var interleaved = []rec{
	{1, Stdout, false, "one"},
	{2, Stdout, true, "tw"},
	{2, Stderr, false, "err-a"},
	{3, Stdout, true, "o-"},
	{3, Stderr, true, "err-"},
	{4, Stdout, false, "two"},
	{5, Stderr, false, "b"},
	{6, Stdout, false, ""},
	{7, Stdout, true, "three-"},
	{8, Stdout, false, "end"},
	{9, Stderr, true, "no newline"},
}

func TestRead(t *testing.T) {
	path := writeLog(t, interleaved)
	tests := []struct {
		name string
		opts ReadOptions
		want string
	}{
		{"all", ReadOptions{Tail: -1}, "one\nerr-a\ntwo-two\nerr-b\n\nthree-end\nno newline"},
		{"tail 0", ReadOptions{Tail: 0}, ""},
		{"tail 1 is the unterminated line", ReadOptions{Tail: 1}, "no newline"},
		{"tail 3 counts lines, not records", ReadOptions{Tail: 3}, "\nthree-end\nno newline"},
		{"tail 5", ReadOptions{Tail: 5}, "two-two\nerr-b\n\nthree-end\nno newline"},
		{"tail more than there is", ReadOptions{Tail: 100}, "one\nerr-a\ntwo-two\nerr-b\n\nthree-end\nno newline"},
		{"stdout", ReadOptions{Tail: -1, Stream: Stdout}, "one\ntwo-two\n\nthree-end\n"},
		{"stderr", ReadOptions{Tail: -1, Stream: Stderr}, "err-a\nerr-b\nno newline"},
		{"stdout tail 2", ReadOptions{Tail: 2, Stream: Stdout}, "\nthree-end\n"},
		{"stderr tail 1", ReadOptions{Tail: 1, Stream: Stderr}, "no newline"},
		// A line's time is its first record's: "two-two" started at 2s.
		{"since a partial line's start", ReadOptions{Tail: -1, Since: t0.Add(2 * time.Second)}, "err-a\ntwo-two\nerr-b\n\nthree-end\nno newline"},
		{"since is inclusive", ReadOptions{Tail: -1, Since: t0.Add(3 * time.Second)}, "err-b\n\nthree-end\nno newline"},
		{"since after a line started", ReadOptions{Tail: -1, Since: t0.Add(7500 * time.Millisecond)}, "no newline"},
		{"since and tail", ReadOptions{Tail: 2, Since: t0.Add(2 * time.Second), Stream: Stdout}, "\nthree-end\n"},
		{"since after everything", ReadOptions{Tail: -1, Since: t0.Add(time.Hour)}, ""},
		{"timestamps", ReadOptions{Tail: 3, Timestamps: true},
			"2025-03-01T10:00:06.000000000Z \n2025-03-01T10:00:07.000000000Z three-end\n2025-03-01T10:00:09.000000000Z no newline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := Read(context.Background(), path, tt.opts, &out); err != nil {
				t.Fatalf("Read: %v", err)
			}
			if diff := cmp.Diff(tt.want, out.String()); diff != "" {
				t.Errorf("Read(%+v) mismatch (-want +got):\n%s", tt.opts, diff)
			}
		})
	}
}

func TestReadTimestampsNanos(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	data := "2016-10-06T00:17:09.669794202Z stdout F log content 1\n" +
		"2016-10-06T02:17:09.5+02:00 stderr F:x log content 2\n"
	if err := os.WriteFile(path, []byte(data), 0o640); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := Read(context.Background(), path, ReadOptions{Tail: -1, Timestamps: true}, &out); err != nil {
		t.Fatal(err)
	}
	want := "2016-10-06T00:17:09.669794202Z log content 1\n2016-10-06T00:17:09.500000000Z log content 2\n"
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("Read mismatch (-want +got):\n%s", diff)
	}
}

func TestReadMalformed(t *testing.T) {
	good := "2025-03-01T10:00:00Z stdout F fine\n"
	tests := []struct {
		name, data, msg string
	}{
		{"bad timestamp", good + good + "yesterday stdout F x\n", "line 3"},
		{"unknown stream", good + "2025-03-01T10:00:00Z stdin F x\n", "line 2"},
		{"unknown tag", "2025-03-01T10:00:00Z stdout X x\n", "line 1"},
		{"no tag", good + "2025-03-01T10:00:00Z stdout\n", "line 2"},
		{"empty line", good + "\n" + good, "line 2"},
		{"unterminated garbage", good + "garbage", "line 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "0.log")
			if err := os.WriteFile(path, []byte(tt.data), 0o640); err != nil {
				t.Fatal(err)
			}
			err := Read(context.Background(), path, ReadOptions{Tail: -1}, &bytes.Buffer{})
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.msg+":") {
				t.Fatalf("Read = %v, want ErrMalformed naming %q", err, tt.msg)
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	err := Read(context.Background(), filepath.Join(t.TempDir(), "missing.log"), ReadOptions{Tail: -1}, &bytes.Buffer{})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Read of a missing file = %v, want ErrNotExist", err)
	}
	path := writeLog(t, interleaved)
	err = Read(context.Background(), path, ReadOptions{Tail: -1, Stream: "both"}, &bytes.Buffer{})
	if !errors.Is(err, ErrInvalidStream) {
		t.Errorf("Read with Stream %q = %v, want ErrInvalidStream", "both", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Read(ctx, path, ReadOptions{Tail: -1}, &bytes.Buffer{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Read with a cancelled context = %v, want context.Canceled", err)
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor polls until cond holds, failing the test after a few seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestFollow follows a file a Writer appends to: lines show up while the
// "container" runs, and Read returns once Done and the file is read.
func TestFollow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := NewWriter(f)
	if err := w.Copy(Stdout, strings.NewReader("old 1\nold 2\nold 3\n")); err != nil {
		t.Fatal(err)
	}

	var done atomic.Bool
	var out syncBuffer
	result := make(chan error, 1)
	start := time.Now()
	go func() {
		result <- Read(context.Background(), path, ReadOptions{Tail: 1, Follow: true, Done: done.Load}, &out)
	}()
	waitFor(t, "the tail", func() bool { return out.String() == "old 3\n" })

	// Each line must come through before the next is written: Read
	// streams, it does not wait for the end.
	want := "old 3\n"
	for _, line := range []string{"new 1\n", "new 2 is longer\n", "\n"} {
		if err := w.Copy(Stdout, strings.NewReader(line)); err != nil {
			t.Fatal(err)
		}
		want += line
		waitFor(t, "line "+strings.TrimSpace(line), func() bool { return out.String() == want })
	}
	// A partial line is held until it is complete, or until the end.
	if err := w.Copy(Stderr, strings.NewReader("stderr ")); err != nil {
		t.Fatal(err)
	}
	if err := w.Copy(Stdout, strings.NewReader("last\n")); err != nil {
		t.Fatal(err)
	}
	want += "last\n"
	waitFor(t, "line last", func() bool { return out.String() == want })
	// The container writes its final output and exits.
	if err := w.Copy(Stderr, strings.NewReader("bye")); err != nil {
		t.Fatal(err)
	}
	done.Store(true)
	select {
	case err := <-result:
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Read did not return after Done")
	}
	want += "stderr bye"
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("followed output mismatch (-want +got):\n%s", diff)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("follow took %v", d)
	}
}

// TestFollowDoneWithoutWrites checks Read notices Done even when the file
// never changes, and that it reads what was written before Done was seen.
func TestFollowDoneWithoutWrites(t *testing.T) {
	path := writeLog(t, []rec{{1, Stdout, false, "only"}})
	var out bytes.Buffer
	start := time.Now()
	var calls atomic.Int32
	done := func() bool { return calls.Add(1) > 3 }
	if err := Read(context.Background(), path, ReadOptions{Tail: -1, Follow: true, Done: done}, &out); err != nil {
		t.Fatal(err)
	}
	if out.String() != "only\n" {
		t.Errorf("Read = %q, want %q", out.String(), "only\n")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Read took %v to notice Done", d)
	}
}

// TestFollowCancel checks a follower without Done stops when its context
// is cancelled, promptly, with the context's error.
func TestFollowCancel(t *testing.T) {
	path := writeLog(t, interleaved)
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	result := make(chan error, 1)
	go func() {
		result <- Read(ctx, path, ReadOptions{Tail: 0, Follow: true}, &out)
	}()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-result:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Read = %v, want context.Canceled", err)
		}
	case <-time.After(time.Second):
		t.Fatal("Read did not stop on cancel")
	}
	if out.String() != "" {
		t.Errorf("Tail 0 follow printed old lines: %q", out.String())
	}
}

// TestFollowPolling exercises the polling fallback used when inotify is
// not available.
func TestFollowPolling(t *testing.T) {
	path := writeLog(t, nil)
	w := &waiter{} // polling
	ctx, cancel := context.WithCancel(context.Background())
	start := time.Now()
	if err := w.wait(ctx, 20*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Errorf("poll returned after %v, before its interval", d)
	}
	cancel()
	if err := w.wait(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("wait with cancelled context = %v", err)
	}
	ino := newWaiter(path)
	defer ino.close()
	if ino.ino == nil {
		t.Fatal("inotify waiter fell back to polling on a plain file")
	}
}
