package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/podbox/podbox/sandbox"
	"github.com/urfave/cli/v2"
)

func deleteCommand() *cli.Command {
	return &cli.Command{
		Name:      "delete",
		Aliases:   []string{"rm"},
		Usage:     "stop pods and remove every trace of them",
		UsageText: "podbox delete POD... | -f pod.yaml | --all  [--grace-period N] [--force]",
		Flags: []cli.Flag{
			&cli.Int64Flag{Name: "grace-period", Value: -1, Usage: "seconds to wait before SIGKILL (default: the pod's terminationGracePeriodSeconds)"},
			&cli.BoolFlag{Name: "force", Usage: "kill at once and remove the pod even if its shim is gone"},
			&cli.BoolFlag{Name: "now", Usage: "same as --grace-period 1"},
			&cli.BoolFlag{Name: "all", Usage: "every pod in the namespace"},
			&cli.BoolFlag{Name: "all-namespaces", Aliases: []string{"A"}, Usage: "with --all: every pod of every namespace"},
			&cli.StringSliceFlag{Name: "filename", Aliases: []string{"f"}, Usage: "delete the pods named in these manifests"},
			namespaceFlag(),
		},
		Action: func(c *cli.Context) error {
			rt, err := openRuntime(c)
			if err != nil {
				return err
			}
			ns := namespace(c)
			targets, err := deleteTargets(c, rt, ns)
			if err != nil {
				return err
			}
			if len(targets) == 0 {
				fmt.Fprintln(os.Stderr, "No resources found")
				return nil
			}
			opts := sandbox.DeleteOptions{GracePeriod: gracePeriod(c), Force: c.Bool("force")}
			if c.Bool("now") {
				one := int64(1)
				opts.GracePeriod = &one
			}
			if opts.Force {
				fmt.Fprintln(os.Stderr, "Warning: immediate deletion does not wait for the containers to stop gracefully.")
			}
			var errs []string
			for _, t := range targets {
				if err := rt.Delete(c.Context, t[0], t[1], opts); err != nil {
					errs = append(errs, err.Error())
					continue
				}
				fmt.Printf("pod \"%s\" deleted\n", t[1])
			}
			if len(errs) > 0 {
				return errors.New(strings.Join(errs, "\n"))
			}
			return nil
		},
	}
}

// deleteTargets lists the (namespace, name) pairs to delete.
func deleteTargets(c *cli.Context, rt *sandbox.Runtime, ns string) ([][2]string, error) {
	var out [][2]string
	names := c.Args().Slice()
	if len(names) > 0 && isPodsWord(names[0]) {
		names = names[1:]
	}
	for _, n := range names {
		out = append(out, [2]string{ns, n})
	}
	if files := c.StringSlice("filename"); len(files) > 0 {
		pods, err := readPods(files, ns, isSetAnywhere(c, "namespace"), os.Stdin)
		if err != nil {
			return nil, err
		}
		for _, p := range pods {
			out = append(out, [2]string{p.Namespace, p.Name})
		}
	}
	if c.Bool("all") {
		listNS := ns
		if c.Bool("all-namespaces") {
			listNS = ""
		}
		pods, err := rt.List(c.Context, listNS)
		if err != nil {
			return nil, err
		}
		for _, p := range pods {
			out = append(out, [2]string{p.Namespace, p.Name})
		}
	}
	if len(out) == 0 && !c.Bool("all") {
		return nil, errors.New("delete: name the pods, or use -f FILE or --all")
	}
	return out, nil
}
