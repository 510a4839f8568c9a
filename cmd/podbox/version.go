package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/podbox/podbox/sandbox"
	"github.com/urfave/cli/v2"
)

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print podbox's version and the versions it is built with",
		Action: func(c *cli.Context) error {
			fmt.Printf("podbox %s\n", sandbox.Version)
			fmt.Printf("go: %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
			if bi, ok := debug.ReadBuildInfo(); ok {
				for _, d := range bi.Deps {
					switch d.Path {
					case "github.com/opencontainers/runc", "go.podman.io/image/v5", "k8s.io/api",
						"github.com/containerd/containerd/v2":
						fmt.Printf("%s: %s\n", d.Path, d.Version)
					}
				}
			}
			return nil
		},
	}
}
