package runtime

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/opencontainers/runc/libcontainer"
	"golang.org/x/sys/unix"
)

// Container is one libcontainer container in a state root.
//
// Caller protocol: Create, then Start its init once; Signal and Exec while it
// runs; after the init has exited (and been waited for by whoever started
// it), Destroy. A restart is Destroy followed by a new Create.
type Container struct {
	lc *libcontainer.Container
}

// Errors callers check with errors.Is.
var (
	ErrNotExist = libcontainer.ErrNotExist
	ErrExist    = libcontainer.ErrExist
)

// Create builds the libcontainer config for s and registers the container
// under root (created 0700 if missing). Nothing runs yet.
func Create(root string, s *Spec) (*Container, error) {
	cfg, err := NewConfig(s)
	if err != nil {
		return nil, err
	}
	lc, err := libcontainer.Create(root, s.ID, cfg)
	if err != nil {
		return nil, fmt.Errorf("create container %s: %w", s.ID, err)
	}
	return &Container{lc: lc}, nil
}

// Load opens an existing container (possibly created by another process).
func Load(root, id string) (*Container, error) {
	lc, err := libcontainer.Load(root, id)
	if err != nil {
		return nil, fmt.Errorf("load container %s: %w", id, err)
	}
	return &Container{lc: lc}, nil
}

// ID is the container's libcontainer ID.
func (c *Container) ID() string { return c.lc.ID() }

// Stdio are the init's standard streams. They must be *os.File (pipe ends or
// files) so that they are handed straight to the process; nil means
// /dev/null. The caller closes its copies after Start.
type Stdio struct {
	Stdin, Stdout, Stderr *os.File
}

// Proc is a process started in a container by this process.
type Proc struct {
	p *libcontainer.Process
}

// Start runs p as the container's init. The calling process becomes its
// parent: only it can Wait for the exit status.
func (c *Container) Start(p Process, stdio Stdio) (*Proc, error) {
	lp := libProcess(p, stdio)
	lp.Init = true
	if err := c.lc.Run(lp); err != nil {
		return nil, fmt.Errorf("start container %s: %w", c.ID(), err)
	}
	proc := &Proc{p: lp}
	waitExec(proc.Pid())
	return proc, nil
}

// Create sets the container up with p as its init, which then waits to
// exec p's program until Release (the container is "created"): the setup
// can overlap with something else the program must wait for. The calling
// process becomes the init's parent.
func (c *Container) Create(p Process, stdio Stdio) (*Proc, error) {
	lp := libProcess(p, stdio)
	lp.Init = true
	if err := c.lc.Start(lp); err != nil {
		return nil, fmt.Errorf("create container %s: %w", c.ID(), err)
	}
	return &Proc{p: lp}, nil
}

// Release lets the init of a created container exec its program, and waits
// until it has.
func (c *Container) Release(proc *Proc) error {
	if err := c.lc.Exec(); err != nil {
		return fmt.Errorf("start container %s: %w", c.ID(), err)
	}
	waitExec(proc.Pid())
	return nil
}

// initComm is the name libcontainer's init process carries until it execs
// the container's process.
const initComm = "runc:[2:INIT]"

// waitExec waits until process pid has exec'd its program (or exited).
// libcontainer's Run returns when the init is released, a moment before it
// execs; a signal landing in that moment hits the init's Go runtime (which,
// as PID 1 of its namespace, exits 2 on SIGTERM) instead of the program.
func waitExec(pid int) {
	if pid <= 0 {
		return
	}
	path := "/proc/" + strconv.Itoa(pid) + "/comm"
	delay := 20 * time.Microsecond
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); {
		comm, err := os.ReadFile(path)
		if err != nil || strings.TrimSpace(string(comm)) != initComm {
			return
		}
		time.Sleep(delay)
		if delay < time.Millisecond {
			delay *= 2
		}
	}
}

func libProcess(p Process, stdio Stdio) *libcontainer.Process {
	lp := &libcontainer.Process{
		Args: p.Args,
		Env:  p.Env,
		Cwd:  p.Cwd,
		UID:  int(p.UID),
		GID:  int(p.GID),
	}
	for _, g := range p.AdditionalGIDs {
		lp.AdditionalGroups = append(lp.AdditionalGroups, int(g))
	}
	// Assign only non-nil files: a typed nil in an interface is not nil.
	if stdio.Stdin != nil {
		lp.Stdin = stdio.Stdin
	}
	if stdio.Stdout != nil {
		lp.Stdout = stdio.Stdout
	}
	if stdio.Stderr != nil {
		lp.Stderr = stdio.Stderr
	}
	return lp
}

// Pid is the process's PID in the caller's PID namespace.
func (p *Proc) Pid() int {
	pid, _ := p.p.Pid()
	return pid
}

// Signal sends sig to the process.
func (p *Proc) Signal(sig os.Signal) error { return p.p.Signal(sig) }

// Exit is how a process ended.
type Exit struct {
	// Code is the exit code, or 128+signal when it was killed by a signal.
	Code int
	// Signal is the signal that killed it, 0 if it exited.
	Signal int
}

// Wait waits for the process to end and reports how.
func (p *Proc) Wait() (Exit, error) {
	ps, err := p.p.Wait()
	if ps == nil {
		return Exit{Code: -1}, fmt.Errorf("wait for container process: %w", err)
	}
	return exitOf(ps), nil
}

func exitOf(ps *os.ProcessState) Exit {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok {
		return ExitOf(ws)
	}
	return Exit{Code: ps.ExitCode()}
}

// ExitOf turns a wait status (of a process reaped by someone else, who
// passed it on) into an Exit.
func ExitOf(ws syscall.WaitStatus) Exit {
	if ws.Signaled() {
		return Exit{Code: 128 + int(ws.Signal()), Signal: int(ws.Signal())}
	}
	return Exit{Code: ws.ExitStatus()}
}

// Signal sends sig to the container's init. With all set, every process in
// the container's cgroup gets it (what a SIGKILL of a container sharing the
// pod's PID namespace needs).
func (c *Container) Signal(sig os.Signal, all bool) error {
	if all {
		if err := c.signalAll(sig); err != nil {
			return err
		}
		return nil
	}
	if err := c.lc.Signal(sig); err != nil {
		return fmt.Errorf("signal container %s: %w", c.ID(), err)
	}
	return nil
}

func (c *Container) signalAll(sig os.Signal) error {
	pids, err := c.lc.Processes()
	if err != nil {
		return fmt.Errorf("list processes of container %s: %w", c.ID(), err)
	}
	s, _ := sig.(syscall.Signal)
	for _, pid := range pids {
		_ = unix.Kill(pid, s)
	}
	return nil
}

// Running reports whether the container's init is alive.
func (c *Container) Running() bool {
	st, err := c.lc.Status()
	return err == nil && (st == libcontainer.Running || st == libcontainer.Created || st == libcontainer.Paused)
}

// InitPid returns the PID of the container's init, 0 if unknown.
func (c *Container) InitPid() int {
	st, err := c.lc.State()
	if err != nil {
		return 0
	}
	return st.InitProcessPid
}

// CgroupPaths returns the container's cgroup directories per controller.
func (c *Container) CgroupPaths() map[string]string {
	st, err := c.lc.State()
	if err != nil {
		return nil
	}
	return st.CgroupPaths
}

// Destroy removes the container's state and cgroup leaf. If processes are
// still running they are killed first (a restored container cannot be waited
// for, so this polls for up to timeout).
func (c *Container) Destroy(timeout time.Duration) error {
	if c.Running() {
		_ = c.signalAll(unix.SIGKILL)
		_ = c.lc.Signal(unix.SIGKILL)
		deadline := time.Now().Add(timeout)
		for c.Running() && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
	}
	if err := c.lc.Destroy(); err != nil {
		return fmt.Errorf("destroy container %s: %w", c.ID(), err)
	}
	return nil
}

// List returns the IDs of the containers under root.
func List(root string) ([]string, error) {
	ents, err := os.ReadDir(root)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list containers in %s: %w", root, err)
	}
	var ids []string
	for _, e := range ents {
		if e.IsDir() {
			ids = append(ids, e.Name())
		}
	}
	return ids, nil
}
