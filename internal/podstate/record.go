package podstate

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/podbox/podbox/image"
	"github.com/podbox/podbox/internal/cni"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Record is pod.json: the pod as accepted (metadata with UID and creation
// time, the defaulted spec) and how to run it. The CLI writes it once,
// before the shim starts; nothing rewrites it.
type Record struct {
	Pod *corev1.Pod `json:"pod"`
	// BootID is the kernel boot the pod was started in: state from an
	// earlier boot (/run is not always a tmpfs) is stale, never trusted.
	BootID       string `json:"bootID"`
	Roots        Roots  `json:"roots"`
	CgroupParent string `json:"cgroupParent"`
	PauseBinary  string `json:"pauseBinary"`
	// BackOffBase and BackOffMax shape the restart back-off curve.
	BackOffBase time.Duration `json:"backOffBase"`
	BackOffMax  time.Duration `json:"backOffMax"`
	// PodPidsLimit is the pod cgroup's pids limit (0: the default,
	// negative: none).
	PodPidsLimit int64 `json:"podPidsLimit,omitempty"`
	// Pull is how the shim pulls images.
	Pull PullConfig `json:"pull"`
	// PullBinary is the program that ran the pod (the podbox CLI, or a
	// program embedding the sandbox package); the shim runs it to pull
	// (see shim.PullHelperArg). ShimBinary is the pod's shim program.
	PullBinary string `json:"pullBinary,omitempty"`
	ShimBinary string `json:"shimBinary,omitempty"`
	// CNI is the pod's network (nil: loopback only, or hostNetwork).
	CNI *cni.Options `json:"cni,omitempty"`
	// ShimEnv is the environment the pod's keeper and shim get beyond
	// their own settings: where containers/image looks for registry
	// credentials, as the command that ran the pod had it (a shim started
	// later, by another command, pulls with the same credentials).
	ShimEnv []string `json:"shimEnv,omitempty"`
	// Prepulled is what the CLI pulled for the containers' first start, by
	// container name, for the containers whose policy asked for a pull:
	// that start uses it instead of pulling again (one registry contact per
	// start, as on a node), if it is recent.
	Prepulled map[string]Prepulled `json:"prepulled,omitempty"`
	// SeccompProfileRoot is where the pod's Localhost seccomp profiles
	// are, by the name the pod gives them.
	SeccompProfileRoot string `json:"seccompProfileRoot,omitempty"`
	// ConfigMaps are those the pod was given (its volumes and environment
	// refer to them by name). Secrets are never in the record: they are on
	// the pod's secret tmpfs (Roots.SecretsDir), see WriteSecrets.
	ConfigMaps []corev1.ConfigMap `json:"configMaps,omitempty"`
}

// PullConfig is the part of image.PullOptions a pod's shim reuses.
type PullConfig struct {
	AuthFile          string `json:"authFile,omitempty"`
	RegistriesConf    string `json:"registriesConf,omitempty"`
	RegistriesConfDir string `json:"registriesConfDir,omitempty"`
	PolicyPath        string `json:"policyPath,omitempty"`
	// StallTimeout cancels a pull without progress (0: the default).
	StallTimeout time.Duration `json:"stallTimeout,omitempty"`
}

// Options turns the config into pull options.
// Pods name registry images only, never transports.
func (c PullConfig) Options() image.PullOptions {
	return image.PullOptions{AuthFile: c.AuthFile, RegistriesConf: c.RegistriesConf,
		RegistriesConfDir: c.RegistriesConfDir, PolicyPath: c.PolicyPath, RegistryOnly: true,
		StallTimeout: c.StallTimeout}
}

// Prepulled is the outcome of the CLI's pull of a container's image.
type Prepulled struct {
	At   time.Time     `json:"at"`
	Took time.Duration `json:"took,omitempty"`
	Err  string        `json:"error,omitempty"`
}

// Status is status.json: everything the shim knows, rewritten atomically
// after every change.
type Status struct {
	Pod corev1.PodStatus `json:"status"`
	// Containers describes the current instance of each container, by name.
	Containers map[string]*Container `json:"containers,omitempty"`
	// DeletionTimestamp is set when deletion started (kubectl's
	// Terminating).
	DeletionTimestamp *metav1.Time `json:"deletionTimestamp,omitempty"`
	// Final is set by a shim that is done: the pod reached a terminal phase
	// or was stopped, and its sandbox is gone. A pod whose status is not
	// final and whose shim is not alive is Unknown.
	Final   bool      `json:"final,omitempty"`
	ShimPID int       `json:"shimPID,omitempty"`
	Updated time.Time `json:"updated"`
	// Supervisor is the shim's own state: a shim that takes over from one
	// that died starts from it.
	Supervisor *Supervisor `json:"supervisor,omitempty"`
}

// Supervisor is the part of a shim's state that is not in the pod's status.
type Supervisor struct {
	KeeperPID    int       `json:"keeperPID,omitempty"`
	InitDone     bool      `json:"initDone,omitempty"`
	Stopping     bool      `json:"stopping,omitempty"`
	StopDeadline time.Time `json:"stopDeadline,omitempty"`
	// Recreating: pause died and the containers are being killed so that
	// the sandbox can be made again.
	Recreating bool `json:"recreating,omitempty"`
	// DeadlineExceeded: the pod ran past its activeDeadlineSeconds and is
	// stopped, to end Failed.
	DeadlineExceeded bool `json:"deadlineExceeded,omitempty"`
	// SidecarsEnding: nothing but sidecars will run again; they are being
	// stopped and are not restarted.
	SidecarsEnding bool `json:"sidecarsEnding,omitempty"`
	PauseLaunched  bool `json:"pauseLaunched,omitempty"`
	// PauseStarted: pause started (a pause that is not running although
	// it was launched but never started is started again, not taken for a
	// dead sandbox).
	PauseStarted bool `json:"pauseStarted,omitempty"`
	// BackOff holds the restart back-off entries by key.
	BackOff map[string]BackOffEntry `json:"backOff,omitempty"`
}

// BackOffEntry is one container's restart back-off.
type BackOffEntry struct {
	Delay      time.Duration `json:"delay"`
	LastUpdate time.Time     `json:"lastUpdate"`
}

// Instance is a container's live instance as a shim that takes over needs
// it.
type Instance struct {
	ID          string    `json:"id"`
	Restart     int       `json:"restart"`
	ContainerID string    `json:"containerID"`
	ImageName   string    `json:"imageName"`
	ImageID     string    `json:"imageID"`
	StopSignal  int       `json:"stopSignal"`
	Dir         string    `json:"dir"`
	LogPath     string    `json:"logPath"`
	CgroupPath  string    `json:"cgroupPath"`
	Pid         int       `json:"pid"`
	Started     time.Time `json:"started"`
	// StdoutIno and StderrIno identify the instance's output pipes.
	StdoutIno uint64 `json:"stdoutIno,omitempty"`
	StderrIno uint64 `json:"stderrIno,omitempty"`
}

// Container is what exec and logs need to know about a container's current
// instance.
type Container struct {
	// ID is the libcontainer ID of the current instance (in the pod's runc
	// root), empty when none exists.
	ID       string `json:"id,omitempty"`
	Restarts int    `json:"restarts"`
	// LogPath is the current instance's log file.
	LogPath string `json:"logPath,omitempty"`
	// Running is true while the instance's init is alive.
	Running bool `json:"running,omitempty"`
	// Exec is how a process exec'd into the container runs by default.
	Exec *ExecDefaults `json:"exec,omitempty"`

	// The shim's bookkeeping: instances made so far, those made in the
	// current sandbox, whether it will run again in this sandbox, and its
	// live instance.
	Runs        int       `json:"runs,omitempty"`
	SandboxRuns int       `json:"sandboxRuns,omitempty"`
	Done        bool      `json:"done,omitempty"`
	Instance    *Instance `json:"instance,omitempty"`
}

// ExecDefaults are the container's user, environment and working
// directory, which `podbox exec` reuses.
type ExecDefaults struct {
	Env []string `json:"env"`
	// EnvFile, when set, holds the environment instead of Env (a JSON
	// list): it has values from Secrets, so it is on the pod's secret
	// tmpfs, never on disk.
	EnvFile        string   `json:"envFile,omitempty"`
	Cwd            string   `json:"cwd"`
	UID            uint32   `json:"uid"`
	GID            uint32   `json:"gid"`
	AdditionalGIDs []uint32 `json:"additionalGids,omitempty"`
}

// ErrNotFound is returned for a pod that does not exist.
var ErrNotFound = errors.New("pod not found")

// ReadRecord reads a pod's record.
func (d Dir) ReadRecord() (*Record, error) {
	var r Record
	if err := readJSON(d.RecordFile(), &r); err != nil {
		return nil, err
	}
	if r.Pod == nil {
		return nil, fmt.Errorf("read %s: no pod in the record", d.RecordFile())
	}
	return &r, nil
}

// WriteRecord writes a pod's record atomically.
func (d Dir) WriteRecord(r *Record) error { return writeJSON(d.RecordFile(), r) }

// ReadStatus reads a pod's status; a pod whose shim has not written one
// yet gets an empty status.
func (d Dir) ReadStatus() (*Status, error) {
	var s Status
	err := readJSON(d.StatusFile(), &s)
	if errors.Is(err, os.ErrNotExist) {
		return &Status{}, nil
	}
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// WriteStatus writes a pod's status atomically (a reader sees the old or
// the new file, never a mix).
func (d Dir) WriteStatus(s *Status) error { return writeJSON(d.StatusFile(), s) }

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	return nil
}

func writeJSON(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	return WriteFileAtomic(path, data, 0o600)
}

// WriteFileAtomic writes data to a temporary file next to path and renames
// it over path.
func WriteFileAtomic(path string, data []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(mode)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// BootID returns the current kernel boot's ID.
func BootID() string {
	data, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}
