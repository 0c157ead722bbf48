package policy_test

import (
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/policy"
	"github.com/raxx-app/handoff/internal/spec"
	_ "github.com/raxx-app/handoff/internal/surfaces"
)

// TestApplySchedule: handoff.hcl's apply block declares the interval of
// the scheduled apply, which the planner plans refreshes for; the policy
// refuses one a run could not keep an hour-long credential alive with, and
// the planner then keeps the default.
func TestApplySchedule(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      time.Duration
		err       string
	}{
		{"absent", ``, 15 * time.Minute, ""},
		{"empty block", "apply {}\n", 15 * time.Minute, ""},
		{"every 30 minutes", "apply {\n  schedule = \"30m\"\n}\n", 30 * time.Minute, ""},
		{"every hour", "apply {\n  schedule = \"1h\"\n}\n", 15 * time.Minute, "must be between 1m and 45m"},
		{"every 30 seconds", "apply {\n  schedule = \"30s\"\n}\n", 15 * time.Minute, "must be between 1m and 45m"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, diags := spec.ParseConfig(spec.ConfigFile, []byte(tc.src))
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			if got := cfg.Schedule(); got != tc.want {
				t.Errorf("Schedule() = %s, want %s", got, tc.want)
			}
			_, diags = policy.Effective(cfg)
			var errs []string
			for _, d := range diags {
				if strings.Contains(d.Summary, "schedule") {
					errs = append(errs, d.Error())
				}
			}
			switch {
			case tc.err == "" && len(errs) > 0:
				t.Errorf("diagnostics %v", errs)
			case tc.err != "" && (len(errs) != 1 || !strings.Contains(errs[0], tc.err)):
				t.Errorf("diagnostics %v, want one saying %q", errs, tc.err)
			}
		})
	}
}
