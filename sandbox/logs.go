package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/podbox/podbox/internal/crilog"
	"github.com/podbox/podbox/internal/podstate"
	corev1 "k8s.io/api/core/v1"
)

// LogOptions select what Logs prints, as kubectl logs' flags do.
type LogOptions struct {
	// Container names the container; empty means the pod's only container
	// (or the one the kubectl.kubernetes.io/default-container annotation
	// names, else the first).
	Container string
	// Previous prints the previous instance's log (after a restart).
	Previous bool
	// Follow keeps printing until the container instance exits.
	Follow     bool
	Timestamps bool
	// Tail is the number of last lines to print; negative means all.
	Tail int
	// Since prints only lines logged at or after this time.
	Since time.Time
}

// DefaultContainerAnnotation names the container kubectl picks by default.
const DefaultContainerAnnotation = "kubectl.kubernetes.io/default-container"

// DefaultContainer returns the container Logs and Exec use when none is
// named, and whether the choice was ambiguous (more than one container).
func DefaultContainer(pod *corev1.Pod) (string, bool) {
	if n := pod.Annotations[DefaultContainerAnnotation]; n != "" {
		return n, false
	}
	return pod.Spec.Containers[0].Name, len(pod.Spec.Containers)+len(pod.Spec.InitContainers) > 1
}

func findContainer(pod *corev1.Pod, name string) error {
	for _, c := range append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...) {
		if c.Name == name {
			return nil
		}
	}
	return fmt.Errorf("container %q is not valid for pod %q", name, pod.Name)
}

// Logs writes a container's log to w.
func (r *Runtime) Logs(ctx context.Context, namespace, name string, opts LogOptions, w io.Writer) error {
	namespace, dir, err := r.podDir(namespace, name)
	if err != nil {
		return err
	}
	pod, _, st, err := r.pod(dir)
	if errors.Is(err, os.ErrNotExist) {
		return notFound(namespace, name)
	}
	if err != nil {
		return err
	}
	ctr := opts.Container
	if ctr == "" {
		ctr, _ = DefaultContainer(pod)
	}
	if err := findContainer(pod, ctr); err != nil {
		return err
	}
	restarts := 0
	if c := st.Containers[ctr]; c != nil {
		restarts = c.Restarts
	}
	if opts.Previous {
		if restarts == 0 {
			return fmt.Errorf("previous terminated container %q in pod %q not found", ctr, name)
		}
		restarts--
	}
	path := r.roots.LogPath(namespace, name, string(pod.UID), ctr, restarts)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("container %q in pod %q has no log yet (it has not started)", ctr, name)
	}
	ro := crilog.ReadOptions{Timestamps: opts.Timestamps, Tail: opts.Tail, Since: opts.Since}
	if opts.Follow && !opts.Previous {
		ro.Follow = true
		ro.Done = func() bool { return r.instanceDone(dir, ctr, restarts) }
	}
	return crilog.Read(ctx, path, ro, w)
}

// instanceDone reports whether instance restart of a container has
// finished writing its log: it exited, was replaced, or nothing supervises
// the pod any more.
func (r *Runtime) instanceDone(dir podstate.Dir, ctr string, restart int) bool {
	pod, _, st, err := r.pod(dir)
	if err != nil || st.Final || pod.Status.Phase == corev1.PodUnknown {
		return true
	}
	all := append(append([]corev1.ContainerStatus{}, pod.Status.InitContainerStatuses...), pod.Status.ContainerStatuses...)
	for _, cs := range all {
		if cs.Name != ctr {
			continue
		}
		if int(cs.RestartCount) > restart {
			return true
		}
		if cs.State.Terminated != nil {
			return true
		}
		if w := cs.State.Waiting; w != nil && cs.LastTerminationState.Terminated != nil && int(cs.RestartCount) == restart {
			return true
		}
	}
	return false
}
