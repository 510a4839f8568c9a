package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// maxSize is the pause binary's size budget.
const maxSize = 1_700_000

// build compiles pause the way the Makefile does.
func build(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "pause")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version=test", "-o", out, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build pause: %v\n%s", err, b)
	}
	return out
}

// pause may import the standard library and golang.org/x/sys only.
func TestImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, p := range strings.Fields(string(out)) {
		if p != "github.com/podbox/podbox/pause" && !strings.HasPrefix(p, "golang.org/x/sys/") {
			t.Errorf("pause imports %s: only the standard library and golang.org/x/sys are allowed", p)
		}
	}
}

func TestStaticAndSmall(t *testing.T) {
	bin := build(t)
	st, err := os.Stat(bin)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() >= maxSize {
		t.Errorf("pause is %d bytes, over the %d budget", st.Size(), maxSize)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte("ld-linux")) || bytes.Contains(data, []byte(".interp")) {
		t.Error("pause is dynamically linked")
	}
	t.Logf("pause: %d bytes", st.Size())
}

func TestVersionAndUsage(t *testing.T) {
	bin := build(t)
	out, err := exec.Command(bin, "-v").CombinedOutput()
	if err != nil || string(out) != "pause test\n" {
		t.Errorf("pause -v: %q, %v", out, err)
	}
	err = exec.Command(bin, "--bogus").Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitUsage {
		t.Errorf("unknown argument: %v, want exit %d", err, exitUsage)
	}
}

// Not PID 1: pause warns, becomes a subreaper, reaps what it inherits and
// exits 0 on SIGTERM.
func TestNotPID1(t *testing.T) {
	bin := build(t)
	var stderr syncBuffer
	cmd := exec.Command(bin)
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	waitFor(t, func() bool { return strings.Contains(stderr.String(), "not running as PID 1") }, &stderr)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("pause after SIGTERM: %v, want exit 0", err)
	}
}

// As PID 1 of a new PID namespace pause reaps every orphan reparented to it
// and exits 0 on SIGINT and SIGTERM.
func TestPID1ReapsOrphans(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("this test needs root (a new PID namespace): run make test as root")
	}
	bin := build(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		cmd := exec.Command(bin)
		cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID}
		var stderr syncBuffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// A failed check must not leave pause (and its orphans) behind.
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		// Orphans: children of a process that enters pause's PID namespace and
		// exits at once, so they are reparented to pause.
		makeOrphans(t, cmd.Process.Pid, 100)
		waitFor(t, func() bool { return zombiesOf(cmd.Process.Pid) == 0 && childrenOf(cmd.Process.Pid) == 0 }, &stderr)
		if err := cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			t.Errorf("pause after %v: %v (stderr %q), want exit 0", sig, err, stderr.String())
		}
		if stderr.String() != "" {
			t.Errorf("pause as PID 1 printed %q", stderr.String())
		}
	}
}

// makeOrphans starts, inside the PID namespace of pid, a shell that forks n
// short sleeps and exits.
func makeOrphans(t *testing.T, pid, n int) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // this thread changes PID namespace: never unlocked
		fd, err := unix.Open(fmt.Sprintf("/proc/%d/ns/pid", pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			done <- err
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWPID); err != nil {
			done <- err
			return
		}
		// Long enough that all of them are alive at once even on a loaded
		// machine (forking 100 sleeps took 0.3 s here).
		sh := fmt.Sprintf("for i in $(seq %d); do sleep 2 & done", n)
		done <- exec.Command("/bin/sh", "-c", sh).Run()
	}()
	if err := <-done; err != nil {
		t.Fatalf("make orphans: %v", err)
	}
	// They are now pause's children.
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	for childrenOf(pid) < n && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	if c := childrenOf(pid); c < n {
		t.Fatalf("only %d of %d orphans were reparented to pause", c, n)
	}
}

func childrenOf(pid int) int { return countProcs(pid, false) }
func zombiesOf(pid int) int  { return countProcs(pid, true) }

func countProcs(ppid int, zombiesOnly bool) int {
	n := 0
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, s := range stats {
		data, err := os.ReadFile(s)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		rest := string(data[strings.LastIndexByte(string(data), ')')+2:])
		f := strings.Fields(rest)
		if len(f) < 2 {
			continue
		}
		if p, _ := strconv.Atoi(f[1]); p == ppid && (!zombiesOnly || f[0] == "Z") {
			n++
		}
	}
	return n
}

func waitFor(t *testing.T, cond func() bool, stderr *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out; pause stderr: %q", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// syncBuffer is a bytes.Buffer safe for the writer goroutine exec starts.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
