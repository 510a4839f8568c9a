// Command pause is PID 1 of a podbox pod.
//
// It does almost nothing, on purpose: it holds the pod's PID namespace open,
// reaps every child it inherits (orphans of containers that share the pod's
// PID namespace are reparented to it), and exits 0 on SIGINT or SIGTERM. When
// it is not PID 1 it says so on stderr and makes itself a child subreaper, so
// it still reaps what is orphaned below it.
//
// The same binary, run as `pause keep -- SHIM...` outside the pod, is the
// pod's keeper: the small process above the shim that makes a dead shim
// cost nothing (see keeper.go).
//
// It is a static binary built from the standard library and golang.org/x/sys
// only (a test enforces the import set and a size budget), so podbox can run
// it from a tiny read-only rootfs of its own and never pulls a pause image.
package main

import (
	"os"
	"os/signal"

	"golang.org/x/sys/unix"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Exit codes, distinct so that a failure can be told apart from a normal stop.
const (
	exitOK       = 0
	exitUsage    = 2
	exitSetup    = 3
	exitSignalIO = 4
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) > 0 && args[0] == "keep" {
		return keep(args[1:])
	}
	for _, a := range args {
		switch a {
		case "-v", "--version", "-version":
			os.Stdout.WriteString("pause " + version + "\n")
			return exitOK
		default:
			os.Stderr.WriteString("pause: unknown argument " + "\"" + a + "\"" + "\nusage: pause [-v] | pause keep -- SHIM [ARGS...]\n")
			return exitUsage
		}
	}

	// The handler goes in before anything is said: whoever starts pause may
	// signal it as soon as it speaks.
	sigs := make(chan os.Signal, 32)
	signal.Notify(sigs, unix.SIGCHLD, unix.SIGINT, unix.SIGTERM)
	if os.Getpid() != 1 {
		os.Stderr.WriteString("pause: warning: not running as PID 1 (pid " + itoa(os.Getpid()) +
			"); acting as a child subreaper\n")
		if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
			os.Stderr.WriteString("pause: set child subreaper: " + err.Error() + "\n")
			return exitSetup
		}
	}
	if err := unix.Chdir("/"); err != nil {
		os.Stderr.WriteString("pause: chdir /: " + err.Error() + "\n")
		return exitSetup
	}

	// Children may have been inherited before the handler was installed.
	reap()
	for sig := range sigs {
		switch sig {
		case unix.SIGINT, unix.SIGTERM:
			reap()
			return exitOK
		case unix.SIGCHLD:
			reap()
		}
	}
	return exitSignalIO
}

// reap collects every child that has exited. Signals coalesce, so one SIGCHLD
// may stand for many exits: loop until no exited child is left.
func reap() {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err == unix.EINTR {
			continue
		}
		if pid <= 0 || err != nil {
			return
		}
	}
}

// itoa formats a non-negative int; strconv would cost binary size for one call.
func itoa(n int) string {
	if n <= 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for ; n > 0; n /= 10 {
		i--
		b[i] = byte('0' + n%10)
	}
	return string(b[i:])
}
