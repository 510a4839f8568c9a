package shim

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/podbox/podbox/internal/podstate"
	"golang.org/x/sys/unix"
)

// request is what the CLI asks a shim over its socket: one JSON object per
// connection, answered with one response when the work is done.
type request struct {
	// Op is "stop" (stop every container and tear the sandbox down; the pod
	// stays listed) or "delete" (the same, and the pod shows as Terminating
	// meanwhile).
	Op string `json:"op"`
	// GracePeriod overrides terminationGracePeriodSeconds when set.
	GracePeriod *int64 `json:"gracePeriod,omitempty"`
	// UID is the pod the request is for: a shim of another pod (one made
	// under the same name since) refuses it.
	UID string `json:"uid,omitempty"`
}

type response struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

// socketAddr returns an address for path that fits in sun_path (108 bytes)
// however deep the state root is, by going through an O_PATH descriptor of
// its directory. The returned file must stay open while the address is
// used.
func socketAddr(path string) (string, *os.File, error) {
	if len(path) < 100 {
		return path, nil, nil
	}
	d, err := os.OpenFile(filepath.Dir(path), unix.O_PATH, 0)
	if err != nil {
		return "", nil, err
	}
	return "/proc/self/fd/" + strconv.Itoa(int(d.Fd())) + "/" + filepath.Base(path), d, nil
}

// serve listens on the pod's socket and forwards requests to the loop.
func (s *shim) serve() (net.Listener, error) {
	path := s.dir.Socket()
	_ = os.Remove(path)
	addr, d, err := socketAddr(path)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	l, err := net.Listen("unix", addr)
	if d != nil {
		d.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	s.acceptDone = make(chan struct{})
	go func() {
		defer close(s.acceptDone)
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			s.conns.Add(1)
			go func() { defer s.conns.Done(); s.handleConn(conn) }()
		}
	}()
	return l, nil
}

func (s *shim) handleConn(conn net.Conn) {
	defer conn.Close()
	var req request
	if err := json.NewDecoder(bufio.NewReader(conn)).Decode(&req); err != nil {
		_ = json.NewEncoder(conn).Encode(response{Error: "bad request: " + err.Error()})
		return
	}
	// Once the pod is finished (done), every stop or delete is answered:
	// there is nothing left to stop.
	reply := make(chan response, 1)
	select {
	case s.events <- requestEv{req: req, reply: reply}:
	case <-s.done:
		_ = json.NewEncoder(conn).Encode(response{OK: true})
		return
	}
	var resp response
	select {
	case resp = <-reply:
	case <-s.done:
		resp = response{OK: true}
	}
	_ = json.NewEncoder(conn).Encode(resp)
}

func (e requestEv) handle(s *shim) {
	if e.req.UID != "" && e.req.UID != string(s.pod.UID) {
		e.reply <- response{Error: errOtherPodText}
		return
	}
	switch e.req.Op {
	case "stop", "delete":
		s.stop(s.gracePeriod(e.req.GracePeriod), e.req.Op == "delete")
		s.waiters = append(s.waiters, e.reply)
	default:
		e.reply <- response{Error: fmt.Sprintf("unknown request %q", e.req.Op)}
	}
}

// Errors of Request.
var (
	// ErrShimGone: the pod's shim cannot be reached.
	ErrShimGone = errors.New("the pod's shim is not running")
	// ErrOtherPod: the shim at that path runs another pod (the one asked
	// for is gone).
	ErrOtherPod = errors.New("the pod was replaced by another of the same name")
)

const errOtherPodText = "request for another pod"

// gone marks err, a failed exchange with the pod's shim, as ErrShimGone if
// the shim died meanwhile (its lock is released within a moment of the
// connection's end).
func gone(dir podstate.Dir, err error) error {
	for deadline := time.Now().Add(500 * time.Millisecond); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if !dir.ShimAlive() {
			return fmt.Errorf("%w: %w", ErrShimGone, err)
		}
	}
	return err
}

// Request sends a stop or delete request to the shim of the pod with the
// given UID in dir and waits for it to be carried out (or for timeout).
func Request(dir podstate.Dir, uid, op string, grace *int64, timeout time.Duration) error {
	addr, d, err := socketAddr(dir.Socket())
	if err != nil {
		return fmt.Errorf("reach shim of %s: %w", dir, err)
	}
	if d != nil {
		defer d.Close()
	}
	// A shim that is starting holds the lock but may not listen yet.
	var conn net.Conn
	for start := time.Now(); ; {
		conn, err = net.DialTimeout("unix", addr, 2*time.Second)
		if err == nil {
			break
		}
		if !dir.ShimAlive() || time.Since(start) > 30*time.Second {
			return fmt.Errorf("%w: %w", ErrShimGone, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	defer conn.Close()
	if timeout > 0 {
		_ = conn.SetDeadline(time.Now().Add(timeout))
	}
	if err := json.NewEncoder(conn).Encode(request{Op: op, GracePeriod: grace, UID: uid}); err != nil {
		return gone(dir, fmt.Errorf("send %s request to shim: %w", op, err))
	}
	var resp response
	if err := json.NewDecoder(conn).Decode(&resp); err != nil {
		return gone(dir, fmt.Errorf("%s: no answer from shim: %w", op, err))
	}
	if resp.Error == errOtherPodText {
		return ErrOtherPod
	}
	if resp.Error != "" {
		return fmt.Errorf("%s: %s", op, resp.Error)
	}
	return nil
}
