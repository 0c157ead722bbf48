package reconcile

import (
	"fmt"
	"hash/fnv"
	"sort"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/surface"
	"github.com/raxx-app/handoff/internal/vault"
)

// Refreshes over the hour.
//
// Credentials minted together expire together: a thousand handoffs created
// in one run would need a thousand refreshes in one later run, more than
// the vendors' rate limits allow in a scheduled run's slot. So a
// credential that is refreshed ahead of its expiry (surface.Expiring,
// early) is refreshed either when it is due, or early, in its own share of
// the scheduled runs:
//
//   - due: it expires within DueWithin(Schedule) (20 minutes for runs every
//     15): the next scheduled run, a slot later and perhaps started late,
//     could come after its expiry. A due refresh is never deferred, whatever
//     the cap: the gate must never refuse a live handoff because its
//     refresh came late.
//   - early: it expires within RefreshWindow (50 minutes) and the run's
//     slot (the Schedule-long slot of the clock the run starts in, counted
//     from the Unix epoch, so that runs every 15 minutes fall in
//     consecutive slots) is the handoff's own: slot mod Phases equals a
//     hash of the slug mod Phases. A GitHub token (an hour) minted in its
//     own slot is refreshed three slots later, in its own slot again and
//     then due anyway; tokens minted together spread evenly over three
//     consecutive runs and stay spread, each run refreshing a third of
//     them, and no token is minted more often than without the spread.
//
// A run takes on at most RefreshCapacity refreshes (what the vault's
// limits allow over a slot, RefreshCapacity): the due ones always, then
// early ones, the soonest to expire first; the others wait for a later
// run, which will refresh them early or when due. The plan says how many
// refreshes this run makes and how many the next runs will need
// (plan.Refreshes).

// DefaultSchedule is the interval of the scheduled apply when handoff.hcl
// does not declare one (its apply block's schedule): the template's
// workflow runs every 15 minutes.
const DefaultSchedule = spec.DefaultSchedule

// forecastRuns is how many of the next scheduled runs the plan forecasts.
const forecastRuns = 4

// DueWithin is how long before its expiry a credential must be refreshed
// by the run at hand when applies run every schedule: the next run comes a
// schedule later and may start late (by a third of it, five minutes for
// runs every 15).
func DueWithin(schedule time.Duration) time.Duration { return schedule + schedule/3 }

// spread is the planner's rule of refreshes.
type spread struct {
	schedule, window, due time.Duration
	phases                int
}

func newSpread(opts Options) spread {
	sp := spread{schedule: opts.Schedule, window: opts.RefreshWindow, due: DueWithin(opts.Schedule)}
	sp.phases = 1
	if sp.window > sp.due {
		sp.phases = int((sp.window-sp.due)/sp.schedule) + 1
	}
	return sp
}

// slot is the index of the schedule-long slot of t.
func (sp spread) slot(t time.Time) int64 {
	return t.Unix() / int64(sp.schedule/time.Second)
}

// slotStart is when slot k starts.
func (sp spread) slotStart(k int64) time.Time {
	return time.Unix(k*int64(sp.schedule/time.Second), 0).UTC()
}

// phase is the slug's share of the slots: a run in slot k refreshes early
// the credentials of the slugs whose phase is k mod phases.
func (sp spread) phase(slug string) int64 {
	h := fnv.New32a()
	h.Write([]byte(slug))
	return int64(h.Sum32() % uint32(sp.phases))
}

// decide says whether a credential of slug that has left before its
// expiry is refreshed by a run at t: due (it cannot wait for the next
// run) or early (its slot).
func (sp spread) decide(slug string, left time.Duration, t time.Time) (refresh, due bool) {
	switch {
	case left <= sp.due:
		return true, true
	case left <= sp.window && sp.slot(t)%int64(sp.phases) == sp.phase(slug):
		return true, false
	}
	return false, false
}

// refreshReason is the reason of a credential refreshed by the spread.
func (sp spread) refreshReason(noun string, left time.Duration, due bool) string {
	switch {
	case left <= 0:
		return fmt.Sprintf("%s expired %s ago", noun, fmtDur(-left))
	case due:
		return fmt.Sprintf("%s expires in %s", noun, fmtDur(left))
	}
	return fmt.Sprintf("%s expires in %s: refreshed early, in this run's share of the refreshes (spread over %d runs)", noun, fmtDur(left), sp.phases)
}

// RefreshCapacity is how many handoff refreshes one scheduled run may take
// on within the vault's rate limits (each kind of request counted on its
// own, as Infisical Cloud counts each route), over a slot of schedule
// (DefaultSchedule when zero); 0 when the vault knows no limit.
//
// A refresh costs the vault one request of each kind a run makes for a
// handoff: the journal (a create), its record of the mint in flight (an
// update), the read of the credential it replaces (a get), the commit
// batch and the journal's deletion. The run's own requests are taken off
// first: its two reads of the state, and its lease (taken, renewed about
// once a minute, released). Of what is left a tenth is kept for waits
// (windows that do not line up with the slot, a retry). The vendors' own
// limits on mints (GitHub's 180 installation tokens a minute per
// endpoint) are higher than Infisical Cloud's 40 secret writes a minute
// per route, and are not counted.
func RefreshCapacity(limits map[vault.Op]vault.Limit, schedule time.Duration) int {
	if schedule <= 0 {
		schedule = DefaultSchedule
	}
	perRefresh := map[vault.Op]int{vault.OpCreate: 1, vault.OpUpdate: 1, vault.OpGet: 1, vault.OpBatchUpsert: 1, vault.OpDelete: 1}
	renewals := int(schedule / time.Minute)
	overhead := map[vault.Op]int{vault.OpCreate: 1, vault.OpGet: renewals + 1, vault.OpUpdate: renewals, vault.OpDelete: 1}
	capacity, limited := 0, false
	for _, op := range vault.Ops {
		n := perRefresh[op]
		l, ok := limits[op]
		if n == 0 || !ok {
			continue
		}
		budget := l.PerSpan(schedule)*9/10 - overhead[op]
		c := max(budget/n, 0)
		if !limited || c < capacity {
			capacity, limited = c, true
		}
	}
	if !limited {
		return 0
	}
	return max(capacity, 1)
}

// cred is a credential refreshed ahead of its expiry, as it will be once
// this run is applied.
type cred struct {
	slug    string
	expires time.Time
	life    time.Duration
	// end is the end of the handoff's TTL: no refresh from then on.
	end time.Time
}

// earlyOnly records a handoff whose only change is an early refresh, which
// the cap may defer: the soonest of its credentials' expiries.
type earlyOnly struct {
	soonest time.Time
}

// credLife is how long a credential of surface s lives from its mint, as
// rec and the manifest's history say (an hour when they do not).
func (pl *planner) credLife(s string, rec surface.Record, m *manifest.Manifest, at time.Time) time.Duration {
	sf, _ := pl.reg.Get(s)
	if fl, ok := sf.(surface.FixedLife); ok {
		if _, life := fl.Life(rec); life > 0 {
			return life
		}
	}
	if m != nil {
		for i := len(m.History) - 1; i >= 0; i-- {
			ev := m.History[i]
			if ev.Surface != s {
				continue
			}
			switch ev.Action {
			case manifest.EventCreate, manifest.EventRefresh, manifest.EventReplace:
				if d := at.Sub(ev.At); d > 0 {
					return d
				}
			}
			break
		}
	}
	return time.Hour
}

// limitRefreshes caps the refreshes of p (RefreshCapacity), deferring the
// early ones that expire last, and forecasts the refreshes of the next
// runs into p.Refreshes.
func (pl *planner) limitRefreshes(p *plan.Plan) {
	capacity := pl.opts.RefreshCapacity
	if capacity == 0 {
		capacity = RefreshCapacity(pl.live.Limits, pl.opts.Schedule)
	}
	count, due := 0, 0
	for i := range p.Handoffs {
		if refreshes(&p.Handoffs[i]) {
			count++
			if _, early := pl.early[p.Handoffs[i].Slug]; !early {
				due++
			}
		}
	}
	deferred := 0
	if capacity > 0 && count > capacity {
		var cands []*plan.Handoff
		for i := range p.Handoffs {
			if _, ok := pl.early[p.Handoffs[i].Slug]; ok {
				cands = append(cands, &p.Handoffs[i])
			}
		}
		// The early refreshes that can wait longest wait.
		sort.SliceStable(cands, func(i, j int) bool {
			a, b := pl.early[cands[i].Slug].soonest, pl.early[cands[j].Slug].soonest
			if !a.Equal(b) {
				return a.After(b)
			}
			return cands[i].Slug > cands[j].Slug
		})
		for _, ph := range cands {
			if count <= capacity {
				break
			}
			pl.deferRefresh(ph)
			count--
			deferred++
		}
		if due > capacity {
			pl.diags = append(pl.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning,
				Summary: fmt.Sprintf("%d refreshes are due, more than fit in one run", due),
				Detail: fmt.Sprintf("%d handoffs have a credential that expires before the next scheduled run could refresh it, more than the %d refreshes that fit in a %s slot within the vault's rate limits: "+
					"this run refreshes them all (none is left to expire) and takes longer than its slot. Early refreshes are spread over the runs of the hour, so this happens only when too many handoffs live for the limits: "+
					"raise the vault's limits (a higher plan), or run fewer handoffs at once.", due, capacity, fmtDur(pl.opts.Schedule))})
		}
	}
	fc := pl.forecast(p)
	if fc == nil && count == 0 && deferred == 0 {
		return
	}
	r := &plan.Refreshes{Schedule: fmtDur(pl.opts.Schedule), Capacity: capacity, ThisRun: count, Due: due, Deferred: deferred, Next: fc}
	if r.Next == nil {
		r.Next = []plan.RunRefreshes{}
	}
	p.Refreshes = r
}

// refreshes reports whether ph refreshes a credential or repairs one (and
// creates, replaces and revokes nothing); the deletion of a settled journal
// is not a refresh.
func refreshes(ph *plan.Handoff) bool {
	if ph.Operation == nil || ph.Operation.Kind == plan.OpSettle {
		return false
	}
	any := false
	for _, c := range ph.Changes {
		switch c.Action {
		case plan.Refresh:
			any = true
		case plan.NoOp:
		default:
			return false
		}
	}
	return any
}

// deferRefresh turns the early refreshes of ph back into no-ops.
func (pl *planner) deferRefresh(ph *plan.Handoff) {
	for i := range ph.Changes {
		c := &ph.Changes[i]
		if c.Action != plan.Refresh {
			continue
		}
		c.Action, c.After, c.Secrets = plan.NoOp, nil, nil
		c.Reason += "; deferred to a later run: this run has taken on all the refreshes the vault's limits allow"
	}
	ph.Operation = nil
	ph.Reason = fmt.Sprintf("up to date (expires %s); an early refresh deferred to a later run", fmtTime(ph.ExpiresAt))
}

// forecast counts the refreshes the next scheduled runs will need once p
// is applied: the credentials of the handoffs that stay live, refreshed
// when due or early in their slot.
func (pl *planner) forecast(p *plan.Plan) []plan.RunRefreshes {
	var creds []cred
	for i := range p.Handoffs {
		creds = append(creds, pl.credsAfter(&p.Handoffs[i])...)
	}
	if len(creds) == 0 {
		return nil
	}
	sp := pl.spread
	k := sp.slot(pl.now)
	var out []plan.RunRefreshes
	for i := int64(1); i <= forecastRuns; i++ {
		at := sp.slotStart(k + i)
		run := plan.RunRefreshes{At: at}
		slugs, dueSlugs := map[string]bool{}, map[string]bool{}
		for j := range creds {
			c := &creds[j]
			if !at.Before(c.end) {
				continue
			}
			refresh, due := sp.decide(c.slug, c.expires.Sub(at), at)
			if !refresh {
				continue
			}
			slugs[c.slug] = true
			if due {
				dueSlugs[c.slug] = true
			}
			c.expires = at.Add(c.life)
		}
		run.Refreshes, run.Due = len(slugs), len(dueSlugs)
		out = append(out, run)
	}
	return out
}

// credsAfter are the credentials of ph refreshed ahead of expiry, as they
// will be once ph is applied; none when the handoff is revoked.
func (pl *planner) credsAfter(ph *plan.Handoff) []cred {
	if ph.Operation != nil && ph.Operation.Final == plan.FinalRevoked {
		return nil
	}
	lh := pl.live.Handoffs[ph.Slug]
	var m *manifest.Manifest
	if lh != nil {
		m = lh.Manifest
	}
	end := ph.ExpiresAt
	if end.IsZero() || !pl.now.Before(end) || (m != nil && m.Status != manifest.Active && ph.Operation == nil) {
		return nil
	}
	var out []cred
	for _, c := range ph.Changes {
		sf, ok := pl.reg.Get(c.Surface)
		if !ok {
			continue
		}
		e, ok := sf.(surface.Expiring)
		if !ok {
			continue
		}
		switch c.Action {
		case plan.Create, plan.Replace, plan.Refresh:
			// Minted by this run: its grant's expiry, when it comes before
			// the handoff's end.
			if c.After == nil || c.After.ExpiresAt.IsZero() || !c.After.ExpiresAt.Before(end.Add(-time.Minute)) || !c.After.ExpiresAt.After(pl.now) {
				continue
			}
			out = append(out, cred{slug: ph.Slug, expires: c.After.ExpiresAt, life: c.After.ExpiresAt.Sub(pl.now), end: end})
		case plan.NoOp:
			if m == nil || m.Killed()[c.Surface] {
				continue
			}
			rec := m.Surfaces[c.Surface]
			at, _, early := e.Expiry(rec)
			if !early || at.IsZero() {
				continue
			}
			out = append(out, cred{slug: ph.Slug, expires: at, life: pl.credLife(c.Surface, rec, m, at), end: end})
		}
	}
	return out
}

// noteEarly records a handoff whose only changes are early refreshes.
func (pl *planner) noteEarly(ph *plan.Handoff, soonest time.Time) {
	if pl.early == nil {
		pl.early = map[string]earlyOnly{}
	}
	pl.early[ph.Slug] = earlyOnly{soonest: soonest}
}
