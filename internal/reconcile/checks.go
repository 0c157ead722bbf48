package reconcile

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/policy"
	"github.com/raxx-app/handoff/internal/provider/github"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/state"
)

// check runs the plan-time checks of one planned handoff: a provider for
// every surface a change needs, and for a GitHub token about to be minted an
// installation on the repository's owner that can grant the permissions.
func (pl *planner) check(ph *plan.Handoff, h *spec.Handoff, lh *state.Handoff) {
	for _, c := range ph.Changes {
		if !c.Action.IsChange() || pl.opts.Registry.Has(c.Surface) {
			continue
		}
		pl.noProvider(ph, h, lh, c)
	}
	if h == nil || h.GitHub == nil {
		return
	}
	for _, c := range ph.Changes {
		if c.Surface != spec.SurfaceGitHub {
			continue
		}
		switch c.Action {
		case plan.Create, plan.Replace, plan.Refresh:
			pl.installation(h, true)
		case plan.NoOp:
			if lh != nil && lh.Manifest != nil && lh.Manifest.Status == manifest.Active {
				pl.installation(h, false)
			}
		}
	}
}

func (pl *planner) once(key string) bool {
	if pl.reported == nil {
		pl.reported = map[string]bool{}
	}
	if pl.reported[key] {
		return false
	}
	pl.reported[key] = true
	return true
}

func (pl *planner) noProvider(ph *plan.Handoff, h *spec.Handoff, lh *state.Handoff, c plan.Change) {
	if !pl.once("provider\x00" + ph.Slug + "\x00" + c.Surface) {
		return
	}
	d := &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  fmt.Sprintf("No provider for surface %s", c.Surface),
	}
	if rng, ok := surfaceRange(h, c.Surface); ok {
		d.Subject = rng.Ptr()
	}
	verb := "provision"
	if c.Action == plan.Revoke {
		verb = "revoke"
	}
	switch {
	case c.Action == plan.Revoke && lh != nil:
		d.Detail = fmt.Sprintf("no provider for surface %s in this build: handoff %q has a %s credential to revoke (folder %s), but this build cannot %s it. Revoke it by hand with the vendor, or run a build that includes the %s provider.",
			c.Surface, ph.Slug, c.Surface, lh.Folder, verb, c.Surface)
	default:
		d.Detail = fmt.Sprintf("no provider for surface %s in this build: handoff %q asks for a %s credential that this build cannot %s. Remove the %s block, or run a build that includes the %s provider.",
			c.Surface, ph.Slug, c.Surface, verb, c.Surface, c.Surface)
	}
	pl.diags = append(pl.diags, d)
}

// installation checks that the App is installed on the owner of the spec's
// repository and can grant what the spec asks. minting says a token is
// about to be minted (errors); otherwise a live token is kept and a
// problem is a warning (the next refresh will fail).
func (pl *planner) installation(h *spec.Handoff, minting bool) {
	g := h.GitHub
	repo := g.Repository
	if !repo.Valid() {
		return
	}
	owner, _, ok := strings.Cut(repo.Value, "/")
	if !ok || owner == "" {
		return // policy reports the malformed name
	}
	sev := hcl.DiagError
	if !minting {
		sev = hcl.DiagWarning
	}
	if !pl.live.InstallationsKnown {
		if pl.once("installations-unknown") {
			pl.diags = append(pl.diags, &hcl.Diagnostic{
				Severity: hcl.DiagWarning,
				Summary:  "GitHub installations not read",
				Detail:   "The live state was read without the GitHub App's installations, so whether the App can mint the tokens the specs ask for is not checked before apply. Configure the github block of handoff.hcl and the App's private key.",
				Subject:  repo.Range.Ptr(),
			})
		}
		return
	}
	inst, found := pl.live.Installation(owner)
	if !found {
		if !pl.once("installation\x00" + strings.ToLower(owner) + "\x00" + h.Slug.Value) {
			return
		}
		pl.diags = append(pl.diags, &hcl.Diagnostic{
			Severity: sev,
			Summary:  fmt.Sprintf("No GitHub App installation for %s", owner),
			Detail: fmt.Sprintf("The GitHub App is installed on %s, not on %s, so no token for %s can be minted. Install the App on %s (settings → GitHub Apps → Configure), or change repository.",
				installedOn(pl.live), owner, repo.Value, owner),
			Subject: repo.Range.Ptr(),
		})
		return
	}
	perms := g.Permissions.Map()
	for _, line := range github.CheckGrant(inst, perms) {
		name, _, _ := strings.Cut(line, ":")
		entry, isPerm := g.Permissions.Get(name)
		if !isPerm {
			// Not about one permission: the installation is suspended.
			pl.diags = append(pl.diags, &hcl.Diagnostic{
				Severity: sev,
				Summary:  fmt.Sprintf("GitHub App installation on %s cannot mint tokens", inst.Account),
				Detail:   fmt.Sprintf("%s, so apply would fail for %s. Ask an owner of %s to unsuspend the App's installation.", line, repo.Value, inst.Account),
				Subject:  repo.Range.Ptr(),
			})
			continue
		}
		have := inst.Permissions[name]
		if have == "" {
			have = "none"
		}
		want := entry.Value.Value
		pl.diags = append(pl.diags, &hcl.Diagnostic{
			Severity: sev,
			Summary:  fmt.Sprintf("GitHub App installation cannot grant %s: %s", name, want),
			Detail: fmt.Sprintf("The App's installation on %s (id %d) holds %s: %s, and a token can be narrowed from it, never widened: apply would fail with 422. Ask an owner of %s to grant the App %s: %s (App settings → Permissions, then accept the new permissions on the installation), or ask for less here.",
				inst.Account, inst.ID, name, have, inst.Account, name, want),
			Subject: entry.Value.Range.Ptr(),
		})
	}
}

// appPermissions warns, once per installation, when an installation of the
// GitHub App that a spec's repository uses grants a permission no handoff
// may ever hold: one policy forbids (administration, secrets, workflows,
// any organization-, enterprise- or account-wide permission) or the admin
// level (H1). A warning, not an error: every token is narrowed at mint time
// to one repository and its spec's permissions, so no handoff token carries
// them; but the App is the outer bound of every token, and whoever holds
// its private key (the apply job) can mint them.
func (pl *planner) appPermissions() {
	if !pl.live.InstallationsKnown {
		return
	}
	users := map[int64][]*spec.Handoff{}
	for _, h := range pl.repo.Handoffs {
		if h.GitHub == nil || !h.GitHub.Repository.Valid() {
			continue
		}
		owner, _, ok := strings.Cut(h.GitHub.Repository.Value, "/")
		if !ok || owner == "" {
			continue
		}
		if inst, found := pl.live.Installation(owner); found {
			users[inst.ID] = append(users[inst.ID], h)
		}
	}
	for _, inst := range pl.live.Installations {
		hs := users[inst.ID]
		if len(hs) == 0 || !pl.once(fmt.Sprintf("app-permissions\x00%d", inst.ID)) {
			continue
		}
		grants, why := forbiddenGrants(inst.Permissions)
		if len(grants) == 0 {
			continue
		}
		sort.Slice(hs, func(i, j int) bool { return hs[i].Slug.Value < hs[j].Slug.Value })
		slugs := make([]string, len(hs))
		for i, h := range hs {
			slugs[i] = h.Slug.Value
		}
		detail := fmt.Sprintf("The GitHub App's installation on %s (id %d), which %s %s, can grant %s. No handoff may ever hold these (H1): %s. "+
			"handoff still narrows every token to one repository and its spec's permissions, so no handoff token carries them; but the App is the outer bound of every token, and whoever holds its private key (the apply job) can mint them. "+
			"Narrow the App's permissions in its settings (Settings → Developer settings → GitHub Apps → the App → Permissions & events: set these to \"No access\"), then have an owner of %s accept the change on the installation.",
			inst.Account, inst.ID, strings.Join(slugs, ", "), plural(len(slugs), "uses", "use"), strings.Join(grants, ", "), strings.Join(why, "; "), inst.Account)
		pl.diags = append(pl.diags, &hcl.Diagnostic{
			Severity: hcl.DiagWarning,
			Summary: fmt.Sprintf("GitHub App installation on %s (id %d) grants what no handoff may hold (%s): narrow the App's permissions in its settings",
				inst.Account, inst.ID, strings.Join(grants, ", ")),
			Detail:  detail,
			Subject: hs[0].GitHub.Repository.Range.Ptr(),
		})
	}
}

// provisionerPermissions are organization permissions the App itself
// needs, not its tokens: the contract's administration of the
// organization's fine-grained PATs (package github's ListPATs and
// RevokePAT). Policy forbids them in every spec, so no handoff token is
// ever narrowed to them; they are not reported.
var provisionerPermissions = map[string]bool{
	"organization_personal_access_tokens":         true,
	"organization_personal_access_token_requests": true,
}

// forbiddenGrants are the installation's permissions that no handoff may
// hold, as "name: level" sorted by name, and why each is forbidden.
func forbiddenGrants(perms map[string]string) (grants, why []string) {
	names := make([]string, 0, len(perms))
	for name := range perms {
		if !provisionerPermissions[name] {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		level := perms[name]
		reason, bad := policy.ForbiddenGitHubPermission(name)
		switch {
		case bad:
		case level == policy.LevelAdmin:
			reason = "the admin level is never granted"
		default:
			continue
		}
		grants = append(grants, name+": "+level)
		why = append(why, name+": "+reason)
	}
	return grants, why
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func installedOn(l *state.Live) string {
	if len(l.Installations) == 0 {
		return "no account"
	}
	names := make([]string, len(l.Installations))
	for i, in := range l.Installations {
		names[i] = in.Account
	}
	return strings.Join(names, ", ")
}

// surfaceRange is the header of the surface's block in the spec.
func surfaceRange(h *spec.Handoff, surface string) (hcl.Range, bool) {
	if h == nil {
		return hcl.Range{}, false
	}
	switch surface {
	case spec.SurfaceGitHub:
		if h.GitHub != nil {
			return h.GitHub.DefRange, true
		}
	case spec.SurfaceInfisical:
		if h.Infisical != nil {
			return h.Infisical.DefRange, true
		}
	case spec.SurfaceMCP:
		if h.MCP != nil {
			return h.MCP.DefRange, true
		}
	case spec.SurfaceStripe:
		if h.Stripe != nil {
			return h.Stripe.DefRange, true
		}
	case spec.SurfaceCloudflare:
		if h.Cloudflare != nil {
			return h.Cloudflare.DefRange, true
		}
	case spec.SurfaceAWS:
		if h.AWS != nil {
			return h.AWS.DefRange, true
		}
	case spec.SurfaceHeroku:
		if h.Heroku != nil {
			return h.Heroku.DefRange, true
		}
	case spec.SurfaceAppleIAP:
		if h.AppleIAP != nil {
			return h.AppleIAP.DefRange, true
		}
	case spec.SurfaceAlpaca:
		if h.Alpaca != nil {
			return h.Alpaca.DefRange, true
		}
	}
	return h.DefRange, true
}
