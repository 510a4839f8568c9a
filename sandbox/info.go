package sandbox

import (
	"os"
	"path/filepath"
	"sort"

	"github.com/podbox/podbox/cgroups"
	"github.com/podbox/podbox/internal/cni"
	"github.com/podbox/podbox/internal/runtime"
	"golang.org/x/sys/unix"
)

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
	ShimBinary string `json:"shimBinary,omitempty"`
	ShimError  string `json:"shimError,omitempty"`
	Seccomp    bool   `json:"seccomp"`
	// SeccompDefault is the profile containers get when they name none
	// (RuntimeDefault; a kubelet's default is Unconfined), and
	// SeccompProfileRoot where Localhost profiles are looked up.
	SeccompDefault     string              `json:"seccompDefault"`
	SeccompProfileRoot string              `json:"seccompProfileRoot"`
	Capabilities       []string            `json:"boundingCapabilities"`
	CNIPlugins         map[string][]string `json:"cniPlugins"`
	// Network is the CNI network pods join: its name, configuration file
	// and the plugins it runs; NetworkError says what is wrong with it
	// (a missing plugin, no configuration).
	Network        string   `json:"network"`
	NetworkFile    string   `json:"networkFile,omitempty"`
	NetworkPlugins []string `json:"networkPlugins,omitempty"`
	NetworkError   string   `json:"networkError,omitempty"`
	// NetworkMasquerade are the subnets the network masquerades with
	// rules of its own (nat chain NetworkMasqueradeChain, made once per
	// boot) rather than per pod.
	NetworkMasquerade      []string `json:"networkMasquerade,omitempty"`
	NetworkMasqueradeChain string   `json:"networkMasqueradeChain,omitempty"`
	// NetworkMasqueradeMissing are those of NetworkMasquerade whose rules
	// are not in the nat table (flushed by a firewall reload, say), and
	// NetworkMasqueradeMark the file to remove for the next pod start to
	// make them again.
	NetworkMasqueradeMissing []string `json:"networkMasqueradeMissing,omitempty"`
	NetworkMasqueradeMark    string   `json:"networkMasqueradeMark,omitempty"`
}

// Info reports the runtime's paths and what the host offers.
func (r *Runtime) Info() Info {
	in := Info{
		Version:            Version,
		CgroupVersion:      cgroups.Mode(),
		CgroupParent:       r.opts.CgroupParent,
		Root:               r.opts.Root,
		State:              r.opts.State,
		LogDir:             r.opts.LogDir,
		ImageStore:         r.store.Dir(),
		Seccomp:            runtime.SeccompSupported(),
		SeccompDefault:     "RuntimeDefault",
		SeccompProfileRoot: r.opts.SeccompProfileRoot,
		CNIPlugins:         map[string][]string{},
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
	opts := r.cniOptions()
	in.Network = opts.Network
	n, err := cni.Inspect(opts)
	switch {
	case err != nil && cni.IsNotFound(err) && opts.Network == cni.DefaultNetwork:
		in.NetworkFile = filepath.Join(opts.ConfDir, cni.DefaultConfFile) + " (written when the first pod starts)"
	case n != nil:
		in.NetworkFile, in.NetworkPlugins = n.File, n.Plugins()
		if subnets, merr := n.MasqueradeSubnets(); merr == nil && len(subnets) > 0 {
			for _, s := range subnets {
				in.NetworkMasquerade = append(in.NetworkMasquerade, s.String())
			}
			in.NetworkMasqueradeChain = cni.MasqueradeChain(n.Name())
			in.NetworkMasqueradeMissing, in.NetworkMasqueradeMark, _ = n.MasqueradeMissing()
		}
	}
	if err != nil && (!cni.IsNotFound(err) || opts.Network != cni.DefaultNetwork) {
		in.NetworkError = err.Error()
	}
	for _, d := range opts.PluginDirs {
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
