package infisicalvault

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"

	"github.com/raxx-app/handoff/internal/policy"
	"github.com/raxx-app/handoff/internal/spec"
)

// BlockType is the vault's block in handoff.hcl.
const BlockType = "infisical"

// DefaultSiteURL is Infisical Cloud.
const DefaultSiteURL = "https://app.infisical.com"

// Config is the infisical block of handoff.hcl. SiteURL, OrganizationID
// and ProjectID may be omitted when the environment supplies them
// (INFISICAL_SITE_URL, INFISICAL_ORGANIZATION_ID, INFISICAL_PROJECT_ID).
// HandoffRoot is the vault folder under which each handoff gets its own
// <HandoffRoot>/<slug>/.
type Config struct {
	DefRange       hcl.Range   // the block header
	SiteURL        spec.String // base URL of the Infisical instance
	OrganizationID spec.String // organization owning the project
	ProjectID      spec.String // project holding the secrets
	Env            spec.String // environment slug of the handoff folders
	Root           spec.String // absolute folder of the handoffs' own folders
}

// Range is the block header.
func (c *Config) Range() hcl.Range { return c.DefRange }

// Environment is the environment of the handoff folders.
func (c *Config) Environment() spec.String { return c.Env }

// HandoffRoot is the folder of the handoffs' own folders.
func (c *Config) HandoffRoot() spec.String { return c.Root }

// ConfigOf returns the infisical block of cfg, nil when absent.
func ConfigOf(cfg *spec.Config) *Config {
	if cfg == nil {
		return nil
	}
	c, _ := cfg.Vault.(*Config)
	return c
}

var configSyntax = &spec.BlockSyntax{
	Type: BlockType,
	Name: "The infisical block of " + spec.ConfigFile,
	Attrs: []spec.AttrSyntax{
		{Name: "site_url", Example: `site_url = "https://app.infisical.com"`},
		{Name: "organization_id", Example: `organization_id = "org-raxx"`},
		{Name: "project_id", Example: `project_id = "proj-moosequest"`},
		{Name: "environment", Required: true, Example: `environment = "staging"`},
		{Name: "handoff_root", Required: true, Example: `handoff_root = "/MooseQuest/handoffs"`},
	},
}

// Syntax is the vault's part of the spec language.
func Syntax() spec.VaultSyntax {
	return spec.VaultSyntax{
		Config: configSyntax,
		Decode: func(b *spec.Body) spec.VaultConfig {
			return &Config{
				DefRange:       b.DefRange(),
				SiteURL:        b.String("site_url", ""),
				OrganizationID: b.String("organization_id", ""),
				ProjectID:      b.String("project_id", ""),
				Env:            b.String("environment", ""),
				Root:           b.String("handoff_root", ""),
			}
		},
		Check: func(v spec.VaultConfig) hcl.Diagnostics {
			c, ok := v.(*Config)
			if !ok {
				return nil
			}
			var diags hcl.Diagnostics
			if d := policy.URLProblem(c.SiteURL, "site_url", DefaultSiteURL); d != nil {
				diags = append(diags, d)
			}
			if e := c.Env; e.Valid() && !policy.IsEnvironment(e.Value) {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid Infisical environment",
					Detail:  fmt.Sprintf("environment is %q; write the environment slug as Infisical shows it, such as \"staging\" or \"prod\".", e.Value),
					Subject: e.Range.Ptr()})
			}
			return diags
		},
	}
}
