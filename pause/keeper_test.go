package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// envFakeShim makes the test binary act as a shim under a keeper: "bye"
// says bye on its keeper socket and exits 0; "crash" exits 1 without a
// word. Either way it first appends a line to <pod dir>/starts.
const envFakeShim = "PAUSE_TEST_FAKE_SHIM"

func init() {
	mode := os.Getenv(envFakeShim)
	if mode == "" {
		return
	}
	dir := os.Getenv(envPodDir)
	f, err := os.OpenFile(filepath.Join(dir, "starts"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err == nil {
		_, _ = f.WriteString("start\n")
		f.Close()
	}
	if mode == "bye" {
		if fd := envFD(envKeeperFD); fd >= 0 {
			_, _ = unix.Write(fd, []byte("bye"))
		}
		os.Exit(0)
	}
	os.Exit(1)
}

// startKeeper runs `pause keep` with the test binary as its shim.
func startKeeper(t *testing.T, bin, mode string) (*exec.Cmd, string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pod.json"), []byte(`{"pod":{"metadata":{"uid":"u-1"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	self, err := os.Open("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	defer self.Close()
	cmd := exec.Command(bin, "keep", "--", "fake-shim", "shim", dir)
	cmd.Env = []string{envPodDir + "=" + dir, envExeFD + "=3", envFakeShim + "=" + mode}
	cmd.ExtraFiles = []*os.File{self}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd, dir
}

func starts(dir string) int {
	data, _ := os.ReadFile(filepath.Join(dir, "starts"))
	return strings.Count(string(data), "start\n")
}

// exitCode waits (up to d) for the keeper to exit and returns its code, -1
// if it did not.
func exitCode(cmd *exec.Cmd, d time.Duration) int {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			return -2
		}
		return 0
	case <-time.After(d):
		return -1
	}
}

// A shim that says bye and exits is not replaced, however its bye and its
// exit race in the keeper; the keeper exits 0 and leaves its lock and pid
// file behind for nobody.
func TestKeeperByeIsFinal(t *testing.T) {
	bin := build(t)
	for i := 0; i < 20; i++ {
		cmd, dir := startKeeper(t, bin, "bye")
		if code := exitCode(cmd, 5*time.Second); code != 0 {
			t.Fatalf("round %d: keeper exit %d after the shim said bye, want 0", i, code)
		}
		if n := starts(dir); n != 1 {
			t.Fatalf("round %d: the shim was started %d times, want once", i, n)
		}
		data, err := os.ReadFile(filepath.Join(dir, "keeper.pid"))
		if err != nil || strings.TrimSpace(string(data)) != strconv.Itoa(cmd.Process.Pid) {
			t.Errorf("keeper.pid %q, %v; want %d", data, err, cmd.Process.Pid)
		}
	}
}

// A shim that dies is started again at once, then after a back-off of a
// second; SIGUSR1 cuts the back-off short; SIGTERM ends the keeper (exit 0).
// Once the pod is gone (its record removed), the keeper starts no shim and
// exits 6.
func TestKeeperRespawnsDeadShim(t *testing.T) {
	bin := build(t)
	cmd, dir := startKeeper(t, bin, "crash")
	waitCount := func(n int, d time.Duration) time.Duration {
		t.Helper()
		start := time.Now()
		for starts(dir) < n {
			if time.Since(start) > d {
				t.Fatalf("%d shim starts after %v, want %d", starts(dir), d, n)
			}
			time.Sleep(5 * time.Millisecond)
		}
		return time.Since(start)
	}
	waitCount(2, 2*time.Second) // the first restart is immediate
	if took := waitCount(3, 3*time.Second); took < 700*time.Millisecond {
		t.Errorf("the second restart came after %v, want the 1s back-off", took)
	}
	// Now in a 2s back-off: SIGUSR1 starts a shim at once.
	time.Sleep(100 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	if took := waitCount(4, 3*time.Second); took > time.Second {
		t.Errorf("SIGUSR1 started a shim only after %v", took)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := exitCode(cmd, 5*time.Second); code != 0 {
		t.Errorf("keeper exit %d after SIGTERM, want 0", code)
	}

	cmd, dir = startKeeper(t, bin, "crash")
	waitCount(2, 2*time.Second)
	if err := os.Remove(filepath.Join(dir, "pod.json")); err != nil {
		t.Fatal(err)
	}
	if code := exitCode(cmd, 5*time.Second); code != exitPodGone {
		t.Errorf("keeper exit %d once the pod is gone, want %d", code, exitPodGone)
	}
	if n := starts(dir); n != 2 {
		t.Errorf("%d shim starts, want 2 (none once the pod is gone)", n)
	}
}
