package main

import (
	"context"
	"fmt"
	"os"

	"github.com/podbox/podbox/sandbox"
	"github.com/urfave/cli/v2"
	corev1 "k8s.io/api/core/v1"
)

func recoverCommand() *cli.Command {
	return &cli.Command{
		Name:      "recover",
		Usage:     "give pods whose shim died a new one, which adopts their running containers",
		UsageText: "podbox recover POD... | --all [-A]",
		Description: "A pod's keeper replaces a shim that dies by itself; every podbox command that\n" +
			"names a pod also does. recover is for doing it explicitly, e.g. at boot of a\n" +
			"host whose /run survived, or from a script.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Usage: "every pod of the namespace"},
			&cli.BoolFlag{Name: "all-namespaces", Aliases: []string{"A"}, Usage: "with --all: of every namespace"},
			namespaceFlag(),
		},
		Action: func(c *cli.Context) error {
			if !c.Bool("all") {
				if err := needArgs(c, 1, "recover POD... | --all"); err != nil {
					return err
				}
			}
			rt, err := openRuntime(c)
			if err != nil {
				return err
			}
			if c.Bool("all") {
				ns := namespace(c)
				if c.Bool("all-namespaces") {
					ns = ""
				}
				done, err := rt.RecoverAll(c.Context, ns)
				for _, n := range done {
					fmt.Printf("pod/%s recovered\n", n)
				}
				return err
			}
			for _, name := range c.Args().Slice() {
				ok, err := rt.Recover(c.Context, namespace(c), name)
				if err != nil {
					return err
				}
				if ok {
					fmt.Printf("pod/%s recovered\n", name)
				} else {
					fmt.Printf("pod/%s: nothing to recover (its shim runs, or it is finished)\n", name)
				}
			}
			return nil
		},
	}
}

// revive gives the pods among pods whose shim died (phase Unknown) a new
// one before a command looks at or acts on them, as a node's kubelet would
// be there to do, and returns them as they are then. Failures are reported
// on stderr, and the pod is shown as it is.
func revive(ctx context.Context, rt *sandbox.Runtime, pods []*corev1.Pod) []*corev1.Pod {
	for i, p := range pods {
		if p.Status.Phase != corev1.PodUnknown {
			continue
		}
		ok, err := rt.Recover(ctx, p.Namespace, p.Name)
		if err != nil {
			fmt.Fprintf(os.Stderr, "warning: pod %s/%s: %v\n", p.Namespace, p.Name, err)
			continue
		}
		if ok {
			fmt.Fprintf(os.Stderr, "pod/%s: its shim had died; a new one took over\n", p.Name)
		}
		// Also when no shim was started: a pod from an earlier boot is
		// marked failed by Recover.
		if np, err := rt.Get(ctx, p.Namespace, p.Name); err == nil {
			pods[i] = np
		}
	}
	return pods
}

// reviveName is revive for one pod by name; errors are left to the
// command that follows.
func reviveName(ctx context.Context, rt *sandbox.Runtime, namespace, name string) {
	if p, err := rt.Get(ctx, namespace, name); err == nil {
		revive(ctx, rt, []*corev1.Pod{p})
	}
}
