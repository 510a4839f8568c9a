package shim

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"

	"github.com/podbox/podbox/internal/crilog"
	"github.com/podbox/podbox/internal/runtime"
	corev1 "k8s.io/api/core/v1"
)

// The kubelet's limits on a termination message: what the container wrote
// to its terminationMessagePath, or (FallbackToLogsOnError) the end of its
// log.
const (
	terminationMessageMax = 4096
	podMessagesMax        = 12 * 1024 // all the pod's containers together
	fallbackLogLines      = 80
	fallbackLogBytes      = 2048
)

// messageLimit is what one container's termination message may hold: 4 KiB,
// less when the pod's 12 KiB split among its containers is smaller.
func messageLimit(pod *corev1.Pod) int {
	n := len(pod.Spec.InitContainers) + len(pod.Spec.Containers)
	return min(terminationMessageMax, podMessagesMax/max(n, 1))
}

// terminationLog is where the instance's termination message file lives on
// the host (beside its rootfs); the container sees it at its
// terminationMessagePath.
func terminationLog(inst *instance) string { return filepath.Join(inst.dir, "termination-log") }

// terminationBind creates the instance's termination message file, writable
// by any user as the kubelet makes it, and returns its bind mount.
func terminationBind(inst *instance, spec *corev1.Container) (runtime.Bind, error) {
	path := terminationLog(inst)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o666)
	if err != nil {
		return runtime.Bind{}, err
	}
	f.Close()
	if err := os.Chmod(path, 0o666); err != nil {
		return runtime.Bind{}, err
	}
	dest := spec.TerminationMessagePath
	if dest == "" {
		dest = corev1.TerminationMessagePathDefault
	}
	return runtime.Bind{Source: path, Destination: dest}, nil
}

// terminationMessage is the message of an instance that exited with code:
// its termination message file, else, for FallbackToLogsOnError and a
// failure, the end of its log.
func terminationMessage(spec *corev1.Container, inst *instance, code, limit int) string {
	if inst.dir != "" {
		if f, err := os.Open(terminationLog(inst)); err == nil {
			b, _ := io.ReadAll(io.LimitReader(f, int64(limit)))
			f.Close()
			if len(b) > 0 {
				return string(b)
			}
		}
	}
	if spec.TerminationMessagePolicy != corev1.TerminationMessageFallbackToLogsOnError || code == 0 || inst.logPath == "" {
		return ""
	}
	var buf bytes.Buffer
	if err := crilog.Read(context.Background(), inst.logPath, crilog.ReadOptions{Tail: fallbackLogLines}, &buf); err != nil {
		return ""
	}
	b := buf.Bytes()
	if n := min(fallbackLogBytes, limit); len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
