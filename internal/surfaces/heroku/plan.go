package heroku

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/policy"
	hk "github.com/raxx-app/handoff/internal/provider/heroku"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/state"
	"github.com/raxx-app/handoff/internal/surface"
)

// SecretName is the vault secret holding the token: HEROKU_API_KEY, the
// variable Heroku's CLI and client libraries read.
const SecretName = hk.EnvAPIKey

// EnvApp is the session variable naming the handoff's app (not a secret).
const EnvApp = "HEROKU_APP"

// Grant attributes.
const (
	AttrApp   = "app"
	AttrScope = "scope"
	AttrTTL   = "ttl"
	// AttrReach lists the apps the token reaches: every app of the
	// handoff account, as the live state read them.
	AttrReach = "reach"
)

// DescriptionPrefix starts the description of every authorization handoff
// mints; Description is the whole of it.
const DescriptionPrefix = "handoff "

// Description is the deterministic description of the authorizations of
// the handoff slug ("handoff <slug>"): what finds them again after a crash.
func Description(slug string) string { return DescriptionPrefix + slug }

// Desired is the grant of the spec's heroku block: a token of the handoff
// account for its app with its scopes, until t.ExpiresAt or the block's
// ttl from t.Now, whichever is first, reaching the apps the live state
// shows the account reaches (when it was read).
func (s *Surface) Desired(t surface.Target) *plan.Grant {
	b := Of(t.Spec)
	if b == nil {
		return nil
	}
	g := &plan.Grant{Attributes: map[string]string{
		AttrApp:   b.App.Value,
		AttrScope: strings.Join(b.Scopes(), ", "),
	}, ExpiresAt: t.ExpiresAt}
	if d := b.TTL; d.Valid() {
		g.Attributes[AttrTTL] = fmtDur(d.Value)
		if end := t.Now.Add(d.Value); g.ExpiresAt.IsZero() || end.Before(g.ExpiresAt) {
			g.ExpiresAt = end
		}
	}
	if l := LiveOf(t.Live); l != nil && len(l.Reach) > 0 {
		g.Attributes[AttrReach] = strings.Join(l.Reach, ", ")
	}
	return g
}

// Recorded is the grant of the recorded authorization.
func (s *Surface) Recorded(rec surface.Record, m *manifest.Manifest) *plan.Grant {
	r := Decode(rec)
	if r == nil {
		return nil
	}
	g := &plan.Grant{Attributes: map[string]string{AttrApp: r.App, AttrScope: strings.Join(r.Scope, ", ")}, ExpiresAt: r.ExpiresAt}
	if r.TTL != "" {
		g.Attributes[AttrTTL] = r.TTL
	}
	if len(r.Reach) > 0 {
		g.Attributes[AttrReach] = strings.Join(r.Reach, ", ")
	}
	if g.ExpiresAt.IsZero() && m != nil {
		g.ExpiresAt = m.ExpiresAt
	}
	return g
}

// Resource names the authorization.
func (s *Surface) Resource(_ string, g *plan.Grant) string {
	if g != nil && g.Attributes[AttrApp] != "" {
		return "OAuth authorization on " + g.Attributes[AttrApp]
	}
	return "OAuth authorization"
}

// Secrets is the token's secret (HEROKU_API_KEY, or what rec names).
func (s *Surface) Secrets(rec surface.Record) []string { return []string{Decode(rec).secretName()} }

// SecretPrefixes: the surface's secrets start with HEROKU_.
func (s *Surface) SecretPrefixes() []string { return []string{"HEROKU_"} }

// Attrs says how the grant's attributes compare: another app is an
// escalation, so is a new scope or a new app in reach, and a longer ttl.
func (s *Surface) Attrs() map[string]surface.AttrKind {
	return map[string]surface.AttrKind{
		AttrApp:   {},
		AttrScope: {List: true, Noun: "scope"},
		AttrTTL:   {Duration: true},
		AttrReach: {List: true, Noun: "app in reach"},
	}
}

// Expiry is the token's. It is minted again ahead of expiry when it ends
// before the handoff (a ttl shorter than the handoff's), else once expired.
func (s *Surface) Expiry(rec surface.Record) (time.Time, string, bool) {
	r := Decode(rec)
	if r == nil {
		return time.Time{}, "", false
	}
	return r.ExpiresAt, "token", r.RefreshEarly
}

var _ surface.Stamped = (*Surface)(nil)

// Stamps are the token's mint and expiry, for the dispatch gate.
func (s *Surface) Stamps(rec surface.Record) surface.Stamps {
	st := surface.Stamps{MintedField: "minted_at", ExpiresField: "expires_at"}
	if r := Decode(rec); r != nil {
		st.Minted, st.Expires = r.MintedAt, r.ExpiresAt
	}
	return st
}

// Title names the surface's credential in messages.
func (s *Surface) Title() string { return "Heroku token" }

// Live is the surface's live state, read once per plan with the handoff
// account's API key: the apps the account reaches (what every token it
// mints reaches) and its OAuth authorizations.
type Live struct {
	// Reach are the names of the apps GET /apps lists, sorted.
	Reach []string
	// Authorizations are the account's OAuth authorizations (no token),
	// oldest first.
	Authorizations []hk.Authorization
	// unread marks the state of a surface built without a Heroku client
	// (a registry for parsing, or tests of other surfaces): nothing was
	// read, LiveOf says so, and nothing is concluded from it.
	unread bool
}

// NewLive sorts what was read into the surface's live state.
func NewLive(apps []hk.App, auths []hk.Authorization) *Live {
	l := &Live{Authorizations: slices.Clone(auths)}
	for _, a := range apps {
		l.Reach = append(l.Reach, a.Name)
	}
	sort.Strings(l.Reach)
	l.Reach = slices.Compact(l.Reach)
	return l
}

// FingerprintLines cover the reach and every authorization's id,
// description and scope (not its remaining life, which Heroku counts down).
func (l *Live) FingerprintLines() []string {
	if l.unread {
		return nil
	}
	out := make([]string, 0, len(l.Reach)+len(l.Authorizations))
	for _, a := range l.Reach {
		out = append(out, "app\t"+a)
	}
	for _, a := range l.Authorizations {
		out = append(out, fmt.Sprintf("authorization\t%s\t%q\t%s", a.ID, a.Description, strings.Join(a.Scope, ",")))
	}
	return out
}

// Problems: none (what is wrong with the reach is the plan's to say, per
// handoff).
func (l *Live) Problems() []string { return nil }

// Of returns the authorizations described for slug, oldest first.
func (l *Live) Of(slug string) []hk.Authorization {
	if l == nil {
		return nil
	}
	var out []hk.Authorization
	for _, a := range l.Authorizations {
		if a.Description == Description(slug) {
			out = append(out, a)
		}
	}
	return out
}

// HasID reports whether an authorization with id is live.
func (l *Live) HasID(id string) bool {
	return slices.ContainsFunc(l.Authorizations, func(a hk.Authorization) bool { return a.ID == id })
}

// Reaches reports whether app is in the reach.
func (l *Live) Reaches(app string) bool { return slices.Contains(l.Reach, app) }

// LiveOf returns what a state read of the surface, nil when it was not
// read.
func LiveOf(live *state.Live) *Live {
	sl, _ := live.Surface(Name)
	l, _ := sl.(*Live)
	if l == nil || l.unread {
		return nil
	}
	return l
}

// ReadLive lists, with the handoff account's API key, the apps it reaches
// and its OAuth authorizations: two listings per plan (each paged by
// 1,000), never one per handoff. A surface built without a client reads
// nothing (LiveOf is then nil, and the plan refuses to mint a Heroku
// token); a client that cannot be built (no API key) is an error.
func (s *Surface) ReadLive(ctx context.Context) (state.SurfaceLive, error) {
	if s.Client == nil {
		return &Live{unread: true}, nil
	}
	c, err := s.client()
	if err != nil {
		return nil, err
	}
	apps, err := c.Apps(ctx)
	if err != nil {
		return nil, err
	}
	auths, err := c.Authorizations(ctx)
	if err != nil {
		return nil, err
	}
	return NewLive(apps, auths), nil
}

// Vanished reports an authorization the record names that the account no
// longer has (revoked out of band): the plan replaces it.
func (s *Surface) Vanished(rec surface.Record, live *state.Live) (string, bool) {
	r := Decode(rec)
	l := LiveOf(live)
	if r == nil || l == nil || r.AuthorizationID == "" || l.HasID(r.AuthorizationID) {
		return "", false
	}
	return fmt.Sprintf("OAuth authorization %s (%q) revoked out of band", r.AuthorizationID, r.Description), true
}

// Leftovers are the authorizations described for slug.
func (s *Surface) Leftovers(slug string, live *state.Live) []surface.Leftover {
	var out []surface.Leftover
	for _, a := range LiveOf(live).Of(slug) {
		out = append(out, surface.Leftover{ID: a.ID, Name: fmt.Sprintf("%q", a.Description), Kind: "OAuth authorization"})
	}
	return out
}

// CheckPlan checks, against the account's reach, every token the plan
// mints (errors, which stop apply) and every token kept (warnings): the
// reach must stay within the spec's app and the policy's heroku_apps (a
// Heroku token reaches every app of its account, not one), and must
// include the spec's app.
func (s *Surface) CheckPlan(in surface.PlanInput) hcl.Diagnostics {
	pc := &planCheck{live: LiveOf(in.Live), policy: effectivePolicy(in), reported: map[string]bool{}}
	for _, u := range in.Uses {
		switch u.Change.Action {
		case plan.Create, plan.Replace, plan.Refresh:
			pc.reach(u.Spec, true)
		case plan.NoOp:
			if u.Active {
				pc.reach(u.Spec, false)
			}
		}
	}
	return pc.diags
}

// effectivePolicy is the surface's effective policy for the repository of
// in (the default policy's when in has no handoff.hcl).
func effectivePolicy(in surface.PlanInput) *Policy {
	p, _ := policy.Effective(in.Config)
	if hp, ok := p.Surface(Name).(*Policy); ok {
		return hp
	}
	return &Policy{}
}

type planCheck struct {
	live     *Live
	policy   *Policy
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

// reach checks one handoff's use. minting says a token is about to be
// minted (errors); otherwise a live token is kept (warnings: it reaches
// them already, and verify reports it).
func (pc *planCheck) reach(h *spec.Handoff, minting bool) {
	b := Of(h)
	if b == nil || !b.App.Valid() || !IsAppName(b.App.Value) {
		return // policy reports it
	}
	slug := h.Slug.Value
	sev := hcl.DiagError
	if !minting {
		sev = hcl.DiagWarning
	}
	subject := b.App.Range.Ptr()
	if pc.live == nil {
		if minting && pc.once("unknown\x00"+slug) {
			pc.diags = append(pc.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Heroku reach not read",
				Detail: fmt.Sprintf("The live state was read without the Heroku account's apps, so the reach of the token handoff %q would get (every app of the account) is unknown, and handoff mints no Heroku token it has not checked. Export %s with the API key of the dedicated handoff account and plan again.",
					slug, hk.EnvAPIKey),
				Subject: subject,
			})
		}
		return
	}
	var extra []string
	for _, a := range pc.live.Reach {
		if a != b.App.Value && !pc.policy.Allows(a) {
			extra = append(extra, a)
		}
	}
	if len(extra) > 0 && pc.once("reach\x00"+slug) {
		what := "would reach"
		if !minting {
			what = "reaches"
		}
		pc.diags = append(pc.diags, &hcl.Diagnostic{
			Severity: sev,
			Summary:  fmt.Sprintf("Heroku token of %s %s apps beyond the policy: %s", slug, what, strings.Join(extra, ", ")),
			Detail: fmt.Sprintf("Heroku cannot limit a token to one app: a token reaches every app its account reaches. The handoff account reaches %s; %s %s neither this handoff's app %q nor in heroku_apps (%s). "+
				"Take the handoff account's access to %s away (on a team, make the account a collaborator of the allowed apps only, not a member or admin; on a personal app, remove it from the app's collaborators), or, if handoffs may work on them, add them to heroku_apps through a reviewed change. %s",
				strings.Join(pc.live.Reach, ", "), strings.Join(extra, ", "), isAre(len(extra)), b.App.Value, pc.allowlistAt(),
				them(len(extra)), pc.consequence(minting, slug)),
			Subject: subject,
		})
	}
	if !pc.live.Reaches(b.App.Value) && pc.once("app\x00"+slug) {
		pc.diags = append(pc.diags, &hcl.Diagnostic{
			Severity: sev,
			Summary:  fmt.Sprintf("Heroku app %s is beyond the handoff account's reach", b.App.Value),
			Detail: fmt.Sprintf("The handoff account reaches %s, not %q, so the token of handoff %q could not act on it. Give the handoff account access to %s (team app permissions: view and deploy for config vars), or correct the app name.",
				orNothing(pc.live.Reach), b.App.Value, slug, b.App.Value),
			Subject: subject,
		})
	}
}

func (pc *planCheck) allowlistAt() string {
	if !pc.policy.Apps.Valid() {
		return "unset"
	}
	return "at " + spec.RangeString(pc.policy.Apps.Range)
}

func (pc *planCheck) consequence(minting bool, slug string) string {
	if minting {
		return "Nothing is minted for " + slug + " until then."
	}
	return "The live token of " + slug + " reaches them now: fix the account's access, or revoke it (handoff revoke " + slug + ")."
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

func them(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

func orNothing(l []string) string {
	if len(l) == 0 {
		return "no app"
	}
	return strings.Join(l, ", ")
}

func fmtDur(d time.Duration) string {
	s := d.Round(time.Minute).String()
	s = strings.TrimSuffix(s, "0s")
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
