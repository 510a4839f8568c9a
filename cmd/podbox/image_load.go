package main

import (
	"fmt"
	"io"
	"os"

	"github.com/podbox/podbox/image"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"
)

func imageLoadCommand() *cli.Command {
	return &cli.Command{
		Name:      "load",
		Usage:     "load images from a docker-archive or oci-archive (docker save, podman save, skopeo)",
		UsageText: "podbox image load -i ARCHIVE.tar [--name NAME]   (or the archive on stdin)",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "input", Aliases: []string{"i"}, Usage: "the archive (default: stdin)"},
			&cli.StringFlag{Name: "name", Usage: "name for an image the archive does not name"},
		},
		Action: func(c *cli.Context) error {
			rt, err := openRuntime(c)
			if err != nil {
				return err
			}
			path := c.String("input")
			if path == "" {
				if isTerminal(os.Stdin) {
					return fmt.Errorf("image load: give the archive with -i FILE or on stdin")
				}
				tmp, err := spoolStdin(rt.Images().Dir())
				if err != nil {
					return err
				}
				defer os.Remove(tmp)
				path = tmp
			}
			imgs, err := rt.Images().Load(c.Context, path, image.LoadOptions{Name: c.String("name")})
			if err != nil {
				return err
			}
			for _, img := range imgs {
				fmt.Printf("Loaded image: %s\n", img.Name)
			}
			return nil
		},
	}
}

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// spoolStdin copies stdin to a temporary file (archives need seeking).
func spoolStdin(dir string) (string, error) {
	f, err := os.CreateTemp(dir, "stdin-*.tar")
	if err != nil {
		return "", fmt.Errorf("image load: %w", err)
	}
	defer f.Close()
	if _, err := io.Copy(f, os.Stdin); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("image load: read stdin: %w", err)
	}
	return f.Name(), nil
}
