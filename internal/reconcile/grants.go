package reconcile

import (
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/state"
)

// Default names of the secrets apply writes in a handoff's folder.
const (
	SecretGitHubToken           = "GH_HANDOFF_TOKEN"
	SecretInfisicalClientID     = "INFISICAL_CLIENT_ID"
	SecretInfisicalClientSecret = "INFISICAL_CLIENT_SECRET"
)

// GitHubTokenLife is the life of a GitHub App installation token, fixed by
// GitHub.
const GitHubTokenLife = time.Hour

// surfaceOrder is the fixed order of surfaces in a plan (the spec
// language's), with the vault folder itself last.
var surfaceOrder = []string{
	spec.SurfaceGitHub, spec.SurfaceInfisical, spec.SurfaceMCP, spec.SurfaceStripe,
	spec.SurfaceCloudflare, spec.SurfaceAWS, spec.SurfaceHeroku, spec.SurfaceAppleIAP,
	spec.SurfaceAlpaca, SurfaceVault,
}

func surfaceRank(s string) int {
	for i, x := range surfaceOrder {
		if x == s {
			return i
		}
	}
	return len(surfaceOrder)
}

// Attribute keys of Grant.Attributes. Providers of the other surfaces
// should record the same keys (lists as JSON arrays) in their manifest
// entry, so that a later plan can compare grants and mark escalations.
const (
	AttrIdentity         = "identity"
	AttrAllow            = "allow"
	AttrExclude          = "exclude"
	AttrZones            = "zones"
	AttrPermissionGroups = "permission_groups"
	AttrTTL              = "ttl"
	AttrRoleARN          = "role_arn"
	AttrSessionPolicy    = "session_policy"
	AttrDuration         = "duration"
	AttrApp              = "app"
	AttrScope            = "scope"
	AttrBundleID         = "bundle_id"
)

// listAttrs are attributes holding lists, joined with ", ".
var listAttrs = map[string]bool{
	AttrAllow: true, AttrExclude: true, AttrZones: true, AttrPermissionGroups: true, AttrScope: true,
}

func joinList(l spec.StringList) string { return strings.Join(l.Strings(), ", ") }

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ", ")
}

// target is what a handoff is being planned against: the spec and where
// its folder lives.
type target struct {
	h       *spec.Handoff
	root    string // vault handoff root
	env     string // vault environment of handoff.hcl
	now     time.Time
	expires time.Time
}

// ownFolderGlob is the read path of a handoff's own folder.
func ownFolderGlob(root, slug string) string { return path.Join(root, slug) + "/**" }

// afterGrant is the grant the spec asks for on surface, as apply will mint
// it now.
func (t *target) afterGrant(surface string) *plan.Grant {
	h := t.h
	switch surface {
	case spec.SurfaceGitHub:
		return &plan.Grant{
			Repository:  h.GitHub.Repository.Value,
			Permissions: h.GitHub.Permissions.Map(),
			ExpiresAt:   t.now.Add(GitHubTokenLife),
		}
	case spec.SurfaceInfisical:
		env := t.env
		if h.Infisical.Environment.Valid() && h.Infisical.Environment.Value != "" {
			env = h.Infisical.Environment.Value
		}
		return &plan.Grant{
			Environment: env,
			ReadPaths:   append([]string{ownFolderGlob(t.root, h.Slug.Value)}, h.Infisical.Read.Strings()...),
			Attributes:  map[string]string{AttrIdentity: state.IdentityName(h.Slug.Value, t.now)},
			ExpiresAt:   t.expires,
		}
	case spec.SurfaceMCP:
		return &plan.Grant{Attributes: map[string]string{
			AttrAllow:   joinList(h.MCP.Allow),
			AttrExclude: joinList(h.MCP.Exclude),
		}}
	case spec.SurfaceStripe:
		return &plan.Grant{Mode: h.Stripe.Mode.Value, Permissions: h.Stripe.Permissions.Map(), ExpiresAt: t.expires}
	case spec.SurfaceCloudflare:
		g := &plan.Grant{Attributes: map[string]string{
			AttrZones:            joinList(h.Cloudflare.Zones),
			AttrPermissionGroups: joinList(h.Cloudflare.PermissionGroups),
		}, ExpiresAt: t.expires}
		if d := h.Cloudflare.TTL; d.Valid() {
			g.Attributes[AttrTTL] = fmtDur(d.Value)
			g.ExpiresAt = earliest(t.expires, t.now.Add(d.Value))
		}
		return g
	case spec.SurfaceAWS:
		g := &plan.Grant{Attributes: map[string]string{
			AttrRoleARN:       h.AWS.RoleARN.Value,
			AttrSessionPolicy: h.AWS.SessionPolicy.Value,
		}, ExpiresAt: t.expires}
		if d := h.AWS.Duration; d.Valid() {
			g.Attributes[AttrDuration] = fmtDur(d.Value)
			g.ExpiresAt = earliest(t.expires, t.now.Add(d.Value))
		}
		return g
	case spec.SurfaceHeroku:
		g := &plan.Grant{Attributes: map[string]string{
			AttrApp:   h.Heroku.App.Value,
			AttrScope: joinList(h.Heroku.Scope),
		}, ExpiresAt: t.expires}
		if d := h.Heroku.TTL; d.Valid() {
			g.Attributes[AttrTTL] = fmtDur(d.Value)
			g.ExpiresAt = earliest(t.expires, t.now.Add(d.Value))
		}
		return g
	case spec.SurfaceAppleIAP:
		return &plan.Grant{Environment: h.AppleIAP.Environment.Value,
			Attributes: map[string]string{AttrBundleID: h.AppleIAP.BundleID.Value}, ExpiresAt: t.expires}
	case spec.SurfaceAlpaca:
		return &plan.Grant{Mode: h.Alpaca.Mode.Value, ExpiresAt: t.expires}
	}
	return nil
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// resource names what a change mints or revokes on surface. g is the grant
// after (or before, for a revoke); it may be nil.
func resource(surface, slug string, g *plan.Grant) string {
	attr := func(k string) string {
		if g == nil {
			return ""
		}
		return g.Attributes[k]
	}
	switch surface {
	case spec.SurfaceGitHub:
		if g != nil && g.Repository != "" {
			return "installation token for " + g.Repository
		}
		return "installation token"
	case spec.SurfaceInfisical:
		if n := attr(AttrIdentity); n != "" {
			return "identity " + n
		}
		return "identity " + state.IdentityPrefix + slug + "-<date>"
	case spec.SurfaceMCP:
		return "MCP tool lists"
	case spec.SurfaceStripe:
		if g != nil && g.Mode != "" {
			return "restricted key (" + g.Mode + " mode)"
		}
		return "restricted key"
	case spec.SurfaceCloudflare:
		if z := attr(AttrZones); z != "" {
			return "API token for " + z
		}
		return "API token"
	case spec.SurfaceAWS:
		if r := attr(AttrRoleARN); r != "" {
			return "STS session of " + r
		}
		return "STS session"
	case spec.SurfaceHeroku:
		if a := attr(AttrApp); a != "" {
			return "OAuth authorization on " + a
		}
		return "OAuth authorization"
	case spec.SurfaceAppleIAP:
		if b := attr(AttrBundleID); b != "" {
			return "App Store Server API access for " + b
		}
		return "App Store Server API access"
	case spec.SurfaceAlpaca:
		if g != nil && g.Mode != "" {
			return "API key (" + g.Mode + ")"
		}
		return "API key"
	case SurfaceVault:
		return "vault folder"
	}
	return surface
}

// beforeGrant is what the manifest records for surface; nil when the
// manifest has no entry for it.
func beforeGrant(m *manifest.Manifest, surface string) *plan.Grant {
	s := m.Surfaces
	switch surface {
	case spec.SurfaceGitHub:
		if s.GitHub == nil {
			return nil
		}
		return &plan.Grant{
			Repository:  s.GitHub.Repository,
			Permissions: cloneMap(s.GitHub.Permissions),
			ExpiresAt:   s.GitHub.TokenExpiresAt,
		}
	case spec.SurfaceInfisical:
		if s.Infisical == nil {
			return nil
		}
		exp := m.ExpiresAt
		if !s.Infisical.ClientSecretExpiresAt.IsZero() {
			exp = s.Infisical.ClientSecretExpiresAt
		}
		return &plan.Grant{
			Environment: s.Infisical.Environment,
			ReadPaths:   append([]string(nil), s.Infisical.ReadPaths...),
			Attributes:  map[string]string{AttrIdentity: s.Infisical.IdentityName},
			ExpiresAt:   exp,
		}
	case spec.SurfaceMCP:
		if s.MCP == nil {
			return nil
		}
		return &plan.Grant{Attributes: map[string]string{
			AttrAllow:   strings.Join(s.MCP.Allow, ", "),
			AttrExclude: strings.Join(s.MCP.Exclude, ", "),
		}}
	}
	meta, ok := s.Other[surface]
	if !ok {
		return nil
	}
	return metaGrant(meta, m.ExpiresAt)
}

// metaGrant reads the grant of a provider-defined manifest entry: "mode",
// "environment", "permissions" (a map), "expires_at" (RFC 3339) and the
// attribute keys (Attr*) are understood; other keys (remote ids) are not
// part of a grant.
func metaGrant(meta manifest.Meta, handoffExpiry time.Time) *plan.Grant {
	g := &plan.Grant{Attributes: map[string]string{}, ExpiresAt: handoffExpiry}
	for k, v := range meta {
		switch k {
		case "mode":
			g.Mode = fmt.Sprint(v)
		case "environment":
			g.Environment = fmt.Sprint(v)
		case "permissions":
			if mm, ok := v.(map[string]any); ok {
				g.Permissions = map[string]string{}
				for pk, pv := range mm {
					g.Permissions[pk] = fmt.Sprint(pv)
				}
			}
		case "expires_at":
			if t, ok := metaTime(v); ok {
				g.ExpiresAt = t
			}
		case AttrZones, AttrPermissionGroups, AttrScope, AttrAllow, AttrExclude,
			AttrTTL, AttrRoleARN, AttrSessionPolicy, AttrDuration, AttrApp, AttrBundleID:
			g.Attributes[k] = metaString(v)
		}
	}
	if len(g.Attributes) == 0 {
		g.Attributes = nil
	}
	return g
}

func metaTime(v any) (time.Time, bool) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, s)
	return t, err == nil
}

func metaString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = fmt.Sprint(e)
		}
		return strings.Join(parts, ", ")
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// levelRank orders permission levels; a level includes those below.
var levelRank = map[string]int{"": 0, "none": 0, "read": 1, "write": 2, "admin": 3}

// liveModes are the modes and environments that act on real money or
// production data.
var liveModes = map[string]bool{spec.StripeLive: true, spec.AppleIAPProduction: true, "prod": true}

// deltas compares a grant before and after and returns the privilege
// escalations (what after may do that before could not, in the words of
// plan.GrantEscalations, plus those of surface attributes that only the
// planner can judge) and every other difference, each as a short phrase.
func deltas(before, after *plan.Grant) (escalations, others []string) {
	if before == nil || after == nil {
		return nil, nil
	}
	escalations = plan.GrantEscalations(before, after)
	esc := func(format string, args ...any) {
		e := fmt.Sprintf(format, args...)
		for _, x := range escalations {
			if x == e {
				return
			}
		}
		escalations = append(escalations, e)
	}
	oth := func(format string, args ...any) { others = append(others, fmt.Sprintf(format, args...)) }

	if after.Repository != "" && before.Repository != "" && !strings.EqualFold(after.Repository, before.Repository) {
		oth("drops repository %s", before.Repository)
	}
	for _, k := range sortedKeys(after.Permissions, before.Permissions) {
		a, b := after.Permissions[k], before.Permissions[k]
		switch {
		case a == b || b == "":
		case a == "":
			oth("drops permission %s: %s", k, b)
		case levelRank[a] < levelRank[b]:
			oth("%s: %s → %s", k, b, a)
		}
	}
	if after.Environment != before.Environment && after.Environment != "" && before.Environment != "" && !liveModes[after.Environment] {
		oth("environment: %s → %s", before.Environment, after.Environment)
	}
	if after.Mode != before.Mode && after.Mode != "" && before.Mode != "" && !liveModes[after.Mode] {
		oth("mode: %s → %s", before.Mode, after.Mode)
	}
	for _, p := range after.ReadPaths {
		if !coveredBy(p, before.ReadPaths) {
			esc("wider vault path %s", p)
		}
	}
	for _, p := range before.ReadPaths {
		if !coveredBy(p, after.ReadPaths) {
			oth("drops vault path %s", p)
		}
	}
	for _, k := range sortedKeys(after.Attributes, nil) {
		a := after.Attributes[k]
		b, known := before.Attributes[k]
		if !known || a == b {
			continue
		}
		switch {
		case k == AttrIdentity:
			oth("identity %s → %s", b, a)
		case k == AttrExclude:
			for _, x := range minus(splitList(b), splitList(a)) {
				esc("no longer excludes %s", x)
			}
			for _, x := range minus(splitList(a), splitList(b)) {
				oth("now excludes %s", x)
			}
		case listAttrs[k]:
			for _, x := range minus(splitList(a), splitList(b)) {
				esc("new %s %s", singular(k), x)
			}
			for _, x := range minus(splitList(b), splitList(a)) {
				oth("drops %s %s", singular(k), x)
			}
		case k == AttrTTL || k == AttrDuration:
			da, ea := time.ParseDuration(a)
			db, eb := time.ParseDuration(b)
			if ea == nil && eb == nil && da > db {
				esc("%s: %s → %s", k, b, a)
			} else {
				oth("%s: %s → %s", k, b, a)
			}
		case k == AttrSessionPolicy:
			esc("session policy changed")
		default:
			esc("%s: %s → %s", k, b, a)
		}
	}
	return escalations, others
}

func singular(attr string) string {
	switch attr {
	case AttrAllow:
		return "MCP tool"
	case AttrZones:
		return "zone"
	case AttrPermissionGroups:
		return "permission group"
	case AttrScope:
		return "scope"
	}
	return attr
}

func sortedKeys(a, b map[string]string) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range []map[string]string{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}

// minus returns the elements of a not in b, in a's order.
func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		found := false
		for _, y := range b {
			if x == y {
				found = true
				break
			}
		}
		if !found {
			out = append(out, x)
		}
	}
	return out
}

// coveredBy reports whether every secret that vault path p reaches is also
// reached by one of paths. A path ending in "/**" reaches its whole folder;
// a final "*" reaches names with that prefix in its folder.
func coveredBy(p string, paths []string) bool {
	for _, q := range paths {
		if covers(q, p) {
			return true
		}
	}
	return false
}

func covers(q, p string) bool {
	if q == p {
		return true
	}
	if base, ok := strings.CutSuffix(q, "/**"); ok {
		return p == base || strings.HasPrefix(p, base+"/")
	}
	if prefix, ok := strings.CutSuffix(q, "*"); ok {
		rest, ok := strings.CutPrefix(p, prefix)
		if !ok || strings.Contains(rest, "/") {
			return false
		}
		// p itself may end in "*": a narrower prefix in the same folder.
		return true
	}
	return false
}
