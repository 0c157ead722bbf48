package spec

import (
	"time"

	"github.com/hashicorp/hcl/v2"
)

// DefaultSchedule is the interval of the scheduled apply when handoff.hcl
// does not say: the GitOps template's workflow runs every 15 minutes.
const DefaultSchedule = 15 * time.Minute

// MaxSchedule is the longest schedule handoff.hcl may declare: a
// credential that lives an hour must be refreshed by a run before it
// expires, and a run may start a third of the interval late (45 minutes
// and 15 late make the hour).
const MaxSchedule = 45 * time.Minute

// applySyntax is the apply block of handoff.hcl.
var applySyntax = &BlockSyntax{
	Type:  "apply",
	Name:  "The apply block",
	Attrs: []AttrSyntax{{Name: "schedule", Example: `schedule = "15m"`}},
}

// ApplyConfig is the apply block: how the repository's applies are run.
type ApplyConfig struct {
	// DefRange is the block header.
	DefRange hcl.Range
	// Schedule is the interval of the scheduled apply (the workflow's
	// cron), "15m" when omitted: the planner refreshes a credential in the
	// last run before its expiry and spreads early refreshes over the
	// runs. Package policy checks its bounds (1m to MaxSchedule).
	Schedule Duration
}

func decodeApply(b *Body, defRange hcl.Range) *ApplyConfig {
	return &ApplyConfig{DefRange: defRange, Schedule: b.Duration("schedule", "15m")}
}

// Schedule is the interval of the scheduled apply handoff.hcl declares;
// DefaultSchedule when it declares none, or one out of bounds (which the
// policy refuses), or c is nil.
func (c *Config) Schedule() time.Duration {
	if c == nil || c.Apply == nil {
		return DefaultSchedule
	}
	if d := c.Apply.Schedule; d.Valid() && d.Value >= time.Minute && d.Value <= MaxSchedule {
		return d.Value
	}
	return DefaultSchedule
}
