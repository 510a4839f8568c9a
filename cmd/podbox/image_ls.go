package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/docker/go-units"
	"github.com/urfave/cli/v2"
	"k8s.io/apimachinery/pkg/util/duration"
)

func imageListCommand() *cli.Command {
	return &cli.Command{
		Name:    "ls",
		Aliases: []string{"list"},
		Usage:   "list the images in the store",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "json"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only image names"},
		},
		Action: func(c *cli.Context) error {
			rt, err := openRuntime(c)
			if err != nil {
				return err
			}
			imgs, err := rt.Images().List(c.Context)
			if err != nil {
				return err
			}
			if c.String("output") == "json" {
				enc := json.NewEncoder(os.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(imgs)
			}
			if c.Bool("quiet") {
				for _, img := range imgs {
					fmt.Println(img.Name)
				}
				return nil
			}
			tw := tabwriter.NewWriter(os.Stdout, 10, 4, 3, ' ', 0)
			_, _ = fmt.Fprintln(tw, "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE")
			for _, img := range imgs {
				repo, tag := splitName(img.Name)
				created := "<unknown>"
				if !img.Created.IsZero() {
					created = duration.HumanDuration(time.Since(img.Created)) + " ago"
				}
				_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", repo, tag, shortID(img.ID.Encoded()), created,
					units.HumanSizeWithPrecision(float64(img.Size), 3))
			}
			return tw.Flush()
		},
	}
}

// splitName splits a normalised reference into repository and tag (or
// digest).
func splitName(name string) (string, string) {
	if i := strings.Index(name, "@"); i >= 0 {
		return name[:i], name[i+1:]
	}
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		return name[:i], name[i+1:]
	}
	return name, "<none>"
}

func shortID(hex string) string {
	if len(hex) > 12 {
		return hex[:12]
	}
	return hex
}
