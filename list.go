package main

import (
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/wrunc/wrunc/bridge"
)

var listCommand = &cli.Command{
	Name:    "list",
	Aliases: []string{"ps-all"},
	Usage:   "list the containers under --root",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "table or json"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only the ids"},
	},
	Action: runtimeAction(0, 0, func(ctx *cli.Context, rt *bridge.Runtime) error {
		if err := checkGivenRoot(ctx, rt.Root); err != nil {
			return err
		}
		states, err := rt.List()
		if err != nil {
			return err
		}
		w := ctx.App.Writer
		switch {
		case ctx.Bool("quiet"):
			for _, s := range states {
				fmt.Fprintln(w, s.ID)
			}
		case ctx.String("format") == "json":
			// One line, as runc prints it ("null" for none).
			return json.NewEncoder(w).Encode(states)
		case ctx.String("format") == "table":
			tw := tabwriter.NewWriter(w, 12, 1, 3, ' ', 0)
			fmt.Fprint(tw, "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER\n")
			for _, s := range states {
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", s.ID, s.Pid, s.Status, s.Bundle, s.Created.Format(time.RFC3339Nano), s.Owner)
			}
			return tw.Flush()
		default:
			return fmt.Errorf("invalid format %q: want table or json", ctx.String("format"))
		}
		return nil
	}),
}

// checkGivenRoot refuses a --root that cannot be opened, in runc's words.
// The default root lists as empty until the first container makes it, but
// a root given by hand that names nothing is a mistake, not an empty list.
func checkGivenRoot(ctx *cli.Context, root string) error {
	if !ctx.IsSet("root") {
		return nil
	}
	dir, err := os.Open(root)
	if err != nil {
		return err
	}
	return dir.Close()
}
