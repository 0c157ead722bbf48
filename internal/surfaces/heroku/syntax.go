package heroku

import (
	"slices"

	"github.com/hashicorp/hcl/v2"

	"github.com/raxx-app/handoff/internal/spec"
)

// Name is the surface's block name.
const Name = "heroku"

// Block is the heroku block of a handoff: an OAuth authorization of the
// dedicated handoff account with Scope, for the task on App, living TTL
// (the handoff's ttl unless the block says less).
type Block struct {
	DefRange hcl.Range       // the block header
	App      spec.String     // the app the task works on
	Scope    spec.StringList // Heroku OAuth scopes
	// TTL is the authorization's life: the block's ttl, else the handoff's
	// (its range is then the block header).
	TTL spec.Duration
}

// Range is the block header.
func (b *Block) Range() hcl.Range { return b.DefRange }

// Canonical is the block's part of the handoff's digest. Its shape is the
// one this block had before the surface could mint (package pending):
// digests of existing specs do not change.
func (b *Block) Canonical() any {
	return struct {
		App   string   `json:"app"`
		Scope []string `json:"scope"`
		TTL   string   `json:"ttl"`
	}{b.App.Value, b.Scope.Strings(), spec.CanonicalDuration(b.TTL)}
}

// Scopes are the block's scopes without repeats, in the spec's order: what
// is minted.
func (b *Block) Scopes() []string {
	var out []string
	for _, s := range b.Scope.Strings() {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// Of returns the heroku block of h, nil when it has none.
func Of(h *spec.Handoff) *Block {
	if h == nil {
		return nil
	}
	b, _ := h.Block(Name)
	x, _ := b.(*Block)
	return x
}

// PolicyBlock is what the surface reads of a policy block.
type PolicyBlock struct {
	// Apps are the Heroku apps handoffs may work on (heroku_apps); invalid
	// when not written.
	Apps spec.StringList
}

// Range is the allowlist's range.
func (p *PolicyBlock) Range() hcl.Range { return p.Apps.Range }

// AttrAllowlist is the policy attribute listing the apps handoffs may use.
const AttrAllowlist = "heroku_apps"

var (
	blockSyntax = &spec.BlockSyntax{
		Type: Name,
		Name: "A heroku block in a handoff",
		Attrs: []spec.AttrSyntax{
			{Name: "app", Required: true, Example: `app = "moosequest-staging"`},
			{Name: "scope", Required: true, Example: `scope = ["read"]`},
			{Name: "ttl", Example: `ttl = "8h"`},
		},
	}
	policyAttrs = []spec.AttrSyntax{
		{Name: AttrAllowlist, Example: `heroku_apps = ["moosequest-staging"]`},
	}
)

// Syntax is the surface's part of the spec language.
func (s *Surface) Syntax() spec.SurfaceSyntax {
	return spec.SurfaceSyntax{
		Spec: blockSyntax,
		Decode: func(b *spec.Body, h *spec.Handoff) spec.Block {
			return &Block{DefRange: b.DefRange(), App: b.String("app", ""), Scope: b.List("scope"), TTL: b.Duration("ttl", ttlDefault(h))}
		},
		Policy: policyAttrs,
		DecodePolicy: func(b *spec.Body) spec.Block {
			return &PolicyBlock{Apps: b.List(AttrAllowlist)}
		},
	}
}

// ttlDefault is the handoff's ttl as written, when it parsed: the block's
// ttl when it has none.
func ttlDefault(h *spec.Handoff) string {
	if h != nil && h.TTL.Valid() {
		return h.TTL.Raw
	}
	return ""
}
