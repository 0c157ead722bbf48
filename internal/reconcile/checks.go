package reconcile

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/state"
	"github.com/raxx-app/handoff/internal/surface"
)

// check runs the plan-time check of one planned handoff that needs no live
// state: a provider for every surface a change needs.
func (pl *planner) check(ph *plan.Handoff, h *spec.Handoff, lh *state.Handoff) {
	for _, c := range ph.Changes {
		if !c.Action.IsChange() || c.Surface == SurfaceVault {
			continue
		}
		sf, ok := pl.reg.Get(c.Surface)
		if ok {
			if _, cannot := sf.(surface.Unprovisionable); !cannot {
				continue
			}
		}
		pl.noProvider(ph, h, lh, c)
	}
}

// checkPlan runs the surfaces' plan-time checks against their live state
// (surface.PlanChecker), once per plan, with every handoff's use of them.
func (pl *planner) checkPlan(p *plan.Plan) {
	for _, sf := range pl.reg.All() {
		pc, ok := sf.(surface.PlanChecker)
		if !ok {
			continue
		}
		in := surface.PlanInput{Specs: pl.repo.Handoffs, Live: pl.live, Config: pl.repo.Config}
		for _, ph := range p.Handoffs {
			h := pl.spec(ph.Slug)
			if h == nil || !h.HasSurface(sf.Name()) {
				continue
			}
			active := false
			if lh := pl.live.Handoffs[ph.Slug]; lh != nil && lh.Manifest != nil && lh.Manifest.Status == manifest.Active {
				active = true
			}
			for _, c := range ph.Changes {
				if c.Surface == sf.Name() {
					in.Uses = append(in.Uses, surface.Use{Spec: h, Change: c, Active: active})
				}
			}
		}
		pl.diags = append(pl.diags, pc.CheckPlan(in)...)
	}
}

// spec is pl.repo.Handoff(slug), from the index Plan builds (a scan of
// every spec per handoff made the plan quadratic in their number).
func (pl *planner) spec(slug string) *spec.Handoff {
	if pl.specs == nil {
		return pl.repo.Handoff(slug)
	}
	return pl.specs[slug]
}

func (pl *planner) once(key string) bool {
	if pl.reported == nil {
		pl.reported = map[string]bool{}
	}
	if pl.reported[key] {
		return false
	}
	pl.reported[key] = true
	return true
}

func (pl *planner) noProvider(ph *plan.Handoff, h *spec.Handoff, lh *state.Handoff, c plan.Change) {
	if !pl.once("provider\x00" + ph.Slug + "\x00" + c.Surface) {
		return
	}
	d := &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  fmt.Sprintf("No provider for surface %s", c.Surface),
	}
	if h != nil {
		d.Subject = h.BlockRange(c.Surface).Ptr()
	}
	verb := "provision"
	if c.Action == plan.Revoke {
		verb = "revoke"
	}
	switch {
	case c.Action == plan.Revoke && lh != nil:
		d.Detail = fmt.Sprintf("no provider for surface %s in this build: handoff %q has a %s credential to revoke (folder %s), but this build cannot %s it. Revoke it by hand with the vendor, or run a build that includes the %s provider.",
			c.Surface, ph.Slug, c.Surface, lh.Folder, verb, c.Surface)
	default:
		d.Detail = fmt.Sprintf("no provider for surface %s in this build: handoff %q asks for a %s credential that this build cannot %s. Remove the %s block, or run a build that includes the %s provider.",
			c.Surface, ph.Slug, c.Surface, verb, c.Surface, c.Surface)
	}
	pl.diags = append(pl.diags, d)
}
