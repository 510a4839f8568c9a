package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/podbox/podbox/sandbox"
	"github.com/urfave/cli/v2"
	corev1 "k8s.io/api/core/v1"
)

func waitCommand() *cli.Command {
	return &cli.Command{
		Name:  "wait",
		Usage: "wait until pods reach a condition, as kubectl wait does",
		UsageText: "podbox wait POD... --for=condition=Ready|--for=delete|--for=jsonpath='{.status.phase}'=Succeeded " +
			"[--timeout 30s]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "for", Required: true, Usage: "condition=TYPE, delete, or jsonpath={.status.phase}=PHASE"},
			&cli.DurationFlag{Name: "timeout", Value: 30 * time.Second, Usage: "give up after this long"},
			namespaceFlag(),
		},
		Action: func(c *cli.Context) error {
			if err := needArgs(c, 1, "wait POD... --for=..."); err != nil {
				return err
			}
			rt, err := openRuntime(c)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(c.Context, c.Duration("timeout"))
			defer cancel()
			forArg := c.String("for")
			for _, name := range c.Args().Slice() {
				if forArg == "delete" {
					if err := rt.WaitDeleted(ctx, namespace(c), name); err != nil {
						return err
					}
					fmt.Printf("pod/%s condition met\n", name)
					continue
				}
				reviveName(ctx, rt, namespace(c), name)
				cond, err := parseFor(forArg)
				if err != nil {
					return err
				}
				if _, err := rt.Wait(ctx, namespace(c), name, cond); err != nil {
					return err
				}
				fmt.Printf("pod/%s condition met\n", name)
			}
			return nil
		},
	}
}

func parseFor(s string) (sandbox.Condition, error) {
	if t, ok := strings.CutPrefix(s, "condition="); ok {
		t, want, _ := strings.Cut(t, "=")
		if want != "" && !strings.EqualFold(want, "true") {
			return nil, fmt.Errorf("--for=%s: only condition=TYPE (true) is supported", s)
		}
		for _, known := range []corev1.PodConditionType{corev1.PodReady, corev1.ContainersReady,
			corev1.PodInitialized, corev1.PodScheduled, corev1.PodReadyToStartContainers} {
			if strings.EqualFold(t, string(known)) {
				return sandbox.PodCondition(known), nil
			}
		}
		return nil, fmt.Errorf("--for=%s: unknown pod condition %q", s, t)
	}
	if v, ok := strings.CutPrefix(s, "jsonpath={.status.phase}="); ok {
		for _, p := range []corev1.PodPhase{corev1.PodPending, corev1.PodRunning, corev1.PodSucceeded,
			corev1.PodFailed, corev1.PodUnknown} {
			if v == string(p) {
				return sandbox.PodPhase(p), nil
			}
		}
		return nil, fmt.Errorf("--for=%s: unknown phase %q", s, v)
	}
	return nil, fmt.Errorf("--for=%s: use condition=TYPE, delete, or jsonpath={.status.phase}=PHASE", s)
}
