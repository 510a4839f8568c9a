package main

import "github.com/urfave/cli/v2"

func imageCommand() *cli.Command {
	return &cli.Command{
		Name:    "image",
		Aliases: []string{"images"},
		Usage:   "manage the local image store",
		Subcommands: []*cli.Command{imagePullCommand(), imageImportCommand(), imageLoadCommand(), imageListCommand(),
			imageInspectCommand(), imageRemoveCommand(), imagePruneCommand()},
	}
}
