package infisical

import (
	"github.com/hashicorp/hcl/v2"

	"github.com/raxx-app/handoff/internal/spec"
)

// Name is the surface's block name.
const Name = "infisical"

// Block is the infisical block of a handoff: vault paths the handoff's
// machine identity may read. Environment is invalid when omitted, in which
// case the environment of handoff.hcl applies. Read paths are absolute; a
// `*` may end the last segment.
type Block struct {
	DefRange    hcl.Range       // the block header
	Environment spec.String     // environment slug; invalid when omitted
	Read        spec.StringList // absolute vault paths, a final '*' allowed
}

// Range is the block header.
func (b *Block) Range() hcl.Range { return b.DefRange }

// Canonical is the block's part of the handoff's digest.
func (b *Block) Canonical() any {
	return struct {
		Environment string   `json:"environment"`
		Read        []string `json:"read"`
	}{b.Environment.Value, b.Read.Strings()}
}

// Of returns the infisical block of h, nil when it has none.
func Of(h *spec.Handoff) *Block {
	b, _ := h.Block(Name)
	x, _ := b.(*Block)
	return x
}

// PolicyBlock is what the surface reads of a policy block.
type PolicyBlock struct {
	// Roots are vault folders a handoff may read besides its own.
	Roots spec.StringList
	// Environments are the environment slugs a handoff's read paths may be
	// in. Unset, only the environment of handoff.hcl's vault block.
	Environments spec.StringList
}

// Range is the roots' range.
func (p *PolicyBlock) Range() hcl.Range { return p.Roots.Range }

var (
	blockSyntax = &spec.BlockSyntax{
		Type: Name,
		Name: "An infisical block in a handoff",
		Attrs: []spec.AttrSyntax{
			{Name: "environment", Example: `environment = "staging"`},
			{Name: "read", Required: true, Example: `read = ["/MooseQuest/queue/staging/APPLE_IAP_*"]`},
		},
	}
	policyAttrs = []spec.AttrSyntax{
		{Name: "vault_read_roots", Example: `vault_read_roots = ["/MooseQuest/queue/staging"]`},
		{Name: "vault_read_environments", Example: `vault_read_environments = ["staging"]`},
	}
)

// Syntax is the surface's part of the spec language.
func (s *Surface) Syntax() spec.SurfaceSyntax {
	return spec.SurfaceSyntax{
		Spec: blockSyntax,
		Decode: func(b *spec.Body, _ *spec.Handoff) spec.Block {
			return &Block{DefRange: b.DefRange(), Environment: b.String("environment", ""), Read: b.List("read")}
		},
		Policy: policyAttrs,
		DecodePolicy: func(b *spec.Body) spec.Block {
			return &PolicyBlock{Roots: b.List("vault_read_roots"), Environments: b.List("vault_read_environments")}
		},
	}
}
