package main

import (
	"slices"
	"testing"

	"github.com/urfave/cli/v2"
)

// TestListFlagsKeepCommas gives every list flag of every command a value
// with a comma: it is one value, as in runc, where a list is given by
// repeating the flag; a number list refuses it.
func TestListFlagsKeepCommas(t *testing.T) {
	var seen []string
	for _, cmd := range newApp().Commands {
		for _, f := range cmd.Flags {
			name := f.Names()[0]
			switch f.(type) {
			case *cli.StringSliceFlag:
				var got []string
				parseCommand(t, cmd.Name, func(ctx *cli.Context) { got = ctx.StringSlice(name) }, "--"+name, "a,b", "--"+name, "c")
				if !slices.Equal(got, []string{"a,b", "c"}) {
					t.Errorf("%s --%s a,b --%s c: %q, want [a,b c]", cmd.Name, name, name, got)
				}
			case *cli.Int64SliceFlag:
				if err := parseCommand(t, cmd.Name, func(*cli.Context) {}, "--"+name, "1,2"); err == nil {
					t.Errorf("%s --%s 1,2 accepted, want it refused", cmd.Name, name)
				}
				var got []int64
				parseCommand(t, cmd.Name, func(ctx *cli.Context) { got = ctx.Int64Slice(name) }, "--"+name, "1", "--"+name, "2")
				if !slices.Equal(got, []int64{1, 2}) {
					t.Errorf("%s --%s 1 --%s 2: %v, want [1 2]", cmd.Name, name, name, got)
				}
			default:
				continue
			}
			seen = append(seen, cmd.Name+" --"+name)
		}
	}
	// So that this test is known to reach the list flags at all.
	for _, want := range []string{"exec --env", "exec --cap", "exec --cgroup", "exec --additional-gids", "checkpoint --empty-ns", "restore --empty-ns"} {
		if !slices.Contains(seen, want) {
			t.Errorf("list flag %s not checked (saw %q)", want, seen)
		}
	}
}

// parseCommand parses `wrunc name args... ID` and calls inspect with the
// parsed context instead of the command's action.
func parseCommand(t *testing.T, name string, inspect func(*cli.Context), args ...string) error {
	t.Helper()
	app := newApp()
	app.Before = nil
	app.Command(name).Action = func(ctx *cli.Context) error {
		inspect(ctx)
		return nil
	}
	return app.Run(append(append([]string{"wrunc", name}, args...), "ID"))
}
