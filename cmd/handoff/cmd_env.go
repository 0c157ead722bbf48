package main

import (
	"encoding/json"
	"fmt"

	"github.com/urfave/cli/v2"
)

func init() { register(envCommand) }

func envCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "env",
		Usage:     "print the session context for the orchestrator: env names, vault references, MCP lists",
		ArgsUsage: "SLUG",
		Description: "The context an orchestrator hands the agent: the names of the handoff's secrets with their vault\n" +
			"references, the vault paths it may read, and the MCP allow/exclude lists. Refused, like gate,\n" +
			"unless the handoff is active, unexpired and applied from the spec on disk; like gate, it depends\n" +
			"on handoff.hcl and SLUG's own spec only.\n" +
			"Values only with -reveal, and then read with the handoff's OWN identity (its client id and\n" +
			"secret from its folder), so the vault's audit log names the handoff, and nothing outside its\n" +
			"grant can be read. Exit status: 0, 1.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Value: "json", Usage: "output `FORMAT`: json or dotenv"},
			&cli.BoolFlag{Name: "reveal", Usage: "include secret values, read with the handoff's own identity"},
			chdirFlag(),
		},
		Action: func(c *cli.Context) error {
			slug, err := slugArg(c)
			if err != nil {
				return err
			}
			format := c.String("format")
			if format != "json" && format != "dotenv" {
				return usageError(c, fmt.Errorf("-format %q: want json or dotenv", format), true)
			}
			ws, err := e.loadForSlugs(c, "env", []string{slug})
			if err != nil {
				return err
			}
			m, journal, err := readManifest(c.Context, ws, slug)
			if err != nil {
				return exitf(exitError, "handoff env: %v", err)
			}
			if reason := gateRefusal(ws, slug, m, journal); reason != "" {
				return exitf(exitError, "handoff env: %s refused: %s", slug, reason)
			}
			sc := newSessionContext(ws, m)
			if c.Bool("reveal") {
				if err := sc.reveal(c, ws, m); err != nil {
					return exitf(exitError, "handoff env: -reveal: %v", err)
				}
			}
			if format == "dotenv" {
				if err := sc.writeDotenv(e.stdout); err != nil {
					return exitf(exitError, "handoff env: %v", err)
				}
				return nil
			}
			enc := json.NewEncoder(e.stdout)
			enc.SetIndent("", "  ")
			enc.SetEscapeHTML(false)
			return enc.Encode(sc)
		},
	}
}
