package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/planfile"
)

func init() { register(showCommand) }

func showCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:        "show",
		Usage:       "render a saved plan",
		ArgsUsage:   "FILE",
		Description: "Renders a plan file written by plan -out, as text or JSON. Exit status: 0, 1 error.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print the plan as JSON on stdout"},
		},
		Action: func(c *cli.Context) error {
			if err := misplacedFlag(c.Args().Slice()); err != nil {
				return usageError(c, err, true)
			}
			if c.NArg() != 1 {
				return usageError(c, fmt.Errorf("want exactly one plan FILE"), true)
			}
			p, err := planfile.ReadFile(c.Args().First())
			if err != nil {
				return exitf(exitError, "handoff show: %v", err)
			}
			if c.Bool("json") {
				err = plan.RenderJSON(e.stdout, p)
			} else {
				err = plan.RenderText(e.stdout, p, plan.TextOptions{Color: e.colorFor(c, e.stdout)})
			}
			if err != nil {
				return exitf(exitError, "handoff show: %v", err)
			}
			return nil
		},
	}
}
