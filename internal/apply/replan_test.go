package apply_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/apply"
	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/reconcile"
	"github.com/raxx-app/handoff/internal/state"
)

// replanner is a Deps.Replan that plans from the live state read under the
// lock, as `handoff apply` does, and counts its calls.
func (w *world) replanner(calls *int) func(context.Context, *state.Live) (*plan.Plan, error) {
	return func(ctx context.Context, live *state.Live) (*plan.Plan, error) {
		*calls++
		p, diags := reconcile.Plan(ctx, w.repo, live, reconcile.Options{Now: w.now(), Registry: w.reg, Version: "test"})
		if diags.HasErrors() {
			return nil, diags
		}
		return p, nil
	}
}

// TestStalePlanIsPlannedAgainUnderTheLock (issue 12, item 12): an apply
// whose plan went stale while it waited (another apply ran) plans again
// from the state read under the lock, has the new plan confirmed, and
// applies it; a refused confirmation writes nothing; without Replan (a
// saved plan) the stale plan is refused as before.
func TestStalePlanIsPlannedAgainUnderTheLock(t *testing.T) {
	tests := []struct {
		name    string
		replan  bool
		confirm error
		// wantApplied is the number of handoffs the stale apply converges.
		wantApplied int
		wantErr     error
	}{
		{"replanned and confirmed", true, nil, 1, nil},
		{"replanned, confirmation refused", true, errors.New("cancelled"), 0, errors.New("cancelled")},
		{"no replan: refused", false, nil, 0, apply.ErrStalePlan},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, worldOptions{})
			ctx := context.Background()
			stale := w.plan() // two creates
			// Meanwhile another apply creates one of the two (the other
			// fails and is undone).
			d := w.deps()
			d.FailPoint = failAt(stripeSlug, "create", 3)
			rep, err := apply.Apply(ctx, stale, d)
			w.record(rep, err)
			if len(w.handoffIdentities()) != 1 {
				t.Fatalf("setup: %d identities, want 1 (%v)", len(w.handoffIdentities()), err)
			}
			calls := 0
			var confirmed *plan.Plan
			d = w.deps()
			if tt.replan {
				d.Replan = w.replanner(&calls)
				d.Confirm = func(p *plan.Plan) error { confirmed = p; return tt.confirm }
			}
			before, tokens := w.vaultVersions(), len(w.srv.GitHub.Tokens())
			rep, err = apply.Apply(ctx, stale, d)
			w.record(rep, err)
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("apply of the stale plan: %v\n%s", err, w.progress.String())
			case tt.wantErr != nil && (err == nil || (!errors.Is(err, tt.wantErr) && !strings.Contains(err.Error(), tt.wantErr.Error()))):
				t.Fatalf("apply of the stale plan: %v, want %v", err, tt.wantErr)
			}
			if tt.replan {
				if calls != 1 || confirmed == nil {
					t.Fatalf("Replan called %d times, confirmed %v", calls, confirmed != nil)
				}
				if changed := changedSlugs(confirmed); strings.Join(changed, ",") != stripeSlug {
					t.Errorf("the new plan changes %v, want only %s (what the other apply left)", changed, stripeSlug)
				}
				if !strings.Contains(w.progress.String(), "planning again from the live state read under the lock") {
					t.Errorf("progress does not say it planned again:\n%s", w.progress.String())
				}
			}
			applied := 0
			for _, h := range rep.Handoffs {
				if h.Err == nil && h.Op != "" {
					applied++
				}
			}
			if applied != tt.wantApplied {
				t.Errorf("%d handoffs applied, want %d", applied, tt.wantApplied)
			}
			if tt.wantApplied == 0 {
				if after := w.vaultVersions(); after != before || len(w.srv.GitHub.Tokens()) != tokens || len(w.handoffIdentities()) != 1 {
					t.Errorf("a refused apply wrote:\nbefore %s\nafter  %s", before, after)
				}
				return
			}
			if rep.Replanned == nil {
				t.Error("the report does not carry the new plan")
			}
			w.assertNoOrphans(false)
			w.assertNoChanges()
		})
	}
}

// TestConcurrentAppliesWithReplanBothSucceed: two applies of one plan at
// once, the second waiting for the lock: with Replan both succeed, the
// second planning again to no change (what failed CI on two merges in a
// row).
func TestConcurrentAppliesWithReplanBothSucceed(t *testing.T) {
	w := newWorld(t, worldOptions{})
	w.kit.Faults.SetLatency(5*time.Millisecond, 0)
	p := w.plan()
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make([]error, 2)
	reps := make([]apply.Report, 2)
	var mu sync.Mutex
	calls := 0
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := w.deps()
			d.Lock.Wait = time.Minute
			var n int
			d.Replan = w.replanner(&n)
			<-start
			reps[i], errs[i] = apply.Apply(context.Background(), p, d)
			w.record(reps[i], errs[i])
			mu.Lock()
			calls += n
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("apply %d: %v", i, err)
		}
	}
	if calls != 1 {
		t.Errorf("%d replans, want 1 (the apply that waited)", calls)
	}
	replanned := 0
	for _, r := range reps {
		if r.Replanned != nil {
			replanned++
			if r.Replanned.HasChanges() || len(r.Handoffs) != 0 {
				t.Errorf("the second apply's new plan changes %d handoffs", len(r.Handoffs))
			}
		}
	}
	if replanned != 1 {
		t.Errorf("%d applies replanned", replanned)
	}
	if n := len(w.srv.GitHub.Tokens()); n != 1 {
		t.Errorf("%d tokens minted, want 1", n)
	}
	w.assertNoOrphans(false)
	w.assertNoChanges()
}

// changedSlugs are the handoffs p changes.
func changedSlugs(p *plan.Plan) []string {
	var out []string
	for _, h := range p.Handoffs {
		if h.Action.IsChange() {
			out = append(out, h.Slug)
		}
	}
	return out
}

// vaultVersions lists every secret under the root but the lock, with its
// version: a write changes it.
func (w *world) vaultVersions() string {
	var b strings.Builder
	for _, s := range w.srv.Infisical.Secrets(env, root, true) {
		if s.Key != apply.LockSecretName {
			fmt.Fprintf(&b, "%s/%s@%d ", s.Path, s.Key, s.Version)
		}
	}
	return b.String()
}
