package github

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/raxx-app/handoff/internal/policy"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/surface"
)

// repoPermissions are the repository permissions of a GitHub App
// installation token (from GitHub's app-permissions schema). Only these can
// be narrowed to one repository; forbidden ones are listed too so that the
// message says "forbidden" rather than "unknown".
var repoPermissions = []string{
	"actions", "administration", "artifact_metadata", "attestations", "checks", "code_quality",
	"codespaces", "contents", "dependabot_secrets", "deployments", "discussions", "environments",
	"issues", "merge_queues", "metadata", "packages", "pages", "pull_requests",
	"repository_custom_properties", "repository_hooks", "repository_projects",
	"secret_scanning_alerts", "secrets", "security_events", "single_file", "statuses",
	"vulnerability_alerts", "workflows",
}

// accountPermissions act on a whole organization, enterprise or user
// account, never on one repository.
var accountPermissions = []string{
	"custom_properties_for_organizations", "enterprise_custom_properties_for_organizations",
	"members", "email_addresses", "followers", "git_ssh_keys", "gpg_keys",
	"interaction_limits", "profile", "starring",
}

// forbidden says why each forbidden repository permission is never granted
// to a handoff, whatever the policy ceiling.
var forbidden = map[string]string{
	"administration":     "it changes repository settings, collaborators, branch protection and deploy keys",
	"secrets":            "it reads and writes the repository's Actions secrets",
	"dependabot_secrets": "it reads and writes the repository's Dependabot secrets",
	"workflows":          "it rewrites CI workflows, which run with the repository's secrets",
}

var knownPermissions = func() map[string]bool {
	m := map[string]bool{}
	for _, p := range repoPermissions {
		m[p] = true
	}
	for _, p := range accountPermissions {
		m[p] = true
	}
	return m
}()

// ForbiddenPermission reports whether a GitHub permission name is never
// granted to a handoff, whatever the policy says, and why (H1):
// administration, secrets, dependabot_secrets, workflows, and every
// organization-, enterprise- or user-wide permission (members,
// organization_*, …). Verify and `handoff pats` use it to flag live tokens.
func ForbiddenPermission(name string) (reason string, isForbidden bool) {
	if r, ok := forbidden[name]; ok {
		return r, true
	}
	if strings.HasPrefix(name, "organization_") || strings.HasSuffix(name, "_secrets") ||
		strings.Contains(name, "organization") || strings.HasPrefix(name, "enterprise_") {
		return "it acts on the whole organization or enterprise, not on one repository", true
	}
	if name == "members" {
		return "it manages the organization's members and teams", true
	}
	if slices.Contains(accountPermissions, name) {
		return "it acts on a whole account, not on one repository", true
	}
	return "", false
}

// Policy is the surface's effective policy.
type Policy struct {
	// Permissions is the ceiling of GitHub permissions (name → level),
	// without the entries that break a hard rule.
	Permissions spec.StringMap
	// Owners are the GitHub accounts whose repositories a handoff may
	// name (github_owners), without malformed entries. The default policy
	// sets none: unset, no handoff may name a repository.
	Owners spec.StringList
	// Repositories are the patterns of github_repositories, without
	// malformed ones; unset (invalid), every repository of Owners.
	Repositories spec.StringList
}

// Policy merges the default policy's ceiling, owners and repositories with
// handoff.hcl's, attribute by attribute, and checks them against the hard
// rules, dropping what breaks them.
func (s *Surface) Policy(def, override spec.Block, _ *spec.Config) (any, hcl.Diagnostics) {
	p := &Policy{}
	if d, ok := def.(*PolicyBlock); ok {
		p.Permissions, p.Owners, p.Repositories = d.Permissions, d.Owners, d.Repositories
	}
	if o, ok := override.(*PolicyBlock); ok {
		if o.Permissions.Valid() {
			p.Permissions = o.Permissions
		}
		if o.Owners.Valid() {
			p.Owners = o.Owners
		}
		if o.Repositories.Valid() {
			p.Repositories = o.Repositories
		}
	}
	c := &surface.Check{}
	kept := p.Permissions.Entries[:0:0]
	for _, e := range p.Permissions.Entries {
		if ceilingEntry(c, e) {
			kept = append(kept, e)
		}
	}
	p.Permissions.Entries = kept
	owners := p.Owners.Values[:0:0]
	for _, o := range p.Owners.Values {
		if !ownerRE.MatchString(o.Value) {
			c.Errorf(o.Range, "Invalid GitHub owner in the policy",
				"github_owners lists GitHub accounts by login; %q is not one (no wildcards, no URL). Write the organization or user, such as github_owners = [\"raxx-app\"].", o.Value)
			continue
		}
		owners = append(owners, o)
	}
	p.Owners.Values = owners
	repos := p.Repositories.Values[:0:0]
	for _, r := range p.Repositories.Values {
		if repositoryPattern(c, r, p.Owners) {
			repos = append(repos, r)
		}
	}
	p.Repositories.Values = repos
	return p, c.Diagnostics()
}

// ownerRE is a GitHub login: letters, digits and single hyphens, at most
// 39 characters, not starting with a hyphen.
var ownerRE = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$`)

// patternRE is a repository pattern: an owner, a slash, and a name glob of
// the characters of repository names and * ? [ ] (path.Match's syntax).
var patternRE = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._*?\[\]^!-]{1,100}$`)

// repositoryPattern checks one entry of github_repositories and reports
// whether it may be used.
func repositoryPattern(c *surface.Check, r spec.String, owners spec.StringList) bool {
	owner, glob, _ := strings.Cut(r.Value, "/")
	if _, err := path.Match(glob, ""); !patternRE.MatchString(r.Value) || err != nil {
		c.Errorf(r.Range, "Invalid GitHub repository pattern in the policy",
			"github_repositories lists patterns \"owner/name\", where the name may hold * and ? (no wildcard in the owner); %q is not one. Write, for example, \"raxx-app/TradeMasterAPI\" or \"raxx-app/Moose*\".", r.Value)
		return false
	}
	if !ownerAllowed(owners, owner) {
		c.Errorf(r.Range, "GitHub repository pattern outside github_owners",
			"%q names the owner %q, which github_owners does not list, so no handoff may name it anyway. Add %q to github_owners, or remove the pattern.", r.Value, owner, owner)
		return false
	}
	return true
}

// ownerAllowed reports whether owner is in owners (GitHub logins compare
// case-insensitively).
func ownerAllowed(owners spec.StringList, owner string) bool {
	for _, o := range owners.Values {
		if strings.EqualFold(o.Value, owner) {
			return true
		}
	}
	return false
}

// repositoryAllowed reports whether repo ("owner/name") matches one of
// patterns, case-insensitively as GitHub compares names.
func repositoryAllowed(patterns spec.StringList, repo string) bool {
	for _, p := range patterns.Values {
		if ok, _ := path.Match(strings.ToLower(p.Value), strings.ToLower(repo)); ok {
			return true
		}
	}
	return false
}

// ceilingEntry checks one entry of the policy's github_permissions and
// reports whether it may stay in the ceiling.
func ceilingEntry(c *surface.Check, e spec.MapEntry) bool {
	name := e.Key.Value
	if why, bad := ForbiddenPermission(name); bad {
		c.Errorf(e.Key.Range, fmt.Sprintf("Forbidden GitHub permission %q in the policy ceiling", name),
			"No handoff may ever hold %q: %s (H1). Remove it from github_permissions; a policy cannot allow it.", name, why)
		return false
	}
	if !knownPermissions[name] {
		c.Errorf(e.Key.Range, fmt.Sprintf("Unknown GitHub permission %q in the policy ceiling", name),
			"%s Fix or remove it in github_permissions.", unknownPermission(name))
		return false
	}
	return level(c, e, "github_permissions")
}

// level checks the level of a permission entry.
func level(c *surface.Check, e spec.MapEntry, where string) bool {
	switch e.Value.Value {
	case policy.LevelRead, policy.LevelWrite:
		return true
	case policy.LevelAdmin:
		c.Errorf(e.Value.Range, fmt.Sprintf("Forbidden level \"admin\" for GitHub permission %q", e.Key.Value),
			"The admin level is never granted to a handoff (H1). Use \"read\" or \"write\" in %s.", where)
	default:
		c.Errorf(e.Value.Range, fmt.Sprintf("Invalid level %q for GitHub permission %q", e.Value.Value, e.Key.Value),
			"A GitHub permission level is \"read\" or \"write\". Write %s = \"read\" in %s.", e.Key.Value, where)
	}
	return false
}

func unknownPermission(name string) string {
	msg := fmt.Sprintf("GitHub has no App permission named %q.", name)
	if s := policy.Suggest(name, repoPermissions); s != "" {
		msg += fmt.Sprintf(" Did you mean %q?", s)
	}
	return msg
}

// CheckConfig checks the github block of handoff.hcl.
func (s *Surface) CheckConfig(c *surface.Check, b spec.Block) {
	cfg, ok := b.(*Config)
	if !ok {
		return
	}
	if d := policy.URLProblem(cfg.APIURL, "api_url", DefaultAPIURL); d != nil {
		c.Append(d)
	}
	if id := cfg.AppID; id.Valid() && id.Value <= 0 {
		c.Errorf(id.Range, "Invalid GitHub App id",
			"app_id must be the positive number shown on the App's settings page, such as app_id = 123456.")
	}
}

var repoNameRE = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$`)

// Check checks a handoff's github block against the ceiling.
func (s *Surface) Check(c *surface.Check, h *spec.Handoff, b spec.Block) {
	g, ok := b.(*Block)
	if !ok {
		return
	}
	if r := g.Repository; r.Valid() {
		_, name, _ := strings.Cut(r.Value, "/")
		if !repoNameRE.MatchString(r.Value) || name == "." || name == ".." {
			c.Errorf(r.Range, "Invalid GitHub repository",
				"repository is %q; it must be one repository as \"owner/name\", such as \"raxx-app/TradeMasterAPI\", without wildcards or URL.", r.Value)
		}
	}
	if p, ok := c.Policy.(*Policy); ok && c.Config != nil && !c.Config.Incomplete {
		// Without a usable handoff.hcl its own error is the one to fix.
		reach(c, g.Repository, p)
	}
	if cfg := c.Config; cfg != nil && !cfg.Incomplete && ConfigOf(cfg) == nil {
		c.Errorf(g.DefRange, "GitHub access without a GitHub App",
			"Handoff %q asks for GitHub access, but %s has no github block. Add a github block with app_id (the App that mints handoff tokens) to %s, for example:\n\ngithub {\n  app_id = 123456\n}",
			h.Slug.Value, cfg.Filename, cfg.Filename)
	}
	perms := g.Permissions
	if !perms.Valid() {
		return
	}
	if len(perms.Entries) == 0 {
		c.Errorf(perms.Range, "No GitHub permissions",
			"An empty permissions map would leave the token with the installation's defaults. List what the task needs, such as permissions = { contents = \"write\" }, or remove the github block.")
		return
	}
	var ceiling spec.StringMap
	if p, ok := c.Policy.(*Policy); ok {
		ceiling = p.Permissions
	}
	for _, e := range perms.Entries {
		name := e.Key.Value
		if why, bad := ForbiddenPermission(name); bad {
			c.Errorf(e.Key.Range, fmt.Sprintf("Forbidden GitHub permission %q", name),
				"No handoff may ever hold %q: %s (H1). Remove it; do that part of the task by hand or through a reviewed pull request.", name, why)
			continue
		}
		if !knownPermissions[name] {
			c.Errorf(e.Key.Range, fmt.Sprintf("Unknown GitHub permission %q", name), "%s Fix or remove it.", unknownPermission(name))
			continue
		}
		if !level(c, e, "permissions") {
			continue
		}
		max, ok := ceiling.Get(name)
		if !ok {
			c.Errorf(e.Key.Range, fmt.Sprintf("GitHub permission %q is above the policy ceiling", name),
				"The policy (github_permissions, %s) allows only %s. Remove %q, or widen the ceiling in the policy block of handoff.hcl through a reviewed change.",
				spec.RangeString(ceiling.Range), ceilingList(ceiling), name)
			continue
		}
		if e.Value.Value == policy.LevelWrite && max.Value.Value == policy.LevelRead {
			c.Errorf(e.Value.Range, fmt.Sprintf("GitHub permission %s = \"write\" is above the policy ceiling", name),
				"The policy allows %s = \"read\" at most (%s). Ask for \"read\", or raise the ceiling in the policy block of handoff.hcl through a reviewed change.",
				name, spec.RangeString(max.Value.Range))
		}
	}
}

// reach checks a valid repository against the policy's github_owners and
// github_repositories: the App may be installed on more accounts than
// handoffs may reach (issue 12: a spec for moose-labs/website was minted
// because the App was also installed there).
func reach(c *surface.Check, r spec.String, p *Policy) {
	owner, _, ok := strings.Cut(r.Value, "/")
	if !r.Valid() || !ok || !repoNameRE.MatchString(r.Value) {
		return // reported as an invalid repository
	}
	switch {
	case len(p.Owners.Values) == 0:
		where := "github_owners is not set, and has no default"
		if p.Owners.Valid() {
			where = "github_owners is empty (" + spec.RangeString(p.Owners.Range) + ")"
		}
		c.Errorf(r.Range, fmt.Sprintf("GitHub owner %q is not allowed by the policy", owner),
			"The policy lists no GitHub account whose repositories a handoff may name (%s): the App may be installed on accounts no handoff should reach. List the ones handoffs may reach in the policy block of %s through a reviewed change, for example: github_owners = [%q]",
			where, spec.ConfigFile, owner)
	case !ownerAllowed(p.Owners, owner):
		c.Errorf(r.Range, fmt.Sprintf("GitHub owner %q is not allowed by the policy", owner),
			"The policy (github_owners, %s) allows repositories of %s only. Name a repository of one of them, or add %q to github_owners in the policy block of %s through a reviewed change, for example: github_owners = [%s, %q]",
			spec.RangeString(p.Owners.Range), quotedList(p.Owners), owner, spec.ConfigFile, quotedList(p.Owners), owner)
	case p.Repositories.Valid() && !repositoryAllowed(p.Repositories, r.Value):
		c.Errorf(r.Range, fmt.Sprintf("GitHub repository %q is not allowed by the policy", r.Value),
			"The policy (github_repositories, %s) allows %s only. Name one of those, or add %q to github_repositories in the policy block of %s through a reviewed change, for example: github_repositories = [%s]",
			spec.RangeString(p.Repositories.Range), orNoRepository(p.Repositories), r.Value, spec.ConfigFile, strings.TrimPrefix(quotedList(p.Repositories)+", ", ", ")+fmt.Sprintf("%q", r.Value))
	}
}

func quotedList(l spec.StringList) string {
	parts := make([]string, len(l.Values))
	for i, v := range l.Values {
		parts[i] = fmt.Sprintf("%q", v.Value)
	}
	return strings.Join(parts, ", ")
}

func orNoRepository(l spec.StringList) string {
	if len(l.Values) == 0 {
		return "no repository"
	}
	return quotedList(l)
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

// Checks are the surface's rules, for the plan's record.
func (s *Surface) Checks() surface.Checks {
	return surface.Checks{
		Policy: []string{
			"GitHub permissions inside the policy ceiling; never administration, secrets, workflows, organization-wide or admin",
			"GitHub repositories of the owners in github_owners (and matching github_repositories when set)",
		},
		Plan: []string{
			"a GitHub App installation on each repository's owner",
			"each installation can grant the permissions asked",
			"each repository a token is minted for is in its installation's repository selection (one request per repository)",
			"no installation a spec uses grants a permission no handoff may hold (a warning: tokens are narrowed anyway)",
		},
	}
}
