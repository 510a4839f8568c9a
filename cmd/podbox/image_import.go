package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/podbox/podbox/image"
	"github.com/urfave/cli/v2"
)

func imageImportCommand() *cli.Command {
	return &cli.Command{
		Name:      "import",
		Usage:     "make an image from a rootfs tarball or directory",
		UsageText: "podbox image import ROOTFS.tar|DIR|- NAME [-c 'CMD [\"sh\"]'] ...",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "change", Aliases: []string{"c"},
				Usage: "Dockerfile instruction for the image config: CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, STOPSIGNAL"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 2 {
				return fmt.Errorf("image import: want ROOTFS and NAME; usage: %s", c.Command.UsageText)
			}
			var cfg ocispec.ImageConfig
			for _, ch := range c.StringSlice("change") {
				if err := applyChange(&cfg, ch); err != nil {
					return err
				}
			}
			rt, err := openRuntime(c)
			if err != nil {
				return err
			}
			img, err := rt.Images().Import(c.Context, c.Args().Get(0), c.Args().Get(1),
				image.ImportOptions{Config: cfg, Stdin: os.Stdin})
			if err != nil {
				return err
			}
			fmt.Println(img.Name)
			return nil
		},
	}
}

// applyChange applies one Dockerfile-style instruction to an image config,
// as `podman import --change` and `docker import --change` do.
func applyChange(cfg *ocispec.ImageConfig, change string) error {
	instr, arg, _ := strings.Cut(strings.TrimSpace(change), " ")
	arg = strings.TrimSpace(arg)
	if arg == "" {
		return fmt.Errorf("--change %q: missing argument", change)
	}
	switch strings.ToUpper(instr) {
	case "CMD":
		cfg.Cmd = execForm(arg)
	case "ENTRYPOINT":
		cfg.Entrypoint = execForm(arg)
	case "ENV":
		k, v, ok := strings.Cut(arg, "=")
		if !ok {
			k, v, _ = strings.Cut(arg, " ")
		}
		cfg.Env = append(cfg.Env, strings.TrimSpace(k)+"="+strings.Trim(strings.TrimSpace(v), `"`))
	case "WORKDIR":
		cfg.WorkingDir = arg
	case "USER":
		cfg.User = arg
	case "STOPSIGNAL":
		cfg.StopSignal = arg
	case "LABEL":
		k, v, _ := strings.Cut(arg, "=")
		if cfg.Labels == nil {
			cfg.Labels = map[string]string{}
		}
		cfg.Labels[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"`)
	default:
		return fmt.Errorf("--change %q: unsupported instruction %s (use CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, STOPSIGNAL)", change, instr)
	}
	return nil
}

// execForm parses a JSON array (exec form) or wraps a string in sh -c
// (shell form).
func execForm(arg string) []string {
	var list []string
	if strings.HasPrefix(arg, "[") && json.Unmarshal([]byte(arg), &list) == nil {
		return list
	}
	return []string{"/bin/sh", "-c", arg}
}
