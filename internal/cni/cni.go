// Package cni attaches pod network namespaces to a network through CNI
// plugins (github.com/containernetworking/cni's libcni), the way CRI-O and
// containerd do: one network configuration list, found by name in a
// configuration directory (podbox writes its default one there on first
// use), plugins looked up in plugin directories, and libcni's cache of every
// attachment, from which a DEL works without the original configuration
// (after a shim was killed, or the configuration changed).
package cni

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/types"
	types100 "github.com/containernetworking/cni/pkg/types/100"
	"github.com/vishvananda/netlink"
	netnsx "github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Defaults, as CRI-O and containerd use them (Debian's
// containernetworking-plugins installs to /usr/lib/cni).
var (
	DefaultPluginDirs = []string{"/opt/cni/bin", "/usr/lib/cni"}
	DefaultConfDir    = "/etc/cni/net.d"
)

// DefaultNetwork is the name of podbox's network.
const DefaultNetwork = "podbox"

// IfName is the pod's interface.
const IfName = "eth0"

// Options say where the plugins, the configurations and the cache are,
// and which network pods join.
type Options struct {
	PluginDirs []string `json:"pluginDirs,omitempty"`
	ConfDir    string   `json:"confDir,omitempty"`
	// CacheDir is libcni's cache of attachments (results and the
	// configuration used), which DEL reads.
	CacheDir string `json:"cacheDir"`
	// Network is the name of the configuration list ("name" in the file).
	Network string `json:"network,omitempty"`
	// Start, if set, starts each plugin process and returns how to wait
	// for it: a caller that reaps orphans (the shim) registers the
	// plugin's PID with its reaper here, which must not collect the
	// plugin's exit status.
	Start func(cmd *exec.Cmd) (wait func() error, err error) `json:"-"`
}

// execer is the invoke.Exec libcni runs plugins with.
func (o Options) execer() invoke.Exec {
	start := o.Start
	if start == nil {
		start = func(cmd *exec.Cmd) (func() error, error) {
			if err := cmd.Start(); err != nil {
				return nil, err
			}
			return cmd.Wait, nil
		}
	}
	return &pluginExec{start: start}
}

// withDefaults fills in the defaults.
func (o Options) withDefaults() Options {
	if len(o.PluginDirs) == 0 {
		o.PluginDirs = DefaultPluginDirs
	}
	if o.ConfDir == "" {
		o.ConfDir = DefaultConfDir
	}
	if o.Network == "" {
		o.Network = DefaultNetwork
	}
	return o
}

// PortMapping is one hostPort, as the portmap plugin's portMappings
// capability takes it.
type PortMapping struct {
	HostPort      int32  `json:"hostPort"`
	ContainerPort int32  `json:"containerPort"`
	Protocol      string `json:"protocol"`
	HostIP        string `json:"hostIP,omitempty"`
}

// Network is a loaded network configuration, ready to attach pods.
type Network struct {
	opts Options
	list *libcni.NetworkConfigList
	File string // the configuration file it came from
	cni  *libcni.CNIConfig
}

// ErrPluginMissing is returned (wrapped) when a plugin the network needs is
// not installed.
var ErrPluginMissing = errors.New("CNI plugin not found")

// Load reads the network configuration named opts.Network from the
// configuration directory. When there is none and the name is podbox's
// default, it writes podbox's default configuration there first. It checks
// that every plugin the configuration names is installed.
func Load(opts Options) (*Network, error) { return load(opts, true) }

// Inspect is Load without writing the default configuration: it fails
// (with an error for which IsNotFound holds) where Load would write it.
func Inspect(opts Options) (*Network, error) { return load(opts, false) }

// IsNotFound reports whether err says the network's configuration is not
// there.
func IsNotFound(err error) bool { return isNotFound(err) }

func load(opts Options, writeDefaults bool) (*Network, error) {
	opts = opts.withDefaults()
	list, file, err := find(opts.ConfDir, opts.Network)
	if err != nil && writeDefaults && opts.Network == DefaultNetwork && isNotFound(err) {
		if file, err = writeDefault(opts.ConfDir); err == nil {
			list, err = libcni.ConfListFromFile(file)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("load CNI network %q from %s: %w", opts.Network, opts.ConfDir, err)
	}
	n := &Network{opts: opts, list: list, File: file, cni: libcni.NewCNIConfigWithCacheDir(opts.PluginDirs, opts.CacheDir, opts.execer())}
	if err := n.checkPlugins(); err != nil {
		return n, err // the caller may still show what the network is
	}
	return n, nil
}

// find returns the configuration list named name in dir and its file.
func find(dir, name string) (*libcni.NetworkConfigList, string, error) {
	files, err := libcni.ConfFiles(dir, []string{".conflist"})
	if err != nil {
		return nil, "", err
	}
	for _, f := range files {
		list, err := libcni.ConfListFromFile(f)
		if err != nil {
			continue // another tool's file we cannot read is not ours
		}
		if list.Name == name {
			return list, f, nil
		}
	}
	return nil, "", libcni.NotFoundError{Dir: dir, Name: name}
}

func isNotFound(err error) bool {
	var nf libcni.NotFoundError
	var nc libcni.NoConfigsFoundError
	return errors.As(err, &nf) || errors.As(err, &nc) || errors.Is(err, os.ErrNotExist)
}

// checkPlugins makes sure every plugin of the list (and its IPAM plugin)
// is installed, naming the package that provides them if not.
func (n *Network) checkPlugins() error {
	var missing []string
	for _, p := range n.Plugins() {
		if _, err := invoke.FindInPath(p, n.opts.PluginDirs); err != nil {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s (network %q, %s) in %s: install containernetworking-plugins "+
			"(Debian, Ubuntu), or name the plugin directory with --cni-bin-dir", ErrPluginMissing,
			strings.Join(missing, ", "), n.list.Name, n.File, strings.Join(n.opts.PluginDirs, ", "))
	}
	return nil
}

// Plugins lists the plugin programs the network runs, IPAM plugins
// included, in order.
func (n *Network) Plugins() []string {
	var out []string
	for _, p := range n.list.Plugins {
		out = append(out, p.Network.Type)
		if p.Network.IPAM.Type != "" {
			out = append(out, p.Network.IPAM.Type)
		}
	}
	return out
}

// Name is the network's name.
func (n *Network) Name() string { return n.list.Name }

// Options are the options the network was loaded with, defaults filled in.
func (n *Network) Options() Options { return n.opts }

// Add attaches the network namespace netns (pinned) to the network as
// attachment id (the pod's UID) with its port mappings, and returns the
// pod's addresses. On failure nothing of the attachment is left.
func (n *Network) Add(ctx context.Context, id, netns string, ports []PortMapping) ([]net.IP, error) {
	rt := runtimeConf(id, netns, ports)
	list := n.list
	if len(ports) == 0 {
		// portmap has nothing to do without port mappings, and its
		// process costs a tenth of the attachment: it is left out (the
		// cache keeps the list used, so the DEL matches).
		var err error
		if list, err = withoutPortmap(list); err != nil {
			return nil, fmt.Errorf("attach pod %s to CNI network %q: %w", id, n.list.Name, err)
		}
	}
	res, err := n.cni.AddNetworkList(ctx, list, rt)
	if err != nil {
		// A plugin that failed half way may have made something.
		n.undo(ctx, list, rt)
		return nil, fmt.Errorf("attach pod %s to CNI network %q: %w", id, n.list.Name, explain(err))
	}
	r, err := types100.NewResultFromResult(res)
	if err != nil {
		n.undo(ctx, list, rt)
		return nil, fmt.Errorf("attach pod %s to CNI network %q: %w", id, n.list.Name, err)
	}
	var ips []net.IP
	for _, ip := range r.IPs {
		ips = append(ips, ip.Address.IP)
	}
	if len(ips) == 0 {
		n.undo(ctx, list, rt)
		return nil, fmt.Errorf("attach pod %s to CNI network %q: the plugins gave it no address", id, n.list.Name)
	}
	return ips, nil
}

// undo runs the DEL of an ADD that failed: with libcni's cache if the ADD
// got that far, else with the addresses the interface has as the previous
// result, so that every plugin that ran can undo its part.
func (n *Network) undo(ctx context.Context, list *libcni.NetworkConfigList, rt *libcni.RuntimeConf) {
	ctx = context.WithoutCancel(ctx)
	if res, err := n.cni.GetNetworkListCachedResult(list, rt); err == nil && res != nil {
		_ = n.cni.DelNetworkList(ctx, list, rt)
		return
	}
	if withPrev, err := withPrevResult(list, rt.NetNS); err == nil {
		list = withPrev
	}
	_ = n.cni.DelNetworkList(ctx, list, rt)
}

func runtimeConf(id, netns string, ports []PortMapping) *libcni.RuntimeConf {
	rt := &libcni.RuntimeConf{ContainerID: id, NetNS: netns, IfName: IfName}
	if len(ports) > 0 {
		rt.CapabilityArgs = map[string]interface{}{"portMappings": ports}
	}
	return rt
}

// Del detaches attachment id, with the configuration and port mappings
// libcni cached when it was made: it works without the network's
// configuration file, and after the shim that attached it died. netns may
// be gone: the plugins then release what they hold outside it. When
// nothing is cached (the ADD did not finish: libcni caches only a whole
// one), the DEL runs with the network's configuration as it is, ports (the
// pod's port mappings) and, as the result the plugins would have been
// given, the addresses the pod's interface has: every plugin can undo
// what it did. Nothing to undo is not an error.
func Del(ctx context.Context, opts Options, id, netns string, ports []PortMapping) error {
	opts = opts.withDefaults()
	c := libcni.NewCNIConfigWithCacheDir(opts.PluginDirs, opts.CacheDir, opts.execer())
	atts, err := c.GetCachedAttachments(id)
	if err != nil {
		return fmt.Errorf("detach pod %s from CNI networks: read the cache: %w", id, err)
	}
	if len(atts) == 0 {
		n, err := load(opts, false)
		if err != nil {
			return nil // no configuration to undo anything with
		}
		rt := runtimeConf(id, netns, ports)
		if !pinned(netns) {
			rt.NetNS = ""
		}
		list, err := withPrevResult(n.list, netns)
		if err != nil {
			return fmt.Errorf("detach pod %s from CNI network %q: %w", id, n.list.Name, err)
		}
		if err := c.DelNetworkList(ctx, list, rt); err != nil {
			return fmt.Errorf("detach pod %s from CNI network %q: %w", id, n.list.Name, err)
		}
		return nil
	}
	var errs []error
	for _, a := range atts {
		list, err := libcni.ConfListFromBytes(a.Config)
		if err != nil {
			errs = append(errs, fmt.Errorf("detach pod %s from CNI network %q: cached configuration: %w", id, a.Network, err))
			continue
		}
		rt := &libcni.RuntimeConf{ContainerID: id, NetNS: netns, IfName: a.IfName, Args: a.CniArgs, CapabilityArgs: a.CapabilityArgs}
		if !pinned(netns) {
			rt.NetNS = "" // gone: the plugins clean what is outside it
		}
		if err := c.DelNetworkList(ctx, list, rt); err != nil {
			errs = append(errs, fmt.Errorf("detach pod %s from CNI network %q: %w", id, a.Network, err))
		}
	}
	return errors.Join(errs...)
}

// DefaultSubnet is the subnet of podbox's default network: not podman's,
// docker's, CRI-O's or containerd's defaults.
const DefaultSubnet = "10.209.0.0/16"

// DefaultConfFile is the name of the file podbox writes its default
// network configuration to.
const DefaultConfFile = "87-podbox-bridge.conflist"

// DefaultConfList is podbox's default network (see Bridge): bridge
// podbox0 on DefaultSubnet, masquerading traffic that leaves the host (at
// the network level), host-local's reservations in DefaultDataDir.
func DefaultConfList(firewall bool) []byte {
	return Bridge{Name: DefaultNetwork, Bridge: "podbox0", Subnet: DefaultSubnet, NetworkMasquerade: true, Firewall: firewall,
		DataDir: DefaultDataDir}.ConfList()
}

// DefaultDataDir keeps the default network's address reservations under
// podbox's default state directory, next to libcni's cache: where /run is
// emptied at boot both go together (a reservation in /var/lib/cni would
// outlive a reboot that dropped the cache its DEL needs).
const DefaultDataDir = "/run/podbox/cni/networks"

// Bridge describes a network of podbox's kind: a Linux bridge that is the
// pods' gateway, host-local addresses on a subnet (with a default route
// through the bridge), portmap for hostPort and, with Firewall, the
// firewall plugin, which lets pod traffic through a host FORWARD chain that
// drops (as docker sets it) at the cost of a dozen iptables runs per pod.
type Bridge struct {
	Name, Bridge, Subnet string
	// Masquerade has the bridge plugin masquerade each pod's traffic
	// that leaves the host (its ipMasq: iptables runs on every ADD and
	// DEL); NetworkMasquerade does it with rules of the network's, made
	// once per boot (see EnsureMasquerade).
	Masquerade, NetworkMasquerade bool
	Firewall                      bool
	// DataDir is where host-local keeps its reservations (default
	// /var/lib/cni/networks).
	DataDir string
}

// ConfList is the network's configuration list.
func (b Bridge) ConfList() []byte {
	ipam := map[string]any{
		"type":   "host-local",
		"ranges": []any{[]any{map[string]any{"subnet": b.Subnet}}},
		"routes": []any{map[string]any{"dst": "0.0.0.0/0"}},
	}
	if b.DataDir != "" {
		ipam["dataDir"] = b.DataDir
	}
	plugins := []any{
		map[string]any{"type": "bridge", "bridge": b.Bridge, "isGateway": true, "ipMasq": b.Masquerade, "hairpinMode": true, "ipam": ipam},
		map[string]any{"type": "portmap", "capabilities": map[string]any{"portMappings": true}},
	}
	if b.Firewall {
		plugins = append(plugins, map[string]any{"type": "firewall"})
	}
	list := map[string]any{"cniVersion": "1.0.0", "name": b.Name, "plugins": plugins}
	if b.NetworkMasquerade {
		list["podbox"] = map[string]any{"masquerade": []string{b.Subnet}}
	}
	data, _ := json.MarshalIndent(list, "", "  ")
	return append(data, '\n')
}

// ForwardDrops reports whether the host's iptables FORWARD chain drops
// what no rule accepts (podbox's default network then gets the firewall
// plugin).
func ForwardDrops() bool { return forwardDrops() }

// forwardDrops reports whether the host's iptables FORWARD chain drops
// what no rule accepts.
func forwardDrops() bool {
	out, err := sbinCommand("iptables", "-w", "-S", "FORWARD").Output()
	if err != nil {
		return true // cannot tell: keep the firewall plugin, which is right either way
	}
	for _, l := range strings.Split(string(out), "\n") {
		if l == "-P FORWARD DROP" || l == "-P FORWARD REJECT" {
			return true
		}
	}
	return false
}

// writeDefault writes the default configuration into dir (atomically, and
// never over a file that exists).
func writeDefault(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, DefaultConfFile)
	tmp, err := os.CreateTemp(dir, ".podbox-*.tmp")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(DefaultConfList(forwardDrops())); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	// A link fails if the file appeared meanwhile (another podbox wrote
	// it): theirs is as good.
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, os.ErrExist) {
		return "", err
	}
	return path, nil
}

// explain adds to a plugin's error what CNI's own formatting leaves out
// when the plugin gave no message: its error code.
func explain(err error) error {
	var te *types.Error
	if errors.As(err, &te) && te.Msg == "" {
		return fmt.Errorf("%w(CNI error code %d%s)", err, te.Code, strings.TrimPrefix(te.Details, " "))
	}
	return err
}

// withoutPortmap is list without its portmap plugins.
func withoutPortmap(list *libcni.NetworkConfigList) (*libcni.NetworkConfigList, error) {
	has := false
	for _, p := range list.Plugins {
		has = has || p.Network.Type == "portmap"
	}
	if !has {
		return list, nil
	}
	var raw map[string]any
	if err := json.Unmarshal(list.Bytes, &raw); err != nil {
		return nil, err
	}
	plugins, _ := raw["plugins"].([]any)
	kept := plugins[:0]
	for _, p := range plugins {
		if m, ok := p.(map[string]any); ok && m["type"] == "portmap" {
			continue
		}
		kept = append(kept, p)
	}
	raw["plugins"] = kept
	data, err := json.Marshal(raw)
	if err != nil {
		return nil, err
	}
	return libcni.ConfListFromBytes(data)
}

// withPrevResult is list with, in every plugin's configuration, the result
// an ADD would have passed on: the addresses the pod's interface has in
// netns (none if it has no interface any more).
func withPrevResult(list *libcni.NetworkConfigList, netns string) (*libcni.NetworkConfigList, error) {
	addrs := interfaceAddrs(netns, IfName)
	if len(addrs) == 0 {
		return list, nil
	}
	res := map[string]any{
		"cniVersion": list.CNIVersion,
		"interfaces": []any{map[string]any{"name": IfName, "sandbox": netns}},
	}
	var ips []any
	for _, a := range addrs {
		ips = append(ips, map[string]any{"address": a.String(), "interface": 0})
	}
	res["ips"] = ips
	var raw map[string]any
	if err := json.Unmarshal(list.Bytes, &raw); err != nil {
		return nil, err
	}
	plugins, _ := raw["plugins"].([]any)
	for _, p := range plugins {
		if m, ok := p.(map[string]any); ok {
			m["prevResult"] = res
		}
	}
	data, err := json.Marshal(raw)
	if err != nil {
		return nil, err
	}
	return libcni.ConfListFromBytes(data)
}

// interfaceAddrs lists the addresses of interface name in the network
// namespace at netns (a pinned path), nil if there is none.
func interfaceAddrs(netns, name string) []*net.IPNet {
	h, err := netnsx.GetFromPath(netns)
	if err != nil {
		return nil
	}
	defer func() { _ = h.Close() }()
	nl, err := netlink.NewHandleAt(h)
	if err != nil {
		return nil
	}
	defer nl.Close()
	link, err := nl.LinkByName(name)
	if err != nil {
		return nil
	}
	addrs, err := nl.AddrList(link, netlink.FAMILY_ALL)
	if err != nil {
		return nil
	}
	var out []*net.IPNet
	for _, a := range addrs {
		if a.IPNet != nil && a.IP.IsGlobalUnicast() {
			out = append(out, a.IPNet)
		}
	}
	return out
}

// lookSbin finds a program in sbinPath.
func lookSbin(name string) (string, error) {
	for _, d := range filepath.SplitList(sbinPath) {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found in %s", name, sbinPath)
}

// pinned reports whether netns is a namespace (a bind-mounted nsfs file),
// not a leftover plain file whose mount is gone.
func pinned(netns string) bool {
	var st, parent unix.Stat_t
	if netns == "" || unix.Stat(netns, &st) != nil || unix.Stat(filepath.Dir(netns), &parent) != nil {
		return false
	}
	return st.Dev != parent.Dev // nsfs, not the directory's file system
}
