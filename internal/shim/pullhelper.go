package shim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/podbox/podbox/image"
	"golang.org/x/sys/unix"
)

// PullHelperArg is the argument that makes the podbox program that ran a
// pod (the CLI, or a program embedding the sandbox package) pull an image
// for the pod's shim: `PROGRAM pull-helper POD_DIR IMAGE`. The shim binary
// leaves containers/image out, because every container start re-executes
// the shim's binary and a smaller one starts much faster; pulls, which are
// rare next to starts, run in the program that has it.
const PullHelperArg = "pull-helper"

// PullHelperResult is what the pull helper prints on stdout, as JSON.
type PullHelperResult struct {
	// Error is the pull's error message, empty on success.
	Error string `json:"error,omitempty"`
	// InvalidName: the image name does not parse (InvalidImageName).
	InvalidName bool `json:"invalidName,omitempty"`
}

// IsPullHelper reports whether this process was started as a pull helper.
func IsPullHelper() bool { return len(os.Args) > 1 && os.Args[1] == PullHelperArg }

// pullVia pulls name through the pod's pull helper (the program recorded
// when the pod was run) and returns the image from the store. Cancelling
// ctx kills the helper; what a killed pull staged is removed by the store.
func (s *shim) pullVia(ctx context.Context, name string) (*image.Image, error) {
	bin := pullProgram(s.rec.PullBinary)
	if bin == "" {
		return nil, fmt.Errorf("no program to pull with: %q (the program that ran the pod) is gone, and no podbox is installed next to the shim or in $PATH", s.rec.PullBinary)
	}
	cmd := exec.Command(bin, PullHelperArg, string(s.dir), name)
	cmd.Args[0] = "podbox-pull"
	cmd.Dir = "/"
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// Its exit is ours to collect, not the orphan reaper's.
	wait, err := s.startChild(cmd)
	if err != nil {
		return nil, fmt.Errorf("start the pull helper %s: %w", bin, err)
	}
	waited := make(chan error, 1)
	go func() { waited <- wait() }()
	select {
	case err = <-waited:
	case <-ctx.Done():
		_ = cmd.Process.Signal(unix.SIGKILL)
		if werr := <-waited; werr == nil {
			// It finished before the kill landed; the pod stops anyway.
			s.log.Debug("pull helper ended as it was cancelled", "image", name)
		}
		return nil, ctx.Err()
	}
	var res PullHelperResult
	if jerr := json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &res); jerr != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" && err != nil {
			msg = err.Error()
		}
		return nil, fmt.Errorf("pull helper %s: %s", bin, msg)
	}
	switch {
	case res.Error != "":
		return nil, &pullError{msg: res.Error, invalidName: res.InvalidName}
	case err != nil:
		return nil, fmt.Errorf("pull helper %s: %w", bin, err)
	}
	return s.store.Get(ctx, name)
}

// pullError is a pull helper's error, with the pull's message as it was.
type pullError struct {
	msg         string
	invalidName bool
}

func (e *pullError) Error() string { return e.msg }

// Is makes errors.Is(err, image.ErrInvalidName) hold for a name that does
// not parse.
func (e *pullError) Is(target error) bool { return e.invalidName && target == image.ErrInvalidName }

// pullProgram is the program a shim pulls with: the one that ran the pod,
// else podbox next to the shim or in $PATH (the one that ran the pod may
// be gone: `go run`, an uninstall).
func pullProgram(recorded string) string {
	candidates := []string{recorded}
	if exe, err := os.Executable(); err == nil {
		candidates = append(candidates, filepath.Join(filepath.Dir(exe), "podbox"))
	}
	if p, err := exec.LookPath("podbox"); err == nil {
		candidates = append(candidates, p)
	}
	for _, c := range candidates {
		if st, err := os.Stat(c); c != "" && err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return c
		}
	}
	return ""
}
