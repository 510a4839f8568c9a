// Command podbox runs Kubernetes Pods on this host: `podbox run -f pod.yaml`,
// then get, logs, exec, stop and delete them as kubectl would.
//
// The binary is also re-executed as each pod's shim and as libcontainer's
// container init; sandbox.Init, called from init() before anything else,
// takes those roles over.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/podbox/podbox/sandbox"
)

func init() {
	// Before urfave/cli or anything else looks at the arguments.
	sandbox.Init()
}

func main() {
	app := newApp()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := app.RunContext(ctx, interspersed(app, os.Args))
	stop()
	closeProgress()
	if err == nil {
		return
	}
	var ec exitCoder
	if errors.As(err, &ec) {
		if msg := ec.Error(); msg != "" {
			fmt.Fprintln(os.Stderr, "Error:", msg)
		}
		os.Exit(ec.ExitCode())
	}
	fmt.Fprintln(os.Stderr, "Error:", err)
	os.Exit(1)
}

type exitCoder interface {
	error
	ExitCode() int
}

// exitError carries an exit code (a command's, for exec) and an optional
// message.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }
func (e *exitError) ExitCode() int { return e.code }
