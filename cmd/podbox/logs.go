package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/podbox/podbox/sandbox"
	"github.com/urfave/cli/v2"
)

func logsCommand() *cli.Command {
	return &cli.Command{
		Name:      "logs",
		Usage:     "print a container's log",
		UsageText: "podbox logs POD [-c CONTAINER] [-f] [-p] [--timestamps] [--tail N] [--since 5m]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "container", Aliases: []string{"c"}, Usage: "container name"},
			&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Usage: "keep printing until the container exits"},
			&cli.BoolFlag{Name: "previous", Aliases: []string{"p"}, Usage: "the previous instance's log (after a restart)"},
			&cli.BoolFlag{Name: "timestamps", Usage: "prefix each line with its RFC3339 timestamp"},
			&cli.IntFlag{Name: "tail", Value: -1, Usage: "only the last N lines (-1: all)"},
			&cli.DurationFlag{Name: "since", Usage: "only lines newer than this (e.g. 10s, 5m)"},
			namespaceFlag(),
		},
		Action: func(c *cli.Context) error {
			if err := needArgs(c, 1, "logs POD [-c CONTAINER]"); err != nil {
				return err
			}
			rt, err := openRuntime(c)
			if err != nil {
				return err
			}
			ns, name := namespace(c), c.Args().First()
			opts := sandbox.LogOptions{
				Container: c.String("container"), Follow: c.Bool("follow"), Previous: c.Bool("previous"),
				Timestamps: c.Bool("timestamps"), Tail: c.Int("tail"),
			}
			reviveName(c.Context, rt, ns, name)
			if d := c.Duration("since"); d > 0 {
				opts.Since = time.Now().Add(-d)
			}
			if opts.Container == "" {
				pod, err := rt.Get(c.Context, ns, name)
				if err != nil {
					return err
				}
				ctr, ambiguous := sandbox.DefaultContainer(pod)
				if ambiguous {
					// kubectl's list: app containers, then init containers.
					var all []string
					for _, x := range pod.Spec.Containers {
						all = append(all, x.Name)
					}
					for _, x := range pod.Spec.InitContainers {
						all = append(all, x.Name+" (init)")
					}
					fmt.Fprintf(os.Stderr, "Defaulted container %q out of: %s\n", ctr, strings.Join(all, ", "))
				}
				opts.Container = ctr
			}
			return rt.Logs(c.Context, ns, name, opts, os.Stdout)
		},
	}
}
