package cloudflare

import (
	"github.com/hashicorp/hcl/v2"

	"github.com/raxx-app/handoff/internal/spec"
)

// Name is the surface's block name.
const Name = "cloudflare"

// Block is the cloudflare block of a handoff: an API token limited to
// Zones and PermissionGroups, expiring after TTL (by default the handoff's
// ttl), usable only from RequestIP when set.
type Block struct {
	DefRange         hcl.Range
	Zones            spec.StringList
	PermissionGroups spec.StringList
	// TTL is the token's life; it defaults to the handoff's ttl, as
	// written.
	TTL spec.Duration
	// RequestIP is the token's IP allowlist (CIDRs); invalid when not
	// written (any address).
	RequestIP spec.StringList
}

// Range is the block header.
func (b *Block) Range() hcl.Range { return b.DefRange }

// Canonical is the block's part of the handoff's digest. request_ip is
// left out when unset, so that the digests of specs written before it
// existed do not change.
func (b *Block) Canonical() any {
	return struct {
		Zones            []string `json:"zones"`
		PermissionGroups []string `json:"permission_groups"`
		TTL              string   `json:"ttl"`
		RequestIP        []string `json:"request_ip,omitempty"`
	}{b.Zones.Strings(), b.PermissionGroups.Strings(), spec.CanonicalDuration(b.TTL), b.RequestIP.Strings()}
}

// Of returns the cloudflare block of h, nil when it has none.
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
	// PermissionGroups is the ceiling of permission groups any handoff's
	// token may hold; invalid when not written.
	PermissionGroups spec.StringList
	// Zones are the zones any handoff's token may reach; invalid when not
	// written.
	Zones spec.StringList
}

// Range is the ceiling's range.
func (p *PolicyBlock) Range() hcl.Range { return p.PermissionGroups.Range }

var (
	blockSyntax = &spec.BlockSyntax{
		Type: Name,
		Name: "A cloudflare block in a handoff",
		Attrs: []spec.AttrSyntax{
			{Name: "zones", Required: true, Example: `zones = ["example.com"]`},
			{Name: "permission_groups", Required: true, Example: `permission_groups = ["DNS Write"]`},
			{Name: "ttl", Example: `ttl = "1h"`},
			{Name: "request_ip", Example: `request_ip = ["192.0.2.0/24"]`},
		},
	}
	policyAttrs = []spec.AttrSyntax{
		{Name: "cloudflare_permission_groups", Example: `cloudflare_permission_groups = ["Zone Read", "DNS Read", "DNS Write", "Cache Purge"]`},
		{Name: "cloudflare_zones", Example: `cloudflare_zones = ["example.com"]`},
	}
)

// Syntax is the surface's part of the spec language.
func (s *Surface) Syntax() spec.SurfaceSyntax {
	return spec.SurfaceSyntax{
		Spec: blockSyntax,
		Decode: func(b *spec.Body, h *spec.Handoff) spec.Block {
			return &Block{DefRange: b.DefRange(), Zones: b.List("zones"), PermissionGroups: b.List("permission_groups"),
				TTL: b.Duration("ttl", ttlDefault(h)), RequestIP: b.List("request_ip")}
		},
		Policy: policyAttrs,
		DecodePolicy: func(b *spec.Body) spec.Block {
			return &PolicyBlock{PermissionGroups: b.List("cloudflare_permission_groups"), Zones: b.List("cloudflare_zones")}
		},
	}
}

// ttlDefault is the token's default life: the handoff's ttl as written.
func ttlDefault(h *spec.Handoff) string {
	if h != nil && h.TTL.Valid() {
		return h.TTL.Raw
	}
	return ""
}
