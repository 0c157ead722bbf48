package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/urfave/cli/v2"

	"github.com/raxx-app/handoff/internal/diag"
	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/planfile"
	"github.com/raxx-app/handoff/internal/workspace"
)

// exitChanges is plan's exit status with -detailed-exitcode when applying
// the plan would change something.
const exitChanges = 2

func init() { register(planCommand) }

func planCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "plan",
		Usage:     "read live state and print what apply would create, refresh and revoke",
		ArgsUsage: "[DIR]",
		Description: "Reads the live state of every handoff (a bounded number of requests) and diffs it against the\n" +
			"specs. The plan goes to stdout (text, or JSON with -json); diagnostics and progress to stderr.\n" +
			"-pr-comment posts the plan as one Markdown comment on the pull request and updates it on later\n" +
			"runs (repository and number from -repo/-pr or GITHUB_REPOSITORY/GITHUB_EVENT_PATH, token from\n" +
			"GITHUB_TOKEN). Exit status: 0 no changes, 1 error, 2 changes (with -detailed-exitcode).",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Usage: "save the plan to `FILE` for apply (0600, holds no secret)"},
			&cli.BoolFlag{Name: "json", Usage: "print the plan as JSON on stdout"},
			&cli.BoolFlag{Name: "detailed-exitcode", Usage: "exit 2 when there are changes"},
			&cli.BoolFlag{Name: "pr-comment", Usage: "post or update the plan as a comment on the pull request"},
			&cli.StringFlag{Name: "repo", Usage: "`OWNER/NAME` of the pull request (default: GITHUB_REPOSITORY)"},
			&cli.IntFlag{Name: "pr", Usage: "pull request `NUMBER` (default: the one of GITHUB_EVENT_PATH)"},
		},
		Action: func(c *cli.Context) error {
			dir, err := dirArg(c)
			if err != nil {
				return err
			}
			ws, p, err := e.computePlan(c, dir)
			if err != nil {
				return err
			}
			if c.Bool("json") {
				err = plan.RenderJSON(e.stdout, p)
			} else {
				err = plan.RenderText(e.stdout, p, plan.TextOptions{Color: e.colorFor(c, e.stdout)})
			}
			if err != nil {
				return exitf(exitError, "handoff plan: %v", err)
			}
			if out := c.String("out"); out != "" {
				if err := planfile.WriteFile(out, p); err != nil {
					return exitf(exitError, "handoff plan: writing %s: %v", out, err)
				}
				fmt.Fprintf(e.stderr, "handoff plan: saved to %s; apply it with: handoff apply %s\n", out, out)
			}
			if c.Bool("pr-comment") {
				if err := e.postPlanComment(c, ws, p); err != nil {
					return exitf(exitError, "handoff plan: -pr-comment: %v", err)
				}
			}
			if c.Bool("detailed-exitcode") && p.HasChanges() {
				return exitCode(exitChanges)
			}
			return nil
		},
	}
}

// dirArg returns the optional DIR argument (default ".").
func dirArg(c *cli.Context) (string, error) {
	if err := misplacedFlag(c.Args().Slice()); err != nil {
		return "", usageError(c, err, true)
	}
	if c.NArg() > 1 {
		return "", usageError(c, fmt.Errorf("at most one DIR, got %d arguments", c.NArg()), true)
	}
	if c.NArg() == 1 {
		return c.Args().First(), nil
	}
	return ".", nil
}

// loadWorkspace loads and validates dir; on invalid specs it prints the
// diagnostics and returns exit 1 before anything remote is touched.
func (e *env) loadWorkspace(c *cli.Context, cmd, dir string) (*workspace.Workspace, error) {
	return e.loadWorkspaceWith(c, cmd, dir, workspace.Load)
}

// loadWorkspaceWith is loadWorkspace with another loader (revoke's, which
// leaves invalid specs out instead of stopping).
func (e *env) loadWorkspaceWith(c *cli.Context, cmd, dir string,
	load func(context.Context, string, func(string) string) (*workspace.Workspace, hcl.Diagnostics)) (*workspace.Workspace, error) {
	ws, diags := load(c.Context, dir, e.getenv)
	if ws != nil {
		e.onClose(ws.Close)
	}
	if diags.HasErrors() || (ws != nil && len(diags) > 0) {
		shown := diag.Limit(diags, diag.MaxPerFile, diag.MaxTotal)
		var sources map[string][]byte
		if ws != nil {
			ws.Repo.FillSources(shown)
			sources = ws.Repo.Sources
		}
		if err := e.printDiags(c, shown, sources); err != nil {
			return nil, exitf(exitError, "handoff %s: %v", cmd, err)
		}
	}
	if diags.HasErrors() {
		errs, _ := diag.Counts(diags)
		return nil, exitf(exitError, "handoff %s: %s; nothing remote was touched", cmd, plural(errs, "error"))
	}
	ws.Version, _ = buildVersion()
	return ws, nil
}

// printDiags writes diagnostics as text on stderr, and as GitHub annotations
// too when running in GitHub Actions.
func (e *env) printDiags(c *cli.Context, diags hcl.Diagnostics, sources map[string][]byte) error {
	if err := diag.WriteText(e.stderr, diags, sources, e.colorFor(c, e.stderr)); err != nil {
		return err
	}
	if e.getenv("GITHUB_ACTIONS") == "true" {
		return diag.WriteGitHubActions(e.stderr, diags, e.getenv("GITHUB_WORKSPACE"))
	}
	return nil
}

// computePlan loads the workspace, reads the live state and plans.
func (e *env) computePlan(c *cli.Context, dir string) (*workspace.Workspace, *plan.Plan, error) {
	ws, err := e.loadWorkspace(c, "plan", dir)
	if err != nil {
		return nil, nil, err
	}
	p, err := e.planWorkspace(c, "plan", ws)
	return ws, p, err
}

// planWorkspace reads the live state and plans. Plan-time errors (a surface
// without a provider, a permission the installation cannot grant) are
// printed and exit 1.
func (e *env) planWorkspace(c *cli.Context, cmd string, ws *workspace.Workspace) (*plan.Plan, error) {
	p, _, diags, err := ws.Plan(c.Context)
	if err != nil {
		return nil, exitf(exitError, "handoff %s: reading live state: %v", cmd, err)
	}
	if len(diags) > 0 {
		if err := e.printDiags(c, diags, ws.Repo.Sources); err != nil {
			return nil, exitf(exitError, "handoff %s: %v", cmd, err)
		}
	}
	if diags.HasErrors() {
		errs, _ := diag.Counts(diags)
		return nil, exitf(exitError, "handoff %s: %s; the plan cannot be applied", cmd, plural(errs, "error"))
	}
	return p, nil
}

// postPlanComment posts the Markdown plan on the pull request, or updates
// the comment an earlier run posted (found by its hidden marker). A failure
// to post fails the command: a plan nobody sees must not pass silently.
func (e *env) postPlanComment(c *cli.Context, ws *workspace.Workspace, p *plan.Plan) error {
	repo := c.String("repo")
	if repo == "" {
		repo = e.getenv("GITHUB_REPOSITORY")
	}
	owner, name, ok := strings.Cut(repo, "/")
	if !ok || owner == "" || name == "" {
		return errors.New("no repository: pass -repo OWNER/NAME or set GITHUB_REPOSITORY")
	}
	number := c.Int("pr")
	if number == 0 {
		n, err := prFromEvent(e.getenv("GITHUB_EVENT_PATH"))
		if err != nil {
			return err
		}
		number = n
	}
	token := e.getenv("GITHUB_TOKEN")
	if token == "" {
		return errors.New("GITHUB_TOKEN is not set: give the workflow `pull-requests: write` and pass its token")
	}
	var runURL string
	if srv, id := e.getenv("GITHUB_SERVER_URL"), e.getenv("GITHUB_RUN_ID"); srv != "" && id != "" {
		runURL = fmt.Sprintf("%s/%s/actions/runs/%s", strings.TrimRight(srv, "/"), repo, id)
	}
	body, err := plan.RenderMarkdown(p, plan.MarkdownOptions{RunURL: runURL})
	if err != nil {
		return err
	}
	gh, err := ws.GitHub()
	if err != nil {
		return err
	}
	id, found, err := gh.FindComment(c.Context, token, owner, name, number, plan.DefaultMarkdownMarker)
	if err != nil {
		return err
	}
	if found {
		if err := gh.UpdateComment(c.Context, token, owner, name, id, body); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "handoff plan: updated the plan comment on %s#%d\n", repo, number)
		return nil
	}
	if _, err := gh.CreateComment(c.Context, token, owner, name, number, body); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "handoff plan: posted the plan on %s#%d\n", repo, number)
	return nil
}

// prFromEvent reads the pull request number from a GitHub Actions event
// payload.
func prFromEvent(path string) (int, error) {
	if path == "" {
		return 0, errors.New("no pull request: pass -pr NUMBER or run in a pull_request workflow (GITHUB_EVENT_PATH)")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("reading the event payload: %w", err)
	}
	var ev struct {
		Number      int `json:"number"`
		PullRequest struct {
			Number int `json:"number"`
		} `json:"pull_request"`
	}
	if err := json.Unmarshal(b, &ev); err != nil {
		return 0, fmt.Errorf("event payload %s: %w", path, err)
	}
	if n := ev.PullRequest.Number; n > 0 {
		return n, nil
	}
	if ev.Number > 0 {
		return ev.Number, nil
	}
	return 0, fmt.Errorf("event payload %s has no pull request number: pass -pr NUMBER", path)
}
