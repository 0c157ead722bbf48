package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/raxx-app/handoff/internal/devserver"
	"github.com/raxx-app/handoff/internal/devserver/devkit"
)

func init() { register(devCommand) }

func devCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:  "dev",
		Usage: "run local GitHub and Infisical API servers, so every command works with no account",
		Description: "Serves the GitHub REST API (also under /api/v3) and the Infisical API on loopback, with the\n" +
			"fixtures of a GitHub App installed on raxx-app and an Infisical project, until interrupted.\n" +
			"The provisioner's credentials go to DIR/dev.env and the App key to DIR/app.pem (both 0600);\n" +
			"load them with: set -a; . DIR/dev.env; set +a. They are never printed.\n" +
			"Control endpoints on both servers: GET /_dev/stats, POST /_dev/stats/reset,\n" +
			"POST /_dev/clock {\"advance\":\"61m\"}, POST /_dev/faults {\"fault\":\"ROUTE=STATUS,...\"}, DELETE /_dev/faults.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "dir", Value: ".handoff-dev", Usage: "where credentials, App key and state are kept"},
			&cli.StringFlag{Name: "github-addr", Value: "127.0.0.1:0", Usage: "loopback `ADDR` of the GitHub API"},
			&cli.StringFlag{Name: "infisical-addr", Value: "127.0.0.1:0", Usage: "loopback `ADDR` of the Infisical API"},
			&cli.StringFlag{Name: "fixtures", Usage: "JSON `FILE` replacing the default fixtures ({\"github\": …, \"infisical\": …})"},
			&cli.StringFlag{Name: "state", Usage: "state `FILE` kept across restarts (default DIR/state.json; \"none\" keeps nothing)"},
			&cli.DurationFlag{Name: "latency", Usage: "added to every request"},
			&cli.DurationFlag{Name: "jitter", Usage: "random extra latency, uniform in [0, jitter)"},
			&cli.StringSliceFlag{Name: "fault", Usage: "inject a failure: ROUTE=STATUS|drop|delay[,nth=N][,rate=R][,count=N][,retry-after=D][,delay=D] (repeatable)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageError(c, fmt.Errorf("no arguments expected"), true)
			}
			dir := c.String("dir")
			statePath := c.String("state")
			switch statePath {
			case "":
				statePath = filepath.Join(dir, "state.json")
			case "none":
				statePath = ""
			}
			opts := devserver.Options{
				GitHubAddr: c.String("github-addr"), InfisicalAddr: c.String("infisical-addr"),
				StateFile: statePath, Kit: devkit.NewKit(),
			}
			if f := c.String("fixtures"); f != "" {
				fx, err := devserver.LoadFixtures(f)
				if err != nil {
					return exitf(exitError, "handoff dev: %v", err)
				}
				opts.Fixtures = fx
			}
			for _, spec := range c.StringSlice("fault") {
				f, err := devkit.ParseFault(spec)
				if err != nil {
					return exitf(exitError, "handoff dev: %v", err)
				}
				opts.Kit.Faults.Add(f)
			}
			opts.Kit.Faults.SetLatency(c.Duration("latency"), c.Duration("jitter"))

			s, err := devserver.Start(opts)
			if err != nil {
				return exitf(exitError, "handoff dev: %v", err)
			}
			keyFile, envFile := filepath.Join(dir, "app.pem"), filepath.Join(dir, "dev.env")
			if err := s.WriteKeyFile(keyFile); err != nil {
				s.Close()
				return exitf(exitError, "handoff dev: %v", err)
			}
			// The directory holds credentials: keep it out of any repository
			// it is created in.
			if err := os.WriteFile(filepath.Join(dir, ".gitignore"), []byte("# written by handoff dev: credentials, never commit\n*\n"), 0o600); err != nil {
				s.Close()
				return exitf(exitError, "handoff dev: %v", err)
			}
			absKey, _ := filepath.Abs(keyFile)
			if err := s.WriteEnvFile(envFile, absKey); err != nil {
				s.Close()
				return exitf(exitError, "handoff dev: %v", err)
			}
			w := e.stdout
			fmt.Fprintf(w, "handoff dev: local API servers on loopback (interrupt to stop)\n")
			fmt.Fprintf(w, "  GitHub API:     %s  (also %s/api/v3; App %d)\n", s.GitHubURL, s.GitHubURL, s.GitHub.AppID())
			fmt.Fprintf(w, "  Infisical API:  %s  (organization %s, project %s)\n", s.InfisicalURL, s.Infisical.OrganizationID(), s.Infisical.ProjectID())
			fmt.Fprintf(w, "  credentials:    %s  (0600; set -a; . %s; set +a)\n", envFile, envFile)
			fmt.Fprintf(w, "  App key:        %s  (0600)\n", keyFile)
			if statePath != "" {
				fmt.Fprintf(w, "  state:          %s\n", statePath)
			}
			fmt.Fprintf(w, "  control:        GET %s/_dev/stats · POST %s/_dev/clock {\"advance\":\"61m\"}\n", s.GitHubURL, s.GitHubURL)

			// Save the state now and then, so a crash loses little.
			tick := time.NewTicker(30 * time.Second)
			defer tick.Stop()
			for {
				select {
				case <-c.Context.Done():
					if err := s.Close(); err != nil {
						return exitf(exitError, "handoff dev: saving state: %v", err)
					}
					fmt.Fprintln(e.stderr, "handoff dev: stopped")
					return nil
				case <-tick.C:
					if err := s.SaveState(); err != nil {
						fmt.Fprintf(e.stderr, "handoff dev: saving state: %v\n", err)
					}
				}
			}
		},
	}
}
