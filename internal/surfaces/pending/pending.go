// Package pending holds the surfaces the spec language knows but this
// build cannot yet provision: cloudflare, aws and heroku. Their blocks
// parse and pass policy (so a spec can be written and reviewed), and plan
// refuses them with "no provider for surface …" (surface.Unprovisionable)
// until their packages mint them.
package pending

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/policy"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/surface"
)

// Grant attributes.
const (
	AttrZones            = "zones"
	AttrPermissionGroups = "permission_groups"
	AttrTTL              = "ttl"
	AttrRoleARN          = "role_arn"
	AttrSessionPolicy    = "session_policy"
	AttrDuration         = "duration"
	AttrApp              = "app"
	AttrScope            = "scope"
)

// AWS session bounds.
const (
	MaxAWSSession = time.Hour
	MinAWSSession = 15 * time.Minute
)

// Block is a pending surface's block: its attributes by name.
type Block struct {
	DefRange hcl.Range
	Strings  map[string]spec.String
	Lists    map[string]spec.StringList
	Durs     map[string]spec.Duration
	canon    func(*Block) any
}

// Range is the block header.
func (b *Block) Range() hcl.Range { return b.DefRange }

// Canonical is the block's part of the digest.
func (b *Block) Canonical() any { return b.canon(b) }

// Surface is a surface the language knows and this build cannot provision.
type Surface struct {
	name    string
	syntax  *spec.BlockSyntax
	decode  func(b *spec.Body, h *spec.Handoff) *Block
	check   func(c *surface.Check, h *spec.Handoff, b *Block)
	desired func(t surface.Target, b *Block) *plan.Grant
	res     func(g *plan.Grant) string
	attrs   map[string]surface.AttrKind
	// settings names what Check checks, for the plan's record.
	settings string
}

// Unprovisionable says why the surface cannot be provisioned.
func (s *Surface) Unprovisionable() string {
	return fmt.Sprintf("no provider for surface %s in this build", s.name)
}

// Name is the block name.
func (s *Surface) Name() string { return s.name }

// Syntax is the block.
func (s *Surface) Syntax() spec.SurfaceSyntax {
	return spec.SurfaceSyntax{Spec: s.syntax, Decode: func(b *spec.Body, h *spec.Handoff) spec.Block { return s.decode(b, h) }}
}

// Check applies the block's rules.
func (s *Surface) Check(c *surface.Check, h *spec.Handoff, b spec.Block) {
	if blk, ok := b.(*Block); ok {
		s.check(c, h, blk)
	}
}

func (s *Surface) of(h *spec.Handoff) *Block {
	b, _ := h.Block(s.name)
	x, _ := b.(*Block)
	return x
}

// Desired is the spec's grant.
func (s *Surface) Desired(t surface.Target) *plan.Grant {
	if b := s.of(t.Spec); b != nil {
		return s.desired(t, b)
	}
	return nil
}

// Recorded reads a generic record (attributes as recorded).
func (s *Surface) Recorded(rec surface.Record, m *manifest.Manifest) *plan.Grant {
	var meta map[string]any
	if len(rec) == 0 || json.Unmarshal(rec, &meta) != nil {
		return nil
	}
	g := &plan.Grant{Attributes: map[string]string{}, ExpiresAt: m.ExpiresAt}
	for k := range s.attrs {
		switch v := meta[k].(type) {
		case string:
			g.Attributes[k] = v
		case []any:
			parts := make([]string, len(v))
			for i, e := range v {
				parts[i] = fmt.Sprint(e)
			}
			g.Attributes[k] = strings.Join(parts, ", ")
		}
	}
	if t, err := time.Parse(time.RFC3339, fmt.Sprint(meta["expires_at"])); err == nil {
		g.ExpiresAt = t
	}
	return g
}

// Resource names the credential.
func (s *Surface) Resource(_ string, g *plan.Grant) string { return s.res(g) }

// Secrets: none known.
func (s *Surface) Secrets(surface.Record) []string { return nil }

// Attrs says how the grant's attributes compare.
func (s *Surface) Attrs() map[string]surface.AttrKind { return s.attrs }

// Steps: none.
func (s *Surface) Steps(surface.Op, *surface.Request, surface.Record) []surface.Step { return nil }

// Create refuses: no provider.
func (s *Surface) Create(context.Context, *surface.Request) (surface.Result, error) {
	return surface.Result{}, fmt.Errorf("%s: the plan should have refused it", s.Unprovisionable())
}

// Refresh refuses: no provider.
func (s *Surface) Refresh(ctx context.Context, req *surface.Request, _ surface.Record) (surface.Result, error) {
	return s.Create(ctx, req)
}

// Revoke refuses: the credential must be revoked by hand.
func (s *Surface) Revoke(context.Context, *surface.Request, surface.Record) error {
	return fmt.Errorf("%s: its credential cannot be revoked here; revoke it by hand with the vendor", s.Unprovisionable())
}

// Verify: nothing to verify.
func (s *Surface) Verify(context.Context, *surface.Request, surface.Record) []surface.Violation {
	return []surface.Violation{{Surface: s.name, Message: "no provider in this build to verify it"}}
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func fmtDur(d time.Duration) string {
	s := d.Round(time.Minute).String()
	s = strings.TrimSuffix(s, "0s")
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func ttlAttr(t surface.Target, g *plan.Grant, d spec.Duration, attr string) {
	if d.Valid() {
		g.Attributes[attr] = fmtDur(d.Value)
		g.ExpiresAt = earliest(t.ExpiresAt, t.Now.Add(d.Value))
	}
}

var (
	zoneRE      = regexp.MustCompile(`^(?:[a-f0-9]{32}|(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})$`)
	roleARNRE   = regexp.MustCompile(`^arn:aws(?:-[a-z]+)*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$`)
	herokuAppRE = regexp.MustCompile(`^[a-z][a-z0-9-]{2,29}$`)
	herokuScope = []string{"identity", "read", "write", "read-protected", "write-protected"}
)

// Cloudflare is the cloudflare block: an API token limited to zones and
// permission groups.
func Cloudflare() *Surface {
	return &Surface{
		name: "cloudflare", settings: "zones",
		syntax: &spec.BlockSyntax{Type: "cloudflare", Name: "A cloudflare block in a handoff", Attrs: []spec.AttrSyntax{
			{Name: "zones", Required: true, Example: `zones = ["example.com"]`},
			{Name: "permission_groups", Required: true, Example: `permission_groups = ["DNS Write"]`},
			{Name: "ttl", Example: `ttl = "1h"`},
		}},
		decode: func(b *spec.Body, h *spec.Handoff) *Block {
			return &Block{DefRange: b.DefRange(),
				Lists: map[string]spec.StringList{"zones": b.List("zones"), "permission_groups": b.List("permission_groups")},
				Durs:  map[string]spec.Duration{"ttl": b.Duration("ttl", ttlDefault(h))},
				canon: func(b *Block) any {
					return struct {
						Zones            []string `json:"zones"`
						PermissionGroups []string `json:"permission_groups"`
						TTL              string   `json:"ttl"`
					}{b.Lists["zones"].Strings(), b.Lists["permission_groups"].Strings(), spec.CanonicalDuration(b.Durs["ttl"])}
				}}
		},
		check: func(c *surface.Check, h *spec.Handoff, b *Block) {
			policy.NonEmptyList(c, b.Lists["zones"], "cloudflare", "zones", `zones = ["example.com"]`)
			for _, z := range b.Lists["zones"].Values {
				if policy.NonBlank(z) && !zoneRE.MatchString(z.Value) {
					c.Errorf(z.Range, "Invalid Cloudflare zone",
						"%q is neither a zone name nor a zone id. Name each zone, such as \"example.com\"; wildcards are not allowed (H1).", z.Value)
				}
			}
			policy.NonEmptyList(c, b.Lists["permission_groups"], "cloudflare", "permission_groups", `permission_groups = ["DNS Write"]`)
			for _, g := range b.Lists["permission_groups"].Values {
				if strings.Contains(g.Value, "*") {
					c.Errorf(g.Range, "Wildcard Cloudflare permission group",
						"%q is not a permission group. Name each group the task needs, such as \"DNS Write\" (H1).", g.Value)
				}
			}
			policy.SurfaceTTL(c, h, b.Durs["ttl"], "cloudflare", "ttl")
		},
		desired: func(t surface.Target, b *Block) *plan.Grant {
			g := &plan.Grant{Attributes: map[string]string{
				AttrZones:            strings.Join(b.Lists["zones"].Strings(), ", "),
				AttrPermissionGroups: strings.Join(b.Lists["permission_groups"].Strings(), ", "),
			}, ExpiresAt: t.ExpiresAt}
			ttlAttr(t, g, b.Durs["ttl"], AttrTTL)
			return g
		},
		res: func(g *plan.Grant) string {
			if g != nil && g.Attributes[AttrZones] != "" {
				return "API token for " + g.Attributes[AttrZones]
			}
			return "API token"
		},
		attrs: map[string]surface.AttrKind{
			AttrZones: {List: true, Noun: "zone"}, AttrPermissionGroups: {List: true, Noun: "permission group"}, AttrTTL: {Duration: true},
		},
	}
}

// AWS is the aws block: STS AssumeRole with an inline session policy.
func AWS() *Surface {
	return &Surface{
		name: "aws", settings: "role ARN and session policy",
		syntax: &spec.BlockSyntax{Type: "aws", Name: "An aws block in a handoff", Attrs: []spec.AttrSyntax{
			{Name: "role_arn", Required: true, Example: `role_arn = "arn:aws:iam::123456789012:role/handoff-deploy"`},
			{Name: "session_policy", Required: true, Example: `session_policy = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::my-bucket/*\"}]}"`},
			{Name: "duration", Example: `duration = "1h"`},
		}},
		decode: func(b *spec.Body, _ *spec.Handoff) *Block {
			return &Block{DefRange: b.DefRange(),
				Strings: map[string]spec.String{"role_arn": b.String("role_arn", ""), "session_policy": b.String("session_policy", "")},
				Durs:    map[string]spec.Duration{"duration": b.Duration("duration", "1h")},
				canon: func(b *Block) any {
					return struct {
						RoleARN       string `json:"role_arn"`
						SessionPolicy string `json:"session_policy"`
						Duration      string `json:"duration"`
					}{b.Strings["role_arn"].Value, b.Strings["session_policy"].Value, spec.CanonicalDuration(b.Durs["duration"])}
				}}
		},
		check: func(c *surface.Check, h *spec.Handoff, b *Block) {
			if r := b.Strings["role_arn"]; r.Valid() && !roleARNRE.MatchString(r.Value) {
				c.Errorf(r.Range, "Invalid AWS role ARN",
					"role_arn is %q; write an IAM role ARN, such as \"arn:aws:iam::123456789012:role/handoff-deploy\".", r.Value)
			}
			if sp := b.Strings["session_policy"]; sp.Valid() {
				if sum, det := sessionPolicyProblem(sp.Value); sum != "" {
					c.Errorf(sp.Range, sum, "%s", det)
				}
			}
			if d := b.Durs["duration"]; d.Valid() {
				switch {
				case d.Value > MaxAWSSession:
					c.Errorf(d.Range, "AWS session longer than 1h",
						"duration is %s; an AWS session lasts at most %s (H3), and scheduled applies refresh it. Write duration = \"1h\" or less.",
						d.Raw, policy.FormatDuration(MaxAWSSession))
				case d.Value > 0 && d.Value < MinAWSSession:
					c.Errorf(d.Range, "AWS session shorter than 15m",
						"duration is %s; AWS STS refuses sessions under %s. Write duration = \"15m\" or more.", d.Raw, policy.FormatDuration(MinAWSSession))
				default:
					policy.SurfaceTTL(c, h, d, "aws", "duration")
				}
			}
		},
		desired: func(t surface.Target, b *Block) *plan.Grant {
			g := &plan.Grant{Attributes: map[string]string{
				AttrRoleARN: b.Strings["role_arn"].Value, AttrSessionPolicy: b.Strings["session_policy"].Value,
			}, ExpiresAt: t.ExpiresAt}
			ttlAttr(t, g, b.Durs["duration"], AttrDuration)
			return g
		},
		res: func(g *plan.Grant) string {
			if g != nil && g.Attributes[AttrRoleARN] != "" {
				return "STS session of " + g.Attributes[AttrRoleARN]
			}
			return "STS session"
		},
		attrs: map[string]surface.AttrKind{
			AttrRoleARN: {}, AttrSessionPolicy: {Opaque: true}, AttrDuration: {Duration: true},
		},
	}
}

// Heroku is the heroku block: an OAuth authorization.
func Heroku() *Surface {
	return &Surface{
		name: "heroku", settings: "Heroku scopes",
		syntax: &spec.BlockSyntax{Type: "heroku", Name: "A heroku block in a handoff", Attrs: []spec.AttrSyntax{
			{Name: "app", Required: true, Example: `app = "moosequest-staging"`},
			{Name: "scope", Required: true, Example: `scope = ["read"]`},
			{Name: "ttl", Example: `ttl = "8h"`},
		}},
		decode: func(b *spec.Body, h *spec.Handoff) *Block {
			return &Block{DefRange: b.DefRange(),
				Strings: map[string]spec.String{"app": b.String("app", "")},
				Lists:   map[string]spec.StringList{"scope": b.List("scope")},
				Durs:    map[string]spec.Duration{"ttl": b.Duration("ttl", ttlDefault(h))},
				canon: func(b *Block) any {
					return struct {
						App   string   `json:"app"`
						Scope []string `json:"scope"`
						TTL   string   `json:"ttl"`
					}{b.Strings["app"].Value, b.Lists["scope"].Strings(), spec.CanonicalDuration(b.Durs["ttl"])}
				}}
		},
		check: func(c *surface.Check, h *spec.Handoff, b *Block) {
			if a := b.Strings["app"]; a.Valid() && !herokuAppRE.MatchString(a.Value) {
				c.Errorf(a.Range, "Invalid Heroku app name",
					"app is %q; write the app's name as Heroku shows it: 3 to 30 lower-case letters, digits and hyphens, starting with a letter.", a.Value)
			}
			policy.NonEmptyList(c, b.Lists["scope"], "heroku", "scope", `scope = ["read"]`)
			for _, s := range b.Lists["scope"].Values {
				switch {
				case s.Value == "global":
					c.Errorf(s.Range, "Forbidden Heroku scope \"global\"",
						"The global scope acts on every app of the account (H1). Use \"read\" or \"write\" (or their -protected variants) instead.")
				case policy.NonBlank(s) && !slices.Contains(herokuScope, s.Value):
					c.Errorf(s.Range, fmt.Sprintf("Unknown Heroku scope %q", s.Value),
						"Heroku OAuth scopes are %s. Use one of them.", strings.Join(herokuScope, ", "))
				}
			}
			policy.SurfaceTTL(c, h, b.Durs["ttl"], "heroku", "ttl")
		},
		desired: func(t surface.Target, b *Block) *plan.Grant {
			g := &plan.Grant{Attributes: map[string]string{
				AttrApp: b.Strings["app"].Value, AttrScope: strings.Join(b.Lists["scope"].Strings(), ", "),
			}, ExpiresAt: t.ExpiresAt}
			ttlAttr(t, g, b.Durs["ttl"], AttrTTL)
			return g
		},
		res: func(g *plan.Grant) string {
			if g != nil && g.Attributes[AttrApp] != "" {
				return "OAuth authorization on " + g.Attributes[AttrApp]
			}
			return "OAuth authorization"
		},
		attrs: map[string]surface.AttrKind{AttrApp: {}, AttrScope: {List: true, Noun: "scope"}, AttrTTL: {Duration: true}},
	}
}

func ttlDefault(h *spec.Handoff) string {
	if h.TTL.Valid() {
		return h.TTL.Raw
	}
	return ""
}

// sessionPolicyProblem checks that an inline session policy is a JSON IAM
// policy without blanket grants.
func sessionPolicyProblem(src string) (summary, detail string) {
	var doc struct {
		Version   string          `json:"Version"`
		Statement json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal([]byte(src), &doc); err != nil {
		return "Invalid AWS session policy", fmt.Sprintf("session_policy is not a JSON policy document (%v). Write it as a JSON string with Version and Statement.", err)
	}
	type statement struct {
		Effect    string          `json:"Effect"`
		Action    json.RawMessage `json:"Action"`
		NotAction json.RawMessage `json:"NotAction"`
	}
	var stmts []statement
	if err := json.Unmarshal(doc.Statement, &stmts); err != nil {
		var one statement
		if err := json.Unmarshal(doc.Statement, &one); err != nil || len(doc.Statement) == 0 {
			return "Invalid AWS session policy", "session_policy needs a Statement (an object or a list of objects) with Effect and Action. Add one."
		}
		stmts = []statement{one}
	}
	for _, s := range stmts {
		if s.Effect != "Allow" {
			continue
		}
		if len(s.NotAction) > 0 {
			return "Blanket AWS session policy", "An Allow statement with NotAction grants every action but a few (H1). List the actions the task needs under Action."
		}
		var actions []string
		if err := json.Unmarshal(s.Action, &actions); err != nil {
			var one string
			if json.Unmarshal(s.Action, &one) == nil {
				actions = []string{one}
			}
		}
		for _, a := range actions {
			if a == "*" || strings.HasSuffix(a, ":*") {
				return "Blanket AWS session policy", fmt.Sprintf("Action %q grants every action of a service (H1). List the actions the task needs, such as \"s3:GetObject\".", a)
			}
		}
	}
	return "", ""
}

// Checks name the settings the surface checks, for the plan's record.
func (s *Surface) Checks() surface.Checks { return surface.Checks{Settings: s.settings} }
