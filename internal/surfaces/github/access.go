package github

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"golang.org/x/sync/errgroup"

	"github.com/raxx-app/handoff/internal/plan"
	gh "github.com/raxx-app/handoff/internal/provider/github"
	"github.com/raxx-app/handoff/internal/surface"
)

// accessConcurrency bounds the look-ups CheckPlanLive makes at once.
const accessConcurrency = 4

// CheckPlanLive checks that every repository a create, replace or refresh
// of in.Uses mints a token for is in its App installation's repository
// selection, asking GitHub once per distinct repository (GET
// /repos/{owner}/{repo}/installation, with the App's JWT: GitHub's way for
// an App to find the installation that reaches a repository). An
// installation with repository_selection "selected" reaches only the
// repositories its owner picked, and a repository that does not exist is
// in no installation: GitHub answers 404 to both, and apply's mint would
// fail with 422. Nothing is minted, and the requests are as many as the
// mints apply would make, at most. Repositories whose owner has no
// installation in the live state, or a suspended one, are left to
// CheckPlan, which reports them; nothing is checked when the live state has
// no installations. The error is a failure to ask GitHub.
func (s *Surface) CheckPlanLive(ctx context.Context, in surface.PlanInput) (hcl.Diagnostics, error) {
	live := LiveOf(in.Live)
	if live == nil {
		return nil, nil
	}
	type target struct {
		repository string // as the first spec writes it
		inst       gh.Installation
		ranges     []hcl.Range
	}
	targets := map[string]*target{}
	for _, u := range in.Uses {
		switch u.Change.Action {
		case plan.Create, plan.Replace, plan.Refresh:
		default:
			continue
		}
		g := Of(u.Spec)
		if g == nil || !g.Repository.Valid() || !repoNameRE.MatchString(g.Repository.Value) {
			continue
		}
		owner, _, _ := strings.Cut(g.Repository.Value, "/")
		inst, ok := live.Find(owner)
		if !ok || inst.Suspended() {
			continue
		}
		key := strings.ToLower(g.Repository.Value)
		t := targets[key]
		if t == nil {
			t = &target{repository: g.Repository.Value, inst: inst}
			targets[key] = t
		}
		t.ranges = append(t.ranges, g.Repository.Range)
	}
	if len(targets) == 0 {
		return nil, nil
	}
	c, err := s.client()
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(targets))
	for k := range targets {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	found := make([]*gh.Installation, len(keys)) // nil: GitHub answered 404
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(accessConcurrency)
	for i, k := range keys {
		g.Go(func() error {
			owner, name, _ := strings.Cut(targets[k].repository, "/")
			in, err := c.InstallationForRepo(gctx, owner, name)
			switch {
			case errors.Is(err, gh.ErrNotFound):
				return nil
			case err != nil:
				return fmt.Errorf("github: find the App installation that reaches %s: %w", targets[k].repository, err)
			}
			found[i] = &in
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var diags hcl.Diagnostics
	for i, k := range keys {
		t := targets[k]
		var d *hcl.Diagnostic
		switch f := found[i]; {
		case f == nil && t.inst.RepositorySelection == "all":
			d = &hcl.Diagnostic{
				Summary: fmt.Sprintf("GitHub repository %s not found", t.repository),
				Detail: fmt.Sprintf("The App's installation on %s (id %d) reaches all of its repositories, and GitHub says none is %s: it does not exist (or was renamed or moved), so apply would fail with 422. Check the name.",
					t.inst.Account, t.inst.ID, t.repository),
			}
		case f == nil:
			d = &hcl.Diagnostic{
				Summary: fmt.Sprintf("GitHub repository %s is not in the App installation's repository selection", t.repository),
				Detail: fmt.Sprintf("The App's installation on %s (id %d) reaches only the repositories an owner selected (repository_selection: %s), and GitHub says %s is not one of them, or does not exist: apply would fail with 422. Check the name, or ask an owner of %s to add it (settings → GitHub Apps → the App → Configure → Repository access → Only select repositories).",
					t.inst.Account, t.inst.ID, orUnknown(t.inst.RepositorySelection), t.repository, t.inst.Account),
			}
		case f.ID != t.inst.ID:
			d = &hcl.Diagnostic{
				Summary: fmt.Sprintf("GitHub repository %s is reached by another installation", t.repository),
				Detail: fmt.Sprintf("GitHub says the App reaches %s through installation %d, not through its installation on %s (id %d) that apply mints from: apply would fail. Run plan again; if it persists, reinstall the App on %s.",
					t.repository, f.ID, t.inst.Account, t.inst.ID, t.inst.Account),
			}
		default:
			continue
		}
		d.Severity = hcl.DiagError
		for _, r := range t.ranges {
			dd := *d
			dd.Subject = r.Ptr()
			diags = append(diags, &dd)
		}
	}
	return diags, nil
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
