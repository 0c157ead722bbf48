package reconcile

import (
	"errors"
	"time"

	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/state"
	"github.com/raxx-app/handoff/internal/surface"
)

// PlanKill plans `handoff revoke SLUG` (the kill switch) against live at
// now: a tombstone first, then every credential of the handoff revoked,
// or, with opts.Surfaces, those of the named surfaces (a kill of a surface
// read by reference narrows the grants that read its key, H8). repo may be
// nil; with it, a folder without a usable manifest gets a tombstone built
// from the spec. The handoff's Operation is what apply executes.
func PlanKill(reg *surface.Registry, repo *spec.Repo, live *state.Live, slug string, opts KillOptions, now time.Time) (*plan.Handoff, error) {
	if reg == nil {
		reg = surface.Installed()
	}
	pl := &planner{repo: repo, live: live, reg: reg, now: now.UTC(), env: live.Environment, opts: Options{Now: now, Registry: reg}}
	ph := &plan.Handoff{Slug: slug, Action: plan.Revoke, Reason: opts.ManualReason(), Changes: []plan.Change{}}
	b := &opBuilder{pl: pl, ph: ph, h: repo.Handoff(slug), slug: slug}
	if lh := live.Handoffs[slug]; lh != nil {
		b.lh, b.m, b.j = lh, lh.Manifest, lh.Journal
	}
	if err := b.manual(opts); err != nil {
		return nil, err
	}
	ph.Operation = b.finish()
	if pl.diags.HasErrors() {
		return nil, errors.New(pl.diags.Error())
	}
	return ph, nil
}
