// Command embed shows podbox used as a library: it runs a one-container pod,
// waits for it to finish, prints its log and deletes it.
//
//	go build -tags seccomp -o embed ./examples/embed && sudo ./embed
//
// The pause binary must be installed (make install) or next to the program
// as podbox-pause, and the image must be in podbox's store (podbox image
// import / load).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/podbox/podbox/sandbox"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func main() {
	// First: podbox re-executes this binary as each pod's shim and as the
	// containers' init.
	sandbox.Init()

	img := flag.String("image", "localhost/busybox:1.36", "image to run")
	root := flag.String("root", "", "podbox root (default /var/lib/podbox)")
	flag.Parse()
	if err := run(*img, *root); err != nil {
		fmt.Fprintln(os.Stderr, "embed:", err)
		os.Exit(1)
	}
}

func run(img, root string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rt, err := sandbox.Open(sandbox.Options{Root: root})
	if err != nil {
		return err
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "embed-example"},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers: []corev1.Container{{
				Name: "hello", Image: img,
				Command: []string{"sh", "-c", "echo hello from $(hostname)"},
			}},
		},
	}
	if _, err := rt.Run(ctx, pod); err != nil {
		return err
	}
	defer func() { _ = rt.Delete(context.Background(), "default", pod.Name, sandbox.DeleteOptions{Force: true}) }()
	done, err := rt.Wait(ctx, "default", pod.Name, sandbox.PodFinished)
	if err != nil {
		return err
	}
	fmt.Println("phase:", done.Status.Phase)
	return rt.Logs(ctx, "default", pod.Name, sandbox.LogOptions{Tail: -1}, os.Stdout)
}
