package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// commandTimeout bounds every command the bench runs: a hung peer fails
// its scenario instead of the whole run.
const commandTimeout = 3 * time.Minute

// runCmd runs name with args and returns its stdout. The child gets a
// process group of its own, so that Ctrl-C reaches only the bench, which
// lets the command finish and then cleans up; stderr goes into the error.
// A nil ctx means context.Background.
func runCmd(ctx context.Context, env []string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// Commands that leave processes behind (podman's conmon) may hold a
	// pipe open: give stderr a file, so Wait does not wait for them.
	errf, err := os.CreateTemp("", "podbox-bench-stderr-")
	if err != nil {
		return "", fmt.Errorf("run %s: %w", name, err)
	}
	defer os.Remove(errf.Name())
	defer errf.Close()
	outf, err := os.CreateTemp("", "podbox-bench-stdout-")
	if err != nil {
		return "", fmt.Errorf("run %s: %w", name, err)
	}
	defer os.Remove(outf.Name())
	defer outf.Close()
	cmd.Stdout, cmd.Stderr = outf, errf
	runErr := cmd.Run()
	out, _ := os.ReadFile(outf.Name())
	if runErr != nil {
		msg, _ := os.ReadFile(errf.Name())
		return string(out), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), runErr, strings.TrimSpace(string(bytes.TrimSpace(msg))))
	}
	return string(out), nil
}

// timed runs f and returns how long it took.
func timed(f func() error) (time.Duration, error) {
	start := time.Now()
	err := f()
	return time.Since(start), err
}

// noCtrlC puts a long-lived child (the registry) in a process group of its
// own: Ctrl-C reaches the bench, which then stops it.
func noCtrlC() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
