package podstate

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func TestRootsPaths(t *testing.T) {
	r := Roots{Root: "/var/lib/podbox", State: "/run/podbox", LogDir: "/var/log/podbox/pods"}
	d := r.Pod("kube-system", "web-0")
	got := map[string]string{
		"PodsDir":    r.PodsDir(),
		"Pod":        d.String(),
		"DataDir":    r.DataDir("0f1e-uid"),
		"LogPodDir":  r.LogPodDir("kube-system", "web-0", "0f1e-uid"),
		"LogPath":    r.LogPath("kube-system", "web-0", "0f1e-uid", "nginx", 0),
		"LogPath 12": r.LogPath("kube-system", "web-0", "0f1e-uid", "nginx", 12),
		"RecordFile": d.RecordFile(),
		"StatusFile": d.StatusFile(),
		"EventsFile": d.EventsFile(),
		"LockFile":   d.LockFile(),
		"Socket":     d.Socket(),
		"ShimLog":    d.ShimLog(),
		"NsDir":      d.NsDir(),
		"EtcDir":     d.EtcDir(),
		"ShmDir":     d.ShmDir(),
		"RuncRoot":   d.RuncRoot(),
	}
	want := map[string]string{
		"PodsDir":    "/run/podbox/pods",
		"Pod":        "/run/podbox/pods/kube-system/web-0",
		"DataDir":    "/var/lib/podbox/pods/0f1e-uid",
		"LogPodDir":  "/var/log/podbox/pods/kube-system_web-0_0f1e-uid",
		"LogPath":    "/var/log/podbox/pods/kube-system_web-0_0f1e-uid/nginx/0.log",
		"LogPath 12": "/var/log/podbox/pods/kube-system_web-0_0f1e-uid/nginx/12.log",
		"RecordFile": "/run/podbox/pods/kube-system/web-0/pod.json",
		"StatusFile": "/run/podbox/pods/kube-system/web-0/status.json",
		"EventsFile": "/run/podbox/pods/kube-system/web-0/events.json",
		"LockFile":   "/run/podbox/pods/kube-system/web-0/shim.lock",
		"Socket":     "/run/podbox/pods/kube-system/web-0/shim.sock",
		"ShimLog":    "/run/podbox/pods/kube-system/web-0/shim.log",
		"NsDir":      "/run/podbox/pods/kube-system/web-0/ns",
		"EtcDir":     "/run/podbox/pods/kube-system/web-0/etc",
		"ShmDir":     "/run/podbox/pods/kube-system/web-0/shm",
		"RuncRoot":   "/run/podbox/pods/kube-system/web-0/runc",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("paths (-want +got):\n%s", diff)
	}
}

func testRoots(t *testing.T) Roots {
	base := t.TempDir()
	return Roots{Root: filepath.Join(base, "root"), State: filepath.Join(base, "state"), LogDir: filepath.Join(base, "logs")}
}

func testRecord(r Roots, ns, name string) *Record {
	return &Record{
		Pod: &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, UID: types.UID("uid-" + name)},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
		},
		BootID: "boot", Roots: r, CgroupParent: "/podbox", PauseBinary: "/usr/libexec/podbox/pause",
		BackOffBase: time.Second, BackOffMax: time.Minute,
	}
}

// entries lists a directory's names.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func TestCreatePod(t *testing.T) {
	r := testRoots(t)
	rec := testRecord(r, "default", "web")
	dir, lock, err := r.CreatePod(rec)
	if err != nil {
		t.Fatalf("CreatePod: %v", err)
	}
	defer lock.Close()
	if dir != r.Pod("default", "web") {
		t.Errorf("dir = %s, want %s", dir, r.Pod("default", "web"))
	}
	if diff := cmp.Diff([]string{"pod.json", "shim.lock"}, entries(t, dir.String())); diff != "" {
		t.Errorf("pod directory (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"web"}, entries(t, filepath.Dir(dir.String()))); diff != "" {
		t.Errorf("namespace directory (-want +got):\n%s", diff)
	}
	fi, err := os.Stat(dir.String())
	if err != nil || fi.Mode().Perm() != 0o711 {
		t.Errorf("pod directory mode %v, %v; want 0711", fi.Mode(), err)
	}
	if fi, err := os.Stat(dir.RecordFile()); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("pod.json mode %v, %v; want 0600", fi.Mode(), err)
	}
	got, err := dir.ReadRecord()
	if err != nil {
		t.Fatalf("ReadRecord: %v", err)
	}
	if diff := cmp.Diff(rec, got); diff != "" {
		t.Errorf("record (-want +got):\n%s", diff)
	}
	if lock.Name() != filepath.Join(filepath.Dir(lock.Name()), "shim.lock") {
		t.Errorf("lock file %s", lock.Name())
	}
	if !dir.ShimAlive() {
		t.Error("ShimAlive = false while CreatePod's lock is open")
	}
	if f, err := dir.HoldShimLock(); err == nil {
		f.Close()
		t.Error("HoldShimLock succeeded while CreatePod's lock is held")
	}

	// A second pod of the same name.
	d2, l2, err := r.CreatePod(testRecord(r, "default", "web"))
	if !errors.Is(err, ErrExist) {
		if l2 != nil {
			l2.Close()
		}
		t.Fatalf("second CreatePod = %s, %v; want ErrExist", d2, err)
	}
	if l2 != nil {
		t.Error("second CreatePod returned a lock file")
	}
	if diff := cmp.Diff([]string{"web"}, entries(t, filepath.Dir(dir.String()))); diff != "" {
		t.Errorf("after the failed CreatePod, namespace directory (-want +got):\n%s", diff)
	}
	// The first pod is intact.
	if !dir.ShimAlive() {
		t.Error("ShimAlive = false after a failed second CreatePod")
	}
	if _, err := dir.ReadRecord(); err != nil {
		t.Errorf("ReadRecord after a failed second CreatePod: %v", err)
	}

	// The same name in another namespace is another pod.
	d3, l3, err := r.CreatePod(testRecord(r, "other", "web"))
	if err != nil {
		t.Fatalf("CreatePod in another namespace: %v", err)
	}
	l3.Close()
	if d3 == dir {
		t.Error("two namespaces share a pod directory")
	}

	lock.Close()
	if dir.ShimAlive() {
		t.Error("ShimAlive = true after the lock was closed")
	}
	f, err := dir.HoldShimLock()
	if err != nil {
		t.Fatalf("HoldShimLock after the lock was closed: %v", err)
	}
	f.Close()
}

func TestCreatePodConcurrent(t *testing.T) {
	r := testRoots(t)
	const n = 10
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		wins  int
		locks []*os.File
		errs  []error
	)
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			// As Run does: the name's lock around the create.
			nl, err := r.LockName(context.Background(), "default", "race")
			if err != nil {
				t.Error(err)
				return
			}
			_, lock, err := r.CreatePod(testRecord(r, "default", "race"))
			nl.Unlock(false)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
				locks = append(locks, lock)
			case !errors.Is(err, ErrExist):
				errs = append(errs, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	for _, l := range locks {
		defer l.Close()
	}
	if wins != 1 || len(errs) != 0 {
		t.Fatalf("%d CreatePods won, unexpected errors %v; want exactly 1 winner and ErrExist for the rest", wins, errs)
	}
	if diff := cmp.Diff([]string{".race.lock", "race"}, entries(t, filepath.Join(r.PodsDir(), "default"))); diff != "" {
		t.Errorf("namespace directory (-want +got):\n%s", diff)
	}
	if !r.Pod("default", "race").ShimAlive() {
		t.Error("the winner's lock is not held")
	}
}

// TestCreatePodFails: a pod directory that cannot be made leaves nothing
// behind and the error says what failed.
func TestCreatePodFails(t *testing.T) {
	r := testRoots(t)
	if err := os.MkdirAll(r.State, 0o755); err != nil {
		t.Fatal(err)
	}
	// "pods" is a file: nothing can be created below it.
	if err := os.WriteFile(r.PodsDir(), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, lock, err := r.CreatePod(testRecord(r, "default", "web"))
	if err == nil {
		lock.Close()
		t.Fatal("CreatePod under a file succeeded")
	}
	if errors.Is(err, ErrExist) || !strings.Contains(err.Error(), "create pod directory") {
		t.Errorf("error = %v", err)
	}
	if diff := cmp.Diff([]string{"pods"}, entries(t, r.State)); diff != "" {
		t.Errorf("state directory (-want +got):\n%s", diff)
	}
}

// TestShimAliveOtherProcess: a lock held by another process (a shim) is
// seen, and released when that process dies.
func TestShimAliveOtherProcess(t *testing.T) {
	r := testRoots(t)
	dir, lock, err := r.CreatePod(testRecord(r, "default", "web"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sleep", "30")
	cmd.ExtraFiles = []*os.File{lock}
	if err := cmd.Start(); err != nil {
		lock.Close()
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	lock.Close() // only the child holds it now
	if !dir.ShimAlive() {
		t.Error("ShimAlive = false while a child process holds the lock")
	}
	if f, err := dir.HoldShimLock(); err == nil {
		f.Close()
		t.Error("HoldShimLock succeeded while a child holds the lock")
	}
	cmd.Process.Kill()
	cmd.Wait()
	if dir.ShimAlive() {
		t.Error("ShimAlive = true after the holder died")
	}
}

func TestShimAliveNoLockFile(t *testing.T) {
	d := Dir(t.TempDir())
	if d.ShimAlive() {
		t.Error("ShimAlive = true without a lock file")
	}
	if Dir(filepath.Join(string(d), "missing")).ShimAlive() {
		t.Error("ShimAlive = true for a missing directory")
	}
	// A lock file nobody holds.
	if err := os.WriteFile(d.LockFile(), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if d.ShimAlive() {
		t.Error("ShimAlive = true for an unheld lock file")
	}
	// ShimAlive's probe must not leave a lock behind.
	f, err := d.HoldShimLock()
	if err != nil {
		t.Fatalf("HoldShimLock after ShimAlive: %v", err)
	}
	f.Close()
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "status.json")
	if err := WriteFileAtomic(p, []byte("one"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(p, []byte("two!"), 0o600); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(p)
	if err != nil || string(data) != "two!" {
		t.Errorf("content %q, %v; want two!", data, err)
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, %v; want 0600", fi.Mode(), err)
	}
	if diff := cmp.Diff([]string{"status.json"}, entries(t, dir)); diff != "" {
		t.Errorf("directory (-want +got):\n%s", diff)
	}
	// Overwriting replaces the inode: an open reader keeps the old content.
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := WriteFileAtomic(p, []byte("three"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := make([]byte, 16)
	n, _ := f.Read(old)
	if string(old[:n]) != "two!" {
		t.Errorf("an open reader sees %q, want the old content", old[:n])
	}

	// Failures leave no temporary file.
	if err := WriteFileAtomic(filepath.Join(dir, "missing", "x"), []byte("x"), 0o600); err == nil {
		t.Error("WriteFileAtomic into a missing directory succeeded")
	}
	sub := filepath.Join(dir, "isdir")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sub, "keep"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	err = WriteFileAtomic(sub, []byte("x"), 0o600) // rename over a non-empty directory
	if err == nil || !strings.Contains(err.Error(), sub) {
		t.Errorf("WriteFileAtomic over a directory = %v, want an error naming it", err)
	}
	if diff := cmp.Diff([]string{"isdir", "status.json"}, entries(t, dir)); diff != "" {
		t.Errorf("after failures, directory (-want +got):\n%s", diff)
	}
}

func TestStatusRoundTrip(t *testing.T) {
	d := Dir(t.TempDir())
	s, err := d.ReadStatus()
	if err != nil {
		t.Fatalf("ReadStatus on a missing file: %v", err)
	}
	if diff := cmp.Diff(&Status{}, s); diff != "" {
		t.Errorf("missing status (-want +got):\n%s", diff)
	}
	now := metav1.NewTime(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC))
	want := &Status{
		Pod: corev1.PodStatus{Phase: corev1.PodRunning, StartTime: &now},
		Containers: map[string]*Container{"c": {ID: "c.0", Restarts: 2, LogPath: "/l/0.log", Running: true,
			Exec: &ExecDefaults{Env: []string{"A=1"}, Cwd: "/", UID: 1, GID: 2, AdditionalGIDs: []uint32{3}}}},
		DeletionTimestamp: &now, Final: true, ShimPID: 42, Updated: now.Time,
	}
	if err := d.WriteStatus(want); err != nil {
		t.Fatal(err)
	}
	got, err := d.ReadStatus()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}
	if err := os.WriteFile(d.StatusFile(), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ReadStatus(); err == nil || !strings.Contains(err.Error(), "parse") {
		t.Errorf("ReadStatus of a corrupt file = %v, want a parse error", err)
	}
}

func TestReadRecordErrors(t *testing.T) {
	d := Dir(t.TempDir())
	if _, err := d.ReadRecord(); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadRecord of a missing file = %v, want ErrNotExist", err)
	}
	if err := os.WriteFile(d.RecordFile(), []byte(`{"bootID":"x"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ReadRecord(); err == nil || !strings.Contains(err.Error(), "no pod") {
		t.Errorf("ReadRecord without a pod = %v", err)
	}
}

func TestBootID(t *testing.T) {
	id := BootID()
	if len(id) != 36 || strings.Count(id, "-") != 4 {
		t.Errorf("BootID() = %q, want a UUID", id)
	}
	if BootID() != id {
		t.Error("BootID changed")
	}
}

// The name lock excludes other holders, and a holder that removes the file
// (the pod is gone) does not strand a waiter on a dead inode.
func TestLockName(t *testing.T) {
	r := testRoots(t)
	ctx := context.Background()
	first, err := r.LockName(ctx, "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan *NameLock)
	go func() {
		l, err := r.LockName(ctx, "default", "web")
		if err != nil {
			t.Error(err)
		}
		got <- l
	}()
	select {
	case <-got:
		t.Fatal("a second holder got the lock")
	case <-time.After(100 * time.Millisecond):
	}
	first.Unlock(true) // removes the file
	second := <-got
	if _, err := os.Stat(filepath.Join(r.PodsDir(), "default", ".web.lock")); err != nil {
		t.Errorf("the second holder's lock file is not at the path: %v", err)
	}
	third, err := r.LockName(ctxTimeout(t, 50*time.Millisecond), "default", "web")
	if err == nil {
		third.Unlock(false)
		t.Error("a third holder got the lock while the second holds it")
	}
	second.Unlock(true)
	if _, err := os.Stat(filepath.Join(r.PodsDir(), "default", ".web.lock")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lock file left after Unlock(true): %v", err)
	}
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
