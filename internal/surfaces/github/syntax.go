package github

import (
	"github.com/hashicorp/hcl/v2"

	"github.com/raxx-app/handoff/internal/spec"
)

// Name is the surface's block name.
const Name = "github"

// DefaultAPIURL is the api_url used when the github block of handoff.hcl
// omits it.
const DefaultAPIURL = "https://api.github.com"

// Block is the github block of a handoff: an App installation token
// narrowed to one repository and to Permissions (name → "read"|"write").
type Block struct {
	DefRange    hcl.Range      // the block header
	Repository  spec.String    // "owner/name"
	Permissions spec.StringMap // permission name → "read" | "write"
}

// Range is the block header.
func (b *Block) Range() hcl.Range { return b.DefRange }

// Canonical is the block's part of the handoff's digest.
func (b *Block) Canonical() any {
	return struct {
		Repository  string            `json:"repository"`
		Permissions map[string]string `json:"permissions"`
	}{b.Repository.Value, b.Permissions.Map()}
}

// Of returns the github block of h, nil when it has none.
func Of(h *spec.Handoff) *Block {
	b, _ := h.Block(Name)
	g, _ := b.(*Block)
	return g
}

// Config is the github block of handoff.hcl: the API base URL (default
// https://api.github.com) and the id of the App that mints handoff tokens.
// The App's private key comes from the environment.
type Config struct {
	DefRange hcl.Range   // the block header
	APIURL   spec.String // REST API base URL; DefaultAPIURL by default
	AppID    spec.Int    // id of the GitHub App
}

// Range is the block header.
func (c *Config) Range() hcl.Range { return c.DefRange }

// ConfigOf returns the github block of cfg, nil when it has none.
func ConfigOf(cfg *spec.Config) *Config {
	b, _ := cfg.Block(Name)
	c, _ := b.(*Config)
	return c
}

// PolicyBlock is what the surface reads of a policy block.
type PolicyBlock struct {
	// Permissions is the ceiling of GitHub permissions any handoff may ask
	// for (name → "read"|"write"); invalid when not written.
	Permissions spec.StringMap
	// Owners are the GitHub accounts (organizations or users) whose
	// repositories a handoff may name; invalid when not written.
	Owners spec.StringList
	// Repositories, when written, are patterns ("owner/name-glob") of the
	// repositories a handoff may name, within Owners.
	Repositories spec.StringList
}

// Range is the ceiling's range.
func (p *PolicyBlock) Range() hcl.Range { return p.Permissions.Range }

var (
	blockSyntax = &spec.BlockSyntax{
		Type: Name,
		Name: "A github block in a handoff",
		Attrs: []spec.AttrSyntax{
			{Name: "repository", Required: true, Example: `repository = "raxx-app/TradeMasterAPI"`},
			{Name: "permissions", Required: true, Example: `permissions = { contents = "write", pull_requests = "write" }`},
		},
	}
	configSyntax = &spec.BlockSyntax{
		Type: Name,
		Name: "The github block of " + spec.ConfigFile,
		Attrs: []spec.AttrSyntax{
			{Name: "api_url", Example: `api_url = "https://api.github.com"`},
			{Name: "app_id", Required: true, Example: `app_id = 123456`},
		},
	}
	policyAttrs = []spec.AttrSyntax{
		{Name: "github_permissions", Example: `github_permissions = { contents = "write", pull_requests = "write", metadata = "read" }`},
		{Name: "github_owners", Example: `github_owners = ["raxx-app"]`},
		{Name: "github_repositories", Example: `github_repositories = ["raxx-app/TradeMasterAPI", "raxx-app/Moose*"]`},
	}
)

// Syntax is the surface's part of the spec language.
func (s *Surface) Syntax() spec.SurfaceSyntax {
	return spec.SurfaceSyntax{
		Spec: blockSyntax,
		Decode: func(b *spec.Body, _ *spec.Handoff) spec.Block {
			return &Block{DefRange: b.DefRange(), Repository: b.String("repository", ""), Permissions: b.Map("permissions")}
		},
		Config: configSyntax,
		DecodeConfig: func(b *spec.Body) spec.Block {
			return &Config{DefRange: b.DefRange(), APIURL: b.String("api_url", DefaultAPIURL), AppID: b.Int("app_id")}
		},
		Policy: policyAttrs,
		DecodePolicy: func(b *spec.Body) spec.Block {
			return &PolicyBlock{Permissions: b.Map("github_permissions"), Owners: b.List("github_owners"), Repositories: b.List("github_repositories")}
		},
	}
}
