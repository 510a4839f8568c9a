package main

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

func imagePullCommand() *cli.Command {
	return &cli.Command{
		Name:  "pull",
		Usage: "pull images from a registry or a transport",
		UsageText: "podbox image pull [--tls-verify=false] [--authfile FILE] [-q] IMAGE...\n" +
			"   IMAGE: busybox:1.36 | 127.0.0.1:5000/app:v2 | docker://... | oci:DIR[:TAG] | oci-archive:FILE | docker-archive:FILE | dir:DIR",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "tls-verify", Value: true, Usage: "require HTTPS and verified certificates (false: plain HTTP allowed for this pull)"},
			&cli.StringFlag{Name: "authfile", Usage: "registry credentials file"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress output"},
		},
		Action: func(c *cli.Context) error {
			if err := needArgs(c, 1, "image pull IMAGE..."); err != nil {
				return err
			}
			rt, err := openRuntime(c)
			if err != nil {
				return err
			}
			var tls *bool
			if c.IsSet("tls-verify") {
				v := c.Bool("tls-verify")
				tls = &v
			}
			for _, ref := range c.Args().Slice() {
				img, err := rt.Pull(c.Context, ref, tls)
				if err != nil {
					return err
				}
				fmt.Println(img.Name)
			}
			return nil
		},
	}
}
