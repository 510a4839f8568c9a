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
		UsageText: "podbox image rm IMAGE...",
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
				if err := rt.Images().Remove(c.Context, name); err != nil {
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
