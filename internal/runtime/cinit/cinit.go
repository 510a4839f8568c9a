// Package cinit runs libcontainer's container init as early as Go allows.
//
// libcontainer starts every container by re-executing the running program
// with the argument "init"; that process only has to finish the container's
// set-up and exec the container's command. Go runs every package's
// initialisers before main, so a re-executed podbox would first build
// everything the rest of podbox needs (containers/image's reference
// regexps, the Kubernetes API tables, …): some 15 ms per container start on
// a 2-core machine. Go initialises packages in import-path order among
// those whose imports are done (the Go 1.21 rule), and this package imports
// nothing but libcontainer: its init runs before the heavy packages, takes
// over there, and never returns in an init process. In any other process
// it does nothing.
//
// Importing internal/runtime imports this package.
package cinit

import (
	"os"

	"github.com/opencontainers/runc/libcontainer"
	// Device cgroup rules need this registration, else they fail with
	// cgroups.ErrDevicesUnsupported.
	_ "github.com/opencontainers/cgroups/devices"
	// nsenter's cgo constructor joins and creates namespaces before the Go
	// runtime starts in the re-executed "init" process.
	_ "github.com/opencontainers/runc/libcontainer/nsenter"
)

// Arg is the argv[1] libcontainer re-executes the program with.
const Arg = "init"

// IsInit reports whether this process is a libcontainer init.
func IsInit() bool { return len(os.Args) > 1 && os.Args[1] == Arg }

func init() {
	if IsInit() {
		libcontainer.Init() // never returns
	}
}
