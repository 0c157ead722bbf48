package reconcile

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/state"
	ghsurface "github.com/raxx-app/handoff/internal/surfaces/github"
	"github.com/raxx-app/handoff/internal/vault"
)

// spreadHCL is a GitHub-only handoff of slug that lives a day.
func spreadHCL(slug string) string {
	return fmt.Sprintf(`handoff %q {
  card        = 4000
  ttl         = "24h"
  approved_by = "ops"

  github {
    repository  = "raxx-app/Docs"
    permissions = { contents = "read" }
  }
}
`, slug)
}

// spreadWorld is n GitHub handoffs whose tokens were all minted at minted.
func spreadWorld(t *testing.T, n int, minted time.Time) (*spec.Repo, *state.Live) {
	t.Helper()
	specs := map[string]string{}
	live := emptyLive()
	for i := range n {
		slug := fmt.Sprintf("spread-%04d-20260621", i)
		specs[slug] = spreadHCL(slug)
		m := applied(t, parseSpec(t, slug, specs[slug]), minted)
		githubRecord(t, m, func(r *ghsurface.Record) {
			r.MintedAt, r.TokenExpiresAt = minted, minted.Add(ghsurface.TokenLife)
		})
		put(live, m)
	}
	return loadRepo(t, specs), live
}

// applyRefreshes does what apply does to the tokens p refreshes at at: a
// new hour-long token, and the history event.
func applyRefreshes(t *testing.T, p *plan.Plan, live *state.Live, at time.Time) (refreshed int) {
	t.Helper()
	for _, h := range p.Handoffs {
		if h.Operation == nil {
			continue
		}
		if h.Action != plan.Refresh {
			t.Fatalf("%s: %s (%s)", h.Slug, h.Action, h.Reason)
		}
		m := live.Handoffs[h.Slug].Manifest
		githubRecord(t, m, func(r *ghsurface.Record) {
			r.MintedAt, r.TokenExpiresAt = at, at.Add(ghsurface.TokenLife)
		})
		m.History = append(m.History, manifest.Event{At: at, Action: manifest.EventRefresh, Surface: ghsurface.Name})
		refreshed++
	}
	return refreshed
}

// TestRefreshesSpreadOverTheHour: 150 tokens minted together are refreshed
// a third at a time by the runs every 15 minutes, from the first hour on
// and for the rest of the day, never later than their expiry minus the
// time to the next run; no token is minted more often than every 45
// minutes once spread, and the plan's forecast of the next run is what
// that run does.
func TestRefreshesSpreadOverTheHour(t *testing.T) {
	const n = 150
	start := now.Truncate(DefaultSchedule)
	repo, live := spreadWorld(t, n, start)
	var forecast *plan.RunRefreshes
	total, most := 0, 0
	for run := 1; run <= 32; run++ {
		at := start.Add(time.Duration(run) * DefaultSchedule)
		for _, h := range live.Handoffs {
			exp := ghsurface.Decode(h.Manifest.Surfaces[ghsurface.Name]).TokenExpiresAt
			if !at.Before(exp) {
				t.Fatalf("run %d at %s: %s's token expired at %s, before any run refreshed it", run, at.Format("15:04"), h.Slug, exp.Format("15:04"))
			}
		}
		p, diags := Plan(context.Background(), repo, live, Options{Now: at, Registry: allProviders})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		got := applyRefreshes(t, p, live, at)
		if forecast != nil && (forecast.Refreshes != got || !forecast.At.Equal(at)) {
			t.Errorf("run %d at %s: %d refreshes, the previous plan forecast %d at %s", run, at.Format("15:04"), got, forecast.Refreshes, forecast.At.Format("15:04"))
		}
		if p.Refreshes == nil || p.Refreshes.ThisRun != got || len(p.Refreshes.Next) != forecastRuns {
			t.Fatalf("run %d: plan.Refreshes %+v, %d refreshes", run, p.Refreshes, got)
		}
		forecast = &p.Refreshes.Next[0]
		total += got
		most = max(most, got)
		// From the first hour on, each run refreshes a third of them
		// (the phases are a hash of the slug: about a third each).
		if run > 4 && (got < n/3-n/10 || got > n/3+n/10) {
			t.Errorf("run %d: %d refreshes, want about %d", run, got, n/3)
		}
	}
	if most > n/2 {
		t.Errorf("a run refreshed %d of %d tokens", most, n)
	}
	// 32 runs of 15 minutes: each token every 45 minutes (10 or 11
	// times), and the first hour's phase-in.
	if total > n*11+n/3 {
		t.Errorf("%d refreshes over 8 hours, more than every 45 minutes for %d tokens", total, n)
	}
}

// TestRefreshesLateRuns: runs that start up to five minutes late never find
// a token expired, and every token is refreshed before the next run could
// come too late.
func TestRefreshesLateRuns(t *testing.T) {
	start := now.Truncate(DefaultSchedule)
	repo, live := spreadWorld(t, 60, start)
	for run := 1; run <= 24; run++ {
		late := time.Duration(run%6) * time.Minute
		at := start.Add(time.Duration(run)*DefaultSchedule + late)
		p, diags := Plan(context.Background(), repo, live, Options{Now: at, Registry: allProviders})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		applyRefreshes(t, p, live, at)
		next := start.Add(time.Duration(run+1)*DefaultSchedule + DefaultSchedule/3)
		for _, h := range live.Handoffs {
			if exp := ghsurface.Decode(h.Manifest.Surfaces[ghsurface.Name]).TokenExpiresAt; !exp.After(next) {
				t.Fatalf("run %d at %s: %s's token expires at %s, before the next run (at %s at the latest)", run, at.Format("15:04"), h.Slug, exp.Format("15:04"), next.Format("15:04"))
			}
		}
	}
}

// TestRefreshCap: a run takes on at most RefreshCapacity refreshes: the due
// ones always (with a warning when they alone are more), then the early
// ones that expire soonest; the rest are deferred, and the plan says so.
func TestRefreshCap(t *testing.T) {
	at := now.Truncate(DefaultSchedule)
	sp := newSpread(Options{Schedule: DefaultSchedule, RefreshWindow: DefaultRefreshWindow})
	// Five due tokens, and five whose slot is this run's, expiring in
	// 30, 32, …, 38 minutes.
	specs := map[string]string{}
	live := emptyLive()
	var early []string
	for i := 0; len(specs) < 10; i++ {
		slug := fmt.Sprintf("cap-%04d-20260621", i)
		inPhase := sp.slot(at)%int64(sp.phases) == sp.phase(slug)
		due := len(specs)-len(early) < 5
		if !due && !inPhase {
			continue
		}
		left := 10 * time.Minute
		if !due {
			left = 30*time.Minute + time.Duration(len(early))*2*time.Minute
			early = append(early, slug)
		}
		specs[slug] = spreadHCL(slug)
		m := applied(t, parseSpec(t, slug, specs[slug]), at.Add(-time.Hour))
		githubRecord(t, m, func(r *ghsurface.Record) { r.MintedAt, r.TokenExpiresAt = at.Add(left-time.Hour), at.Add(left) })
		put(live, m)
	}
	repo := loadRepo(t, specs)
	for _, tc := range []struct {
		capacity, refreshed, deferred int
		warn                          bool
	}{
		{0, 10, 0, false},
		{20, 10, 0, false},
		{7, 7, 3, false},
		{3, 5, 5, true},
	} {
		t.Run(fmt.Sprint(tc.capacity), func(t *testing.T) {
			p, diags := Plan(context.Background(), repo, live, Options{Now: at, Registry: allProviders, RefreshCapacity: tc.capacity})
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			refreshed := map[string]bool{}
			for _, h := range p.Handoffs {
				if h.Action == plan.Refresh {
					refreshed[h.Slug] = true
				}
			}
			if len(refreshed) != tc.refreshed || p.Refreshes.ThisRun != tc.refreshed || p.Refreshes.Deferred != tc.deferred || p.Refreshes.Due != 5 {
				t.Errorf("refreshed %d (plan says %+v), want %d, %d deferred", len(refreshed), p.Refreshes, tc.refreshed, tc.deferred)
			}
			// The early ones that expire soonest go first.
			for i, slug := range early {
				if want := i < tc.refreshed-5; refreshed[slug] != want {
					t.Errorf("early %s (expires in %dm): refreshed %t, want %t", slug, 30+2*i, refreshed[slug], want)
				}
			}
			for _, h := range p.Handoffs {
				if !refreshed[h.Slug] && (h.Operation != nil || !strings.Contains(h.Reason, "deferred")) {
					t.Errorf("%s: %s %q, operation %v", h.Slug, h.Action, h.Reason, h.Operation != nil)
				}
			}
			warned := false
			for _, d := range diags {
				warned = warned || strings.Contains(d.Summary, "refreshes are due, more than fit in one run")
			}
			if warned != tc.warn {
				t.Errorf("warning %t, want %t: %v", warned, tc.warn, diags)
			}
		})
	}
}

// TestRefreshCapacity: what fits in a 15-minute run within Infisical
// Cloud's limits (40 a minute per secrets route), and no cap without
// limits.
func TestRefreshCapacity(t *testing.T) {
	cloud := map[vault.Op]vault.Limit{}
	for _, op := range vault.Ops {
		cloud[op] = vault.Limit{Max: 40, Window: time.Minute}
	}
	// 600 a slot per route, 540 kept, 16 reads of the lease's: 524.
	if got := RefreshCapacity(cloud, 15*time.Minute); got != 524 {
		t.Errorf("Infisical Cloud's default plan: %d, want 524", got)
	}
	if got := RefreshCapacity(nil, 15*time.Minute); got != 0 {
		t.Errorf("no limits: %d, want 0 (no cap)", got)
	}
	cloud[vault.OpBatchUpsert] = vault.Limit{Max: 20, Window: time.Minute}
	if got := RefreshCapacity(cloud, 15*time.Minute); got != 270 {
		t.Errorf("a slower batch route: %d, want 270", got)
	}
}
