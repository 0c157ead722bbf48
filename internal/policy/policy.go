package policy

import (
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/schema"
)

// Hard ceilings that no policy block can raise.
const (
	// HardMaxTTL is the longest TTL any policy may allow (H3).
	HardMaxTTL = 24 * time.Hour
	// MaxAWSSession is the longest AWS STS session a handoff may ask for.
	MaxAWSSession = time.Hour
	// MinAWSSession is the shortest session AWS STS accepts.
	MinAWSSession = 15 * time.Minute
)

// DefaultPolicyFile is the name under which diagnostics refer to the
// embedded default policy.
const DefaultPolicyFile = "schema/default-policy.hcl"

// Policy is the effective policy of a repository. Each field keeps the range
// it came from: handoff.hcl when its policy block sets it, the default
// policy file otherwise, so a message can say where a ceiling is defined.
type Policy struct {
	// MaxTTL is the longest TTL a handoff may ask for; never above
	// HardMaxTTL once Effective has checked it.
	MaxTTL spec.Duration
	// GitHubPermissions is the ceiling of GitHub permissions (name → level).
	GitHubPermissions spec.StringMap
	// VaultReadRoots are the vault folders handoffs may read besides their
	// own folder.
	VaultReadRoots spec.StringList
	// VaultReadEnvironments are the environment slugs a handoff's read
	// paths may be in. Unset in handoff.hcl, Effective makes it the
	// environment of the infisical block alone (ReadEnvironmentsDefault is
	// then true); it is left invalid when that environment is missing or
	// malformed, and the check of read environments is then skipped (that
	// error is reported on handoff.hcl).
	VaultReadEnvironments spec.StringList
	// ReadEnvironmentsDefault says VaultReadEnvironments is the default:
	// the environment of handoff.hcl's infisical block.
	ReadEnvironmentsDefault bool
}

// TTLCeiling returns the longest TTL a handoff may ask for under p: MaxTTL,
// bounded by HardMaxTTL even when MaxTTL is invalid.
func (p *Policy) TTLCeiling() time.Duration {
	if p.MaxTTL.Valid() && p.MaxTTL.Value > 0 && p.MaxTTL.Value <= HardMaxTTL {
		return p.MaxTTL.Value
	}
	return HardMaxTTL
}

var defaultPolicy = sync.OnceValues(func() (*spec.PolicyConfig, hcl.Diagnostics) {
	cfg, diags := spec.ParseConfig(DefaultPolicyFile, schema.DefaultPolicyHCL)
	if cfg == nil || cfg.Policy == nil {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Broken default policy",
			Detail:   "The embedded " + DefaultPolicyFile + " has no policy block. Rebuild handoff from an intact source tree.",
			Subject:  spec.FileRange(DefaultPolicyFile).Ptr(),
		})
		return nil, diags
	}
	return cfg.Policy, diags
})

// Default returns the default policy, parsed from schema.DefaultPolicyHCL.
// The diagnostics are empty for any correctly built binary.
func Default() (*Policy, hcl.Diagnostics) {
	def, diags := defaultPolicy()
	if def == nil {
		return &Policy{}, diags
	}
	return &Policy{MaxTTL: def.MaxTTL, GitHubPermissions: def.GitHubPermissions, VaultReadRoots: def.VaultReadRoots,
		VaultReadEnvironments: def.VaultReadEnvironments}, diags
}

// Effective returns the default policy overridden field by field by the
// policy block of cfg (cfg may be nil), and the diagnostics of checking the
// result against the hard rules. Entries that break a hard rule are dropped
// from the returned ceiling, so handoffs are never checked against them.
func Effective(cfg *spec.Config) (*Policy, hcl.Diagnostics) {
	p, diags := Default()
	if cfg != nil && cfg.Policy != nil {
		o := cfg.Policy
		if o.MaxTTL.Valid() {
			p.MaxTTL = o.MaxTTL
		}
		if o.GitHubPermissions.Valid() {
			p.GitHubPermissions = o.GitHubPermissions
		}
		if o.VaultReadRoots.Valid() {
			p.VaultReadRoots = o.VaultReadRoots
		}
		if o.VaultReadEnvironments.Valid() {
			p.VaultReadEnvironments = o.VaultReadEnvironments
		}
	}
	if !p.VaultReadEnvironments.Valid() && cfg != nil && cfg.Infisical != nil {
		// The default cannot live in the default policy file: it is the
		// environment the handoffs' own folders are in.
		if e := cfg.Infisical.Environment; e.Valid() && envRE.MatchString(e.Value) {
			p.VaultReadEnvironments = spec.StringList{Values: []spec.String{e}, Range: e.Range}
			p.ReadEnvironmentsDefault = true
		}
	}
	c := &checker{}
	c.policy(p, cfg)
	return p, append(diags, c.diags...)
}

// policy checks p against the hard rules and drops what breaks them.
func (c *checker) policy(p *Policy, cfg *spec.Config) {
	if d := p.MaxTTL; d.Valid() {
		switch {
		case d.Value <= 0:
			c.errorf(d.Range, "Invalid max_ttl",
				"max_ttl must be positive. Set it to at most %s, for example: max_ttl = \"24h\".", fmtDur(HardMaxTTL))
		case d.Value > HardMaxTTL:
			c.errorf(d.Range, "max_ttl above the 24h ceiling",
				"max_ttl is %s, but no handoff may live longer than %s (H3). Set max_ttl = \"24h\" or less.",
				d.Raw, fmtDur(HardMaxTTL))
		}
	}

	kept := p.GitHubPermissions.Entries[:0:0]
	for _, e := range p.GitHubPermissions.Entries {
		if c.githubCeilingEntry(e) {
			kept = append(kept, e)
		}
	}
	p.GitHubPermissions.Entries = kept

	handoffRoot := handoffRootOf(cfg)
	roots := p.VaultReadRoots.Values[:0:0]
	for _, r := range p.VaultReadRoots.Values {
		if c.vaultRoot(r, handoffRoot) {
			roots = append(roots, r)
		}
	}
	p.VaultReadRoots.Values = roots

	if !p.ReadEnvironmentsDefault {
		envs := p.VaultReadEnvironments.Values[:0:0]
		for _, e := range p.VaultReadEnvironments.Values {
			if envRE.MatchString(e.Value) {
				envs = append(envs, e)
				continue
			}
			c.errorf(e.Range, "Invalid Infisical environment",
				"In vault_read_environments: %q is not an environment slug; write it as Infisical shows it, such as \"staging\" or \"prod\".", e.Value)
		}
		p.VaultReadEnvironments.Values = envs
	}
}

func fmtDur(d time.Duration) string {
	s := d.String()
	// "24h0m0s" reads worse than "24h".
	for _, suf := range []string{"0s", "0m"} {
		if len(s) > len(suf)+1 && s[len(s)-len(suf):] == suf && s[len(s)-len(suf)-1] >= 'a' {
			s = s[:len(s)-len(suf)]
		}
	}
	return s
}

// checker accumulates diagnostics.
type checker struct {
	diags hcl.Diagnostics
}

func (c *checker) errorf(rng hcl.Range, summary, format string, args ...any) {
	c.add(hcl.DiagError, rng, summary, fmt.Sprintf(format, args...))
}

func (c *checker) warnf(rng hcl.Range, summary, format string, args ...any) {
	c.add(hcl.DiagWarning, rng, summary, fmt.Sprintf(format, args...))
}

func (c *checker) add(sev hcl.DiagnosticSeverity, rng hcl.Range, summary, detail string) {
	c.diags = append(c.diags, &hcl.Diagnostic{Severity: sev, Summary: summary, Detail: detail, Subject: rng.Ptr()})
}
