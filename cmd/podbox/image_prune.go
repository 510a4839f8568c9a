package main

import (
	"fmt"

	"github.com/docker/go-units"
	"github.com/urfave/cli/v2"
)

func imagePruneCommand() *cli.Command {
	return &cli.Command{
		Name:  "prune",
		Usage: "remove every image no pod uses, and the layers nothing references",
		Action: func(c *cli.Context) error {
			rt, err := openRuntime(c)
			if err != nil {
				return err
			}
			rep, err := rt.PruneImages(c.Context)
			if err != nil {
				return err
			}
			for _, name := range rep.Images {
				fmt.Printf("Deleted: %s\n", name)
			}
			fmt.Printf("Total reclaimed space: %s\n", units.HumanSizeWithPrecision(float64(rep.BytesFreed), 3))
			return nil
		},
	}
}
