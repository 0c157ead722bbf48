package policy_test

import (
	"strings"
	"testing"

	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/policy"
	"github.com/raxx-app/handoff/internal/spec"
)

// TestRevocationLimits: the guard's bounds default to 10 and 50%, are
// overridden field by field, and a value out of range is an error that
// leaves the default in force.
func TestRevocationLimits(t *testing.T) {
	tests := []struct {
		name   string
		policy string
		want   plan.RevocationLimits
		errs   []string // summaries
	}{
		{"defaults", "", plan.RevocationLimits{Count: 10, SharePercent: 50}, nil},
		{"count only", `max_revocations = 3`, plan.RevocationLimits{Count: 3, SharePercent: 50}, nil},
		{"zero confirms every one", `max_revocations = 0`, plan.RevocationLimits{Count: 0, SharePercent: 50}, nil},
		{"share only", `max_revocation_share = "25%"`, plan.RevocationLimits{Count: 10, SharePercent: 25}, nil},
		{"decimal share", `max_revocation_share = "12.5%"`, plan.RevocationLimits{Count: 10, SharePercent: 12.5}, nil},
		{"both", "max_revocations = 100\n  max_revocation_share = \"100%\"", plan.RevocationLimits{Count: 100, SharePercent: 100}, nil},
		{"negative count", `max_revocations = -1`, plan.RevocationLimits{Count: 10, SharePercent: 50}, []string{"Invalid max_revocations"}},
		{"share without %", `max_revocation_share = "25"`, plan.RevocationLimits{Count: 10, SharePercent: 50}, []string{"Invalid max_revocation_share"}},
		{"share above 100%", `max_revocation_share = "150%"`, plan.RevocationLimits{Count: 10, SharePercent: 50}, []string{"Invalid max_revocation_share"}},
		{"share not a number", `max_revocation_share = "NaN%"`, plan.RevocationLimits{Count: 10, SharePercent: 50}, []string{"Invalid max_revocation_share"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "infisical {\n  environment = \"e\"\n  handoff_root = \"/MooseQuest/handoffs\"\n}\n"
			if tt.policy != "" {
				src += "policy {\n  " + tt.policy + "\n}\n"
			}
			cfg, diags := spec.ParseConfig("handoff.hcl", []byte(src))
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			p, diags := policy.Effective(cfg)
			var got []string
			for _, d := range diags {
				got = append(got, d.Summary)
				if d.Subject == nil || d.Subject.Filename != "handoff.hcl" || !strings.Contains(d.Detail, "such as") {
					t.Errorf("diagnostic %q: no location in handoff.hcl or no example: %s", d.Summary, d.Detail)
				}
			}
			if strings.Join(got, "; ") != strings.Join(tt.errs, "; ") {
				t.Errorf("diagnostics %q, want %q", got, tt.errs)
			}
			if p.Revocations != tt.want {
				t.Errorf("Effective: %+v, want %+v", p.Revocations, tt.want)
			}
			if l := policy.RevocationLimits(cfg); l != tt.want {
				t.Errorf("RevocationLimits: %+v, want %+v", l, tt.want)
			}
		})
	}
	if l := policy.RevocationLimits(nil); l != (plan.RevocationLimits{Count: policy.DefaultMaxRevocations, SharePercent: policy.DefaultMaxRevocationShare}) {
		t.Errorf("RevocationLimits(nil) = %+v: the default policy file and the constants disagree", l)
	}
}
