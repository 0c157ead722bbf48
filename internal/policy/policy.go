package policy

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/raxx-app/handoff/internal/plan"
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
	// Revocations are the bounds of the mass-revocation guard
	// (max_revocations, max_revocation_share); a value that breaks its
	// rule is reported and the default kept.
	Revocations plan.RevocationLimits
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
	var rd hcl.Diagnostics
	p.Revocations, rd = revocationLimits(def, override)
	diags = append(diags, rd...)
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

// Default bounds of the mass-revocation guard, should the default policy
// file lose them.
const (
	DefaultMaxRevocations     = 10
	DefaultMaxRevocationShare = 50.0
)

// RevocationLimits returns the bounds of the mass-revocation guard under
// cfg's policy block (cfg may be nil): the default policy's, overridden
// field by field. A value that breaks its rule is ignored here; Effective
// (and so policy.Check) reports it.
func RevocationLimits(cfg *spec.Config) plan.RevocationLimits {
	def, _ := defaultPolicy()
	var override *spec.PolicyConfig
	if cfg != nil {
		override = cfg.Policy
	}
	lim, _ := revocationLimits(def, override)
	return lim
}

// revocationLimits decodes max_revocations and max_revocation_share of
// the default policy def, then of override, each checked: a whole number
// of 0 or more, and a percentage from "0%" to "100%".
func revocationLimits(def, override *spec.PolicyConfig) (plan.RevocationLimits, hcl.Diagnostics) {
	lim := plan.RevocationLimits{Count: DefaultMaxRevocations, SharePercent: DefaultMaxRevocationShare}
	var diags hcl.Diagnostics
	for _, pc := range []*spec.PolicyConfig{def, override} {
		if pc == nil {
			continue
		}
		if n := pc.MaxRevocations; n.Valid() {
			if n.Value < 0 || n.Value > math.MaxInt32 {
				diags = append(diags, errorf(n.Range, "Invalid max_revocations",
					"max_revocations is %d; write how many handoffs one apply may revoke before their TTL ends, their specs gone: 0 or more, such as max_revocations = 10.", n.Value))
			} else {
				lim.Count = int(n.Value)
			}
		}
		if sh := pc.MaxRevocationShare; sh.Valid() {
			if v, ok := ParsePercent(sh.Value); ok {
				lim.SharePercent = v
			} else {
				diags = append(diags, errorf(sh.Range, "Invalid max_revocation_share",
					"max_revocation_share is %q; write a percentage of the live handoffs from \"0%%\" to \"100%%\", such as max_revocation_share = \"50%%\".", sh.Value))
			}
		}
	}
	return lim, diags
}

// ParsePercent reads "50%" or "12.5%" (0 to 100, the sign required) as a
// number of percent.
func ParsePercent(s string) (float64, bool) {
	num, ok := strings.CutSuffix(strings.TrimSpace(s), "%")
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || math.IsNaN(v) || v < 0 || v > 100 {
		return 0, false
	}
	return v, true
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
