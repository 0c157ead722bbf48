package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/devserver/githubsrv"
)

// repoInstallationRoute is the GitHub route plan asks for each repository.
const repoInstallationRoute = "GET /repos/{owner}/{repo}/installation"

// writeGitHubSpec adds a spec for repository.
func (c *gitops) writeGitHubSpec(slug, repository string) {
	c.t.Helper()
	body := fmt.Sprintf("handoff %q {\n  card        = 4000\n  ttl         = \"4h\"\n  approved_by = \"ops\"\n\n  github {\n    repository  = %q\n    permissions = { contents = \"read\" }\n  }\n}\n", slug, repository)
	if err := os.WriteFile(filepath.Join(c.dir, "specs", slug+".hcl"), []byte(body), 0o644); err != nil {
		c.t.Fatal(err)
	}
}

// TestPlanChecksTheRepositorySelection (issue 12, item 7): a spec for a
// repository the App's installation does not reach (an installation with
// selected repositories that does not include it, or a repository that
// does not exist) passed plan ("each installation can grant the
// permissions asked"), and apply failed with GitHub's 422. Plan now asks
// GitHub, once per distinct repository a token is minted for, and apply
// stops before minting anything.
func TestPlanChecksTheRepositorySelection(t *testing.T) {
	c := newGitOps(t)
	c.writeGitHubSpec("private-vault-20260621", "raxx-app/PrivateVault")
	c.writeGitHubSpec("private-vault-two-20260621", "raxx-app/privatevault") // same repository, GitHub's case rules
	c.writeGitHubSpec("no-such-repo-20260621", "raxx-app/NoSuchRepo")

	c.s.Kit.Stats.Reset()
	_, stderr := c.must(1, "plan")
	for _, want := range []string{
		"specs/private-vault-20260621.hcl:7:19: error: GitHub repository raxx-app/PrivateVault is not in the App installation's repository selection",
		"specs/private-vault-two-20260621.hcl:7:19: error: GitHub repository raxx-app/PrivateVault is not in the App installation's repository selection",
		"specs/no-such-repo-20260621.hcl:7:19: error: GitHub repository raxx-app/NoSuchRepo is not in the App installation's repository selection",
		"repository_selection: selected",
		"Repository access",
		"the plan cannot be applied",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("plan does not say %q:\n%s", want, stderr)
		}
	}
	// One request per distinct repository minted for: the two above and
	// TradeMasterAPI, which the installation reaches.
	if n := c.s.Kit.Stats.Count(repoInstallationRoute); n != 3 {
		t.Errorf("plan asked GitHub %d times for a repository's installation, want 3 (one per distinct repository)", n)
	}

	// apply stops at the plan: no token is minted, nothing is written.
	tokens := len(c.s.GitHub.Tokens())
	_, stderr = c.must(1, "apply", "-auto-approve")
	if !strings.Contains(stderr, "not in the App installation's repository selection") || len(c.s.GitHub.Tokens()) != tokens || c.writes() != 0 {
		t.Errorf("apply: %d tokens minted, %d writes\n%s", len(c.s.GitHub.Tokens())-tokens, c.writes(), stderr)
	}

	// An owner adds PrivateVault to the installation; NoSuchRepo goes.
	if err := c.s.GitHub.SetRepositorySelection(githubsrv.DefaultInstallationID, "selected", "TradeMasterAPI", "MooseQuest", "PrivateVault"); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(c.dir, "specs", "no-such-repo-20260621.hcl")); err != nil {
		t.Fatal(err)
	}
	c.must(0, "apply", "-auto-approve")

	// Nothing to mint: no request.
	c.s.Kit.Stats.Reset()
	c.must(0, "plan")
	if n := c.s.Kit.Stats.Count(repoInstallationRoute); n != 0 {
		t.Errorf("a plan without changes asked GitHub %d times", n)
	}

	// The owner drops TradeMasterAPI: the next refresh could not mint.
	if err := c.s.GitHub.SetRepositorySelection(githubsrv.DefaultInstallationID, "selected", "MooseQuest", "PrivateVault"); err != nil {
		t.Fatal(err)
	}
	c.s.Kit.Clock.Advance(55 * time.Minute)
	_, stderr = c.must(1, "plan")
	if !strings.Contains(stderr, "specs/iap-notif-handler-20260621.hcl:8:19: error: GitHub repository raxx-app/TradeMasterAPI is not in the App installation's repository selection") {
		t.Errorf("a refresh for a repository taken out of the selection:\n%s", stderr)
	}
}

// TestPlanFindsAMissingRepositoryOfAnAllInstallation: an installation on
// all of an account's repositories reaches every one that exists.
func TestPlanFindsAMissingRepositoryOfAnAllInstallation(t *testing.T) {
	c := newGitOps(t)
	cfg := filepath.Join(c.dir, "handoff.hcl")
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte(strings.Replace(string(b), `github_owners = ["raxx-app"]`, `github_owners = ["raxx-app", "moose-labs"]`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	c.writeGitHubSpec("moose-site-20260621", "moose-labs/website")
	c.writeGitHubSpec("moose-gone-20260621", "moose-labs/gone")
	_, stderr := c.must(1, "plan")
	if !strings.Contains(stderr, "specs/moose-gone-20260621.hcl:7:19: error: GitHub repository moose-labs/gone not found") ||
		!strings.Contains(stderr, "reaches all of its repositories") || strings.Contains(stderr, "moose-labs/website") {
		t.Errorf("plan of a missing repository of an all installation:\n%s", stderr)
	}
}
