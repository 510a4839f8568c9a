package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
)

// ErrPortInUse is returned (wrapped) by Run when a hostPort the pod asks
// for is held by another pod.
var ErrPortInUse = errors.New("host port in use")

// lockHostPorts serialises the check of hostPorts against running pods
// with the creation of the pod that passed it (across processes).
func (r *Runtime) lockHostPorts(ctx context.Context) (func(), error) {
	f, err := os.OpenFile(filepath.Join(r.opts.State, "hostports.lock"), os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock host ports: %w", err)
	}
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock host ports: %w", err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// hostPort is one host port a pod holds.
type hostPort struct {
	proto, ip string
	port      int32
	path      string // field path in the pod
}

func hostPorts(pod *corev1.Pod) []hostPort {
	var out []hostPort
	for ci, c := range pod.Spec.Containers {
		for pi, p := range c.Ports {
			port := p.HostPort
			if port == 0 {
				continue
			}
			proto := string(p.Protocol)
			if proto == "" {
				proto = string(corev1.ProtocolTCP)
			}
			out = append(out, hostPort{proto: proto, ip: p.HostIP, port: port,
				path: fmt.Sprintf("spec.containers[%d].ports[%d].hostPort", ci, pi)})
		}
	}
	return out
}

// overlaps: the same port and protocol, on the same address or on all.
func (a hostPort) overlaps(b hostPort) bool {
	wild := func(ip string) bool { return ip == "" || ip == "0.0.0.0" || ip == "::" }
	return a.port == b.port && a.proto == b.proto && (a.ip == b.ip || wild(a.ip) || wild(b.ip))
}

// checkHostPorts refuses pod if another pod that is not finished holds one
// of the host ports it asks for (the scheduler's NodePorts check). The
// caller holds lockHostPorts.
func (r *Runtime) checkHostPorts(ctx context.Context, pod *corev1.Pod) error {
	want := hostPorts(pod)
	if len(want) == 0 {
		return nil
	}
	pods, err := r.List(ctx, "")
	if err != nil {
		return err
	}
	var problems []string
	for _, other := range pods {
		if other.Status.Phase == corev1.PodSucceeded || other.Status.Phase == corev1.PodFailed {
			continue
		}
		for _, w := range want {
			for _, h := range hostPorts(other) {
				if w.overlaps(h) {
					problems = append(problems, fmt.Sprintf("%s: %d/%s is held by pod %s/%s", w.path, w.port, w.proto, other.Namespace, other.Name))
				}
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("pod %s/%s: %w: %s", pod.Namespace, pod.Name, ErrPortInUse, strings.Join(problems, "; "))
	}
	return nil
}
