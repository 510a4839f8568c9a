package shim

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/podbox/podbox/internal/cni"
	"github.com/podbox/podbox/internal/nsutil"
	"github.com/podbox/podbox/internal/podstate"
	corev1 "k8s.io/api/core/v1"
)

// usesCNI reports whether the pod's network is made by CNI (not the
// host's).
func usesCNI(rec *podstate.Record) bool {
	return rec.CNI != nil && !rec.Pod.Spec.HostNetwork
}

// startNetwork attaches the pod's pinned network namespace to its CNI
// network in the background: containers are set up meanwhile and wait for
// it (waitNetwork) before their programs start, pause does not. A pod
// without CNI is ready at once. A stop of the pod (pullCtx) cancels the
// attachment.
func (s *shim) startNetwork() {
	ready := make(chan struct{})
	s.netReady, s.netErr, s.podIPs = ready, nil, nil
	if !usesCNI(s.rec) {
		close(ready)
		return
	}
	ctx := s.pullCtx
	s.workers.Add(1)
	go func() {
		defer s.workers.Done()
		ips, err := s.attachNetwork(ctx)
		s.netErr = err // read only after ready is closed
		s.setNetIPs(ready, ips)
		close(ready)
		s.send(networkEv{ready: ready, ips: ips, err: err})
	}()
}

// attachNetwork runs the CNI ADD and writes /etc/hosts with the pod's
// addresses (containers bind-mount it; their programs start after this).
func (s *shim) attachNetwork(ctx context.Context) ([]string, error) {
	opts := *s.rec.CNI
	opts.Start = s.startChild
	net, err := cni.Inspect(opts) // the CLI wrote podbox's default if it was missing
	if err != nil {
		return nil, err
	}
	// From here on a DEL is due, even if this shim dies half way: what it
	// needs beyond libcni's cache (written only once the ADD is whole) is
	// recorded first.
	ports := PortMappings(s.pod)
	rec, _ := json.Marshal(networkRecord{Network: net.Name(), Ports: ports})
	if err := os.WriteFile(s.dir.NetworkFile(), rec, 0o600); err != nil {
		return nil, fmt.Errorf("record the pod's network attachment: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, networkTimeout)
	defer cancel()
	addrs, err := net.Add(ctx, string(s.pod.UID), netnsPath(s.dir), ports)
	if err != nil {
		return nil, err
	}
	var ips []string
	for _, ip := range addrs {
		ips = append(ips, ip.String())
	}
	s.log.Debug("timing: network attached", "ips", strings.Join(ips, ","), "t", time.Since(s.startTime.Time).String())
	return ips, s.writeHosts(ips)
}

// networkTimeout bounds a CNI ADD (plugins waiting on a lock, a hung
// IPAM).
const networkTimeout = 2 * time.Minute

// waitNetwork waits until the pod's network is attached; it fails if that
// failed or the pod is being stopped.
func (s *shim) waitNetwork(ready chan struct{}) error {
	<-ready
	if s.netErr != nil {
		return s.netErr
	}
	return s.pullCtx.Err()
}

// detachNetwork runs the CNI DEL of the pod's attachment (from libcni's
// cache), before its network namespace is unpinned. start starts the
// plugins (nil: plainly).
func detachNetwork(dir podstate.Dir, rec *podstate.Record, start func(*exec.Cmd) (func() error, error)) error {
	if !usesCNI(rec) {
		return nil
	}
	data, err := os.ReadFile(dir.NetworkFile())
	if err != nil {
		return nil // never attached, or detached already
	}
	var nr networkRecord
	_ = json.Unmarshal(data, &nr) // a torn record: DEL without its ports
	// Plugins a killed shim left running would finish their ADD after
	// the DEL.
	cni.KillPlugins(string(rec.Pod.UID))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	opts := *rec.CNI
	opts.Start = start
	if err := cni.Del(ctx, opts, string(rec.Pod.UID), netnsPath(dir), nr.Ports); err != nil {
		return err
	}
	return os.Remove(dir.NetworkFile())
}

// networkRecord is the pod's network file: its network and port mappings.
type networkRecord struct {
	Network string            `json:"network"`
	Ports   []cni.PortMapping `json:"portMappings,omitempty"`
}

func netnsPath(dir podstate.Dir) string { return filepath.Join(dir.NsDir(), nsutil.Net) }

// PortMappings are the pod's hostPorts, as the kubelet hands them to CNI:
// those of the app containers.
func PortMappings(pod *corev1.Pod) []cni.PortMapping {
	var out []cni.PortMapping
	for _, c := range pod.Spec.Containers {
		for _, p := range c.Ports {
			if p.HostPort == 0 {
				continue
			}
			proto := strings.ToLower(string(p.Protocol))
			if proto == "" {
				proto = "tcp"
			}
			out = append(out, cni.PortMapping{HostPort: p.HostPort, ContainerPort: p.ContainerPort, Protocol: proto, HostIP: p.HostIP})
		}
	}
	return out
}

// networkEv reports the end of the CNI ADD of the sandbox whose netReady
// is ready.
type networkEv struct {
	ready chan struct{}
	ips   []string
	err   error
}

// handle records the pod's addresses and marks the sandbox ready to start
// containers, or, when the network could not be attached, fails the pod's
// start (the CLI still waits) or stops the pod (a sandbox made again), as a
// failed sandbox creation. The end of an earlier sandbox's ADD is ignored.
func (e networkEv) handle(s *shim) {
	if e.ready != s.netReady {
		return
	}
	if e.err == nil {
		s.podIPs = e.ips
		s.setCondition(corev1.PodReadyToStartContainers, true, "", "")
		return
	}
	if s.stopping || s.recreating {
		return // cancelled by the stop
	}
	s.log.Error("attach pod network", "err", e.err)
	s.event(corev1.EventTypeWarning, "FailedCreatePodSandBox", "", "Failed to create pod sandbox: "+e.err.Error())
	if s.ready != nil && s.failed == nil {
		s.failed = fmt.Errorf("set up the pod's network: %w", e.err)
	}
	s.stop(0, false)
}
