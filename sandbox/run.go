package sandbox

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/google/uuid"
	"github.com/podbox/podbox/internal/cni"
	"github.com/podbox/podbox/internal/kube"
	"github.com/podbox/podbox/internal/podstate"
	"github.com/podbox/podbox/internal/shim"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Run validates a pod, starts its shim and returns once the sandbox is up
// and the first containers have started (or failed to start: that shows in
// their status, as on a node). The pod is defaulted as the API server would
// (namespace "default" when unset). Nothing is left behind on error.
func (r *Runtime) Run(ctx context.Context, pod *corev1.Pod) (*corev1.Pod, error) {
	return r.RunWith(ctx, pod, RunOptions{})
}

// RunWith is Run with the ConfigMaps and Secrets the pod refers to.
func (r *Runtime) RunWith(ctx context.Context, pod *corev1.Pod, opts RunOptions) (*corev1.Pod, error) {
	pod, err := r.Validate(ctx, pod)
	if err != nil {
		return nil, err
	}
	if err := r.checkSeccompProfiles(pod); err != nil {
		return nil, err
	}
	configMaps, secrets, err := opts.forPod(pod)
	if err != nil {
		return nil, err
	}
	pause, err := r.pauseBinary()
	if err != nil {
		return nil, err
	}
	shimBin, err := r.shimBinary()
	if err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("run pod %s/%s: find this program (it pulls for the pod's shim): %w", pod.Namespace, pod.Name, err)
	}
	var network *cni.Options
	if !pod.Spec.HostNetwork {
		// Now, not in the shim: a missing plugin is reported before
		// anything is made (and podbox's default network written).
		o := r.cniOptions()
		n, err := cni.Load(o)
		if err == nil {
			err = n.EnsureMasquerade()
		}
		if err != nil {
			return nil, fmt.Errorf("run pod %s/%s: %w", pod.Namespace, pod.Name, err)
		}
		network = &o
	}
	pod.UID = types.UID(uuid.NewString())
	pod.CreationTimestamp = metav1.Now()
	pod.Status = corev1.PodStatus{}
	pod.ResourceVersion, pod.Generation = "", 0
	if pod.Spec.NodeName == "" {
		pod.Spec.NodeName, _ = os.Hostname()
	}

	rec := &podstate.Record{
		Pod: pod, BootID: podstate.BootID(), Roots: r.roots, CgroupParent: r.opts.CgroupParent,
		PauseBinary: pause, BackOffBase: r.opts.BackOffBase, BackOffMax: r.opts.BackOffMax, PodPidsLimit: r.opts.PodPidsLimit,
		Pull: r.pullConfig(), Prepulled: r.prePull(ctx, pod), ShimEnv: credentialEnv(),
		PullBinary: self, ShimBinary: shimBin, CNI: network, ConfigMaps: configMaps,
		SeccompProfileRoot: r.opts.SeccompProfileRoot,
	}
	// Held until the shim reports: a delete or stop of this name waits.
	nameLock, err := r.roots.LockName(ctx, pod.Namespace, pod.Name)
	if err != nil {
		return nil, err
	}
	// Host ports are checked and the pod's record made under one lock
	// (taken after the name's, which a stop holds for a while): two pods
	// asking for one host port at once cannot both pass.
	unlockPorts := func() {}
	if len(hostPorts(pod)) > 0 {
		if unlockPorts, err = r.lockHostPorts(ctx); err != nil {
			nameLock.Unlock(false)
			return nil, err
		}
		if err := r.checkHostPorts(ctx, pod); err != nil {
			unlockPorts()
			nameLock.Unlock(false)
			return nil, err
		}
	}
	dir, lock, err := r.roots.CreatePod(rec)
	unlockPorts()
	if errors.Is(err, podstate.ErrExist) {
		nameLock.Unlock(false)
		return nil, fmt.Errorf("pods %q %w in namespace %q", pod.Name, ErrAlreadyExists, pod.Namespace)
	}
	if err != nil {
		nameLock.Unlock(false)
		return nil, fmt.Errorf("run pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	if len(secrets) > 0 {
		err = podstate.WriteSecrets(r.roots.SecretsDir(string(pod.UID)), secrets)
	}
	if err == nil {
		err = startShim(ctx, dir, rec, lock, pause)
	}
	if err != nil {
		r.rollback(dir, rec)
		lock.Close()
		nameLock.Unlock(true)
		return nil, fmt.Errorf("run pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	nameLock.Unlock(false)
	lock.Close()
	return r.Get(ctx, pod.Namespace, pod.Name)
}

// Validate defaults a copy of pod as the API server would (namespace
// "default" when unset) and checks it completely, every problem at once (an
// *InvalidError), then that no pod of that name exists. It creates nothing.
// Images are not checked: as on a node, an image that cannot be had shows
// in the container's status (ErrImagePull, ErrImageNeverPull,
// InvalidImageName).
func (r *Runtime) Validate(ctx context.Context, pod *corev1.Pod) (*corev1.Pod, error) {
	pod = pod.DeepCopy()
	if pod.Namespace == "" {
		pod.Namespace = "default"
	}
	kube.SetDefaults(pod)
	if errs := kube.Validate(pod); len(errs) > 0 {
		return nil, &InvalidError{Namespace: pod.Namespace, Name: pod.Name, Errs: errs}
	}
	if _, err := os.Stat(r.roots.Pod(pod.Namespace, pod.Name).RecordFile()); err == nil {
		return nil, fmt.Errorf("pods %q %w in namespace %q", pod.Name, ErrAlreadyExists, pod.Namespace)
	}
	return pod, nil
}

// rollback removes everything a failed Run made.
func (r *Runtime) rollback(dir podstate.Dir, rec *podstate.Record) {
	// The keeper would start another shim in place of one that failed.
	freezeSupervisors(dir, 0, 0).killKeeper()
	if err := shim.Teardown(dir, rec); err != nil {
		r.log.Warn("roll back pod", "pod", rec.Pod.Name, "err", err)
	}
	_ = os.RemoveAll(r.roots.LogPodDir(rec.Pod.Namespace, rec.Pod.Name, string(rec.Pod.UID)))
	_ = os.RemoveAll(string(dir))
}

// startShim starts the pod's keeper (the pause binary as `pause keep`),
// detached (own session, stdio on the shim log), which starts the shim
// (rec.ShimBinary, or this program) and replaces it should it die; it waits
// until the shim reports the pod started or failed. lock is the pod's shim
// lock, already taken, for the shim; without it the shim takes it (a shim
// replacing a dead one).
func startShim(ctx context.Context, dir podstate.Dir, rec *podstate.Record, lock *os.File, pause string) error {
	shimBin := rec.ShimBinary
	if shimBin == "" {
		shimBin = "/proc/self/exe"
	}
	exe, err := os.Open(shimBin)
	if err != nil {
		return fmt.Errorf("start shim: %w", err)
	}
	defer exe.Close()
	rp, wp, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("start shim: %w", err)
	}
	defer rp.Close()
	logf, err := os.OpenFile(dir.ShimLog(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		wp.Close()
		return fmt.Errorf("start shim: %w", err)
	}
	name := "podbox-shim"
	if rec.ShimBinary == "" {
		name = filepath.Base(os.Args[0])
	}
	cmd := exec.Command(pause, shim.KeeperArg, "--", name, shim.Arg, string(dir))
	cmd.Args[0] = "podbox-keeper"
	cmd.Env = []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		shim.EnvPodDir + "=" + string(dir),
		shim.EnvKeeperExeFD + "=3",
		shim.EnvReadyFD + "=4",
	}
	cmd.ExtraFiles = []*os.File{exe, wp}
	if lock != nil {
		cmd.Env = append(cmd.Env, shim.EnvLockFD+"=5")
		cmd.ExtraFiles = append(cmd.ExtraFiles, lock)
	}
	cmd.Env = append(cmd.Env, rec.ShimEnv...)
	cmd.Dir = "/" // nothing may depend on where the CLI ran
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	wp.Close()
	logf.Close()
	if err != nil {
		return fmt.Errorf("start shim: %w", err)
	}
	// Reap the shim if this process outlives it.
	reaped := make(chan struct{})
	go func() { _ = cmd.Wait(); close(reaped) }()

	msg := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(rp).ReadString('\n')
		msg <- strings.TrimSpace(line)
	}()
	select {
	case <-ctx.Done():
		// Kill the keeper and the shim and wait for them: a shim still
		// dying could make a mount or a cgroup after the rollback.
		sup := freezeSupervisors(dir, cmd.Process.Pid, 0)
		sup.killKeeper()
		<-reaped
		return fmt.Errorf("start shim: %w", ctx.Err())
	case m := <-msg:
		switch {
		case strings.HasPrefix(m, "ok "):
			if v, err := strconv.Atoi(strings.TrimPrefix(m, "ok ")); err == nil && v >= shim.Protocol {
				return nil
			}
			fallthrough
		case m == "ok":
			return fmt.Errorf("the shim %s is older than this podbox (it says %q, protocol %d is needed): "+
				"install the podbox-shim built with it (make install) or name it with --shim", shimBin, m, shim.Protocol)
		case strings.HasPrefix(m, "error: "):
			return errors.New(strings.TrimPrefix(m, "error: "))
		default:
			return fmt.Errorf("the shim exited before the pod started: %s", tail(dir.ShimLog()))
		}
	}
}

// credentialEnv is where containers/image looks for registry credentials
// in this process's environment, for the pod's shim: its later pulls find
// what this process's found.
func credentialEnv() []string {
	var env []string
	for _, k := range []string{"HOME", "DOCKER_CONFIG", "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "REGISTRY_AUTH_FILE"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// tail returns the last lines of a file, for error messages.
func tail(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return "(no shim log)"
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > 2048 {
		_, _ = f.Seek(-2048, io.SeekEnd)
	}
	data, _ := io.ReadAll(f)
	return strings.TrimSpace(string(data))
}
