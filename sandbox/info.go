package sandbox

import (
	"os"
	"path/filepath"
	"sort"

	"github.com/podbox/podbox/cgroups"
	"github.com/podbox/podbox/internal/runtime"
	"golang.org/x/sys/unix"
)

// CNIPluginDirs are where podbox looks for CNI plugins.
var CNIPluginDirs = []string{"/opt/cni/bin", "/usr/lib/cni"}

// Info describes the host and the runtime's setup (`podbox info`).
type Info struct {
	Version       string `json:"version"`
	Kernel        string `json:"kernel"`
	CgroupVersion string `json:"cgroupVersion"`
	CgroupParent  string `json:"cgroupParent"`
	Root          string `json:"root"`
	State         string `json:"state"`
	LogDir        string `json:"logDir"`
	ImageStore    string `json:"imageStore"`
	PauseBinary   string `json:"pauseBinary"`
	PauseError    string `json:"pauseError,omitempty"`
	// ShimBinary is the pod shim program; empty: none is installed, and
	// this program serves as the shim (ShimError says why, if it is
	// configured but unusable).
	ShimBinary   string              `json:"shimBinary,omitempty"`
	ShimError    string              `json:"shimError,omitempty"`
	Seccomp      bool                `json:"seccomp"`
	Capabilities []string            `json:"boundingCapabilities"`
	CNIPlugins   map[string][]string `json:"cniPlugins"`
}

// Info reports the runtime's paths and what the host offers.
func (r *Runtime) Info() Info {
	in := Info{
		Version:       Version,
		CgroupVersion: cgroups.Mode(),
		CgroupParent:  r.opts.CgroupParent,
		Root:          r.opts.Root,
		State:         r.opts.State,
		LogDir:        r.opts.LogDir,
		ImageStore:    r.store.Dir(),
		Seccomp:       runtime.SeccompSupported(),
		CNIPlugins:    map[string][]string{},
	}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		in.Kernel = unix.ByteSliceToString(u.Release[:])
	}
	if p, err := r.pauseBinary(); err == nil {
		in.PauseBinary = p
	} else {
		in.PauseError = err.Error()
	}
	if p, err := r.shimBinary(); err == nil {
		in.ShimBinary = p
	} else {
		in.ShimError = err.Error()
	}
	if bnd, err := runtime.BoundingSet(); err == nil {
		for c := range bnd {
			in.Capabilities = append(in.Capabilities, c)
		}
		sort.Strings(in.Capabilities)
	}
	for _, d := range CNIPluginDirs {
		ents, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		for _, e := range ents {
			if st, err := os.Stat(filepath.Join(d, e.Name())); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
				in.CNIPlugins[d] = append(in.CNIPlugins[d], e.Name())
			}
		}
	}
	return in
}
