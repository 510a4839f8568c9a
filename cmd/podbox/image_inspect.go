package main

import (
	"errors"
	"os"
	"strings"

	"github.com/urfave/cli/v2"
)

func imageInspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "show everything about images, as JSON",
		UsageText: "podbox image inspect IMAGE...",
		Action: func(c *cli.Context) error {
			if err := needArgs(c, 1, "image inspect IMAGE..."); err != nil {
				return err
			}
			rt, err := openRuntime(c)
			if err != nil {
				return err
			}
			var out []any
			var errs []string
			for _, name := range c.Args().Slice() {
				d, err := rt.Images().Inspect(c.Context, name)
				if err != nil {
					errs = append(errs, err.Error())
					continue
				}
				out = append(out, d)
			}
			if len(out) > 0 {
				if err := writeJSON(os.Stdout, out); err != nil {
					return err
				}
			}
			if len(errs) > 0 {
				return errors.New(strings.Join(errs, "\n"))
			}
			return nil
		},
	}
}
