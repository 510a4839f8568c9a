package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/podbox/podbox/internal/printers"

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
		UsageText: "podbox run -f pod.yaml [-f more.yaml] [-n NAMESPACE] [--wait [--for=condition=Ready] [--timeout D]]",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "filename", Aliases: []string{"f"}, Required: true,
				Usage: "manifest file: YAML (multi-document) or JSON; - reads stdin"},
			&cli.BoolFlag{Name: "wait", Usage: "wait until the pods succeed or fail; exit with the first failed container's exit code"},
			&cli.StringFlag{Name: "for", Usage: "with --wait: wait for this instead (condition=TYPE or jsonpath={.status.phase}=PHASE, as podbox wait)"},
			&cli.DurationFlag{Name: "timeout", Usage: "with --wait: give up after this long (0: no limit)"},
			namespaceFlag(),
		},
		Action: func(c *cli.Context) error {
			var until sandbox.Condition
			if f := c.String("for"); f != "" {
				if !c.Bool("wait") {
					return errors.New("--for needs --wait")
				}
				var err error
				if until, err = parseFor(f); err != nil {
					return err
				}
			}
			ns := namespace(c)
			m, err := readManifests(c.StringSlice("filename"), ns, isSetAnywhere(c, "namespace"), os.Stdin)
			if err != nil {
				return err
			}
			pods := m.pods
			if len(pods) == 0 {
				return errors.New("no pods in the manifests (ConfigMaps and Secrets alone run nothing)")
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
			if err := runAll(c, rt, pods, m.objects); err != nil {
				return err
			}
			switch {
			case until != nil:
				return waitFor(c, rt, pods, until)
			case c.Bool("wait"):
				return waitAll(c, rt, pods)
			}
			return nil
		},
	}
}

// waitAll waits for the pods to finish, prints their final status, and
// turns the outcome into the exit code: 0 if all succeeded, else the exit
// code of the first failed container (init containers first), or 1.
// Interrupted (Ctrl-C) it leaves the pods running, as kubectl wait does.
func waitAll(c *cli.Context, rt *sandbox.Runtime, pods []*corev1.Pod) error {
	ctx := c.Context
	if d := c.Duration("timeout"); d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	var final []*corev1.Pod
	var waitErr error
	for _, p := range pods {
		got, err := rt.Wait(ctx, p.Namespace, p.Name, sandbox.PodFinished)
		if got != nil {
			final = append(final, got)
		}
		if err != nil {
			waitErr = err
			break
		}
	}
	_ = printers.PrintTable(os.Stdout, final, printers.TableOptions{}, time.Now())
	switch {
	case waitErr != nil && c.Err() != nil:
		return &exitError{code: 130, msg: "interrupted: the pods keep running"}
	case errors.Is(waitErr, context.DeadlineExceeded):
		return &exitError{code: 1, msg: fmt.Sprintf("timed out after %s waiting for the pods to finish (they keep running)", c.Duration("timeout"))}
	case waitErr != nil:
		return waitErr
	}
	for _, p := range final {
		if p.Status.Phase == corev1.PodFailed {
			return &exitError{code: failedExitCode(p), msg: fmt.Sprintf("pod/%s failed", p.Name)}
		}
	}
	return nil
}

// waitFor waits until every pod meets cond (run --wait --for) and prints
// their status; a pod that can no longer meet it fails the command.
// Interrupted, it leaves the pods running.
func waitFor(c *cli.Context, rt *sandbox.Runtime, pods []*corev1.Pod, cond sandbox.Condition) error {
	ctx := c.Context
	if d := c.Duration("timeout"); d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	var got []*corev1.Pod
	var waitErr error
	for _, p := range pods {
		pod, err := rt.Wait(ctx, p.Namespace, p.Name, cond)
		if pod != nil {
			got = append(got, pod)
		}
		if err != nil {
			waitErr = err
			break
		}
	}
	_ = printers.PrintTable(os.Stdout, got, printers.TableOptions{}, time.Now())
	switch {
	case waitErr != nil && c.Err() != nil:
		return &exitError{code: 130, msg: "interrupted: the pods keep running"}
	case errors.Is(waitErr, context.DeadlineExceeded):
		return &exitError{code: 1, msg: fmt.Sprintf("timed out after %s waiting for --for=%s (the pods keep running)", c.Duration("timeout"), c.String("for"))}
	}
	return waitErr
}

// failedExitCode is the exit code of the first failed container of a pod
// (init containers first), or 1.
func failedExitCode(p *corev1.Pod) int {
	for _, cs := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
		if t := cs.State.Terminated; t != nil && t.ExitCode > 0 && t.ExitCode < 256 {
			return int(t.ExitCode)
		}
	}
	return 1
}

// runAll starts the pods concurrently and prints one line per pod.
func runAll(c *cli.Context, rt *sandbox.Runtime, pods []*corev1.Pod, objects sandbox.RunOptions) error {
	errs := make([]error, len(pods))
	created := make([]*corev1.Pod, len(pods))
	var wg sync.WaitGroup
	for i, p := range pods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			created[i], errs[i] = rt.RunWith(c.Context, p, objects)
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
