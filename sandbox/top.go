package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/podbox/podbox/cgroups"
	corev1 "k8s.io/api/core/v1"
)

// DefaultTopWindow is how long Top measures CPU use when not told.
const DefaultTopWindow = time.Second

// PodUsage is what a pod uses, read from its cgroups.
type PodUsage struct {
	Namespace, Name string
	// Usage is the pod cgroup's: every container and pause.
	Usage
	// Containers are the running containers (init and app, in spec order).
	Containers []ContainerUsage
}

// ContainerUsage is what one running container uses.
type ContainerUsage struct {
	Name string
	Usage
}

// Usage is CPU and memory use.
type Usage struct {
	// MilliCPU is the average CPU rate over the measuring window, in
	// millicores (1000 = one CPU fully busy).
	MilliCPU int64
	// Memory is the working set in bytes (usage minus inactive file
	// cache), what kubectl top shows.
	Memory int64
	// CPUTime is the CPU time used since the cgroup was made.
	CPUTime time.Duration
	// Pids is the number of processes and threads at the end.
	Pids int64
}

// Top measures the CPU and memory use of pods, as `kubectl top pod` shows
// it: it reads each pod's cgroups, waits window (DefaultTopWindow if 0),
// reads them again and reports the CPU rate in between and the memory at
// the end. names are pods of namespace; with none, every running pod of
// namespace ("": of every namespace). A named pod that does not run (no
// cgroup) is an error; listed ones that do not run are left out.
func (r *Runtime) Top(ctx context.Context, namespace string, names []string, window time.Duration) ([]PodUsage, error) {
	if window <= 0 {
		window = DefaultTopWindow
	}
	var pods []*corev1.Pod
	if len(names) == 0 {
		all, err := r.List(ctx, namespace)
		if err != nil {
			return nil, err
		}
		pods = all
	}
	for _, n := range names {
		p, err := r.Get(ctx, namespace, n)
		if err != nil {
			return nil, err
		}
		pods = append(pods, p)
	}
	var samples []*podSample
	for _, p := range pods {
		s, err := r.sample(p)
		if err != nil {
			if len(names) == 0 && errors.Is(err, os.ErrNotExist) {
				continue
			}
			return nil, err
		}
		samples = append(samples, s)
	}
	if len(samples) == 0 {
		return nil, nil
	}
	select {
	case <-ctx.Done():
		return nil, fmt.Errorf("measure pod usage: %w", ctx.Err())
	case <-time.After(window):
	}
	out := make([]PodUsage, 0, len(samples))
	for _, s := range samples {
		end, err := cgroups.ReadUsage(s.path)
		if err != nil {
			if len(names) == 0 && errors.Is(err, os.ErrNotExist) {
				continue // stopped meanwhile
			}
			return nil, fmt.Errorf("measure pod %s/%s: %w", s.pod.Namespace, s.pod.Name, err)
		}
		pu := PodUsage{Namespace: s.pod.Namespace, Name: s.pod.Name, Usage: usage(s.start, end)}
		for _, c := range s.ctrs {
			end, err := cgroups.ReadUsage(c.path)
			if err != nil {
				continue // exited meanwhile
			}
			pu.Containers = append(pu.Containers, ContainerUsage{Name: c.name, Usage: usage(c.start, end)})
		}
		out = append(out, pu)
	}
	return out, nil
}

type podSample struct {
	pod   *corev1.Pod
	path  string
	start cgroups.Usage
	ctrs  []ctrSample
}

type ctrSample struct {
	name, path string
	start      cgroups.Usage
}

// sample takes the first reading of a pod and its running containers.
func (r *Runtime) sample(pod *corev1.Pod) (*podSample, error) {
	_, dir, err := r.podDir(pod.Namespace, pod.Name)
	if err != nil {
		return nil, err
	}
	_, rec, st, err := r.pod(dir)
	if err != nil {
		return nil, fmt.Errorf("measure pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	path := cgroups.PodPath(rec.CgroupParent, string(pod.UID))
	start, err := cgroups.ReadUsage(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			err = fmt.Errorf("%w (the pod is not running)", err)
		}
		return nil, fmt.Errorf("metrics not available for pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	s := &podSample{pod: pod, path: path, start: start}
	for _, cs := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for _, c := range cs {
			pc := st.Containers[c.Name]
			if pc == nil || !pc.Running || pc.Instance == nil || pc.Instance.CgroupPath == "" {
				continue
			}
			u, err := cgroups.ReadUsage(pc.Instance.CgroupPath)
			if err != nil {
				continue
			}
			s.ctrs = append(s.ctrs, ctrSample{name: c.Name, path: pc.Instance.CgroupPath, start: u})
		}
	}
	return s, nil
}

func usage(a, b cgroups.Usage) Usage {
	return Usage{
		MilliCPU: cgroups.MilliCPU(a, b),
		Memory:   int64(b.Memory),
		CPUTime:  time.Duration(b.CPU),
		Pids:     int64(b.Pids),
	}
}
