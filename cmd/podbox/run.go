package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/podbox/podbox/internal/kube"
	"github.com/podbox/podbox/sandbox"
	"github.com/urfave/cli/v2"
	corev1 "k8s.io/api/core/v1"
)

func runCommand() *cli.Command {
	return &cli.Command{
		Name:      "run",
		Aliases:   []string{"create", "apply"},
		Usage:     "run every Pod in the manifest files",
		UsageText: "podbox run -f pod.yaml [-f more.yaml] [-n NAMESPACE]",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "filename", Aliases: []string{"f"}, Required: true,
				Usage: "manifest file: YAML (multi-document) or JSON; - reads stdin"},
			namespaceFlag(),
		},
		Action: func(c *cli.Context) error {
			ns := namespace(c)
			pods, err := readPods(c.StringSlice("filename"), ns, isSetAnywhere(c, "namespace"), os.Stdin)
			if err != nil {
				return err
			}
			rt, err := openRuntime(c)
			if err != nil {
				return err
			}
			// Everything is validated before anything is created.
			var problems []string
			seen := map[string]bool{}
			for _, p := range pods {
				key := p.Namespace + "/" + p.Name
				if seen[key] {
					problems = append(problems, fmt.Sprintf("pod %q appears twice in namespace %q", p.Name, p.Namespace))
				}
				seen[key] = true
				if _, err := rt.Validate(c.Context, p); err != nil {
					problems = append(problems, err.Error())
				}
				for _, w := range kube.Warnings(p) {
					fmt.Fprintf(os.Stderr, "Warning: pod %s: %s\n", p.Name, w)
				}
			}
			if len(problems) > 0 {
				return errors.New(strings.Join(problems, "\n"))
			}
			return runAll(c, rt, pods)
		},
	}
}

// runAll starts the pods concurrently and prints one line per pod.
func runAll(c *cli.Context, rt *sandbox.Runtime, pods []*corev1.Pod) error {
	errs := make([]error, len(pods))
	created := make([]*corev1.Pod, len(pods))
	var wg sync.WaitGroup
	for i, p := range pods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			created[i], errs[i] = rt.Run(c.Context, p)
		}()
	}
	wg.Wait()
	var failed []string
	for i, p := range pods {
		if errs[i] != nil {
			failed = append(failed, errs[i].Error())
			continue
		}
		fmt.Printf("pod/%s created\n", p.Name)
		warnImages(created[i])
	}
	if len(failed) > 0 {
		return errors.New(strings.Join(failed, "\n"))
	}
	return nil
}

func isSetAnywhere(c *cli.Context, name string) bool {
	for _, ctx := range c.Lineage() {
		if ctx.IsSet(name) {
			return true
		}
	}
	return false
}

// warnImages says which containers could not get their image (the pod runs
// all the same, and retries, as on a node).
func warnImages(p *corev1.Pod) {
	if p == nil {
		return
	}
	for _, cs := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
		w := cs.State.Waiting
		if w == nil {
			continue
		}
		switch w.Reason {
		case "ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull", "InvalidImageName":
			fmt.Fprintf(os.Stderr, "Warning: pod/%s container %s: %s: %s\n", p.Name, cs.Name, w.Reason, w.Message)
		}
	}
}
