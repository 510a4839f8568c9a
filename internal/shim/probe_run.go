package shim

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/podbox/podbox/internal/nsutil"
	"github.com/podbox/podbox/internal/runtime"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// probeOutputMax is how much of a probe's output (an exec's, an http
// body) the kubelet keeps: 10 KiB.
const probeOutputMax = 10 * 1024

// probeUserAgent is what the kubelet's http probes say they are.
const probeUserAgent = "kube-probe/1.33"

// runProbe runs one probe of a live instance once, with its timeout. Its
// handler is one of exec, httpGet, tcpSocket and grpc (validation made
// sure).
func (s *shim) runProbe(c *ctr, inst *instance, p *corev1.Probe) probeResult {
	timeout := time.Duration(max(p.TimeoutSeconds, 1)) * time.Second
	return s.runHandler(c, inst, p.ProbeHandler, timeout)
}

// runHandler runs a probe handler (also a lifecycle hook's) against inst.
func (s *shim) runHandler(c *ctr, inst *instance, h corev1.ProbeHandler, timeout time.Duration) probeResult {
	ctx, cancel := context.WithTimeout(s.ctx, timeout)
	defer cancel()
	// Nothing to probe once the instance is gone.
	go func() {
		select {
		case <-inst.exited:
			cancel()
		case <-ctx.Done():
		}
	}()
	switch {
	case h.Exec != nil:
		return s.execProbe(inst, h.Exec.Command, timeout)
	case h.HTTPGet != nil:
		return s.httpProbe(ctx, c, inst, h.HTTPGet, timeout)
	case h.TCPSocket != nil:
		return s.tcpProbe(ctx, c, inst, h.TCPSocket)
	case h.GRPC != nil:
		return s.grpcProbe(ctx, inst, h.GRPC, timeout)
	}
	return probeResult{output: "probe has no handler"}
}

// execProbe runs cmd in the container (as its user, with its environment
// and working directory) and succeeds if it exits 0. A command still
// running after timeout is killed and counts as a failure.
func (s *shim) execProbe(inst *instance, cmd []string, timeout time.Duration) probeResult {
	if inst.lc == nil {
		return probeResult{output: "the container's runtime state is gone"}
	}
	r, w, err := os.Pipe()
	if err != nil {
		return probeResult{output: err.Error()}
	}
	defer r.Close()
	u := inst.exec.user
	done := s.reap.starting()
	proc, _, err := inst.lc.Exec(runtime.ExecOptions{
		Process: runtime.Process{Args: cmd, Env: inst.exec.env, Cwd: inst.exec.cwd, UID: u.UID, GID: u.GID, AdditionalGIDs: u.AdditionalGIDs},
		Stdio:   runtime.Stdio{Stdout: w, Stderr: w},
	})
	if err == nil {
		s.reap.own(proc.Pid())
	}
	done()
	w.Close()
	if err != nil {
		return probeResult{output: err.Error()}
	}
	out := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(r, probeOutputMax))
		_, _ = io.Copy(io.Discard, r)
		out <- b
	}()
	exited := make(chan runtime.Exit, 1)
	go func() {
		e, _ := proc.Wait()
		s.reap.disown(proc.Pid())
		exited <- e
	}()
	var exit runtime.Exit
	select {
	case exit = <-exited:
	case <-time.After(timeout):
		_ = proc.Signal(unix.SIGKILL)
		<-exited
		return probeResult{output: fmt.Sprintf("command %q timed out", strings.Join(cmd, " "))}
	}
	// A process the command left in the background may hold the pipe
	// open: take what came until shortly after the exit.
	var b []byte
	select {
	case b = <-out:
	case <-time.After(200 * time.Millisecond):
		_ = r.SetReadDeadline(time.Now())
		b = <-out
	}
	text := string(b)
	if exit.Code != 0 {
		if strings.TrimSpace(text) == "" {
			text = fmt.Sprintf("command %q exited with %d", strings.Join(cmd, " "), exit.Code)
		}
		return probeResult{output: text}
	}
	return probeResult{ok: true, output: text}
}

// probeHost is the address network probes connect to when the probe names
// no host: the pod's IP, as the kubelet does, or the loopback address of
// the pod's network namespace when it has none.
func (s *shim) probeHost(inst *instance, host string) string {
	switch {
	case host != "":
		return host
	case len(inst.podIPs) > 0:
		return inst.podIPs[0]
	}
	return "127.0.0.1"
}

// probePort resolves a probe's port, by number or by the name of one of
// the container's ports.
func probePort(c *ctr, port intstr.IntOrString) (int, error) {
	if port.Type == intstr.Int {
		return port.IntValue(), nil
	}
	for _, p := range c.spec.Ports {
		if p.Name == port.StrVal {
			return int(p.ContainerPort), nil
		}
	}
	if n, err := strconv.Atoi(port.StrVal); err == nil {
		return n, nil
	}
	return 0, fmt.Errorf("unable to find port %q in container %s", port.StrVal, c.spec.Name)
}

// dialer connects from the pod's network namespace (the host's for a
// hostNetwork pod).
func (s *shim) dialer(inst *instance) func(ctx context.Context, network, addr string) (net.Conn, error) {
	ns := ""
	if !s.pod.Spec.HostNetwork {
		ns = netnsPath(s.dir)
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		return nsutil.DialIn(ctx, ns, network, addr)
	}
}

// httpProbe GETs the probe's URL from the pod's network namespace: a
// status from 200 to 399 is a success (redirects are not followed, as the
// kubelet does not follow them to another host), anything else a failure.
func (s *shim) httpProbe(ctx context.Context, c *ctr, inst *instance, h *corev1.HTTPGetAction, timeout time.Duration) probeResult {
	port, err := probePort(c, h.Port)
	if err != nil {
		return probeResult{output: err.Error()}
	}
	scheme := strings.ToLower(string(h.Scheme))
	if scheme == "" {
		scheme = "http"
	}
	path := h.Path
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	u := &url.URL{Scheme: scheme, Host: net.JoinHostPort(s.probeHost(inst, h.Host), strconv.Itoa(port))}
	if pu, err := url.Parse(path); err == nil {
		u.Path, u.RawQuery = pu.Path, pu.RawQuery
	} else {
		u.Path = path
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return probeResult{output: err.Error()}
	}
	req.Header.Set("User-Agent", probeUserAgent)
	req.Header.Set("Accept", "*/*")
	for _, hd := range h.HTTPHeaders {
		if strings.EqualFold(hd.Name, "Host") {
			req.Host = hd.Value
			continue
		}
		req.Header.Add(hd.Name, hd.Value)
	}
	client := &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext:       s.dialer(inst),
			TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // the kubelet does not verify probe certificates either
			DisableKeepAlives: true,
			Proxy:             nil,
		},
		// As the kubelet: redirects to the same host are followed (10 at
		// most); one to another host ends the probe, as a success with a
		// warning.
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 10 || req.URL.Hostname() != via[0].URL.Hostname() {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
	resp, err := client.Do(req)
	if err != nil {
		return probeResult{output: err.Error()}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, probeOutputMax))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return probeResult{ok: true, output: string(body)}
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return probeResult{ok: true, warning: true, output: fmt.Sprintf("Probe terminated redirects, Response body: %s", body)}
	}
	return probeResult{output: fmt.Sprintf("HTTP probe failed with statuscode: %d", resp.StatusCode)}
}

// tcpProbe succeeds if a TCP connection to the port opens.
func (s *shim) tcpProbe(ctx context.Context, c *ctr, inst *instance, h *corev1.TCPSocketAction) probeResult {
	port, err := probePort(c, h.Port)
	if err != nil {
		return probeResult{output: err.Error()}
	}
	conn, err := s.dialer(inst)(ctx, "tcp", net.JoinHostPort(s.probeHost(inst, h.Host), strconv.Itoa(port)))
	if err != nil {
		return probeResult{output: err.Error()}
	}
	conn.Close()
	return probeResult{ok: true}
}

// GRPCProbeArg makes the program that ran the pod a gRPC health checker for
// the pod's shim: `PROGRAM grpc-probe NETNS ADDR SERVICE TIMEOUT` (NETNS
// empty: this process's). It exits 0 when the service is SERVING and
// prints why not otherwise. The shim itself stays free of gRPC: its binary
// is also every container's init, and its size and start-up cost count.
const GRPCProbeArg = "grpc-probe"

// IsGRPCProbe reports whether this process was started as a gRPC prober.
func IsGRPCProbe() bool { return len(os.Args) > 1 && os.Args[1] == GRPCProbeArg }

// grpcProbe checks the gRPC health service (grpc.health.v1) on the port.
func (s *shim) grpcProbe(ctx context.Context, inst *instance, g *corev1.GRPCAction, timeout time.Duration) probeResult {
	bin := pullProgram(s.rec.PullBinary)
	if bin == "" {
		return probeResult{output: "no podbox program to run the gRPC probe with"}
	}
	ns := ""
	if !s.pod.Spec.HostNetwork {
		ns = netnsPath(s.dir)
	}
	service := ""
	if g.Service != nil {
		service = *g.Service
	}
	addr := net.JoinHostPort(s.probeHost(inst, ""), strconv.Itoa(int(g.Port)))
	cmd := exec.Command(bin, GRPCProbeArg, ns, addr, service, timeout.String())
	cmd.Args[0] = "podbox-grpc-probe"
	cmd.Dir = "/"
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	wait, err := s.startChild(cmd)
	if err != nil {
		return probeResult{output: fmt.Sprintf("start the gRPC prober %s: %v", bin, err)}
	}
	waited := make(chan error, 1)
	go func() { waited <- wait() }()
	select {
	case err = <-waited:
	case <-ctx.Done():
		// The prober enforces the timeout itself; this is a backstop.
		if ctx.Err() != nil {
			select {
			case err = <-waited:
			case <-time.After(2 * time.Second):
				_ = cmd.Process.Signal(unix.SIGKILL)
				err = <-waited
			}
		}
	}
	msg := strings.TrimSpace(out.String())
	var ee *exec.ExitError
	switch {
	case err == nil:
		return probeResult{ok: true, output: msg}
	case errors.As(err, &ee) && msg != "":
		return probeResult{output: msg}
	}
	return probeResult{output: fmt.Sprintf("gRPC probe: %v %s", err, msg)}
}
