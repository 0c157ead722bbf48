package spec

import (
	"fmt"
	"sync/atomic"

	"github.com/hashicorp/hcl/v2"
)

// SurfaceSyntax is a credential surface's part of the language, declared
// by the surface's own package (internal/surfaces/...): its block in a
// spec file, and optionally a block of its own in handoff.hcl and the
// attributes it adds to the policy block. The core of the language (the
// handoff block, live_approval, policy's max_ttl and revocation limits)
// names no surface.
type SurfaceSyntax struct {
	// Spec is the surface's block in a spec file (its Type is the
	// surface's name); Decode reads it. The handoff h is decoded up to its
	// own attributes (ttl, for a default).
	Spec   *BlockSyntax
	Decode func(b *Body, h *Handoff) Block
	// Config, when set, is the surface's block in handoff.hcl (the GitHub
	// App, say); DecodeConfig reads it.
	Config       *BlockSyntax
	DecodeConfig func(b *Body) Block
	// Policy are the attributes the surface adds to the policy block of
	// handoff.hcl and of the default policy; DecodePolicy reads them (each
	// may be absent: the default policy's value then holds).
	Policy       []AttrSyntax
	DecodePolicy func(b *Body) Block
}

// VaultConfig is the vault's block of handoff.hcl, as the core needs it:
// where the handoffs' folders are.
type VaultConfig interface {
	Block
	// Environment is the environment of the handoff folders.
	Environment() String
	// HandoffRoot is the folder under which each handoff has its own.
	HandoffRoot() String
}

// VaultSyntax is the vault's block of handoff.hcl, declared by the vault's
// implementation (internal/vault/infisicalvault).
type VaultSyntax struct {
	Config *BlockSyntax
	Decode func(b *Body) VaultConfig
	// Check checks what the core does not know of the block (a URL, say);
	// nil checks nothing more.
	Check func(VaultConfig) hcl.Diagnostics
}

// VaultBlock is the type of the vault's block in handoff.hcl ("" when the
// language has none).
func (l *Language) VaultBlock() string {
	if l.vault.Config == nil {
		return ""
	}
	return l.vault.Config.Type
}

// CheckVault runs the vault's own checks of its block.
func (l *Language) CheckVault(v VaultConfig) hcl.Diagnostics {
	if l.vault.Check == nil || v == nil {
		return nil
	}
	return l.vault.Check(v)
}

// Language is the whole spec language of a build: the core blocks, the
// vault's block and every surface's syntax, in the order plans and the
// reference list them. Build it with NewLanguage; the parser functions of
// this package use the one Install made current.
type Language struct {
	vault    VaultSyntax
	surfaces []SurfaceSyntax

	specFile   *BlockSyntax
	handoff    *BlockSyntax
	configFile *BlockSyntax
	policy     *BlockSyntax
}

// NewLanguage returns the language of vault and surfaces. Two surfaces
// with one name, or a surface named like a core block, are a programming
// error: it panics.
func NewLanguage(vault VaultSyntax, surfaces ...SurfaceSyntax) *Language {
	l := &Language{vault: vault, surfaces: surfaces}
	seen := map[string]bool{"live_approval": true, "handoff": true, "policy": true, "rotation": true}
	handoffBlocks := []string{}
	nested := []*BlockSyntax{}
	for _, s := range surfaces {
		if s.Spec == nil || s.Decode == nil {
			panic("spec: a surface without a spec block")
		}
		if seen[s.Spec.Type] {
			panic(fmt.Sprintf("spec: two blocks named %s", s.Spec.Type))
		}
		seen[s.Spec.Type] = true
		handoffBlocks = append(handoffBlocks, s.Spec.Type)
		nested = append(nested, s.Spec)
	}
	handoffBlocks = append(handoffBlocks, liveApprovalSyntax.Type)
	nested = append(nested, liveApprovalSyntax)
	l.handoff = &BlockSyntax{
		Type: "handoff",
		Name: "A handoff block",
		Attrs: []AttrSyntax{
			{Name: "card", Required: true, Example: `card = 3629`},
			{Name: "description", Example: `description = "StoreKit 2 server notification handler"`},
			{Name: "ttl", Required: true, Example: `ttl = "24h"`},
			{Name: "approved_by", Required: true, Example: `approved_by = "ops"`},
		},
		Blocks: handoffBlocks,
		Nested: nested,
	}
	l.specFile = &BlockSyntax{
		Name:   "A spec file",
		Blocks: []string{"handoff"},
		Nested: []*BlockSyntax{l.handoff},
		Labels: map[string]string{"handoff": "slug"},
	}
	pol := &BlockSyntax{
		Type: "policy",
		Name: "A policy block",
		Attrs: []AttrSyntax{
			{Name: "max_ttl", Example: `max_ttl = "24h"`},
			{Name: "max_revocations", Example: `max_revocations = 10`},
			{Name: "max_revocation_share", Example: `max_revocation_share = "50%"`},
		},
	}
	var cfgBlocks []string
	var cfgNested []*BlockSyntax
	if vault.Config != nil {
		cfgBlocks = append(cfgBlocks, vault.Config.Type)
		cfgNested = append(cfgNested, vault.Config)
	}
	for _, s := range surfaces {
		pol.Attrs = append(pol.Attrs, s.Policy...)
		if s.Config != nil {
			cfgBlocks = append(cfgBlocks, s.Config.Type)
			cfgNested = append(cfgNested, s.Config)
		}
	}
	cfgBlocks = append(cfgBlocks, rotationSyntax.Type, applySyntax.Type, pol.Type)
	cfgNested = append(cfgNested, rotationSyntax, applySyntax, pol)
	l.policy = pol
	l.configFile = &BlockSyntax{Name: ConfigFile, Blocks: cfgBlocks, Nested: cfgNested}
	return l
}

// Surfaces returns the names of the surfaces, in the language's order.
func (l *Language) Surfaces() []string {
	out := make([]string, len(l.surfaces))
	for i, s := range l.surfaces {
		out[i] = s.Spec.Type
	}
	return out
}

// rank is the place of surface name in l's order; unknown names come
// after every surface.
func (l *Language) rank(name string) int {
	for i, s := range l.surfaces {
		if s.Spec.Type == name {
			return i
		}
	}
	return len(l.surfaces)
}

var installed atomic.Pointer[Language]

// Install makes l the language that ParseHandoffFile, ParseConfig, LoadDir
// and Schema use. The package that assembles a build's surfaces
// (internal/surfaces) installs its language when it is loaded.
func Install(l *Language) { installed.Store(l) }

// Installed returns the current language; before any Install, the core
// language alone (no vault block, no surface), with which every surface
// block is an unknown block.
func Installed() *Language {
	if l := installed.Load(); l != nil {
		return l
	}
	return coreLanguage
}

var coreLanguage = NewLanguage(VaultSyntax{})

var liveApprovalSyntax = &BlockSyntax{
	Type: "live_approval",
	Name: "A live_approval block",
	Attrs: []AttrSyntax{
		{Name: "by", Required: true, Example: `by = "cfo"`},
		{Name: "reason", Required: true, Example: `reason = "first live payout run, ticket OPS-412"`},
	},
}
