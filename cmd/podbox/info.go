package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"
)

func infoCommand() *cli.Command {
	return &cli.Command{
		Name:  "info",
		Usage: "show the host's setup: cgroups, paths, pause binary, CNI plugins, seccomp",
		Flags: []cli.Flag{&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "json"}},
		Action: func(c *cli.Context) error {
			rt, err := openRuntime(c)
			if err != nil {
				return err
			}
			in := rt.Info()
			if c.String("output") == "json" {
				enc := json.NewEncoder(os.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(in)
			}
			pause := in.PauseBinary
			if pause == "" {
				pause = "NOT FOUND: " + in.PauseError
			}
			fmt.Printf("version:        %s\n", in.Version)
			fmt.Printf("kernel:         %s\n", in.Kernel)
			fmt.Printf("cgroups:        %s (parent %s)\n", in.CgroupVersion, in.CgroupParent)
			fmt.Printf("seccomp:        %v\n", in.Seccomp)
			if in.Seccomp {
				fmt.Printf("  default:      %s (profiles in %s)\n", in.SeccompDefault, in.SeccompProfileRoot)
			}
			fmt.Printf("root:           %s\n", in.Root)
			fmt.Printf("state:          %s\n", in.State)
			fmt.Printf("log dir:        %s\n", in.LogDir)
			fmt.Printf("image store:    %s\n", in.ImageStore)
			fmt.Printf("pause binary:   %s\n", pause)
			switch {
			case in.ShimError != "":
				fmt.Printf("shim binary:    UNUSABLE: %s\n", in.ShimError)
			case in.ShimBinary == "":
				fmt.Printf("shim binary:    none installed: podbox itself serves as the shim (slower starts; make install adds podbox-shim)\n")
			default:
				fmt.Printf("shim binary:    %s\n", in.ShimBinary)
			}
			fmt.Printf("capabilities:   %d in the bounding set\n", len(in.Capabilities))
			fmt.Printf("network:        %s (%s)\n", in.Network, in.NetworkFile)
			if len(in.NetworkPlugins) > 0 {
				fmt.Printf("  plugins:      %s\n", strings.Join(in.NetworkPlugins, " "))
			}
			if len(in.NetworkMasquerade) > 0 {
				fmt.Printf("  masquerade:   %s (nat chain %s, made once per boot)\n", strings.Join(in.NetworkMasquerade, " "), in.NetworkMasqueradeChain)
			}
			if len(in.NetworkMasqueradeMissing) > 0 {
				fmt.Printf("  PROBLEM:      no masquerading rule for %s (the nat table was flushed?): remove %s, and the next pod start makes them again\n",
					strings.Join(in.NetworkMasqueradeMissing, " "), in.NetworkMasqueradeMark)
			}
			if in.NetworkError != "" {
				fmt.Printf("  PROBLEM:      %s\n", in.NetworkError)
			}
			dirs := make([]string, 0, len(in.CNIPlugins))
			for d := range in.CNIPlugins {
				dirs = append(dirs, d)
			}
			sort.Strings(dirs)
			if len(dirs) == 0 {
				fmt.Println("CNI plugins:    none found (apt-get install containernetworking-plugins)")
			}
			for _, d := range dirs {
				fmt.Printf("CNI plugins:    %s: %s\n", d, strings.Join(in.CNIPlugins[d], " "))
			}
			return nil
		},
	}
}
