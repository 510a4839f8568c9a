package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/podbox/podbox/sandbox"
	"github.com/urfave/cli/v2"
)

func topCommand() *cli.Command {
	return &cli.Command{
		Name:  "top",
		Usage: "show the CPU and memory use of pods, as kubectl top pod does",
		Description: "CPU is the average rate over --window, in millicores (1000m = one CPU); memory is the " +
			"working set (usage minus inactive file cache), read from the pods' cgroups.",
		UsageText: "podbox top [pod] [NAME...] [--containers] [-A] [--sort-by cpu|memory] [--window 1s]",
		Flags: []cli.Flag{
			namespaceFlag(),
			&cli.BoolFlag{Name: "all-namespaces", Aliases: []string{"A"}, Usage: "pods of every namespace"},
			&cli.BoolFlag{Name: "containers", Usage: "one line per container"},
			&cli.BoolFlag{Name: "no-headers", Usage: "omit the table header"},
			&cli.StringFlag{Name: "sort-by", Usage: "sort by cpu or memory (largest first)"},
			&cli.DurationFlag{Name: "window", Value: sandbox.DefaultTopWindow, Usage: "how long CPU use is measured"},
		},
		Action: func(c *cli.Context) error {
			sortBy := c.String("sort-by")
			if sortBy != "" && sortBy != "cpu" && sortBy != "memory" {
				return fmt.Errorf("top: --sort-by must be cpu or memory, not %q", sortBy)
			}
			rt, err := openRuntime(c)
			if err != nil {
				return err
			}
			names := c.Args().Slice()
			if len(names) > 0 && isPodsWord(names[0]) {
				names = names[1:]
			}
			ns := namespace(c)
			if c.Bool("all-namespaces") {
				if len(names) > 0 {
					return fmt.Errorf("top: a pod cannot be named across all namespaces (-A)")
				}
				ns = ""
			}
			usage, err := rt.Top(c.Context, ns, names, c.Duration("window"))
			if err != nil {
				return err
			}
			if len(usage) == 0 { // as kubectl says it
				if ns == "" {
					fmt.Fprintln(os.Stderr, "No resources found")
				} else {
					fmt.Fprintf(os.Stderr, "No resources found in %s namespace.\n", ns)
				}
				return nil
			}
			printTop(os.Stdout, usage, topFormat{containers: c.Bool("containers"), allNamespaces: ns == "",
				noHeaders: c.Bool("no-headers"), sortBy: sortBy})
			return nil
		},
	}
}

type topFormat struct {
	containers, allNamespaces, noHeaders bool
	sortBy                               string
}

// printTop writes kubectl top pod's table: NAME CPU(cores) MEMORY(bytes),
// with POD first for --containers and NAMESPACE first for -A.
func printTop(out io.Writer, pods []sandbox.PodUsage, f topFormat) {
	type row struct {
		ns, pod, name string
		u             sandbox.Usage
	}
	var rows []row
	for _, p := range pods {
		if !f.containers {
			rows = append(rows, row{ns: p.Namespace, name: p.Name, u: p.Usage})
			continue
		}
		for _, c := range p.Containers {
			rows = append(rows, row{ns: p.Namespace, pod: p.Name, name: c.Name, u: c.Usage})
		}
	}
	switch f.sortBy {
	case "cpu":
		sort.SliceStable(rows, func(i, j int) bool { return rows[i].u.MilliCPU > rows[j].u.MilliCPU })
	case "memory":
		sort.SliceStable(rows, func(i, j int) bool { return rows[i].u.Memory > rows[j].u.Memory })
	}
	w := tabwriter.NewWriter(out, 10, 4, 3, ' ', 0)
	var head []string
	if f.allNamespaces {
		head = append(head, "NAMESPACE")
	}
	if f.containers {
		head = append(head, "POD")
	}
	head = append(head, "NAME", "CPU(cores)", "MEMORY(bytes)")
	if !f.noHeaders {
		_, _ = fmt.Fprintln(w, strings.Join(head, "\t"))
	}
	for _, r := range rows {
		var cols []string
		if f.allNamespaces {
			cols = append(cols, r.ns)
		}
		if f.containers {
			cols = append(cols, r.pod)
		}
		cols = append(cols, r.name, fmt.Sprintf("%dm", r.u.MilliCPU), fmt.Sprintf("%dMi", r.u.Memory/(1<<20)))
		_, _ = fmt.Fprintln(w, strings.Join(cols, "\t"))
	}
	_ = w.Flush()
}
