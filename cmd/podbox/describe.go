package main

import (
	"fmt"
	"os"
	"time"

	"github.com/podbox/podbox/internal/printers"
	"github.com/urfave/cli/v2"
	corev1 "k8s.io/api/core/v1"
)

func describeCommand() *cli.Command {
	return &cli.Command{
		Name:      "describe",
		Usage:     "show pods in detail, with their events, as kubectl describe does",
		UsageText: "podbox describe [pod] [NAME...] [-n NAMESPACE]",
		Flags:     []cli.Flag{namespaceFlag()},
		Action: func(c *cli.Context) error {
			rt, err := openRuntime(c)
			if err != nil {
				return err
			}
			names := c.Args().Slice()
			if len(names) > 0 && isPodsWord(names[0]) {
				names = names[1:]
			}
			ns := namespace(c)
			var pods []*corev1.Pod
			if len(names) == 0 {
				if pods, err = rt.List(c.Context, ns); err != nil {
					return err
				}
			}
			for _, n := range names {
				p, err := rt.Get(c.Context, ns, n)
				if err != nil {
					return err
				}
				pods = append(pods, p)
			}
			pods = revive(c.Context, rt, pods)
			for i, p := range pods {
				if i > 0 {
					fmt.Println()
					fmt.Println()
				}
				evs, err := rt.Events(c.Context, p.Namespace, p.Name)
				if err != nil {
					return err
				}
				pe := make([]printers.Event, len(evs))
				for j, e := range evs {
					pe[j] = printers.Event{Type: e.Type, Reason: e.Reason, Object: e.Object, Message: e.Message,
						Count: e.Count, First: e.First, Last: e.Last}
				}
				if err := printers.Describe(os.Stdout, p, pe, time.Now()); err != nil {
					return err
				}
			}
			if len(pods) == 0 {
				fmt.Fprintf(os.Stderr, "No resources found in %s namespace.\n", ns)
			}
			return nil
		},
	}
}
