package podstate

import (
	"fmt"
	"path/filepath"
)

// Roots are the three directories podbox keeps things in.
type Roots struct {
	// Root holds images, unpacked layers and per-pod data (container upper
	// dirs, volumes). Default /var/lib/podbox.
	Root string
	// State holds runtime state: pod records and status, shim sockets,
	// pinned namespaces, libcontainer state. Default /run/podbox.
	State string
	// LogDir holds container logs in the kubelet's layout. Default
	// /var/log/podbox/pods.
	LogDir string
}

// Default roots.
const (
	DefaultRoot   = "/var/lib/podbox"
	DefaultState  = "/run/podbox"
	DefaultLogDir = "/var/log/podbox/pods"
)

// PodsDir is the directory holding one directory per namespace, each with
// one directory per pod.
func (r Roots) PodsDir() string { return filepath.Join(r.State, "pods") }

// Pod returns the state directory of a pod.
func (r Roots) Pod(namespace, name string) Dir {
	return Dir(filepath.Join(r.PodsDir(), namespace, name))
}

// DataDir is a pod's directory under Root (container upper dirs, volumes).
func (r Roots) DataDir(uid string) string { return filepath.Join(r.Root, "pods", uid) }

// LogPodDir is a pod's log directory: <log-dir>/<ns>_<name>_<uid>.
func (r Roots) LogPodDir(namespace, name, uid string) string {
	return filepath.Join(r.LogDir, fmt.Sprintf("%s_%s_%s", namespace, name, uid))
}

// LogPath is the log file of one container instance:
// <log-dir>/<ns>_<name>_<uid>/<container>/<restart>.log.
func (r Roots) LogPath(namespace, name, uid, container string, restart int) string {
	return filepath.Join(r.LogPodDir(namespace, name, uid), container, fmt.Sprintf("%d.log", restart))
}

// Dir is a pod's state directory.
type Dir string

// Files and directories inside a pod's state directory.
func (d Dir) String() string     { return string(d) }
func (d Dir) RecordFile() string { return filepath.Join(string(d), "pod.json") }
func (d Dir) StatusFile() string { return filepath.Join(string(d), "status.json") }
func (d Dir) EventsFile() string { return filepath.Join(string(d), "events.json") }
func (d Dir) LockFile() string   { return filepath.Join(string(d), "shim.lock") }
func (d Dir) Socket() string     { return filepath.Join(string(d), "shim.sock") }

// KeeperLockFile is held by the pod's keeper while it runs; KeeperPIDFile
// holds its PID.
func (d Dir) KeeperLockFile() string { return filepath.Join(string(d), "keeper.lock") }
func (d Dir) KeeperPIDFile() string  { return filepath.Join(string(d), "keeper.pid") }
func (d Dir) ShimLog() string        { return filepath.Join(string(d), "shim.log") }

// NetworkFile exists from just before the pod's CNI ADD until its DEL
// succeeded: a DEL is due exactly while it exists.
func (d Dir) NetworkFile() string { return filepath.Join(string(d), "network") }
func (d Dir) NsDir() string       { return filepath.Join(string(d), "ns") }
func (d Dir) EtcDir() string      { return filepath.Join(string(d), "etc") }
func (d Dir) ShmDir() string      { return filepath.Join(string(d), "shm") }
func (d Dir) RuncRoot() string    { return filepath.Join(string(d), "runc") }
