package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/raxx-app/handoff/internal/policy"
	"github.com/raxx-app/handoff/internal/provider/github"
	ghsurface "github.com/raxx-app/handoff/internal/surfaces/github"
	"github.com/raxx-app/handoff/internal/workspace"
)

func init() { register(patsCommand) }

func patsCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:  "pats",
		Usage: "list, check and revoke the organization's fine-grained PATs (made by hand, outside handoff)",
		Description: "GitHub has no API that creates a fine-grained PAT, so handoff never mints one; but PATs made by\n" +
			"hand (the Phase 1 runbook) can be listed, checked against the policy and revoked through the\n" +
			"organization endpoints, with the App's organization_personal_access_tokens permission.\n" +
			"Each PAT is checked for what no handoff may hold: organization permissions, forbidden or admin\n" +
			"repository permissions, permissions above the policy ceiling, every repository, no expiry or an\n" +
			"expiry beyond max_ttl. -revoke ID revokes one, after showing it and asking for 'yes' on a\n" +
			"terminal (-auto-approve in scripts). The organization is -org, else the owner of\n" +
			"GITHUB_REPOSITORY, else the one owner of the specs' repositories.\n" +
			"Exit status: 0, 1 error, 4 with -check when a live PAT has a finding.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "org", Usage: "the `ORGANIZATION` whose PATs to list"},
			&cli.BoolFlag{Name: "json", Usage: "print the PATs and findings as JSON on stdout"},
			&cli.BoolFlag{Name: "check", Usage: "exit 4 when a live PAT has a finding"},
			&cli.Int64Flag{Name: "revoke", Usage: "revoke the PAT with this grant `ID` (the ID column), after confirmation"},
			autoApproveFlag("revoke"),
			chdirFlag(),
		},
		Action: func(c *cli.Context) error {
			if err := misplacedFlag(c.Args().Slice()); err != nil {
				return usageError(c, err, true)
			}
			if c.NArg() > 0 {
				return usageError(c, errors.New("no arguments expected"), true)
			}
			ws, err := e.loadWorkspace(c, "pats", c.String("chdir"))
			if err != nil {
				return err
			}
			org, err := patOrg(c.String("org"), e.getenv("GITHUB_REPOSITORY"), ws)
			if err != nil {
				return exitf(exitError, "handoff pats: %v", err)
			}
			gh, err := ws.GitHub()
			if err != nil {
				return exitf(exitError, "handoff pats: %v", err)
			}
			if id := c.Int64("revoke"); id != 0 {
				return e.revokePAT(c, gh, org, id)
			}
			pats, err := gh.ListPATs(c.Context, org, github.PATFilter{})
			if err != nil {
				return exitf(exitError, "handoff pats: %v", err)
			}
			p, diags := policy.Effective(ws.Repo.Config)
			if diags.HasErrors() {
				return exitf(exitError, "handoff pats: the policy: %v", diags)
			}
			now := ws.Now()
			reports := make([]patReport, len(pats))
			flagged := 0
			for i, pat := range pats {
				reports[i] = patReport{PAT: pat, Findings: patFindings(pat, p, now)}
				if len(reports[i].Findings) > 0 && !pat.TokenExpired {
					flagged++
				}
			}
			if c.Bool("json") {
				if err := writePATsJSON(e, org, reports); err != nil {
					return exitf(exitError, "handoff pats: %v", err)
				}
			} else if err := writePATsText(e, org, reports); err != nil {
				return exitf(exitError, "handoff pats: %v", err)
			}
			if c.Bool("check") && flagged > 0 {
				return exitf(exitScopeViolation, "handoff pats: %s of %s with a finding: narrow or revoke them (handoff pats -revoke ID)", plural(flagged, "live PAT"), org)
			}
			return nil
		},
	}
}

// revokePAT shows the PAT, asks for confirmation as apply does, then
// revokes it. An id the organization does not list is refused before any
// write.
func (e *env) revokePAT(c *cli.Context, gh *github.Client, org string, id int64) error {
	pats, err := gh.ListPATs(c.Context, org, github.PATFilter{})
	if err != nil {
		return exitf(exitError, "handoff pats: %v", err)
	}
	i := slices.IndexFunc(pats, func(p github.PAT) bool { return p.ID == id })
	if i < 0 {
		return exitf(exitError, "handoff pats: %s lists no fine-grained PAT grant %d (the ID column of 'handoff pats'); nothing was revoked.", org, id)
	}
	p := pats[i]
	expires := "never"
	if !p.TokenExpiresAt.IsZero() {
		expires = p.TokenExpiresAt.UTC().Format("2006-01-02")
	}
	fmt.Fprintf(e.stderr, "Fine-grained PAT grant %d of %s: token %q of %s, repositories %s, permissions %s, expires %s.\n"+
		"Revoking it ends the token's access to %s at once; only its owner can make another.\n",
		p.ID, org, p.TokenName, p.Owner, p.RepositorySelection, patPermissions(p.Permissions), expires, org)
	if err := e.approve(c, "pats", fmt.Sprintf("revoke fine-grained PAT grant %d of %s", id, org), "Do you want to revoke it?", " to revoke it anyway"); err != nil {
		return err
	}
	if err := gh.RevokePAT(c.Context, org, id); err != nil {
		return exitf(exitError, "handoff pats: %v", err)
	}
	fmt.Fprintf(e.stdout, "Revoked fine-grained PAT grant %d of %s (token %q of %s).\n", id, org, p.TokenName, p.Owner)
	return nil
}

// patOrg picks the organization: the flag, the Actions repository's owner,
// or the single owner of every spec's repository.
func patOrg(flag, actionsRepo string, ws *workspace.Workspace) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if owner, _, ok := strings.Cut(actionsRepo, "/"); ok && owner != "" {
		return owner, nil
	}
	owners := map[string]bool{}
	for _, h := range ws.Repo.Handoffs {
		if g := ghsurface.Of(h); g != nil {
			if owner, _, ok := strings.Cut(g.Repository.Value, "/"); ok {
				owners[owner] = true
			}
		}
	}
	if len(owners) == 1 {
		for o := range owners {
			return o, nil
		}
	}
	return "", errors.New("which organization? pass -org ORGANIZATION")
}

type patReport struct {
	PAT      github.PAT
	Findings []string
}

// patFindings are what a PAT can do that no handoff may: the same rules
// the policy applies to specs.
func patFindings(pat github.PAT, p *policy.Policy, now time.Time) []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(pat.Permissions.Organization)) {
		out = append(out, fmt.Sprintf("organization permission %s: %s (never granted to a handoff)", name, pat.Permissions.Organization[name]))
	}
	ceiling := map[string]string{}
	if gp, ok := p.Surface(ghsurface.Name).(*ghsurface.Policy); ok {
		for _, e := range gp.Permissions.Entries {
			ceiling[e.Key.Value] = e.Value.Value
		}
	}
	for _, name := range slices.Sorted(maps.Keys(pat.Permissions.Repository)) {
		level := pat.Permissions.Repository[name]
		switch why, bad := ghsurface.ForbiddenPermission(name); {
		case bad:
			out = append(out, fmt.Sprintf("%s: %s is forbidden: %s", name, level, why))
		case level == policy.LevelAdmin:
			out = append(out, fmt.Sprintf("%s: admin is never granted", name))
		case name == "metadata" && level == policy.LevelRead:
			// Every token has it.
		case ceiling[name] == "":
			out = append(out, fmt.Sprintf("%s: %s is outside the policy ceiling", name, level))
		case ceiling[name] == policy.LevelRead && level != policy.LevelRead:
			out = append(out, fmt.Sprintf("%s: %s is above the policy ceiling (%s)", name, level, ceiling[name]))
		}
	}
	if pat.RepositorySelection == "all" {
		out = append(out, "reaches every repository of the organization (a handoff reaches one)")
	}
	switch ttl := p.TTLCeiling(); {
	case pat.TokenExpired:
	case pat.TokenExpiresAt.IsZero():
		out = append(out, "never expires")
	case pat.TokenExpiresAt.Sub(now) > ttl:
		out = append(out, fmt.Sprintf("expires %s, beyond max_ttl (%s) from now", pat.TokenExpiresAt.UTC().Format("2006-01-02"), ttl))
	}
	return out
}

func patPermissions(p github.PATPermissions) string {
	var parts []string
	for _, scope := range []struct {
		prefix string
		m      map[string]string
	}{{"org:", p.Organization}, {"", p.Repository}, {"other:", p.Other}} {
		for _, name := range slices.Sorted(maps.Keys(scope.m)) {
			parts = append(parts, scope.prefix+name+"="+scope.m[name])
		}
	}
	return strings.Join(parts, " ")
}

func writePATsText(e *env, org string, reports []patReport) error {
	if len(reports) == 0 {
		fmt.Fprintf(e.stdout, "No fine-grained PATs have access to %s.\n", org)
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tOWNER\tTOKEN\tREPOSITORIES\tPERMISSIONS\tEXPIRES\tLAST USED")
	day := func(t time.Time, zero string) string {
		if t.IsZero() {
			return zero
		}
		return t.UTC().Format("2006-01-02")
	}
	for _, r := range reports {
		expires := day(r.PAT.TokenExpiresAt, "never")
		if r.PAT.TokenExpired {
			expires += " (expired)"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", r.PAT.ID, r.PAT.Owner, r.PAT.TokenName, r.PAT.RepositorySelection,
			patPermissions(r.PAT.Permissions), expires, day(r.PAT.TokenLastUsedAt, "never"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range reports {
		if len(r.Findings) == 0 || r.PAT.TokenExpired {
			continue
		}
		fmt.Fprintf(e.stdout, "\n%d %s (%s):\n", r.PAT.ID, r.PAT.TokenName, r.PAT.Owner)
		for _, f := range r.Findings {
			fmt.Fprintf(e.stdout, "  - %s\n", f)
		}
	}
	return nil
}

// patJSON is one PAT of `handoff pats -json`.
type patJSON struct {
	ID                  int64             `json:"id"`
	TokenID             int64             `json:"token_id"`
	TokenName           string            `json:"token_name"`
	Owner               string            `json:"owner"`
	RepositorySelection string            `json:"repository_selection"`
	Permissions         map[string]string `json:"permissions"`
	ExpiresAt           *time.Time        `json:"expires_at"`
	Expired             bool              `json:"expired"`
	LastUsedAt          *time.Time        `json:"last_used_at"`
	Findings            []string          `json:"findings"`
}

func writePATsJSON(e *env, org string, reports []patReport) error {
	out := struct {
		FormatVersion int       `json:"format_version"`
		Organization  string    `json:"organization"`
		PATs          []patJSON `json:"pats"`
	}{1, org, []patJSON{}}
	opt := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		u := t.UTC()
		return &u
	}
	for _, r := range reports {
		perms := map[string]string{}
		for k, v := range r.PAT.Permissions.Organization {
			perms["organization/"+k] = v
		}
		for k, v := range r.PAT.Permissions.Repository {
			perms["repository/"+k] = v
		}
		for k, v := range r.PAT.Permissions.Other {
			perms["other/"+k] = v
		}
		out.PATs = append(out.PATs, patJSON{ID: r.PAT.ID, TokenID: r.PAT.TokenID, TokenName: r.PAT.TokenName, Owner: r.PAT.Owner,
			RepositorySelection: r.PAT.RepositorySelection, Permissions: perms, ExpiresAt: opt(r.PAT.TokenExpiresAt),
			Expired: r.PAT.TokenExpired, LastUsedAt: opt(r.PAT.TokenLastUsedAt), Findings: append([]string{}, r.Findings...)})
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
