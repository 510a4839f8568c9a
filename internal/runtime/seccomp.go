package runtime

import (
	"fmt"
	goruntime "runtime"
	"strings"
	"sync"

	"github.com/moby/profiles/seccomp"
	"github.com/opencontainers/runc/libcontainer/configs"
	lcseccomp "github.com/opencontainers/runc/libcontainer/seccomp"
	"github.com/opencontainers/runc/libcontainer/specconv"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// SeccompSupported reports whether this binary can apply seccomp filters
// (built with cgo, -tags seccomp and libseccomp).
func SeccompSupported() bool { return lcseccomp.Enabled }

var (
	seccompMu    sync.Mutex
	seccompCache = map[string]*configs.Seccomp{}
)

// defaultSeccomp returns the default profile (moby's, the one Docker,
// containerd and CRI-O ship as RuntimeDefault) for a container with the given
// capabilities (some syscalls are allowed only with the matching capability),
// compiled for the given architectures only (see SeccompArches).
func defaultSeccomp(caps, arches []string) (*configs.Seccomp, error) {
	if len(arches) == 0 {
		arches = SeccompArches("")
	}
	key := strings.Join(caps, ",") + "/" + strings.Join(arches, ",")
	seccompMu.Lock()
	defer seccompMu.Unlock()
	if sc, ok := seccompCache[key]; ok {
		return sc, nil
	}
	rs := &specs.Spec{Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{
		Bounding: caps, Effective: caps, Permitted: caps,
	}}}
	prof, err := seccomp.GetDefaultProfile(rs)
	if err != nil {
		return nil, fmt.Errorf("build default seccomp profile: %w", err)
	}
	sc, err := specconv.SetupSeccomp(prof)
	if err != nil {
		return nil, fmt.Errorf("convert default seccomp profile: %w", err)
	}
	if arches != nil {
		sc.Architectures = arches
	}
	seccompCache[key] = sc
	return sc, nil
}

// SeccompArches returns the architectures a container's filter covers: the
// host's native one, plus its 32-bit compat ABI when the image is built for
// it (a 386 image on amd64, an arm image on arm64). moby's profile lists
// every ABI the host could run (amd64, x86 and x32), but each extra ABI
// multiplies the work libseccomp does when the filter is compiled, in every
// container start: on the development machines 28 ms for all three against
// 2.5 ms for amd64 alone. Syscalls of an ABI the filter does not cover are
// refused (libseccomp's bad-architecture action kills the caller), which is
// stricter, not looser.
func SeccompArches(imageArch string) []string {
	native := map[string]string{
		"amd64": "amd64", "arm64": "arm64", "386": "x86", "arm": "arm", "ppc64le": "ppc64le",
		"s390x": "s390x", "riscv64": "riscv64", "mips64le": "mips64el", "loong64": "loong64",
	}
	n, ok := native[goruntime.GOARCH]
	if !ok {
		return nil // let the profile's own list stand
	}
	arches := []string{n}
	switch {
	case goruntime.GOARCH == "amd64" && imageArch == "386":
		arches = append(arches, "x86")
	case goruntime.GOARCH == "arm64" && imageArch == "arm":
		arches = append(arches, "arm")
	}
	return arches
}
