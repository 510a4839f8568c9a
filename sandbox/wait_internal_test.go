package sandbox

import (
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/podbox/podbox/internal/podstate"
)

// A waiter wakes as soon as a status is renamed into the pod's directory
// or the shim's lock is released, not at its 100ms fallback.
func TestPodWatchWakesOnChange(t *testing.T) {
	dir := t.TempDir()
	lock, err := os.OpenFile(filepath.Join(dir, "shim.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	w := watchPod(podstate.Dir(dir))
	defer w.close()
	if w.fd < 0 {
		t.Fatal("no inotify watch on the pod directory")
	}
	var released atomic.Bool
	for _, change := range []struct {
		name    string
		do      func() error
		visible func() bool
	}{
		{"status written", func() error {
			return podstate.WriteFileAtomic(filepath.Join(dir, "status.json"), []byte("{}"), 0o600)
		}, func() bool { _, err := os.Stat(filepath.Join(dir, "status.json")); return err == nil }},
		{"lock released", func() error { released.Store(true); return lock.Close() }, released.Load},
	} {
		var at atomic.Int64
		go func() {
			time.Sleep(30 * time.Millisecond)
			at.Store(time.Now().UnixNano())
			if err := change.do(); err != nil {
				t.Error(err)
			}
		}()
		for !change.visible() {
			if err := w.next(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		if late := time.Since(time.Unix(0, at.Load())); late > 50*time.Millisecond {
			t.Errorf("%s: the waiter saw it %v after it happened", change.name, late)
		}
	}
}
