package main

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// interspersed reorders a command line so that flags given after
// positional arguments (`podbox get web -o yaml`, as kubectl allows) come
// before them: urfave/cli v2 stops parsing flags at the first positional
// argument. Everything after "--" is left alone.
func interspersed(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	out := []string{args[0]}
	rest := args[1:]
	flags, cmds := app.Flags, app.Commands
	for {
		// Leading flags of this level stay where they are.
		i := 0
		for i < len(rest) && isFlag(rest[i]) {
			i += 1 + flagValues(flags, rest[i], i+1 < len(rest))
		}
		if i > len(rest) {
			i = len(rest)
		}
		out = append(out, rest[:i]...)
		rest = rest[i:]
		if len(rest) == 0 {
			return out
		}
		cmd := findCommand(cmds, rest[0])
		if cmd == nil {
			return append(out, rest...)
		}
		out = append(out, rest[0])
		rest = rest[1:]
		if len(cmd.Subcommands) > 0 {
			flags, cmds = cmd.Flags, cmd.Subcommands
			continue
		}
		return append(out, reorder(cmd.Flags, rest)...)
	}
}

// reorder moves the flags among args in front of the positional ones.
func reorder(flags []cli.Flag, args []string) []string {
	var fl, pos, tail []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			tail = args[i:]
			break
		}
		if !isFlag(a) {
			pos = append(pos, a)
			continue
		}
		fl = append(fl, a)
		if flagValues(flags, a, i+1 < len(args)) == 1 {
			i++
			fl = append(fl, args[i])
		}
	}
	return append(append(fl, pos...), tail...)
}

func isFlag(a string) bool { return len(a) > 1 && strings.HasPrefix(a, "-") && a != "--" }

// flagValues is 1 if flag a takes its value from the next argument.
func flagValues(flags []cli.Flag, a string, hasNext bool) int {
	if strings.Contains(a, "=") || !hasNext {
		return 0
	}
	name := strings.TrimLeft(a, "-")
	for _, f := range flags {
		for _, n := range f.Names() {
			if n != name {
				continue
			}
			if _, isBool := f.(*cli.BoolFlag); isBool {
				return 0
			}
			return 1
		}
	}
	// Combined short booleans (-it) or unknown flags: no value.
	return 0
}

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.Name == name {
			return c
		}
		for _, a := range c.Aliases {
			if a == name {
				return c
			}
		}
	}
	return nil
}
