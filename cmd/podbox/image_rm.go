package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
)

func imageRemoveCommand() *cli.Command {
	return &cli.Command{
		Name:      "rm",
		Aliases:   []string{"remove", "rmi"},
		Usage:     "remove images (their layers go when no other image uses them)",
		UsageText: "podbox image rm [--force] IMAGE...",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "untag an image even if a pod uses it (its data stays until no pod does)"},
		},
		Action: func(c *cli.Context) error {
			if err := needArgs(c, 1, "image rm IMAGE..."); err != nil {
				return err
			}
			rt, err := openRuntime(c)
			if err != nil {
				return err
			}
			var errs []string
			for _, name := range c.Args().Slice() {
				if err := rt.RemoveImage(c.Context, name, c.Bool("force")); err != nil {
					errs = append(errs, err.Error())
					continue
				}
				fmt.Printf("Untagged: %s\n", name)
			}
			if len(errs) > 0 {
				return errors.New(strings.Join(errs, "\n"))
			}
			return nil
		},
	}
}
