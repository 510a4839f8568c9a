package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/podbox/podbox/cgroups"
	"github.com/podbox/podbox/image"
	"github.com/podbox/podbox/internal/cni"
	"github.com/podbox/podbox/internal/podstate"
	"github.com/podbox/podbox/internal/shim"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Options configure a Runtime. The zero value uses the default paths.
type Options struct {
	// Root holds images and per-pod data. Default /var/lib/podbox.
	Root string
	// State holds runtime state (pod records, status, sockets, pinned
	// namespaces). Default /run/podbox.
	State string
	// LogDir holds container logs. Default /var/log/podbox/pods.
	LogDir string
	// PauseBinary is the pause program; empty means look for it (see
	// FindPause).
	PauseBinary string
	// ShimBinary is the pod shim program (podbox-shim); empty means look
	// for it (see FindShim), and without one this program itself serves as
	// the shim (slower: every container start re-executes it, and it links
	// everything the library does).
	ShimBinary string
	// CgroupParent is the cgroup under which pod cgroups are made. Default
	// /podbox.
	CgroupParent string
	// CNIPluginDirs, CNIConfDir and Network choose pods' network: the CNI
	// configuration list named Network in CNIConfDir, its plugins looked
	// up in CNIPluginDirs (defaults: /opt/cni/bin and /usr/lib/cni,
	// /etc/cni/net.d, "podbox", whose configuration podbox writes on first
	// use: a bridge podbox0 on 10.209.0.0/16). hostNetwork pods use the
	// host's.
	CNIPluginDirs []string
	CNIConfDir    string
	Network       string
	// BackOffBase and BackOffMax shape the restart back-off (defaults: the
	// kubelet's 10s and 300s).
	BackOffBase, BackOffMax time.Duration
	// PodPidsLimit is the pids limit of each pod's cgroup (the kubelet's
	// podPidsLimit): 0 means cgroups.DefaultPodPidsLimit (4096), a negative
	// value no limit.
	PodPidsLimit int64
	// Logger receives the library's diagnostics; nil discards them.
	Logger *slog.Logger
	// SeccompProfileRoot holds the seccomp profiles pods name with
	// seccompProfile type Localhost (localhostProfile is relative to it),
	// as the kubelet's /var/lib/kubelet/seccomp. Default <Root>/seccomp.
	SeccompProfileRoot string

	// AuthFile is the registry credentials file (default: containers/image's
	// search, as podman and skopeo: $REGISTRY_AUTH_FILE,
	// ${XDG_RUNTIME_DIR}/containers/auth.json, ~/.docker/config.json, ...).
	AuthFile string
	// RegistriesConf and RegistriesConfDir override
	// /etc/containers/registries.conf(.d): mirrors, insecure registries.
	RegistriesConf, RegistriesConfDir string
	// SignaturePolicy overrides /etc/containers/policy.json.
	SignaturePolicy string
	// PullProgress receives the layer events of the pulls Run and Pull make
	// (possibly from several goroutines).
	PullProgress func(image.PullEvent)
	// PullStallTimeout cancels a pull that makes no progress for this long
	// (default image.DefaultStallTimeout, 5m).
	PullStallTimeout time.Duration
}

// Runtime runs and manages pods under one set of roots. It is cheap to open
// and safe for concurrent use; several Runtimes (and processes) may share
// roots.
type Runtime struct {
	opts  Options
	roots podstate.Roots
	store *image.Store
	log   *slog.Logger
}

// Open prepares a Runtime, creating its directories.
func Open(opts Options) (*Runtime, error) {
	if opts.Root == "" {
		opts.Root = podstate.DefaultRoot
	}
	if opts.State == "" {
		opts.State = podstate.DefaultState
	}
	if opts.LogDir == "" {
		opts.LogDir = podstate.DefaultLogDir
	}
	if opts.CgroupParent == "" {
		opts.CgroupParent = cgroups.DefaultParent
	}
	if opts.BackOffBase <= 0 {
		opts.BackOffBase = shim.DefaultBackOffBase
	}
	if opts.BackOffMax <= 0 {
		opts.BackOffMax = shim.DefaultBackOffMax
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	for _, d := range []string{opts.Root, opts.State, opts.LogDir} {
		abs, err := filepath.Abs(d)
		if err != nil {
			return nil, fmt.Errorf("open runtime: %w", err)
		}
		if err := os.MkdirAll(abs, 0o711); err != nil {
			return nil, fmt.Errorf("open runtime: %w", err)
		}
	}
	opts.Root, _ = filepath.Abs(opts.Root)
	opts.State, _ = filepath.Abs(opts.State)
	opts.LogDir, _ = filepath.Abs(opts.LogDir)
	if opts.SeccompProfileRoot == "" {
		opts.SeccompProfileRoot = filepath.Join(opts.Root, "seccomp")
	}
	opts.SeccompProfileRoot, _ = filepath.Abs(opts.SeccompProfileRoot)
	store, err := image.Open(image.Options{Root: opts.Root})
	if err != nil {
		return nil, fmt.Errorf("open runtime: %w", err)
	}
	return &Runtime{
		opts:  opts,
		roots: podstate.Roots{Root: opts.Root, State: opts.State, LogDir: opts.LogDir},
		store: store,
		log:   log,
	}, nil
}

// Images is the runtime's image store.
func (r *Runtime) Images() *image.Store { return r.store }

// Options returns the options in effect (defaults filled in).
func (r *Runtime) Options() Options { return r.opts }

// FindPause locates the pause binary: next to the running executable as
// podbox-pause, in ../libexec/podbox/pause relative to it, in
// /usr/local/libexec/podbox/pause or /usr/libexec/podbox/pause, or as
// podbox-pause in $PATH.
func FindPause() (string, error) {
	var candidates []string
	if exe, err := os.Executable(); err == nil {
		dir := filepath.Dir(exe)
		candidates = append(candidates,
			filepath.Join(dir, "podbox-pause"),
			filepath.Join(dir, "..", "libexec", "podbox", "pause"))
	}
	candidates = append(candidates, "/usr/local/libexec/podbox/pause", "/usr/libexec/podbox/pause")
	for _, c := range candidates {
		if st, err := os.Stat(c); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return filepath.Clean(c), nil
		}
	}
	if p, err := exec.LookPath("podbox-pause"); err == nil {
		return filepath.Abs(p)
	}
	return "", fmt.Errorf("pause binary not found (looked for podbox-pause next to this program, in "+
		"/usr/local/libexec/podbox/pause, /usr/libexec/podbox/pause and $PATH): build it with `make pause` "+
		"or name it with --pause / PODBOX_PAUSE; tried %v", candidates)
}

// cniOptions are the pods' network options, defaults filled in.
func (r *Runtime) cniOptions() cni.Options {
	o := cni.Options{PluginDirs: r.opts.CNIPluginDirs, ConfDir: r.opts.CNIConfDir, Network: r.opts.Network,
		CacheDir: filepath.Join(r.opts.State, "cni")}
	if len(o.PluginDirs) == 0 {
		o.PluginDirs = cni.DefaultPluginDirs
	}
	if o.ConfDir == "" {
		o.ConfDir = cni.DefaultConfDir
	}
	if o.Network == "" {
		o.Network = cni.DefaultNetwork
	}
	// The shim runs in /: relative directories must not change meaning.
	if abs, err := filepath.Abs(o.ConfDir); err == nil {
		o.ConfDir = abs
	}
	dirs := make([]string, 0, len(o.PluginDirs))
	for _, d := range o.PluginDirs {
		if abs, err := filepath.Abs(d); err == nil {
			d = abs
		}
		dirs = append(dirs, d)
	}
	o.PluginDirs = dirs
	return o
}

// FindShim locates the shim program: next to the running executable as
// podbox-shim, in ../libexec/podbox/shim relative to it, in
// /usr/local/libexec/podbox/shim or /usr/libexec/podbox/shim, or as
// podbox-shim in $PATH. It returns "" if there is none.
func FindShim() string {
	var candidates []string
	if exe, err := os.Executable(); err == nil {
		dir := filepath.Dir(exe)
		candidates = append(candidates,
			filepath.Join(dir, "podbox-shim"),
			filepath.Join(dir, "..", "libexec", "podbox", "shim"))
	}
	candidates = append(candidates, "/usr/local/libexec/podbox/shim", "/usr/libexec/podbox/shim")
	for _, c := range candidates {
		if st, err := os.Stat(c); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return filepath.Clean(c)
		}
	}
	if p, err := exec.LookPath("podbox-shim"); err == nil {
		if abs, err := filepath.Abs(p); err == nil {
			return abs
		}
	}
	return ""
}

// shimBinary is the program pods' shims run: the configured or installed
// podbox-shim, else this program ("" then).
func (r *Runtime) shimBinary() (string, error) {
	if r.opts.ShimBinary != "" {
		p, err := filepath.Abs(r.opts.ShimBinary)
		if err != nil {
			return "", err
		}
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("shim binary: %w", err)
		}
		return p, nil
	}
	return FindShim(), nil
}

func (r *Runtime) pauseBinary() (string, error) {
	if r.opts.PauseBinary != "" {
		p, err := filepath.Abs(r.opts.PauseBinary)
		if err != nil {
			return "", err
		}
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("pause binary: %w", err)
		}
		return p, nil
	}
	return FindPause()
}

// pod reads a pod's record and status and combines them into a v1 Pod.
// A pod whose shim is gone without a final word is Unknown.
func (r *Runtime) pod(dir podstate.Dir) (*corev1.Pod, *podstate.Record, *podstate.Status, error) {
	rec, err := dir.ReadRecord()
	if err != nil {
		return nil, nil, nil, err
	}
	if rec.Pod.Name != filepath.Base(string(dir)) || rec.Pod.Namespace != filepath.Base(filepath.Dir(string(dir))) {
		return nil, nil, nil, fmt.Errorf("%s holds pod %s/%s, not the pod its path names", dir.RecordFile(), rec.Pod.Namespace, rec.Pod.Name)
	}
	// Whether a shim runs is asked before the status is read: a shim
	// writes its final status before it lets go of its lock, so a status
	// read after a shim was seen gone is that shim's last word.
	alive := r.shimAlive(dir, rec)
	st, err := dir.ReadStatus()
	if err != nil {
		return nil, nil, nil, err
	}
	pod := rec.Pod.DeepCopy()
	pod.Status = *st.Pod.DeepCopy()
	if st.DeletionTimestamp != nil {
		pod.DeletionTimestamp = st.DeletionTimestamp
		pod.DeletionGracePeriodSeconds = pod.Spec.TerminationGracePeriodSeconds
	}
	if !st.Final && !alive {
		markUnknown(pod)
	}
	return pod, rec, st, nil
}

func (r *Runtime) shimAlive(dir podstate.Dir, rec *podstate.Record) bool {
	return rec.BootID == podstate.BootID() && dir.ShimAlive()
}

// markUnknown makes a pod whose supervisor is gone read as kubectl shows a
// pod whose node is lost: phase Unknown, nothing ready.
func markUnknown(pod *corev1.Pod) {
	pod.Status.Phase = corev1.PodUnknown
	pod.Status.Message = "the pod's shim is not running (killed or crashed): its containers are not supervised; " +
		"`podbox delete --force` removes the pod"
	for i := range pod.Status.ContainerStatuses {
		pod.Status.ContainerStatuses[i].Ready = false
	}
	for i := range pod.Status.Conditions {
		c := &pod.Status.Conditions[i]
		if c.Type == corev1.PodReady || c.Type == corev1.ContainersReady {
			c.Status = corev1.ConditionUnknown
			c.Reason = "ShimLost"
		}
	}
}

// podDir checks a namespace and pod name (they become paths: "../x" must
// never reach the file system) and returns the pod's state directory.
func (r *Runtime) podDir(namespace, name string) (string, podstate.Dir, error) {
	if namespace == "" {
		namespace = "default"
	}
	if errs := validation.IsDNS1123Label(namespace); len(errs) > 0 {
		return "", "", fmt.Errorf("invalid namespace %q: %s: %w", namespace, strings.Join(errs, "; "), ErrInvalid)
	}
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return "", "", fmt.Errorf("invalid pod name %q: %s: %w", name, strings.Join(errs, "; "), ErrInvalid)
	}
	return namespace, r.roots.Pod(namespace, name), nil
}

// Get returns a pod with its current status.
func (r *Runtime) Get(ctx context.Context, namespace, name string) (*corev1.Pod, error) {
	namespace, dir, err := r.podDir(namespace, name)
	if err != nil {
		return nil, err
	}
	pod, _, _, err := r.pod(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, notFound(namespace, name)
	}
	return pod, err
}

// List returns the pods of a namespace ("" for all), sorted by namespace
// and name.
func (r *Runtime) List(ctx context.Context, namespace string) ([]*corev1.Pod, error) {
	pattern := filepath.Join(r.roots.PodsDir(), "*", "*", "pod.json")
	if namespace != "" {
		if errs := validation.IsDNS1123Label(namespace); len(errs) > 0 {
			return nil, fmt.Errorf("invalid namespace %q: %s: %w", namespace, strings.Join(errs, "; "), ErrInvalid)
		}
		pattern = filepath.Join(r.roots.PodsDir(), namespace, "*", "pod.json")
	}
	files, err := filepath.Glob(pattern)
	if err != nil {
		return nil, fmt.Errorf("list pods: %w", err)
	}
	var pods []*corev1.Pod
	for _, f := range files {
		if strings.HasPrefix(filepath.Base(filepath.Dir(f)), ".") {
			continue // a pod being created (or whose creation was cut short)
		}
		pod, _, _, err := r.pod(podstate.Dir(filepath.Dir(f)))
		if errors.Is(err, os.ErrNotExist) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		pods = append(pods, pod)
	}
	sort.Slice(pods, func(i, j int) bool {
		if pods[i].Namespace != pods[j].Namespace {
			return pods[i].Namespace < pods[j].Namespace
		}
		return pods[i].Name < pods[j].Name
	})
	return pods, nil
}

// UID returns the UID of a pod.
func (r *Runtime) UID(ctx context.Context, namespace, name string) (types.UID, error) {
	p, err := r.Get(ctx, namespace, name)
	if err != nil {
		return "", err
	}
	return p.UID, nil
}
