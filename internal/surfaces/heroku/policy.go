package heroku

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/raxx-app/handoff/internal/policy"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/surface"
)

// Heroku's OAuth scopes (Heroku Dev Center, "OAuth": scopes).
const (
	// ScopeGlobal is everything the account can do, as its API key: never
	// granted to a handoff (H1).
	ScopeGlobal = "global"
	// ScopeIdentity reads the account's own information.
	ScopeIdentity = "identity"
	// ScopeRead and ScopeWrite act on every app the account reaches,
	// without config vars.
	ScopeRead  = "read"
	ScopeWrite = "write"
	// ScopeReadProtected and ScopeWriteProtected do the same with config
	// vars (the apps' runtime secrets).
	ScopeReadProtected  = "read-protected"
	ScopeWriteProtected = "write-protected"
)

// Grantable are the scopes a handoff may ask for.
var Grantable = []string{ScopeIdentity, ScopeRead, ScopeWrite, ScopeReadProtected, ScopeWriteProtected}

// appNameRE is Heroku's app name (the hyper-schema's app name pattern): 3
// to 30 lower-case letters, digits and hyphens, starting with a letter and
// not ending with a hyphen.
var appNameRE = regexp.MustCompile(`^[a-z][a-z0-9-]{1,28}[a-z0-9]$`)

// IsAppName reports whether s is a Heroku app name.
func IsAppName(s string) bool { return appNameRE.MatchString(s) }

// Policy is the surface's effective policy.
type Policy struct {
	// Apps is the allowlist of Heroku apps (heroku_apps) without the
	// entries that are no app name. Its Range says where it is written
	// (handoff.hcl, or the default policy, which allows none).
	Apps spec.StringList
}

// Allows reports whether app is in the allowlist.
func (p *Policy) Allows(app string) bool {
	return p != nil && slices.Contains(p.Apps.Strings(), app)
}

// Policy merges the default policy's allowlist with handoff.hcl's (which
// replaces it when written) and drops the entries that are no app name.
func (s *Surface) Policy(def, override spec.Block, _ *spec.Config) (any, hcl.Diagnostics) {
	p := &Policy{}
	if d, ok := def.(*PolicyBlock); ok {
		p.Apps = d.Apps
	}
	if o, ok := override.(*PolicyBlock); ok && o.Apps.Valid() {
		p.Apps = o.Apps
	}
	c := &surface.Check{}
	kept := p.Apps.Values[:0:0]
	for _, a := range p.Apps.Values {
		if IsAppName(a.Value) {
			kept = append(kept, a)
			continue
		}
		c.Errorf(a.Range, "Invalid Heroku app in heroku_apps",
			"%q is not a Heroku app name: list each app by its name as Heroku shows it, such as %q; wildcards are not allowed (H1). Fix or remove it.",
			a.Value, "moosequest-staging")
	}
	p.Apps.Values = kept
	return p, c.Diagnostics()
}

// Check checks a handoff's heroku block: the app (a name, in the policy's
// allowlist), the scopes (known, never global) and the ttl (within the
// handoff's).
func (s *Surface) Check(c *surface.Check, h *spec.Handoff, b spec.Block) {
	blk, ok := b.(*Block)
	if !ok {
		return
	}
	p, _ := c.Policy.(*Policy)
	if p == nil {
		p = &Policy{}
	}
	if a := blk.App; a.Valid() {
		switch {
		case !IsAppName(a.Value):
			c.Errorf(a.Range, "Invalid Heroku app name",
				"app is %q; write the app's name as Heroku shows it (3 to 30 lower-case letters, digits and hyphens, starting with a letter), such as app = \"moosequest-staging\".", a.Value)
		case !p.Allows(a.Value):
			c.Errorf(a.Range, fmt.Sprintf("Heroku app %q is not allowed by the policy", a.Value), "%s", notAllowed(a.Value, p))
		}
	}
	policy.NonEmptyList(c, blk.Scope, Name, "scope", `scope = ["read"]`)
	for _, sc := range blk.Scope.Values {
		switch {
		case sc.Value == ScopeGlobal:
			c.Errorf(sc.Range, "Forbidden Heroku scope \"global\"",
				"The global scope acts on every app of the account (H1). Use \"read\" or \"write\" (or their -protected variants) instead.")
		case policy.NonBlank(sc) && !slices.Contains(Grantable, sc.Value):
			msg := fmt.Sprintf("Heroku OAuth scopes are %s.", strings.Join(Grantable, ", "))
			if sug := policy.Suggest(sc.Value, Grantable); sug != "" {
				msg += fmt.Sprintf(" Did you mean %q?", sug)
			}
			c.Errorf(sc.Range, fmt.Sprintf("Unknown Heroku scope %q", sc.Value),
				"%s Use the narrowest that serves the task, such as scope = [\"read\"] (read-protected to read config vars, write-protected to set them).", msg)
		}
	}
	policy.SurfaceTTL(c, h, blk.TTL, Name, "ttl")
}

// notAllowed says why app is refused and what to write instead.
func notAllowed(app string, p *Policy) string {
	where := fmt.Sprintf("heroku_apps at %s", spec.RangeString(p.Apps.Range))
	var have string
	switch {
	case !p.Apps.Valid():
		have = "no policy lists heroku_apps, so no Heroku app is allowed"
	case len(p.Apps.Values) == 0 && p.Apps.Range.Filename == policy.DefaultPolicyFile:
		have = fmt.Sprintf("the default policy (%s) allows no Heroku app until handoff.hcl lists some", where)
	case len(p.Apps.Values) == 0:
		have = fmt.Sprintf("%s is empty, so no Heroku app is allowed", where)
	default:
		quoted := make([]string, len(p.Apps.Values))
		for i, a := range p.Apps.Values {
			quoted[i] = fmt.Sprintf("%q", a.Value)
		}
		have = fmt.Sprintf("the policy allows only %s (%s)", strings.Join(quoted, ", "), where)
	}
	list := make([]string, 0, len(p.Apps.Values)+1)
	for _, a := range append(p.Apps.Strings(), app) {
		list = append(list, fmt.Sprintf("%q", a))
	}
	return fmt.Sprintf("A Heroku token reaches every app of the handoff account, so handoffs may work only on the apps the policy lists; %s. "+
		"Use an allowed app, or add it to the policy block of handoff.hcl through a reviewed change, such as heroku_apps = [%s], and give the handoff account access to it (and to nothing else).",
		have, strings.Join(list, ", "))
}

// Checks are the surface's rules, for the plan's record.
func (s *Surface) Checks() surface.Checks {
	return surface.Checks{
		Policy: []string{"Heroku app in the policy's heroku_apps; scopes known, never global"},
		Plan: []string{
			"the Heroku account's reach (every app its token would reach) within the spec's app and heroku_apps",
			"the spec's Heroku app within the account's reach",
		},
	}
}
