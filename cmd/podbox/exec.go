package main

import (
	"fmt"
	"os"
	"os/signal"

	"github.com/containerd/console"
	"github.com/podbox/podbox/sandbox"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"
)

func execCommand() *cli.Command {
	return &cli.Command{
		Name:      "exec",
		Usage:     "run a command in a running container",
		UsageText: "podbox exec POD [-c CONTAINER] [-i] [-t] -- COMMAND [ARGS...]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "container", Aliases: []string{"c"}, Usage: "container name"},
			&cli.BoolFlag{Name: "stdin", Aliases: []string{"i"}, Usage: "pass stdin to the command"},
			&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "allocate a terminal for the command"},
			namespaceFlag(),
		},
		Action: func(c *cli.Context) error {
			if err := needArgs(c, 2, "exec POD -- COMMAND [ARGS...]"); err != nil {
				return err
			}
			rt, err := openRuntime(c)
			if err != nil {
				return err
			}
			args := c.Args().Slice()
			name, command := args[0], args[1:]
			if len(command) > 0 && command[0] == "--" {
				command = command[1:]
			}
			opts := sandbox.ExecOptions{Container: c.String("container"), Command: command,
				Stdout: os.Stdout, Stderr: os.Stderr}
			if c.Bool("stdin") {
				opts.Stdin = os.Stdin
			}
			if c.Bool("tty") {
				restore, err := setupTTY(&opts)
				if err != nil {
					return err
				}
				defer restore()
			}
			reviveName(c.Context, rt, namespace(c), name)
			code, err := rt.Exec(c.Context, namespace(c), name, opts)
			if err != nil {
				return err
			}
			if code != 0 {
				return &exitError{code: code, msg: fmt.Sprintf("command terminated with exit code %d", code)}
			}
			return nil
		},
	}
}

// setupTTY puts the local terminal in raw mode (if stdin is one) and keeps
// the remote terminal's size in step with it.
func setupTTY(opts *sandbox.ExecOptions) (func(), error) {
	opts.TTY = true
	cur, err := console.ConsoleFromFile(os.Stdin)
	if err != nil {
		return func() {}, nil // not a terminal: a pty in the container, plain streams here
	}
	if sz, err := cur.Size(); err == nil {
		opts.Width, opts.Height = sz.Width, sz.Height
	}
	if err := cur.SetRaw(); err != nil {
		return nil, fmt.Errorf("set terminal raw: %w", err)
	}
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, unix.SIGWINCH)
	opts.OnTTY = func(master *os.File) {
		go func() {
			for range winch {
				if sz, err := cur.Size(); err == nil {
					_ = sandbox.ResizeTTY(master, sz.Width, sz.Height)
				}
			}
		}()
	}
	return func() {
		signal.Stop(winch)
		_ = cur.Reset()
	}, nil
}
