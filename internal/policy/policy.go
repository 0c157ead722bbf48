package policy

import (
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/surface"
	"github.com/raxx-app/handoff/schema"
)

// HardMaxTTL is the longest TTL any policy may allow (H3); no policy block
// can raise it.
const HardMaxTTL = 24 * time.Hour

// Permission levels a handoff may ask for; "admin", which a few vendors'
// permissions accept, is never granted (H1).
const (
	LevelRead  = "read"
	LevelWrite = "write"
	LevelAdmin = "admin"
)

// DefaultPolicyFile is the name under which diagnostics refer to the
// embedded default policy.
const DefaultPolicyFile = "schema/default-policy.hcl"

// Policy is the effective policy of a repository. MaxTTL keeps the range it
// came from: handoff.hcl when its policy block sets it, the default policy
// file otherwise, so a message can say where a ceiling is defined. Each
// surface's part is its own type (surface.Policer).
type Policy struct {
	// MaxTTL is the longest TTL a handoff may ask for; never above
	// HardMaxTTL once Effective has checked it.
	MaxTTL spec.Duration
	// Surfaces holds each Policer surface's effective policy, by name.
	Surfaces map[string]any
}

// TTLCeiling returns the longest TTL a handoff may ask for under p: MaxTTL,
// bounded by HardMaxTTL even when MaxTTL is invalid.
func (p *Policy) TTLCeiling() time.Duration {
	if p.MaxTTL.Valid() && p.MaxTTL.Value > 0 && p.MaxTTL.Value <= HardMaxTTL {
		return p.MaxTTL.Value
	}
	return HardMaxTTL
}

// Surface returns the effective policy of surface name.
func (p *Policy) Surface(name string) any { return p.Surfaces[name] }

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

// Effective returns the default policy overridden field by field by the
// policy block of cfg (cfg may be nil), and the diagnostics of checking the
// result against the hard rules. Entries that break a hard rule are dropped
// from the returned ceilings, so handoffs are never checked against them.
func Effective(cfg *spec.Config) (*Policy, hcl.Diagnostics) {
	return effective(surface.Installed(), cfg)
}

func effective(reg *surface.Registry, cfg *spec.Config) (*Policy, hcl.Diagnostics) {
	def, diags := defaultPolicy()
	p := &Policy{Surfaces: map[string]any{}}
	if def != nil {
		p.MaxTTL = def.MaxTTL
	}
	var override *spec.PolicyConfig
	if cfg != nil {
		override = cfg.Policy
	}
	if override != nil && override.MaxTTL.Valid() {
		p.MaxTTL = override.MaxTTL
	}
	for _, s := range reg.All() {
		pol, ok := s.(surface.Policer)
		if !ok {
			continue
		}
		d, _ := def.Surface(s.Name())
		o, _ := override.Surface(s.Name())
		sp, sd := pol.Policy(d, o, cfg)
		p.Surfaces[s.Name()] = sp
		diags = append(diags, sd...)
	}
	if d := p.MaxTTL; d.Valid() {
		switch {
		case d.Value <= 0:
			diags = append(diags, errorf(d.Range, "Invalid max_ttl",
				"max_ttl must be positive. Set it to at most %s, for example: max_ttl = \"24h\".", FormatDuration(HardMaxTTL)))
		case d.Value > HardMaxTTL:
			diags = append(diags, errorf(d.Range, "max_ttl above the 24h ceiling",
				"max_ttl is %s, but no handoff may live longer than %s (H3). Set max_ttl = \"24h\" or less.",
				d.Raw, FormatDuration(HardMaxTTL)))
		}
	}
	if cfg != nil && cfg.Apply != nil {
		if d := cfg.Apply.Schedule; d.Valid() && (d.Value < time.Minute || d.Value > spec.MaxSchedule) {
			diags = append(diags, errorf(d.Range, "Invalid schedule",
				"schedule is %s; it must be between 1m and %s: a run must come before an hour-long credential expires, even when it starts late. "+
					"Write the interval of the workflow's cron, such as schedule = \"15m\".", d.Raw, FormatDuration(spec.MaxSchedule)))
		}
	}
	return p, diags
}

// FormatDuration writes d as a person would: "24h", "1h30m", "90s".
func FormatDuration(d time.Duration) string {
	s := d.String()
	// "24h0m0s" reads worse than "24h".
	for _, suf := range []string{"0s", "0m"} {
		if len(s) > len(suf)+1 && s[len(s)-len(suf):] == suf && s[len(s)-len(suf)-1] >= 'a' {
			s = s[:len(s)-len(suf)]
		}
	}
	return s
}

func errorf(rng hcl.Range, summary, format string, args ...any) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf(format, args...), Subject: rng.Ptr()}
}
