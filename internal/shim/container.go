package shim

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/podbox/podbox/cgroups"
	"github.com/podbox/podbox/image"
	"github.com/podbox/podbox/internal/crilog"
	"github.com/podbox/podbox/internal/kube"
	"github.com/podbox/podbox/internal/runtime"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
)

// defaultPath is the PATH a container gets when neither the image nor the
// pod sets one (containerd's default).
const defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// instance is one run of a container: a libcontainer container with its own
// rootfs, log file and process.
type instance struct {
	id          string // libcontainer ID: <name>.<restart>
	restart     int
	containerID string // podbox://<64 hex>
	imageName   string
	imageID     string
	imageArch   string
	stopSignal  unix.Signal
	dir         string // overlay dir (upper, work, rootfs)
	logPath     string
	cgroupPath  string
	binds       []runtime.Bind // volumes and the pod's /etc files
	rootProp    int            // root mount propagation (Bidirectional volumes)
	lc          *runtime.Container
	proc        *runtime.Proc // nil for an instance adopted from a shim that died
	pid         int           // the init's PID
	pidfd       int           // of an adopted init, -1 if none
	outIno      uint64        // the output pipes' inodes
	errIno      uint64
	started     time.Time
	exited      chan struct{}
	cleaned     chan struct{} // closed once an exited instance is cleaned up
	copies      sync.WaitGroup
	exec        execDefaults
	security    security
	probes      *probes     // nil without probes
	podIPs      []string    // the pod's addresses when it started (probes connect to the first)
	ctr         *ctr        // the container it is an instance of
	preStopRun  atomic.Bool // its preStop hook ran (or runs)
	postStartOK bool        // its postStart hook succeeded (loop-owned)
}

type execDefaults struct {
	env     []string
	envFile string // env kept on the secret tmpfs (it has values from Secrets)
	cwd     string
	user    runtime.User
}

// startInstance creates and starts instance number restart of c. On a
// create failure it returns (nil, waiting reason, err) with nothing left
// behind; on a start failure it returns (inst, "", err), also cleaned up.
func (s *shim) startInstance(c *ctr, restart int, ready, gate chan struct{}) (*instance, string, error) {
	spec := c.spec
	img, reason, err := s.ensureImage(c, restart)
	if err != nil {
		return nil, reason, err
	}
	if s.pullCtx.Err() != nil {
		return nil, "", errStopping // told to stop while getting the image
	}
	inst := &instance{
		id:          fmt.Sprintf("%s.%d", spec.Name, restart),
		restart:     restart,
		containerID: "podbox://" + randomHex(32),
		imageName:   img.Name,
		imageID:     imageID(img),
		imageArch:   img.Config.Architecture,
		stopSignal:  stopSignal(img.Config.Config.StopSignal),
		ctr:         c,
		exited:      make(chan struct{}),
		cleaned:     make(chan struct{}),
		pidfd:       -1,
	}
	if l := spec.Lifecycle; l != nil && l.StopSignal != nil {
		inst.stopSignal = stopSignal(string(*l.StopSignal)) // the pod's word over the image's
	}
	inst.dir = filepath.Join(s.roots.DataDir(string(s.pod.UID)), "containers", inst.id)
	inst.cgroupPath = s.cg.ContainerPath(inst.id)
	inst.logPath = s.roots.LogPath(s.pod.Namespace, s.pod.Name, string(s.pod.UID), spec.Name, restart)

	ok := false
	defer func() {
		if !ok {
			s.cleanupInstance(inst)
			close(inst.cleaned)
		}
	}()
	if err := os.MkdirAll(filepath.Dir(inst.dir), 0o700); err != nil {
		return nil, "CreateContainerError", fmt.Errorf("create container directory: %w", err)
	}
	rootfs, err := s.store.Mount(s.ctx, img, inst.dir)
	if err != nil {
		return nil, "CreateContainerError", err
	}
	user, err := s.containerUser(spec, rootfs, img.Config.Config.User)
	if err != nil {
		return nil, "CreateContainerConfigError", err
	}
	if inst.security, err = s.containerSecurity(spec); err != nil {
		return nil, "CreateContainerError", err
	}
	env, secretEnv, err := s.containerEnv(spec, img.Config.Config.Env, ready)
	if errors.Is(err, errStopping) || (err != nil && s.pullCtx.Err() != nil) {
		return nil, "", errStopping
	}
	if err != nil {
		return nil, "CreateContainerConfigError", err
	}
	if !hasEnv(env, "PATH") {
		env = append([]string{defaultPath}, env...)
	}
	if !hasEnv(env, "HOME") {
		env = append(env, "HOME="+user.Home)
	}
	args, err := kube.Command(spec, img.Config.Config.Entrypoint, img.Config.Config.Cmd, env)
	if err != nil {
		return nil, "CreateContainerError", err
	}
	cwd := spec.WorkingDir
	if cwd == "" {
		cwd = img.Config.Config.WorkingDir
	}
	if cwd == "" {
		cwd = "/"
	}
	inst.exec = execDefaults{env: env, cwd: cwd, user: user}
	if secretEnv {
		if err := s.writeExecEnv(inst); err != nil {
			return nil, "CreateContainerError", err
		}
	}
	binds, rootProp, reason, err := s.containerMounts(inst, spec, env)
	if err != nil {
		return nil, reason, err
	}
	inst.binds, inst.rootProp = mountOrder(append(binds, s.etc.binds()...)), rootProp
	s.log.Debug("timing: prepared", "id", inst.id, "t", time.Since(s.startTime.Time).String())
	rspec := s.containerSpec(inst, rootfs)
	term, err := terminationBind(inst, spec)
	if err != nil {
		return nil, "CreateContainerError", fmt.Errorf("create the termination message file: %w", err)
	}
	rspec.Binds = append(rspec.Binds, term)
	lc, err := runtime.Create(s.dir.RuncRoot(), rspec)
	if err != nil {
		return nil, "CreateContainerError", err
	}
	inst.lc = lc
	s.event(corev1.EventTypeNormal, "Created", objectOf(c), "Created container: "+spec.Name)
	if err := s.runInstance(inst, runtime.Process{
		Args: args, Env: env, Cwd: cwd, UID: user.UID, GID: user.GID, AdditionalGIDs: user.AdditionalGIDs,
	}, ready, gate); err != nil {
		return inst, "", err
	}
	ok = true
	s.workers.Add(1)
	go func() { defer s.workers.Done(); s.wait(c, inst) }()
	return inst, "", nil
}

// containerSpec is the libcontainer spec of an app or init container.
func (s *shim) containerSpec(inst *instance, rootfs string) *runtime.Spec {
	ns := s.ns
	switch {
	case s.pod.Spec.HostPID:
		ns.PID = runtime.NS{Host: true}
	case s.pod.Spec.ShareProcessNamespace != nil && *s.pod.Spec.ShareProcessNamespace:
		ns.PID = runtime.NS{Path: s.pidPin()}
	default:
		ns.PID = runtime.NS{}
	}
	sp := &runtime.Spec{
		ImageArch:       inst.imageArch,
		ID:              inst.id,
		Rootfs:          rootfs,
		CgroupPath:      inst.cgroupPath,
		Namespaces:      ns,
		Shm:             s.shm,
		Binds:           inst.binds,
		RootPropagation: inst.rootProp,
		NoNewPrivileges: true,
		Seccomp:         true,
		Masked:          true,
		CgroupNS:        cgroups.V2(),
		Resources:       s.containerLimits(inst.id),
		OOMScoreAdj:     s.oomScoreAdj(inst.id),
	}
	inst.security.apply(sp)
	return sp
}

// runInstance starts the instance's init with its output going to the log
// file. The keeper holds a spare read end of both output pipes.
func (s *shim) runInstance(inst *instance, p runtime.Process, ready, gate chan struct{}) error {
	outR, outW, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("create stdout pipe: %w", err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return fmt.Errorf("create stderr pipe: %w", err)
	}
	inst.outIno, inst.errIno = inode(outR), inode(errR)
	s.keeper.hold(inst.id, outR, errR)
	if err := s.copyOutput(inst, outR, errR); err != nil {
		outW.Close()
		errW.Close()
		return err
	}
	// The container is set up while the pod's network is attached; its
	// program starts once both are done. (The reaper is held off only
	// while libcontainer's own processes come and go: the network's
	// plugins must be able to start meanwhile.)
	done := s.reap.starting()
	proc, err := inst.lc.Create(p, runtime.Stdio{Stdout: outW, Stderr: errW})
	if err == nil {
		s.reap.own(proc.Pid())
	}
	done()
	outW.Close()
	errW.Close()
	if err != nil {
		return err
	}
	if s.waitNetwork(ready) != nil || !s.waitGate(gate) {
		err = errStopping // the pod is being stopped (for it, maybe)
	} else {
		inst.podIPs = s.netIPsOf(ready)
		err = inst.lc.Release(proc)
	}
	if err != nil {
		_ = proc.Signal(unix.SIGKILL)
		_, _ = proc.Wait()
		s.reap.disown(proc.Pid())
		return err
	}
	inst.proc = proc
	inst.pid = proc.Pid()
	inst.started = time.Now()
	s.log.Debug("timing: started", "id", inst.id, "t", time.Since(s.startTime.Time).String())
	return nil
}

// copyOutput copies what the instance writes on the read ends out and errR
// to its log file in the CRI format, appending, until both pipes end; it
// closes them.
func (s *shim) copyOutput(inst *instance, outR, errR *os.File) error {
	if err := os.MkdirAll(filepath.Dir(inst.logPath), 0o750); err != nil {
		outR.Close()
		errR.Close()
		return fmt.Errorf("create log directory: %w", err)
	}
	logf, err := os.OpenFile(inst.logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND|unix.O_CLOEXEC, 0o640)
	if err != nil {
		outR.Close()
		errR.Close()
		return fmt.Errorf("open container log: %w", err)
	}
	w := crilog.NewWriter(logf)
	inst.copies.Add(2)
	go func() { defer inst.copies.Done(); _ = w.Copy("stdout", outR); outR.Close() }()
	go func() { defer inst.copies.Done(); _ = w.Copy("stderr", errR); errR.Close() }()
	go func() { inst.copies.Wait(); logf.Close() }()
	return nil
}

// inode is the inode number of an open file, 0 if unknown.
func inode(f *os.File) uint64 {
	var st unix.Stat_t
	if unix.Fstat(int(f.Fd()), &st) != nil {
		return 0
	}
	return st.Ino
}

// wait waits for the instance's init to exit, kills what is left in its
// cgroup, reports the exit once its output is in the log, then cleans the
// instance up: what comes next (the next init container, a restart) does
// not wait for the cleanup, only a sandbox teardown does (waitCleanups).
func (s *shim) wait(c *ctr, inst *instance) {
	var exit runtime.Exit
	unknown := false
	if inst.proc != nil {
		var err error
		exit, err = inst.proc.Wait()
		s.reap.disown(inst.pid)
		if err != nil {
			s.log.Warn("wait for container", "container", inst.id, "err", err)
		}
	} else {
		exit, unknown = s.waitAdopted(inst.pid, inst.pidfd)
	}
	at := time.Now()
	s.log.Debug("timing: exited", "id", inst.id, "t", time.Since(s.startTime.Time).String())
	close(inst.exited)
	// Whatever the init left behind (possible when it shares the pod's PID
	// namespace) goes with it, so the log pipes close.
	if inst.lc != nil {
		_ = inst.lc.Signal(unix.SIGKILL, true)
	}
	waitTimeout(&inst.copies, 2*time.Second)
	oom := s.oomKilled(inst)
	msg := terminationMessage(c.spec, inst, exit.Code, messageLimit(s.pod))
	s.send(exitedEv{c: c, inst: inst, exit: exit, oom: oom, unknown: unknown, at: at, message: msg})
	s.cleanupInstance(inst)
	close(inst.cleaned)
	s.log.Debug("timing: cleaned up", "id", inst.id, "t", time.Since(s.startTime.Time).String())
}

// waitCleanups waits until every instance that exited is cleaned up (its
// libcontainer state destroyed, its rootfs unmounted).
func (s *shim) waitCleanups() {
	for _, inst := range s.cleaning {
		<-inst.cleaned
	}
	s.cleaning = nil
}

// killInstance sends the stop signal, then SIGKILL to everything in the
// container after grace, unless it exits first.
func (s *shim) killInstance(inst *instance, grace time.Duration) {
	if inst.lc == nil {
		return // adopted, but libcontainer had no state of it: it is gone
	}
	if grace > 0 {
		grace = s.preStop(inst, grace)
		if err := inst.lc.Signal(inst.stopSignal, false); err != nil {
			s.log.Debug("stop signal", "container", inst.id, "err", err)
		}
		select {
		case <-inst.exited:
			return
		case <-time.After(grace):
		}
	}
	_ = inst.lc.Signal(unix.SIGKILL, true)
	_ = inst.lc.Signal(unix.SIGKILL, false)
}

// cleanupInstance destroys the libcontainer container and unmounts the
// rootfs. Safe on a partly created instance.
func (s *shim) cleanupInstance(inst *instance) {
	s.keeper.drop(inst.id)
	defer s.releaseVolumes(inst)
	if inst.pidfd >= 0 {
		unix.Close(inst.pidfd)
		inst.pidfd = -1
	}
	if inst.lc != nil {
		if err := inst.lc.Destroy(2 * time.Second); err != nil {
			s.log.Warn("destroy container", "container", inst.id, "err", err)
		}
	}
	if inst.dir != "" {
		if err := image.Unmount(inst.dir); err != nil {
			s.log.Warn("unmount container rootfs", "container", inst.id, "err", err)
		}
	}
}

func waitTimeout(wg *sync.WaitGroup, d time.Duration) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
	}
}

func hasEnv(env []string, key string) bool {
	for _, e := range env {
		if strings.HasPrefix(e, key+"=") {
			return true
		}
	}
	return false
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// imageID is what kubectl shows as a container's imageID: the name with the
// manifest digest (a repo digest), or the config digest for unnamed images.
func imageID(img *image.Image) string {
	if img.Digest != "" {
		name := img.Name
		if i := strings.Index(name, "@"); i >= 0 {
			name = name[:i]
		}
		if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
			name = name[:i]
		}
		return name + "@" + img.Digest.String()
	}
	return img.ID.String()
}

// stopSignal parses an image's StopSignal ("SIGQUIT", "QUIT", "3");
// SIGTERM when unset or unknown.
func stopSignal(s string) unix.Signal {
	if s == "" {
		return unix.SIGTERM
	}
	if n, err := strconv.Atoi(s); err == nil && n > 0 && n < 65 {
		return unix.Signal(n)
	}
	name := strings.TrimPrefix(strings.ToUpper(s), "SIG")
	// Real-time signals as Docker and moby/sys/signal spell them
	// (systemd images stop with SIGRTMIN+3): RTMIN is 34, RTMAX 64.
	if rest, ok := strings.CutPrefix(name, "RTMIN"); ok {
		if n, ok := rtOffset(rest, "+"); ok && 34+n <= 64 {
			return unix.Signal(34 + n)
		}
		return unix.SIGTERM
	}
	if rest, ok := strings.CutPrefix(name, "RTMAX"); ok {
		if n, ok := rtOffset(rest, "-"); ok && 64-n >= 34 {
			return unix.Signal(64 - n)
		}
		return unix.SIGTERM
	}
	if sig := unix.SignalNum("SIG" + name); sig != 0 {
		return sig
	}
	return unix.SIGTERM
}

// rtOffset parses "" (0) or sign+N, as in RTMIN+3 and RTMAX-2.
func rtOffset(s, sign string) (int, bool) {
	if s == "" {
		return 0, true
	}
	n, err := strconv.Atoi(strings.TrimPrefix(s, sign))
	if err != nil || !strings.HasPrefix(s, sign) || n < 0 {
		return 0, false
	}
	return n, true
}
