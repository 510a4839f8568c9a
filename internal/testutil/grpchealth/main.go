// Command grpchealth is a tiny gRPC server for probe tests: it serves the
// standard health service (grpc.health.v1) on the port given as its
// argument, SERVING while the file /tmp/unhealthy does not exist and
// NOT_SERVING while it does. It is built static and put in the test image.
package main

import (
	"fmt"
	"net"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: grpchealth PORT")
		os.Exit(2)
	}
	l, err := net.Listen("tcp", ":"+os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	srv := grpc.NewServer()
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	go func() {
		for {
			st := healthpb.HealthCheckResponse_SERVING
			if _, err := os.Stat("/tmp/unhealthy"); err == nil {
				st = healthpb.HealthCheckResponse_NOT_SERVING
			}
			hs.SetServingStatus("", st)
			time.Sleep(100 * time.Millisecond)
		}
	}()
	if err := srv.Serve(l); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
