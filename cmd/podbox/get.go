package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/podbox/podbox/internal/printers"
	"github.com/podbox/podbox/sandbox"
	"github.com/urfave/cli/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

func getCommand() *cli.Command {
	return &cli.Command{
		Name:      "get",
		Aliases:   []string{"ps"},
		Usage:     "list pods, or show some, as kubectl get pods does",
		UsageText: "podbox get [pods] [NAME...] [-o wide|json|yaml|name] [-A]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "wide, json, yaml, name or jsonpath=TEMPLATE"},
			&cli.BoolFlag{Name: "all-namespaces", Aliases: []string{"A"}, Usage: "pods of every namespace"},
			&cli.BoolFlag{Name: "no-headers", Usage: "omit the table header"},
			namespaceFlag(),
		},
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
			var missing []string
			if len(names) == 0 {
				listNS := ns
				if c.Bool("all-namespaces") {
					listNS = ""
				}
				if pods, err = rt.List(c.Context, listNS); err != nil {
					return err
				}
			} else {
				for _, n := range names {
					p, err := rt.Get(c.Context, ns, n)
					if errors.Is(err, sandbox.ErrNotFound) {
						missing = append(missing, err.Error())
						continue
					}
					if err != nil {
						return err
					}
					pods = append(pods, p)
				}
			}
			if len(names) > 0 {
				// A named pod whose shim died gets a new one first; a
				// listing shows such pods as Unknown.
				pods = revive(c.Context, rt, pods)
			}
			if err := printPods(os.Stdout, pods, c.String("output"), len(names) == 1, c.Bool("all-namespaces"), c.Bool("no-headers")); err != nil {
				return err
			}
			if len(missing) > 0 {
				return errors.New(strings.Join(missing, "\n"))
			}
			if len(pods) == 0 && len(names) == 0 && (c.String("output") == "" || c.String("output") == "wide") {
				if c.Bool("all-namespaces") {
					fmt.Fprintln(os.Stderr, "No resources found")
				} else {
					fmt.Fprintf(os.Stderr, "No resources found in %s namespace.\n", ns)
				}
			}
			return nil
		},
	}
}

func isPodsWord(s string) bool {
	switch s {
	case "pod", "pods", "po":
		return true
	}
	return false
}

// printPods writes pods in one of kubectl's output formats.
func printPods(w io.Writer, pods []*corev1.Pod, format string, single, allNS, noHeaders bool) error {
	for _, p := range pods {
		p.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}
	}
	var obj any
	if single && len(pods) == 1 {
		obj = pods[0]
	} else {
		l := &podList{APIVersion: "v1", Kind: "List", Items: []*corev1.Pod{}}
		l.Items = append(l.Items, pods...)
		obj = l
	}
	if tmpl, ok := strings.CutPrefix(format, "jsonpath="); ok {
		out, err := jsonPath(tmpl, obj)
		if err != nil {
			return err
		}
		_, err = io.WriteString(w, out)
		return err
	}
	switch format {
	case "", "wide":
		return printers.PrintTable(w, pods, printers.TableOptions{Wide: format == "wide", AllNamespaces: allNS, NoHeaders: noHeaders}, time.Now())
	case "json":
		return writeJSON(w, obj)
	case "yaml":
		data, err := yaml.Marshal(obj)
		if err != nil {
			return fmt.Errorf("encode pods as YAML: %w", err)
		}
		_, err = w.Write(data)
		return err
	case "name":
		for _, p := range pods {
			if _, err := fmt.Fprintf(w, "pod/%s\n", p.Name); err != nil {
				return err
			}
		}
		return nil
	default:
		return fmt.Errorf("unknown output format %q: use wide, json, yaml, name or jsonpath=TEMPLATE", format)
	}
}

// podList is kubectl's v1 List of pods, fields in kubectl's order.
type podList struct {
	APIVersion string        `json:"apiVersion"`
	Items      []*corev1.Pod `json:"items"`
	Kind       string        `json:"kind"`
	Metadata   struct {
		ResourceVersion string `json:"resourceVersion"`
	} `json:"metadata"`
}

// writeJSON writes obj as kubectl does: keys sorted (it prints through
// unstructured maps), four-space indents, no HTML escaping.
func writeJSON(w io.Writer, obj any) error {
	raw, err := json.Marshal(obj)
	if err != nil {
		return fmt.Errorf("encode as JSON: %w", err)
	}
	var generic any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // integers stay exact
	if err := dec.Decode(&generic); err != nil {
		return fmt.Errorf("encode as JSON: %w", err)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "    ")
	enc.SetEscapeHTML(false)
	return enc.Encode(generic)
}
