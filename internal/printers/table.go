package printers

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// kubectl's tabwriter settings (k8s.io/cli-runtime/pkg/printers/tabwriter.go).
// kubectl uses github.com/liggitt/tabwriter with RememberWidths, which only
// differs from text/tabwriter across several Flush calls (watch output);
// PrintTable flushes once.
const (
	tabwriterMinWidth = 6
	tabwriterWidth    = 4
	tabwriterPadding  = 3
	tabwriterPadChar  = ' '
)

// TableOptions selects the columns PrintTable writes.
type TableOptions struct {
	// Wide adds IP, NODE, NOMINATED NODE and READINESS GATES (-o wide).
	Wide bool
	// AllNamespaces adds a NAMESPACE column first (-A).
	AllNamespaces bool
	// NoHeaders leaves out the header line (--no-headers).
	NoHeaders bool
}

// terminalEscaper neutralises terminal control characters in cells, as
// kubectl does (kubernetes/kubernetes#101695).
var terminalEscaper = strings.NewReplacer("\x1b", "^[", "\r", "\\r")

// PrintTable writes the table kubectl get pods writes: header NAME READY
// STATUS RESTARTS AGE (wide adds IP NODE NOMINATED NODE READINESS GATES;
// "<none>" for empty wide cells as kubectl does), NAMESPACE first when
// AllNamespaces. Same column padding as kubectl (its tabwriter settings).
//
// Like kubectl, it writes nothing at all, not even the header, when pods is
// empty; kubectl then says "No resources found" on stderr, which is left to
// the caller.
func PrintTable(w io.Writer, pods []*corev1.Pod, opts TableOptions, now time.Time) error {
	if len(pods) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, tabwriterMinWidth, tabwriterWidth, tabwriterPadding, tabwriterPadChar, 0)
	if !opts.NoHeaders {
		header := []string{"NAME", "READY", "STATUS", "RESTARTS", "AGE"}
		if opts.AllNamespaces {
			header = append([]string{"NAMESPACE"}, header...)
		}
		if opts.Wide {
			header = append(header, "IP", "NODE", "NOMINATED NODE", "READINESS GATES")
		}
		if _, err := io.WriteString(tw, strings.Join(header, "\t")+"\n"); err != nil {
			return fmt.Errorf("print pod table header: %w", err)
		}
	}
	for _, pod := range pods {
		r := Row(pod, now)
		cells := []string{r.Name, r.Ready, r.Status, r.Restarts, r.Age}
		if opts.AllNamespaces {
			cells = append([]string{pod.Namespace}, cells...)
		}
		if opts.Wide {
			cells = append(cells, r.IP, r.Node, r.NominatedNode, r.ReadinessGates)
		}
		for i, c := range cells {
			cells[i] = printableCell(c)
		}
		if _, err := io.WriteString(tw, strings.Join(cells, "\t")+"\n"); err != nil {
			return fmt.Errorf("print pod table row of %s/%s: %w", pod.Namespace, pod.Name, err)
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("print pod table: %w", err)
	}
	return nil
}

// printableCell is what kubectl's printTable does to a string cell: cut at
// the first newline, carriage return or form feed (adding "..."), then
// escape terminal control characters.
func printableCell(s string) string {
	truncated := false
	if i := strings.IndexAny(s, "\f\n\r"); i >= 0 {
		s, truncated = s[:i], true
	}
	s = terminalEscaper.Replace(s)
	if truncated {
		s += "..."
	}
	return s
}
