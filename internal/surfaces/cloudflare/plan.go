package cloudflare

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
	cf "github.com/raxx-app/handoff/internal/provider/cloudflare"
	"github.com/raxx-app/handoff/internal/state"
	"github.com/raxx-app/handoff/internal/surface"
)

// SecretName is the vault secret holding the token, and the variable that
// `handoff env` and `handoff exec` give the agent (the name Cloudflare's
// own tools, wrangler and terraform read).
const SecretName = "CLOUDFLARE_API_TOKEN"

// Grant attributes.
const (
	AttrZones            = "zones"
	AttrPermissionGroups = "permission_groups"
	AttrTTL              = "ttl"
	// AttrRequestIP is the token's IP allowlist, ", "-joined, or AnyIP.
	AttrRequestIP = "request_ip"
)

// AnyIP is the request_ip attribute of a token without an IP allowlist:
// written out, so that dropping an allowlist shows as a change.
const AnyIP = "any"

// MaxTokenLife bounds every token's life, whatever the handoff's (H3).
const MaxTokenLife = 24 * time.Hour

// TokenQuota is how many user API tokens Cloudflare lets a user hold.
const TokenQuota = 50

// TokenPrefix starts the name of every token handoff mints:
// "handoff-<slug>". Only tokens so named are handoff's.
const TokenPrefix = "handoff-"

// TokenName is the name of the token of handoff slug: how a token minted
// by a run that crashed before writing it to the vault is found again.
func TokenName(slug string) string { return TokenPrefix + slug }

// Desired is the grant of the spec's cloudflare block: a token for its
// zones with its permission groups, until t.ExpiresAt or, sooner, the end
// of the block's ttl, in whole seconds (what Cloudflare keeps).
func (s *Surface) Desired(t surface.Target) *plan.Grant {
	b := Of(t.Spec)
	if b == nil {
		return nil
	}
	g := &plan.Grant{Attributes: map[string]string{
		AttrZones:            strings.Join(b.Zones.Strings(), ", "),
		AttrPermissionGroups: strings.Join(b.PermissionGroups.Strings(), ", "),
		AttrRequestIP:        requestIPAttr(b.RequestIP.Strings()),
	}}
	var ttl time.Duration
	if b.TTL.Valid() {
		g.Attributes[AttrTTL] = fmtDur(b.TTL.Value)
		ttl = b.TTL.Value
	}
	g.ExpiresAt = tokenExpiry(t.Now, t.ExpiresAt, ttl)
	return g
}

// tokenExpiry is when a token minted at now ends: the handoff's expiry,
// or sooner the end of ttl (when positive), never past MaxTokenLife, in
// whole seconds.
func tokenExpiry(now, handoffExpires time.Time, ttl time.Duration) time.Time {
	exp := handoffExpires
	if ttl > 0 && (exp.IsZero() || now.Add(ttl).Before(exp)) {
		exp = now.Add(ttl)
	}
	if limit := now.Add(MaxTokenLife); exp.IsZero() || exp.After(limit) {
		exp = limit
	}
	return exp.UTC().Truncate(time.Second)
}

func requestIPAttr(cidrs []string) string {
	if len(cidrs) == 0 {
		return AnyIP
	}
	return strings.Join(cidrs, ", ")
}

// fmtDur writes a duration as specs do: "1h", "90m" as "1h30m".
func fmtDur(d time.Duration) string {
	return policy.FormatDuration(d.Round(time.Second))
}

// Recorded is the grant of the recorded token.
func (s *Surface) Recorded(rec surface.Record, m *manifest.Manifest) *plan.Grant {
	r := Decode(rec)
	if r == nil {
		return nil
	}
	g := &plan.Grant{Attributes: map[string]string{
		AttrZones:            strings.Join(r.Zones, ", "),
		AttrPermissionGroups: strings.Join(r.PermissionGroups, ", "),
		AttrRequestIP:        requestIPAttr(r.RequestIP),
	}, ExpiresAt: r.TokenExpiresAt}
	if r.TTL != "" {
		if d, err := time.ParseDuration(r.TTL); err == nil {
			g.Attributes[AttrTTL] = fmtDur(d)
		}
	}
	if g.ExpiresAt.IsZero() && m != nil {
		g.ExpiresAt = m.ExpiresAt
	}
	return g
}

// Resource names the token.
func (s *Surface) Resource(slug string, g *plan.Grant) string {
	out := "API token " + TokenName(slug)
	if g != nil && g.Attributes[AttrZones] != "" {
		out += " for " + g.Attributes[AttrZones]
	}
	return out
}

// Secrets is the token's secret (CLOUDFLARE_API_TOKEN, or what rec names).
func (s *Surface) Secrets(rec surface.Record) []string {
	return []string{Decode(rec).secretName()}
}

// Attrs: a new zone or permission group is an escalation, a longer ttl
// too, and any change of the IP allowlist (wider or gone).
func (s *Surface) Attrs() map[string]surface.AttrKind {
	return map[string]surface.AttrKind{
		AttrZones:            {List: true, Noun: "zone"},
		AttrPermissionGroups: {List: true, Noun: "permission group"},
		AttrTTL:              {Duration: true},
		AttrRequestIP:        {Opaque: true},
	}
}

// Expiry is the token's. A token whose ttl ends it before the handoff is
// minted again ahead of its expiry, within the plan's refresh window; one
// that ends with the handoff only if it expired (it never does before the
// handoff is revoked).
func (s *Surface) Expiry(rec surface.Record) (time.Time, string, bool) {
	r := Decode(rec)
	if r == nil {
		return time.Time{}, "", false
	}
	early := !r.HandoffExpiresAt.IsZero() && r.TokenExpiresAt.Before(r.HandoffExpiresAt.Add(-time.Minute))
	return r.TokenExpiresAt, "token", early
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
func (s *Surface) Title() string { return "Cloudflare API token" }

// Live is the surface's live state, read once per plan: the user's API
// tokens (the provisioner's own left out), the zones the provisioner token
// sees and the permission-group catalogue.
type Live struct {
	// SelfID is the provisioner token's id.
	SelfID string
	// Tokens are the user's tokens but the provisioner's, by name then id.
	Tokens []cf.Token
	// Total counts every token of the user, the provisioner's included,
	// against TokenQuota.
	Total int
	// Zones are the zones the provisioner token sees, by name.
	Zones  []cf.Zone
	Groups cf.PermissionGroups
}

// NewLive sorts what a read found into the surface's live state.
func NewLive(selfID string, tokens []cf.Token, zones []cf.Zone, groups cf.PermissionGroups) *Live {
	l := &Live{SelfID: selfID, Total: len(tokens), Groups: groups}
	for _, t := range tokens {
		if t.ID != selfID {
			l.Tokens = append(l.Tokens, t)
		}
	}
	sort.SliceStable(l.Tokens, func(i, j int) bool {
		if l.Tokens[i].Name != l.Tokens[j].Name {
			return l.Tokens[i].Name < l.Tokens[j].Name
		}
		return l.Tokens[i].ID < l.Tokens[j].ID
	})
	l.Zones = slices.Clone(zones)
	sort.SliceStable(l.Zones, func(i, j int) bool { return l.Zones[i].Name < l.Zones[j].Name })
	return l
}

// FingerprintLines cover the provisioner's id, the number of the user's
// tokens, every token named like a handoff's (id, name, expiry), every
// zone seen and every permission group. Tokens' status and last use are
// left out: they change without a plan depending on them.
func (l *Live) FingerprintLines() []string {
	out := []string{"self\t" + l.SelfID, fmt.Sprintf("tokens\t%d", l.Total)}
	for _, t := range l.Tokens {
		if strings.HasPrefix(t.Name, TokenPrefix) {
			out = append(out, fmt.Sprintf("token\t%s\t%s\t%s", t.ID, t.Name, fmtTime(t.ExpiresOn)))
		}
	}
	for _, z := range l.Zones {
		out = append(out, fmt.Sprintf("zone\t%s\t%s\t%s\t%s", z.ID, NormalizeZone(z.Name), z.Status, z.AccountID))
	}
	for _, g := range l.Groups {
		out = append(out, fmt.Sprintf("group\t%s\t%s\t%s", g.ID, g.Name, strings.Join(g.Scopes, ",")))
	}
	return out
}

// Problems: none.
func (l *Live) Problems() []string { return nil }

// Named returns the tokens named for slug, by id.
func (l *Live) Named(slug string) []cf.Token {
	if l == nil {
		return nil
	}
	var out []cf.Token
	for _, t := range l.Tokens {
		if t.Name == TokenName(slug) {
			out = append(out, t)
		}
	}
	return out
}

// Token returns the live token with id.
func (l *Live) Token(id string) (cf.Token, bool) {
	for _, t := range l.Tokens {
		if t.ID == id {
			return t, true
		}
	}
	return cf.Token{}, false
}

// Zone finds a zone by name (case-insensitively, without a final dot) or
// by id.
func (l *Live) Zone(nameOrID string) (cf.Zone, bool) {
	n := NormalizeZone(nameOrID)
	for _, z := range l.Zones {
		if NormalizeZone(z.Name) == n || z.ID == n {
			return z, true
		}
	}
	return cf.Zone{}, false
}

// LiveOf returns what a state read of the surface, nil when it was not
// read.
func LiveOf(live *state.Live) *Live {
	sl, _ := live.Surface(Name)
	l, _ := sl.(*Live)
	return l
}

// ReadLive reads, once per plan, the provisioner token's id (GET
// /user/tokens/verify), the user's tokens (GET /user/tokens, 50 a page),
// the permission-group catalogue and the zones the provisioner sees (GET
// /zones, 50 a page).
func (s *Surface) ReadLive(ctx context.Context) (state.SurfaceLive, error) {
	c, err := s.client()
	if err != nil {
		return nil, err
	}
	self, err := c.Self(ctx)
	if err != nil {
		return nil, err
	}
	tokens, err := c.Tokens(ctx)
	if err != nil {
		return nil, err
	}
	groups, err := c.PermissionGroups(ctx)
	if err != nil {
		return nil, err
	}
	zones, err := c.Zones(ctx)
	if err != nil {
		return nil, err
	}
	return NewLive(self.ID, tokens, zones, groups), nil
}

// Leftovers are the tokens named for slug.
func (s *Surface) Leftovers(slug string, live *state.Live) []surface.Leftover {
	var out []surface.Leftover
	for _, t := range LiveOf(live).Named(slug) {
		out = append(out, surface.Leftover{ID: t.ID, Name: t.Name, Kind: "API token"})
	}
	return out
}

// Vanished reports a recorded token the live state no longer has (deleted
// out of band): the plan replaces it. A disabled token is not replaced:
// that may be an operator's kill in the dashboard (Verify reports it).
func (s *Surface) Vanished(rec surface.Record, live *state.Live) (string, bool) {
	r := Decode(rec)
	l := LiveOf(live)
	if r == nil || l == nil || r.TokenID == "" {
		return "", false
	}
	if _, ok := l.Token(r.TokenID); ok {
		return "", false
	}
	return fmt.Sprintf("API token %s (%s) deleted out of band", r.TokenName, r.TokenID), true
}

// CheckPlan checks, against what the live state read, that every token the
// plan mints can be minted (errors) and that every token kept can be minted
// again (warnings): each zone exists and the provisioner sees it, each
// permission group is in Cloudflare's catalogue and applies to zones; and
// that the tokens created fit the user's quota.
func (s *Surface) CheckPlan(in surface.PlanInput) hcl.Diagnostics {
	pc := &planCheck{live: LiveOf(in.Live), reported: map[string]bool{}}
	creates := 0
	var firstCreate *Block
	for _, u := range in.Uses {
		b := Of(u.Spec)
		switch u.Change.Action {
		case plan.Create, plan.Replace, plan.Refresh:
			pc.block(b, true)
			if u.Change.Action == plan.Create && b != nil {
				creates++
				if firstCreate == nil {
					firstCreate = b
				}
			}
		case plan.NoOp:
			if u.Active {
				pc.block(b, false)
			}
		}
	}
	if pc.live != nil && creates > 0 && pc.live.Total+creates > TokenQuota {
		pc.diags = append(pc.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Cloudflare's quota of API tokens would be exceeded",
			Detail: fmt.Sprintf("Cloudflare lets a user hold %d API tokens. The provisioner token's user holds %d, and this plan creates %d more. Delete the user's unused tokens (My Profile → API Tokens), or apply fewer Cloudflare handoffs at once.",
				TokenQuota, pc.live.Total, creates),
			Subject: firstCreate.DefRange.Ptr(),
		})
	}
	return pc.diags
}

type planCheck struct {
	live     *Live
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

func (pc *planCheck) add(sev hcl.DiagnosticSeverity, rng hcl.Range, summary, detail string) {
	pc.diags = append(pc.diags, &hcl.Diagnostic{Severity: sev, Summary: summary, Detail: detail, Subject: rng.Ptr()})
}

// block checks one spec's zones and groups. minting says a token is about
// to be minted (errors); otherwise a live token is kept and a problem is a
// warning (the next refresh would fail).
func (pc *planCheck) block(b *Block, minting bool) {
	if b == nil {
		return
	}
	sev := hcl.DiagError
	if !minting {
		sev = hcl.DiagWarning
	}
	if pc.live == nil {
		if pc.once("unread") {
			pc.add(hcl.DiagWarning, b.DefRange, "Cloudflare not read",
				"The live state was read without Cloudflare's tokens, zones and permission groups, so whether the zones and groups the specs ask for exist is not checked before apply. Set CLOUDFLARE_API_TOKEN to the provisioner token.")
		}
		return
	}
	for _, z := range b.Zones.Values {
		if _, ok := pc.live.Zone(z.Value); ok || !policy.NonBlank(z) {
			continue
		}
		pc.add(sev, z.Range, fmt.Sprintf("Cloudflare zone %s not found", z.Value),
			fmt.Sprintf("The provisioner token sees %s, not %q: the zone does not exist in the user's accounts, or the provisioner token lacks Zone Read on it (handoff resolves zones with it). Give the provisioner token Zone Read on %s (My Profile → API Tokens → the token → Zone Resources), or fix the name.",
				pc.seen(), z.Value, z.Value))
	}
	for _, g := range b.PermissionGroups.Values {
		if !policy.NonBlank(g) {
			continue
		}
		if _, problem := zoneGroup(pc.live.Groups, g.Value); problem != "" {
			pc.add(sev, g.Range, fmt.Sprintf("Cloudflare permission group %q cannot be granted", g.Value), problem)
		}
	}
}

func (pc *planCheck) seen() string {
	if len(pc.live.Zones) == 0 {
		return "no zone"
	}
	names := make([]string, len(pc.live.Zones))
	for i, z := range pc.live.Zones {
		names[i] = z.Name
	}
	return strings.Join(names, ", ")
}

// zoneGroup finds the zone-scoped permission group named name (exactly, as
// Cloudflare matches names) in the catalogue, or says why it cannot be
// granted to a handoff: unknown (with the catalogue's spelling when close),
// of another scope (a handoff's token reaches its zones only), or
// forbidden.
func zoneGroup(groups cf.PermissionGroups, name string) (cf.PermissionGroup, string) {
	if why, bad := ForbiddenGroup(name); bad {
		return cf.PermissionGroup{}, fmt.Sprintf("No handoff may ever hold %q: %s (H1). Remove it.", name, why)
	}
	var other []string
	var zoneNames []string
	for _, g := range groups {
		if !slices.Contains(g.Scopes, cf.ScopeZone) {
			if g.Name == name {
				other = append(other, g.Scope())
			}
			continue
		}
		if g.Name == name {
			return g, ""
		}
		zoneNames = append(zoneNames, g.Name)
	}
	if len(other) > 0 {
		return cf.PermissionGroup{}, fmt.Sprintf("%q applies to %s, and a handoff's token reaches only its zones. Remove it, or ask for a zone permission group such as \"DNS Write\".",
			name, scopeWords(other[0]))
	}
	msg := fmt.Sprintf("Cloudflare's catalogue has no zone permission group named %q.", name)
	for _, n := range zoneNames {
		if strings.EqualFold(n, name) {
			return cf.PermissionGroup{}, msg + fmt.Sprintf(" Did you mean %q? Names are matched exactly.", n)
		}
	}
	if s := policy.Suggest(name, zoneNames); s != "" {
		msg += fmt.Sprintf(" Did you mean %q?", s)
	}
	return cf.PermissionGroup{}, msg + " Fix or remove it."
}

func scopeWords(scope string) string {
	switch scope {
	case cf.ScopeAccount:
		return "whole accounts"
	case cf.ScopeUser:
		return "the user"
	}
	return "scope " + scope
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

// Ensure the capabilities are kept.
var (
	_ state.LiveReader    = (*Surface)(nil)
	_ surface.Leftovers   = (*Surface)(nil)
	_ surface.PlanChecker = (*Surface)(nil)
	_ surface.Expiring    = (*Surface)(nil)
	_ surface.Vanishing   = (*Surface)(nil)
	_ surface.Attributed  = (*Surface)(nil)
	_ surface.Policer     = (*Surface)(nil)
	_ surface.Described   = (*Surface)(nil)
	_ surface.Titled      = (*Surface)(nil)
)
