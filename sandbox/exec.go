package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/podbox/podbox/internal/runtime"
	"github.com/podbox/podbox/internal/shim"
	"golang.org/x/sys/unix"
)

// ExecOptions describe a command to run in a running container.
type ExecOptions struct {
	// Container names the container; empty means the default container.
	Container string
	Command   []string
	// Stdin, Stdout and Stderr are the process's streams; nil Stdin means
	// no input, nil Stdout/Stderr discard. Files are handed to the process
	// directly.
	Stdin          *os.File
	Stdout, Stderr *os.File
	// TTY runs the command on a new pseudo-terminal in the container;
	// Stdin and Stdout are copied to and from it.
	TTY           bool
	Width, Height uint16
	// OnTTY, if set, is called with the terminal's master end once it
	// exists (to follow window size changes with ResizeTTY).
	OnTTY func(master *os.File)
}

// ResizeTTY sets the size of an exec's terminal.
func ResizeTTY(master *os.File, width, height uint16) error {
	return runtime.Resize(master, width, height)
}

// Exec runs a command in a running container of a pod as the container's
// user, with its environment and working directory, and returns its exit
// code (128+signal if it was killed).
func (r *Runtime) Exec(ctx context.Context, namespace, name string, opts ExecOptions) (int, error) {
	if len(opts.Command) == 0 {
		return -1, errors.New("exec: no command given")
	}
	namespace, dir, err := r.podDir(namespace, name)
	if err != nil {
		return -1, err
	}
	pod, _, st, err := r.pod(dir)
	if errors.Is(err, os.ErrNotExist) {
		return -1, notFound(namespace, name)
	}
	if err != nil {
		return -1, err
	}
	ctr := opts.Container
	if ctr == "" {
		ctr, _ = DefaultContainer(pod)
	}
	if err := findContainer(pod, ctr); err != nil {
		return -1, err
	}
	info := st.Containers[ctr]
	if info == nil || !info.Running || info.Exec == nil || pod.Status.Phase == "Unknown" {
		return -1, fmt.Errorf("cannot exec into container %q of pod %q: the container is not running", ctr, name)
	}
	c, err := runtime.Load(dir.RuncRoot(), info.ID)
	if err != nil {
		return -1, fmt.Errorf("exec in %s/%s: %w", name, ctr, err)
	}
	env := info.Exec.Env
	if info.Exec.EnvFile != "" {
		// Values from Secrets: kept on the pod's secret tmpfs.
		if env, err = shim.ReadEnvFile(info.Exec.EnvFile); err != nil {
			return -1, fmt.Errorf("exec in %s/%s: %w", name, ctr, err)
		}
	}
	p := runtime.Process{
		Args: opts.Command, Env: env, Cwd: info.Exec.Cwd,
		UID: info.Exec.UID, GID: info.Exec.GID, AdditionalGIDs: info.Exec.AdditionalGIDs,
	}
	proc, master, err := c.Exec(runtime.ExecOptions{
		Process: p,
		Stdio:   runtime.Stdio{Stdin: opts.Stdin, Stdout: opts.Stdout, Stderr: opts.Stderr},
		TTY:     opts.TTY, Width: opts.Width, Height: opts.Height,
	})
	if err != nil {
		return -1, err
	}
	var copies sync.WaitGroup
	if master != nil {
		defer master.Close()
		if opts.OnTTY != nil {
			opts.OnTTY(master)
		}
		if opts.Stdin != nil {
			go func() { _, _ = io.Copy(master, opts.Stdin) }()
		}
		if opts.Stdout != nil {
			copies.Add(1)
			go func() { defer copies.Done(); _, _ = io.Copy(opts.Stdout, master) }()
		}
	}
	stop := context.AfterFunc(ctx, func() { _ = proc.Signal(unix.SIGKILL) })
	defer stop()
	exit, err := proc.Wait()
	copies.Wait()
	if err != nil {
		return -1, err
	}
	return exit.Code, nil
}
