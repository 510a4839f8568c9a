package shim

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strings"

	"github.com/podbox/podbox/internal/kube"
	"github.com/podbox/podbox/internal/podstate"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
)

// setNetIPs records the addresses of the network whose readiness channel is ready
// (before it is closed).
func (s *shim) setNetIPs(ready chan struct{}, ips []string) {
	s.vols.mu.Lock()
	defer s.vols.mu.Unlock()
	s.vols.netOf, s.vols.netIPs = ready, ips
}

func (s *shim) netIPsOf(ready chan struct{}) []string {
	s.vols.mu.Lock()
	defer s.vols.mu.Unlock()
	if s.vols.netOf != ready {
		return nil
	}
	return s.vols.netIPs
}

// objects are the ConfigMaps (from the pod's record) and Secrets (from its secret
// tmpfs) the pod was given.
func (s *shim) objects() (*kube.Objects, error) {
	s.vols.mu.Lock()
	defer s.vols.mu.Unlock()
	if s.vols.objs != nil {
		return s.vols.objs, nil
	}
	secrets, err := podstate.ReadSecrets(s.roots.SecretsDir(string(s.pod.UID)))
	if err != nil {
		return nil, err
	}
	s.vols.objs = kube.NewObjects(s.pod.Namespace, s.rec.ConfigMaps, secrets)
	return s.vols.objs, nil
}

// podFacts are the downward API's values that are not in the spec. With ips, the pod's
// addresses are waited for (the network is attached meanwhile).
func (s *shim) podFacts(ready chan struct{}, ips bool) (kube.PodFacts, error) {
	f := kube.PodFacts{CPUs: int64(goruntime.NumCPU())}
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) == nil {
		f.Memory = int64(si.Totalram) * int64(si.Unit)
	}
	if s.hostIP != "" {
		f.HostIPs = []string{s.hostIP}
	}
	if !ips {
		return f, nil
	}
	if s.pod.Spec.HostNetwork || !usesCNI(s.rec) {
		if s.pod.Spec.HostNetwork {
			f.PodIPs = f.HostIPs
		}
		return f, nil
	}
	if err := s.waitNetwork(ready); err != nil {
		return f, err
	}
	f.PodIPs = s.netIPsOf(ready)
	return f, nil
}

// needsPodIP reports whether a container's env refers to the pod's addresses.
func needsPodIP(c *corev1.Container) bool {
	for _, e := range c.Env {
		if vf := e.ValueFrom; vf != nil && vf.FieldRef != nil && strings.HasPrefix(vf.FieldRef.FieldPath, "status.podIP") {
			return true
		}
	}
	return false
}

// containerEnv is the environment of a container's process (see kube.EnvWithRefs)
// with what envFrom and valueFrom refer to looked up; secret reports values from
// Secrets. A reference that cannot be resolved is a CreateContainerConfigError.
func (s *shim) containerEnv(c *corev1.Container, imageEnv []string, ready chan struct{}) (env []string, secret bool, err error) {
	var refs *kube.EnvRefs
	if len(c.EnvFrom) > 0 || slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool { return e.ValueFrom != nil }) {
		objs, err := s.objects()
		if err != nil {
			return nil, false, err
		}
		facts, err := s.podFacts(ready, needsPodIP(c))
		if err != nil {
			return nil, false, err
		}
		if refs, err = kube.ResolveEnv(s.pod, c, objs, facts); err != nil {
			return nil, false, err
		}
		if len(refs.Skipped) > 0 {
			s.event(corev1.EventTypeWarning, "InvalidEnvironmentVariableNames", "",
				"Keys ["+strings.Join(refs.Skipped, ", ")+"] from the EnvFrom were skipped since they are invalid environment variable names.")
		}
	}
	return kube.EnvWithRefs(c, imageEnv, []string{"HOSTNAME=" + s.hostname}, refs), refs != nil && refs.Secret, nil
}

// writeExecEnv keeps the environment of an instance whose env has values from Secrets
// on the pod's secret tmpfs, for exec (status.json only names the file).
func (s *shim) writeExecEnv(inst *instance) error {
	dir := filepath.Join(s.roots.SecretsDir(string(s.pod.UID)), "env")
	if err := podstate.MountSecrets(s.roots.SecretsDir(string(s.pod.UID))); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create exec environment directory: %w", err)
	}
	data, err := json.Marshal(inst.exec.env)
	if err != nil {
		return fmt.Errorf("encode exec environment: %w", err)
	}
	path := filepath.Join(dir, inst.id+".json")
	if err := podstate.WriteFileAtomic(path, data, 0o600); err != nil {
		return err
	}
	inst.exec.envFile = path
	return nil
}

// ReadEnvFile reads an environment written for exec (see podstate.ExecDefaults).
func ReadEnvFile(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the container's environment: %w", err)
	}
	var env []string
	if err := json.Unmarshal(data, &env); err != nil {
		return nil, fmt.Errorf("parse the container's environment %s: %w", path, err)
	}
	return env, nil
}
