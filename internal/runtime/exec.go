package runtime

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// ExecOptions describe a process to run in a running container.
type ExecOptions struct {
	Process Process
	Stdio   Stdio
	// TTY allocates a pseudo-terminal in the container; its master end is
	// returned by Exec and Stdio is ignored.
	TTY           bool
	Width, Height uint16
}

// Exec starts a process in the running container; the caller is its parent
// and waits for it. With TTY it also returns the terminal's master end.
func (c *Container) Exec(o ExecOptions) (*Proc, *os.File, error) {
	lp := libProcess(o.Process, o.Stdio)
	if !o.TTY {
		if err := c.lc.Run(lp); err != nil {
			return nil, nil, fmt.Errorf("exec in container %s: %w", c.ID(), err)
		}
		proc := &Proc{p: lp}
		waitExec(proc.Pid())
		return proc, nil, nil
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("exec in container %s: console socket: %w", c.ID(), err)
	}
	parent, child := os.NewFile(uintptr(fds[0]), "console-parent"), os.NewFile(uintptr(fds[1]), "console-child")
	defer parent.Close()
	lp.Stdin, lp.Stdout, lp.Stderr = nil, nil, nil
	lp.ConsoleSocket = child
	lp.ConsoleWidth, lp.ConsoleHeight = o.Width, o.Height
	err = c.lc.Run(lp)
	child.Close()
	if err != nil {
		return nil, nil, fmt.Errorf("exec in container %s: %w", c.ID(), err)
	}
	master, err := recvFd(parent)
	if err != nil {
		_ = lp.Signal(unix.SIGKILL)
		_, _ = lp.Wait()
		return nil, nil, fmt.Errorf("exec in container %s: receive terminal: %w", c.ID(), err)
	}
	return &Proc{p: lp}, master, nil
}

// recvFd receives one file descriptor sent with SCM_RIGHTS.
func recvFd(sock *os.File) (*os.File, error) {
	name := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := unix.Recvmsg(int(sock.Fd()), name, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return nil, err
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		return nil, err
	}
	if len(msgs) != 1 {
		return nil, fmt.Errorf("expected one control message, got %d", len(msgs))
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil {
		return nil, err
	}
	if len(fds) != 1 {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return nil, fmt.Errorf("expected one fd, got %d", len(fds))
	}
	return os.NewFile(uintptr(fds[0]), string(name[:n])), nil
}

// Resize sets the terminal size of a pty master.
func Resize(master *os.File, width, height uint16) error {
	ws := &unix.Winsize{Col: width, Row: height}
	return unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, ws)
}
