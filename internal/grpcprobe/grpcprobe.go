// Package grpcprobe checks a gRPC server's health service (grpc.health.v1)
// as the kubelet's gRPC probe does, from a given network namespace. It runs
// in a helper process the pod's shim starts, which keeps gRPC out of the
// shim's binary (also every container's init, whose start-up cost counts).
package grpcprobe

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/podbox/podbox/internal/nsutil"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// Check asks the health service at addr, reached from the network
// namespace pinned at netns ("" for this process's), about service (""
// is the server as a whole) within timeout. nil means SERVING; an error's
// text is the kubelet's for the same failure.
func Check(ctx context.Context, netns, addr, service string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := grpc.NewClient("passthrough:///"+addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithUserAgent("kube-probe/1.33"),
		grpc.WithContextDialer(func(ctx context.Context, a string) (net.Conn, error) {
			return nsutil.DialIn(ctx, netns, "tcp", a)
		}))
	if err != nil {
		return fmt.Errorf("error: failed to connect service %q: %w", addr, err)
	}
	defer func() { _ = conn.Close() }()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: service})
	if err != nil {
		st, _ := status.FromError(err)
		switch st.Code() {
		case codes.Unimplemented:
			return fmt.Errorf("error: this server does not implement the grpc health protocol (grpc.health.v1.Health): %s", st.Message())
		case codes.DeadlineExceeded:
			return fmt.Errorf("timeout: health rpc did not complete within %v", timeout)
		case codes.Unavailable:
			return fmt.Errorf("timeout: failed to connect service %q within %v: %s", addr, timeout, st.Message())
		}
		return fmt.Errorf("error: health rpc probe failed: %s", st.Message())
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		return fmt.Errorf("service unhealthy (responded with %q)", resp.GetStatus().String())
	}
	return nil
}

// Main is the body of the prober process: args are NETNS ADDR SERVICE
// TIMEOUT (NETNS empty: this process's namespace). It prints why the check
// failed and returns the exit code (0: SERVING, 1: not, 2: bad usage).
func Main(args []string) int {
	if len(args) != 4 {
		fmt.Println("usage: grpc-probe NETNS ADDR SERVICE TIMEOUT")
		return 2
	}
	timeout, err := time.ParseDuration(args[3])
	if err != nil {
		fmt.Println("grpc-probe: timeout:", err)
		return 2
	}
	if err := Check(context.Background(), args[0], args[1], args[2], timeout); err != nil {
		fmt.Println(err)
		return 1
	}
	return 0
}
