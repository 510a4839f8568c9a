package main

import (
	"fmt"

	"github.com/podbox/podbox/sandbox"
	"github.com/urfave/cli/v2"
)

func stopCommand() *cli.Command {
	return &cli.Command{
		Name:      "stop",
		Usage:     "stop a pod's containers (stop signal, then SIGKILL after the grace period)",
		UsageText: "podbox stop POD... [--grace-period N]",
		Flags: []cli.Flag{
			&cli.Int64Flag{Name: "grace-period", Value: -1, Usage: "seconds to wait before SIGKILL (default: the pod's terminationGracePeriodSeconds)"},
			namespaceFlag(),
		},
		Action: func(c *cli.Context) error {
			if err := needArgs(c, 1, "stop POD..."); err != nil {
				return err
			}
			rt, err := openRuntime(c)
			if err != nil {
				return err
			}
			opts := sandbox.StopOptions{GracePeriod: gracePeriod(c)}
			for _, name := range c.Args().Slice() {
				reviveName(c.Context, rt, namespace(c), name)
				if err := rt.Stop(c.Context, namespace(c), name, opts); err != nil {
					return err
				}
				fmt.Printf("pod/%s stopped\n", name)
			}
			return nil
		},
	}
}

// gracePeriod is --grace-period when given (>= 0).
func gracePeriod(c *cli.Context) *int64 {
	if g := c.Int64("grace-period"); g >= 0 {
		return &g
	}
	return nil
}
