package runtime

import (
	"github.com/opencontainers/runc/libcontainer"

	// The container init takes over in this package's initialiser, before
	// the rest of the program initialises (see its doc).
	"github.com/podbox/podbox/internal/runtime/cinit"
)

// InitArg is the argv[1] libcontainer re-executes this binary with.
const InitArg = cinit.Arg

// IsInit reports whether this process is a libcontainer init.
func IsInit() bool { return cinit.IsInit() }

// Init runs libcontainer's container init if this process is one, and never
// returns in that case. Otherwise it returns at once. (Package cinit's
// initialiser has normally done this already, earlier.)
func Init() {
	if IsInit() {
		libcontainer.Init()
	}
}
