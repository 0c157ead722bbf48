package github

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/policy"
	gh "github.com/raxx-app/handoff/internal/provider/github"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/state"
	"github.com/raxx-app/handoff/internal/surface"
)

// SecretName is the vault secret holding the token.
const SecretName = "GH_HANDOFF_TOKEN"

// TokenLife is the life GitHub gives an installation token.
const TokenLife = time.Hour

// Desired is the grant of the spec's github block: a token for its
// repository with its permissions, expiring an hour after t.Now (GitHub
// fixes the life; it is not bounded by the handoff's expiry).
func (s *Surface) Desired(t surface.Target) *plan.Grant {
	g := Of(t.Spec)
	if g == nil {
		return nil
	}
	return &plan.Grant{Repository: g.Repository.Value, Permissions: g.Permissions.Map(), ExpiresAt: t.Now.Add(TokenLife)}
}

// Recorded is the grant of the recorded token.
func (s *Surface) Recorded(rec surface.Record, _ *manifest.Manifest) *plan.Grant {
	r := Decode(rec)
	if r == nil {
		return nil
	}
	return &plan.Grant{Repository: r.Repository, Permissions: maps.Clone(r.Permissions), ExpiresAt: r.TokenExpiresAt}
}

// Resource names the token.
func (s *Surface) Resource(_ string, g *plan.Grant) string {
	if g != nil && g.Repository != "" {
		return "installation token for " + g.Repository
	}
	return "installation token"
}

// Secrets is the token's secret (GH_HANDOFF_TOKEN, or what rec names).
func (s *Surface) Secrets(rec surface.Record) []string {
	return []string{Decode(rec).secretName()}
}

// SecretPrefixes: the surface's secrets start with GH_ or GITHUB_.
func (s *Surface) SecretPrefixes() []string { return []string{"GH_", "GITHUB_"} }

// Expiry is the token's, refreshed ahead of it within the refresh window.
func (s *Surface) Expiry(rec surface.Record) (time.Time, string, bool) {
	r := Decode(rec)
	if r == nil {
		return time.Time{}, "", false
	}
	return r.TokenExpiresAt, "token", true
}

// Life: GitHub fixes a token's life at TokenLife from its mint, whatever
// the handoff's expiry.
func (s *Surface) Life(rec surface.Record) (time.Time, time.Duration) {
	r := Decode(rec)
	if r == nil {
		return time.Time{}, TokenLife
	}
	return r.MintedAt, TokenLife
}

var _ surface.Stamped = (*Surface)(nil)

// Stamps are the token's mint and expiry, for the dispatch gate.
func (s *Surface) Stamps(rec surface.Record) surface.Stamps {
	st := surface.Stamps{MintedField: "minted_at", ExpiresField: "token_expires_at"}
	if r := Decode(rec); r != nil {
		st.Minted, st.Expires = r.MintedAt, r.TokenExpiresAt
	}
	return st
}

// Title names the surface's credential in messages.
func (s *Surface) Title() string { return "GitHub token" }

// Installations is the surface's live state: the App's installations,
// sorted by account (case-insensitively) then id.
type Installations struct {
	List []gh.Installation
}

// FingerprintLines cover every installation's id, account, repository
// selection, permissions and suspension.
func (l *Installations) FingerprintLines() []string {
	out := make([]string, 0, len(l.List))
	for _, in := range l.List {
		perms := make([]string, 0, len(in.Permissions))
		for k, v := range in.Permissions {
			perms = append(perms, k+"="+v)
		}
		sort.Strings(perms)
		suspended := ""
		if in.Suspended() {
			suspended = in.SuspendedAt.UTC().Format(time.RFC3339)
		}
		out = append(out, fmt.Sprintf("installation\t%d\t%s\t%s\t%s\t%s", in.ID, strings.ToLower(in.Account), in.RepositorySelection,
			strings.Join(perms, ","), suspended))
	}
	return out
}

// Problems: none.
func (l *Installations) Problems() []string { return nil }

// Find returns the installation on account (a GitHub login, compared
// case-insensitively as GitHub does).
func (l *Installations) Find(account string) (gh.Installation, bool) {
	for _, in := range l.List {
		if strings.EqualFold(in.Account, account) {
			return in, true
		}
	}
	return gh.Installation{}, false
}

// NewInstallations sorts list into the surface's live state.
func NewInstallations(list []gh.Installation) *Installations {
	l := &Installations{List: append([]gh.Installation(nil), list...)}
	sort.SliceStable(l.List, func(i, j int) bool {
		a, b := strings.ToLower(l.List[i].Account), strings.ToLower(l.List[j].Account)
		if a != b {
			return a < b
		}
		return l.List[i].ID < l.List[j].ID
	})
	return l
}

// LiveOf returns the installations a state read, nil when they were not
// read.
func LiveOf(live *state.Live) *Installations {
	sl, _ := live.Surface(Name)
	l, _ := sl.(*Installations)
	return l
}

// ReadLive lists the App's installations: one listing per plan.
func (s *Surface) ReadLive(ctx context.Context) (state.SurfaceLive, error) {
	c, err := s.client()
	if err != nil {
		return nil, err
	}
	list, err := c.Installations(ctx)
	if err != nil {
		return nil, err
	}
	return NewInstallations(list), nil
}

// CheckPlan checks, against the App's installations, that every token the
// plan mints can be minted (an installation on the repository's owner that
// can grant the permissions: errors), that every token kept can be
// refreshed (warnings), and warns once per installation a spec uses that
// grants what no handoff may hold (H1).
func (s *Surface) CheckPlan(in surface.PlanInput) hcl.Diagnostics {
	ck := &planCheck{live: LiveOf(in.Live), reported: map[string]bool{}}
	for _, u := range in.Uses {
		switch u.Change.Action {
		case plan.Create, plan.Replace, plan.Refresh:
			ck.installation(u.Spec, true)
		case plan.NoOp:
			if u.Active {
				ck.installation(u.Spec, false)
			}
		}
	}
	ck.appPermissions(in.Specs)
	return ck.diags
}

type planCheck struct {
	live     *Installations
	diags    hcl.Diagnostics
	reported map[string]bool
}

func (pc *planCheck) once(key string) bool {
	if pc.reported[key] {
		return false
	}
	pc.reported[key] = true
	return true
}

// installation checks that the App is installed on the owner of the spec's
// repository and can grant what the spec asks. minting says a token is
// about to be minted (errors); otherwise a live token is kept and a
// problem is a warning (the next refresh will fail).
func (pc *planCheck) installation(h *spec.Handoff, minting bool) {
	g := Of(h)
	if g == nil {
		return
	}
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
	if pc.live == nil {
		if pc.once("installations-unknown") {
			pc.diags = append(pc.diags, &hcl.Diagnostic{
				Severity: hcl.DiagWarning,
				Summary:  "GitHub installations not read",
				Detail:   "The live state was read without the GitHub App's installations, so whether the App can mint the tokens the specs ask for is not checked before apply. Configure the github block of handoff.hcl and the App's private key.",
				Subject:  repo.Range.Ptr(),
			})
		}
		return
	}
	inst, found := pc.live.Find(owner)
	if !found {
		if !pc.once("installation\x00" + strings.ToLower(owner) + "\x00" + h.Slug.Value) {
			return
		}
		pc.diags = append(pc.diags, &hcl.Diagnostic{
			Severity: sev,
			Summary:  fmt.Sprintf("No GitHub App installation for %s", owner),
			Detail: fmt.Sprintf("The GitHub App is installed on %s, not on %s, so no token for %s can be minted. Install the App on %s (settings → GitHub Apps → Configure), or change repository.",
				pc.installedOn(), owner, repo.Value, owner),
			Subject: repo.Range.Ptr(),
		})
		return
	}
	for _, line := range gh.CheckGrant(inst, g.Permissions.Map()) {
		name, _, _ := strings.Cut(line, ":")
		entry, isPerm := g.Permissions.Get(name)
		if !isPerm {
			// Not about one permission: the installation is suspended.
			pc.diags = append(pc.diags, &hcl.Diagnostic{
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
		pc.diags = append(pc.diags, &hcl.Diagnostic{
			Severity: sev,
			Summary:  fmt.Sprintf("GitHub App installation cannot grant %s: %s", name, want),
			Detail: fmt.Sprintf("The App's installation on %s (id %d) holds %s: %s, and a token can be narrowed from it, never widened: apply would fail with 422. Ask an owner of %s to grant the App %s: %s (App settings → Permissions, then accept the new permissions on the installation), or ask for less here.",
				inst.Account, inst.ID, name, have, inst.Account, name, want),
			Subject: entry.Value.Range.Ptr(),
		})
	}
}

func (pc *planCheck) installedOn() string {
	if len(pc.live.List) == 0 {
		return "no account"
	}
	names := make([]string, len(pc.live.List))
	for i, in := range pc.live.List {
		names[i] = in.Account
	}
	return strings.Join(names, ", ")
}

// appPermissions warns, once per installation, when an installation of the
// GitHub App that a spec's repository uses grants a permission no handoff
// may ever hold: one policy forbids (administration, secrets, workflows,
// any organization-, enterprise- or account-wide permission) or the admin
// level (H1). A warning, not an error: every token is narrowed at mint time
// to one repository and its spec's permissions, so no handoff token carries
// them; but the App is the outer bound of every token, and whoever holds
// its private key (the apply job) can mint them.
func (pc *planCheck) appPermissions(specs []*spec.Handoff) {
	if pc.live == nil {
		return
	}
	users := map[int64][]*spec.Handoff{}
	for _, h := range specs {
		g := Of(h)
		if g == nil || !g.Repository.Valid() {
			continue
		}
		owner, _, ok := strings.Cut(g.Repository.Value, "/")
		if !ok || owner == "" {
			continue
		}
		if inst, found := pc.live.Find(owner); found {
			users[inst.ID] = append(users[inst.ID], h)
		}
	}
	for _, inst := range pc.live.List {
		hs := users[inst.ID]
		if len(hs) == 0 || !pc.once(fmt.Sprintf("app-permissions\x00%d", inst.ID)) {
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
		uses := "uses"
		if len(slugs) != 1 {
			uses = "use"
		}
		detail := fmt.Sprintf("The GitHub App's installation on %s (id %d), which %s %s, can grant %s. No handoff may ever hold these (H1): %s. "+
			"handoff still narrows every token to one repository and its spec's permissions, so no handoff token carries them; but the App is the outer bound of every token, and whoever holds its private key (the apply job) can mint them. "+
			"Narrow the App's permissions in its settings (Settings → Developer settings → GitHub Apps → the App → Permissions & events: set these to \"No access\"), then have an owner of %s accept the change on the installation.",
			inst.Account, inst.ID, strings.Join(slugs, ", "), uses, strings.Join(grants, ", "), strings.Join(why, "; "), inst.Account)
		pc.diags = append(pc.diags, &hcl.Diagnostic{
			Severity: hcl.DiagWarning,
			Summary: fmt.Sprintf("GitHub App installation on %s (id %d) grants what no handoff may hold (%s): narrow the App's permissions in its settings",
				inst.Account, inst.ID, strings.Join(grants, ", ")),
			Detail:  detail,
			Subject: Of(hs[0]).Repository.Range.Ptr(),
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
		reason, bad := ForbiddenPermission(name)
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
