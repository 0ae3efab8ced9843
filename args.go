package main

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// passThroughAfter names the commands whose arguments, after this many
// positional ones, belong to another program and are passed on untouched
// even when they look like wrunc's flags: exec's command line after the
// container id, and ps's options for ps(1).
var passThroughAfter = map[string]int{
	"exec": 1,
	"ps":   1,
}

// reorderArgs moves each command's flags ahead of its positional arguments,
// so that flags may follow the container id as runc accepts them
// (`delete ID --force`, `kill ID KILL --all`, `update ID --memory 1g`):
// urfave/cli v2 stops parsing flags at the first positional argument, where
// runc's v1 moves them first. A flag that takes a value keeps the next
// argument as its value, whatever it looks like (`--memory-swap -1`).
// Reordering stops at `--` and, for passThroughAfter's commands, at the
// first argument of the other program. After the first positional argument,
// one that starts with '-' but names none of the command's flags is
// positional too (ps's `-e -x`).
func reorderArgs(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	global := flagSetOf(append([]cli.Flag{cli.HelpFlag, cli.VersionFlag}, app.Flags...))
	for i := 1; i < len(args); {
		a := args[i]
		if a == "--" || !strings.HasPrefix(a, "-") || a == "-" {
			out := append([]string{}, args[:i]...)
			return append(out, reorderCommand(app.Commands, args[i:])...)
		}
		i += global.width(a, true)
	}
	return args
}

// reorderCommand reorders args, a command's name and what follows it.
func reorderCommand(commands []*cli.Command, args []string) []string {
	cmd := findCommand(commands, args[0])
	if cmd == nil {
		return args
	}
	own := flagSetOf(append([]cli.Flag{cli.HelpFlag}, cmd.Flags...))
	tailAt, hasTail := passThroughAfter[cmd.Name]
	var flags, positional, tail []string
	dashDash := false
	rest := args[1:]
	for i := 0; i < len(rest); {
		a := rest[i]
		if a == "--" {
			dashDash = true
			positional = append(positional, rest[i+1:]...)
			break
		}
		if n := own.width(a, len(positional) == 0); n > 0 {
			n = min(n, len(rest)-i)
			flags = append(flags, rest[i:i+n]...)
			i += n
			continue
		}
		if len(cmd.Subcommands) > 0 {
			tail = reorderCommand(cmd.Subcommands, rest[i:])
			break
		}
		if hasTail && len(positional) == tailAt {
			tail = rest[i:]
			break
		}
		positional = append(positional, a)
		i++
	}
	out := append([]string{args[0]}, flags...)
	// The parser must not take a positional argument for a flag.
	if dashDash || len(positional) > 0 && strings.HasPrefix(positional[0], "-") {
		out = append(out, "--")
	}
	out = append(out, positional...)
	return append(out, tail...)
}

func findCommand(commands []*cli.Command, name string) *cli.Command {
	for _, c := range commands {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}

// flagSet maps each name of a set of flags to whether it takes a value.
type flagSet map[string]bool

func flagSetOf(flags []cli.Flag) flagSet {
	s := flagSet{}
	for _, f := range flags {
		takesValue := false
		if v, ok := f.(cli.DocGenerationFlag); ok {
			takesValue = v.TakesValue()
		}
		for _, name := range f.Names() {
			s[name] = takesValue
		}
	}
	return s
}

// width returns how many arguments from a on are a flag of s with its value:
// 1 or 2, or 0 when a is no flag of s. A group of one-letter flags (`-ti`)
// counts as flags, as urfave/cli's short option handling splits it. An
// unknown flag counts as one argument when unknownIsFlag, so that the parser
// reports it.
func (s flagSet) width(a string, unknownIsFlag bool) int {
	if len(a) < 2 || a[0] != '-' {
		return 0
	}
	name, _, hasValue := strings.Cut(strings.TrimPrefix(a[1:], "-"), "=")
	takesValue, known := s[name]
	if !known && !strings.HasPrefix(a, "--") && len(name) > 1 {
		known = true
		for _, c := range name {
			if takesValue, known = s[string(c)]; !known {
				break
			}
		}
	}
	switch {
	case !known && unknownIsFlag:
		return 1
	case !known:
		return 0
	case takesValue && !hasValue:
		return 2
	}
	return 1
}
