package runtime

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

// InitArg is the argv[1] libcontainer re-executes this binary with.
const InitArg = "init"

// IsInit reports whether this process is a libcontainer init.
func IsInit() bool { return len(os.Args) > 1 && os.Args[1] == InitArg }

// Init runs libcontainer's container init if this process is one, and never
// returns in that case. Otherwise it returns at once.
func Init() {
	if IsInit() {
		libcontainer.Init()
	}
}
