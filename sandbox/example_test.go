package sandbox_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/podbox/podbox/image"
	"github.com/podbox/podbox/internal/testutil"
	"github.com/podbox/podbox/sandbox"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Run a pod, wait for it to finish, read its log, delete it. (A real
// program calls sandbox.Init first thing in main; here TestMain does.)
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "podbox-example-")
	defer os.RemoveAll(dir)
	pauseBin, _ := os.MkdirTemp("", "podbox-example-pause-")
	defer os.RemoveAll(pauseBin)

	rt, err := sandbox.Open(sandbox.Options{
		Root: filepath.Join(dir, "root"), State: filepath.Join(dir, "state"), LogDir: filepath.Join(dir, "log"),
		PauseBinary: examplePause(pauseBin),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// An image from a busybox rootfs directory.
	rootfs := filepath.Join(dir, "rootfs")
	if err := testutil.BusyboxRootfsDir(rootfs); err != nil {
		fmt.Println(err)
		return
	}
	if _, err := rt.Images().Import(ctx, rootfs, "localhost/busybox:example", image.ImportOptions{}); err != nil {
		fmt.Println(err)
		return
	}

	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "hello"},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			// The host's network: an example run as a test must leave
			// the host's podbox network alone (a real program would
			// leave this out and get a pod IP).
			HostNetwork: true,
			Containers: []corev1.Container{{
				Name: "greeter", Image: "localhost/busybox:example",
				Command: []string{"sh", "-c", "echo hello from pod $POD", "--"},
				Env:     []corev1.EnvVar{{Name: "POD", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}},
			}},
		},
	}
	if _, err := rt.Run(ctx, pod); err != nil {
		fmt.Println(err)
		return
	}
	done, err := rt.Wait(ctx, "default", "hello", sandbox.PodFinished)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(done.Status.Phase, done.Status.ContainerStatuses[0].State.Terminated.Reason)
	_ = rt.Logs(ctx, "default", "hello", sandbox.LogOptions{Tail: -1}, os.Stdout)
	if err := rt.Delete(ctx, "default", "hello", sandbox.DeleteOptions{}); err != nil {
		fmt.Println(err)
	}
	// Output:
	// Succeeded Completed
	// hello from pod hello
}
