package policy

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/raxx-app/handoff/internal/spec"
)

// GitHub permission levels a handoff may ask for. "admin", which a few
// GitHub permissions accept, is never granted (H1).
const (
	LevelRead  = "read"
	LevelWrite = "write"
	LevelAdmin = "admin"
)

// githubRepoPermissions are the repository permissions of a GitHub App
// installation token (from GitHub's app-permissions schema). Only these can
// be narrowed to one repository; forbidden ones are listed too so that the
// message says "forbidden" rather than "unknown".
var githubRepoPermissions = []string{
	"actions", "administration", "artifact_metadata", "attestations", "checks", "code_quality",
	"codespaces", "contents", "dependabot_secrets", "deployments", "discussions", "environments",
	"issues", "merge_queues", "metadata", "packages", "pages", "pull_requests",
	"repository_custom_properties", "repository_hooks", "repository_projects",
	"secret_scanning_alerts", "secrets", "security_events", "single_file", "statuses",
	"vulnerability_alerts", "workflows",
}

// githubAccountPermissions act on a whole organization, enterprise or user
// account, never on one repository.
var githubAccountPermissions = []string{
	"custom_properties_for_organizations", "enterprise_custom_properties_for_organizations",
	"members", "email_addresses", "followers", "git_ssh_keys", "gpg_keys",
	"interaction_limits", "profile", "starring",
}

// githubForbidden says why each forbidden repository permission is never
// granted to a handoff, whatever the policy ceiling.
var githubForbidden = map[string]string{
	"administration":     "it changes repository settings, collaborators, branch protection and deploy keys",
	"secrets":            "it reads and writes the repository's Actions secrets",
	"dependabot_secrets": "it reads and writes the repository's Dependabot secrets",
	"workflows":          "it rewrites CI workflows, which run with the repository's secrets",
}

var knownGitHubPermissions = func() map[string]bool {
	m := map[string]bool{}
	for _, p := range githubRepoPermissions {
		m[p] = true
	}
	for _, p := range githubAccountPermissions {
		m[p] = true
	}
	return m
}()

// ForbiddenGitHubPermission reports whether a GitHub permission name is
// never granted to a handoff, whatever the policy says, and why (H1):
// administration, secrets, dependabot_secrets, workflows, and every
// organization-, enterprise- or user-wide permission (members,
// organization_*, …). Later stages (verify) use it to flag live tokens.
func ForbiddenGitHubPermission(name string) (reason string, forbidden bool) {
	if r, ok := githubForbidden[name]; ok {
		return r, true
	}
	if strings.HasPrefix(name, "organization_") || strings.HasSuffix(name, "_secrets") ||
		strings.Contains(name, "organization") || strings.HasPrefix(name, "enterprise_") {
		return "it acts on the whole organization or enterprise, not on one repository", true
	}
	if name == "members" {
		return "it manages the organization's members and teams", true
	}
	if slices.Contains(githubAccountPermissions, name) {
		return "it acts on a whole account, not on one repository", true
	}
	return "", false
}

// githubCeilingEntry checks one entry of the policy's github_permissions and
// reports whether it may stay in the ceiling.
func (c *checker) githubCeilingEntry(e spec.MapEntry) bool {
	name := e.Key.Value
	if why, bad := ForbiddenGitHubPermission(name); bad {
		c.errorf(e.Key.Range, fmt.Sprintf("Forbidden GitHub permission %q in the policy ceiling", name),
			"No handoff may ever hold %q: %s (H1). Remove it from github_permissions; a policy cannot allow it.", name, why)
		return false
	}
	if !knownGitHubPermissions[name] {
		c.errorf(e.Key.Range, fmt.Sprintf("Unknown GitHub permission %q in the policy ceiling", name),
			"%s Fix or remove it in github_permissions.", unknownGitHubPermission(name))
		return false
	}
	return c.githubLevel(e, "github_permissions")
}

// githubLevel checks the level of a permission entry.
func (c *checker) githubLevel(e spec.MapEntry, where string) bool {
	switch e.Value.Value {
	case LevelRead, LevelWrite:
		return true
	case LevelAdmin:
		c.errorf(e.Value.Range, fmt.Sprintf("Forbidden level \"admin\" for GitHub permission %q", e.Key.Value),
			"The admin level is never granted to a handoff (H1). Use \"read\" or \"write\" in %s.", where)
	default:
		c.errorf(e.Value.Range, fmt.Sprintf("Invalid level %q for GitHub permission %q", e.Value.Value, e.Key.Value),
			"A GitHub permission level is \"read\" or \"write\". Write %s = \"read\" in %s.", e.Key.Value, where)
	}
	return false
}

func unknownGitHubPermission(name string) string {
	msg := fmt.Sprintf("GitHub has no App permission named %q.", name)
	if s := suggest(name, githubRepoPermissions); s != "" {
		msg += fmt.Sprintf(" Did you mean %q?", s)
	}
	return msg
}

var repoNameRE = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$`)

// github checks a handoff's github block against the ceiling.
func (c *checker) github(h *spec.Handoff, g *spec.GitHub, p *Policy, cfg *spec.Config) {
	if r := g.Repository; r.Valid() {
		_, name, _ := strings.Cut(r.Value, "/")
		if !repoNameRE.MatchString(r.Value) || name == "." || name == ".." {
			c.errorf(r.Range, "Invalid GitHub repository",
				"repository is %q; it must be one repository as \"owner/name\", such as \"raxx-app/TradeMasterAPI\", without wildcards or URL.", r.Value)
		}
	}
	if cfg != nil && !cfg.Incomplete && cfg.GitHub == nil {
		c.errorf(g.DefRange, "GitHub access without a GitHub App",
			"Handoff %q asks for GitHub access, but %s has no github block. Add github { app_id = <the App that mints handoff tokens> } to %s.",
			h.Slug.Value, cfg.Filename, cfg.Filename)
	}
	perms := g.Permissions
	if !perms.Valid() {
		return
	}
	if len(perms.Entries) == 0 {
		c.errorf(perms.Range, "No GitHub permissions",
			"An empty permissions map would leave the token with the installation's defaults. List what the task needs, such as permissions = { contents = \"write\" }, or remove the github block.")
		return
	}
	ceiling := p.GitHubPermissions
	for _, e := range perms.Entries {
		name := e.Key.Value
		if why, bad := ForbiddenGitHubPermission(name); bad {
			c.errorf(e.Key.Range, fmt.Sprintf("Forbidden GitHub permission %q", name),
				"No handoff may ever hold %q: %s (H1). Remove it; do that part of the task by hand or through a reviewed pull request.", name, why)
			continue
		}
		if !knownGitHubPermissions[name] {
			c.errorf(e.Key.Range, fmt.Sprintf("Unknown GitHub permission %q", name), "%s Fix or remove it.", unknownGitHubPermission(name))
			continue
		}
		if !c.githubLevel(e, "permissions") {
			continue
		}
		max, ok := ceiling.Get(name)
		if !ok {
			c.errorf(e.Key.Range, fmt.Sprintf("GitHub permission %q is above the policy ceiling", name),
				"The policy (github_permissions, %s) allows only %s. Remove %q, or widen the ceiling in the policy block of handoff.hcl through a reviewed change.",
				spec.RangeString(ceiling.Range), ceilingList(ceiling), name)
			continue
		}
		if e.Value.Value == LevelWrite && max.Value.Value == LevelRead {
			c.errorf(e.Value.Range, fmt.Sprintf("GitHub permission %s = \"write\" is above the policy ceiling", name),
				"The policy allows %s = \"read\" at most (%s). Ask for \"read\", or raise the ceiling in the policy block of handoff.hcl through a reviewed change.",
				name, spec.RangeString(max.Value.Range))
		}
	}
}

func ceilingList(m spec.StringMap) string {
	if len(m.Entries) == 0 {
		return "no GitHub permission"
	}
	parts := make([]string, 0, len(m.Entries))
	for _, e := range m.Entries {
		parts = append(parts, e.Key.Value+" = "+e.Value.Value)
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// suggest returns the candidate closest to name by edit distance, or "" when
// none is close.
func suggest(name string, candidates []string) string {
	best, bestDist := "", 3
	for _, cand := range candidates {
		if d := levenshtein(name, cand); d < bestDist {
			best, bestDist = cand, d
		}
	}
	return best
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
