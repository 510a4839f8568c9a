package nsutil

import (
	"context"
	"fmt"
	"net"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// DialIn dials addr from the network namespace pinned at ns (this
// process's own when ns is empty). The socket is made on a thread that
// entered the namespace and stays in it whatever thread uses it later, so
// the connection works like any other.
func DialIn(ctx context.Context, ns, network, addr string) (net.Conn, error) {
	// No "happy eyeballs": its parallel dials run on other goroutines, on
	// threads outside the namespace. Addresses are tried one after the
	// other, on this thread.
	d := net.Dialer{FallbackDelay: -1}
	if ns == "" {
		return d.DialContext(ctx, network, addr)
	}
	type result struct {
		conn net.Conn
		err  error
	}
	res := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		// The thread goes back to this process's namespace before it is
		// released; if it cannot, it ends with this goroutine.
		back, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			res <- result{err: fmt.Errorf("open this thread's network namespace: %w", err)}
			return
		}
		defer back.Close()
		target, err := os.Open(ns)
		if err != nil {
			runtime.UnlockOSThread()
			res <- result{err: fmt.Errorf("open network namespace %s: %w", ns, err)}
			return
		}
		err = unix.Setns(int(target.Fd()), unix.CLONE_NEWNET)
		target.Close()
		if err != nil {
			runtime.UnlockOSThread()
			res <- result{err: fmt.Errorf("enter network namespace %s: %w", ns, err)}
			return
		}
		conn, err := d.DialContext(ctx, network, addr)
		if unix.Setns(int(back.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		res <- result{conn, err}
	}()
	r := <-res
	return r.conn, r.err
}
