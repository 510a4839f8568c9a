package sandbox

import (
	"os"

	"github.com/podbox/podbox/internal/grpcprobe"
	"github.com/podbox/podbox/internal/runtime"
	"github.com/podbox/podbox/internal/shim"
)

// Version is podbox's version, set at build time.
var Version = "dev"

// Init must run before anything else in any program that runs pods: call
// it from an init function of the main package (best: the main goroutine is
// then still on the main thread) or first thing in main. When the process
// is one of podbox's re-executed helpers (libcontainer's container init for
// an exec, a pod shim when no podbox-shim program is installed, or the pull
// helper a pod's shim runs) Init runs that role and never returns;
// otherwise it returns at once and costs nothing.
func Init() {
	runtime.Init()
	switch {
	case shim.IsShim():
		os.Exit(shim.Main())
	case shim.IsPullHelper():
		os.Exit(pullHelper(os.Args[2:]))
	case shim.IsGRPCProbe():
		os.Exit(grpcprobe.Main(os.Args[2:]))
	}
}
