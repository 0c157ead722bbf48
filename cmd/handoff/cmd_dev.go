package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/raxx-app/handoff/internal/devserver"
	"github.com/raxx-app/handoff/internal/devserver/cloudflaresrv"
	"github.com/raxx-app/handoff/internal/devserver/devkit"
	"github.com/raxx-app/handoff/internal/devserver/infisicalsrv"
)

func init() { register(devCommand) }

func devCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:  "dev",
		Usage: "serve local GitHub, Infisical, Cloudflare, AWS and Heroku APIs: every command works with no account",
		Description: "Serves the GitHub REST API (also under /api/v3), the Infisical API, Cloudflare's user tokens and\n" +
			"zones, AWS STS/IAM/SSM and the Heroku Platform API on loopback, with the fixtures of a GitHub App\n" +
			"installed on raxx-app and an Infisical project, until interrupted. The vendors' real rate limits\n" +
			"hold (Infisical Cloud's per route), unless -no-limits or -infisical-self-hosted says otherwise.\n" +
			"The provisioner's credentials go to DIR/dev.env and the App key to DIR/app.pem (both 0600);\n" +
			"load them with: set -a; . DIR/dev.env; set +a. They are never printed.\n" +
			"Control endpoints on both servers: GET /_dev/stats, POST /_dev/stats/reset,\n" +
			"POST /_dev/clock {\"advance\":\"61m\"}, POST /_dev/faults {\"fault\":\"ROUTE=STATUS,...\"}, DELETE /_dev/faults.\n" +
			"A -fault is ROUTE=STATUS|drop|delay[,nth=N][,rate=R][,count=N][,retry-after=D][,delay=D].\n" +
			"Exit status: 0 once interrupted (the state saved), 1 error.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "dir", Value: ".handoff-dev", Usage: "`DIR` where credentials, App key and state are kept"},
			&cli.StringFlag{Name: "github-addr", Value: "127.0.0.1:0", Usage: "loopback `ADDR` of the GitHub API"},
			&cli.StringFlag{Name: "infisical-addr", Value: "127.0.0.1:0", Usage: "loopback `ADDR` of the Infisical API"},
			&cli.StringFlag{Name: "cloudflare-addr", Value: "127.0.0.1:0", Usage: "loopback `ADDR` of the Cloudflare API"},
			&cli.StringFlag{Name: "aws-addr", Value: "127.0.0.1:0", Usage: "loopback `ADDR` of AWS STS, IAM and SSM"},
			&cli.StringFlag{Name: "heroku-addr", Value: "127.0.0.1:0", Usage: "loopback `ADDR` of the Heroku Platform API"},
			&cli.BoolFlag{Name: "no-limits", Usage: "switch every vendor's rate limits off (benchmarks; say so in their reports)"},
			&cli.BoolFlag{Name: "infisical-self-hosted", Usage: "Infisical as a self-hosted server: no rate limits (Infisical Cloud's are the default)"},
			&cli.StringFlag{Name: "fixtures", Usage: "JSON `FILE` replacing the default fixtures ({\"github\": …, \"infisical\": …})"},
			&cli.StringFlag{Name: "state", Usage: "state `FILE` kept across restarts (\"none\" keeps nothing; default: DIR/state.json)"},
			&cli.DurationFlag{Name: "latency", Usage: "`DURATION` added to every request"},
			&cli.DurationFlag{Name: "jitter", Usage: "random extra latency, uniform in [0, `DURATION`)"},
			&cli.StringSliceFlag{Name: "fault", Usage: "inject a failure described by `FAULT` (see above)"},
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
				CloudflareAddr: c.String("cloudflare-addr"), AWSAddr: c.String("aws-addr"), HerokuAddr: c.String("heroku-addr"),
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
			switch {
			case c.Bool("no-limits"):
				s.NoRateLimits()
			case c.Bool("infisical-self-hosted"):
				s.Infisical.SetRateLimits(infisicalsrv.RateLimits{Profile: infisicalsrv.ProfileSelfHosted})
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
			fmt.Fprintf(w, "  Cloudflare API: %s%s\n", s.CloudflareURL, cloudflaresrv.BasePath)
			fmt.Fprintf(w, "  AWS STS/IAM/SSM: %s  (account %s)\n", s.AWSURL, s.AWS.AccountID())
			fmt.Fprintf(w, "  Heroku API:     %s\n", s.HerokuURL)
			fmt.Fprintf(w, "  rate limits:    %s\n", s.LimitsSummary())
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
