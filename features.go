package main

import (
	"github.com/urfave/cli/v2"

	"github.com/wrunc/wrunc/bridge"
)

var featuresCommand = &cli.Command{
	Name:  "features",
	Usage: "print the features this build supports, as OCI features JSON",
	Action: func(ctx *cli.Context) error {
		if err := checkArgs(ctx, 0, 0); err != nil {
			return err
		}
		return printJSON(ctx, bridge.Features(version, gitCommit))
	},
}
