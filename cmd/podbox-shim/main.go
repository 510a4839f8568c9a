// Command podbox-shim is the per-pod supervisor podbox runs for every pod
// (see internal/shim), and libcontainer's container init: every container
// start re-executes this program, so it is kept small. Built with the
// podbox_shim tag, it leaves out everything image pulls need
// (containers/image and its dependencies); a shim pulls by running the
// program that ran the pod (see shim.PullHelperArg). It starts in about a
// third of the time podbox itself takes.
//
// It is not meant to be run by hand: `podbox run` starts it (through the
// pod's keeper).
package main

import (
	"fmt"
	"os"

	"github.com/podbox/podbox/internal/runtime"
	"github.com/podbox/podbox/internal/shim"
)

// init runs before main and before anything else can start goroutines on
// other threads: libcontainer's container init takes over here, and a shim
// keeps its main goroutine on the main thread (see shim.Main).
func init() {
	runtime.Init()
}

func main() {
	if !shim.IsShim() {
		fmt.Fprintf(os.Stderr, "podbox-shim: the pod shim of podbox, started by `podbox run`; not to be run by hand\n")
		os.Exit(2)
	}
	os.Exit(shim.Main())
}
