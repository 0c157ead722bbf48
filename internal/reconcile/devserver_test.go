package reconcile_test

import (
	"context"
	"fmt"
	infsurface "github.com/raxx-app/handoff/internal/surfaces/infisical"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/reconcile"
	"github.com/raxx-app/handoff/internal/state"
	"github.com/raxx-app/handoff/internal/state/statetest"
)

// planOnce reads the world and plans it: what `handoff plan` does after
// loading the specs.
func planOnce(tb testing.TB, w *statetest.World) (*plan.Plan, int) {
	live, err := state.Read(context.Background(), w.Sources(), w.Options())
	if err != nil {
		tb.Fatal(err)
	}
	p, diags := reconcile.Plan(context.Background(), w.Repo, live, reconcile.Options{Now: w.Now, Registry: w.Registry, Version: "bench"})
	if diags.HasErrors() {
		tb.Fatal(diags)
	}
	return p, len(live.Handoffs)
}

// TestNoChangePlanOnDevserver: N handoffs applied from their specs plan as
// no change, in the bounded number of requests of the read.
func TestNoChangePlanOnDevserver(t *testing.T) {
	const n = 100
	w := statetest.Start(t, n)
	w.Servers.Kit.Stats.Reset()
	p, read := planOnce(t, w)
	if read != n || len(p.Handoffs) != n {
		t.Fatalf("planned %d handoffs of %d read, want %d", len(p.Handoffs), read, n)
	}
	if p.HasChanges() {
		for _, h := range p.Handoffs {
			if h.Action.IsChange() {
				t.Fatalf("%s: %s (%s)", h.Slug, h.Action, h.Reason)
			}
		}
	}
	if got := w.Servers.Kit.Stats.Total(); got > 3 {
		t.Errorf("%d requests for a no-change plan of %d handoffs: %v", got, n, w.Servers.Kit.Stats.Snapshot())
	}

	// Out-of-band drift on the same servers: a deleted identity shows up.
	h := p.Handoffs[0]
	live, err := state.Read(context.Background(), w.Sources(), w.Options())
	if err != nil {
		t.Fatal(err)
	}
	m := live.Handoffs[h.Slug].Manifest
	if err := w.Infisical.DeleteIdentity(context.Background(), infsurface.Decode(m.Surfaces[infsurface.Name]).IdentityID); err != nil {
		t.Fatal(err)
	}
	p, _ = planOnce(t, w)
	if got := p.Handoffs[0]; got.Action != plan.Replace {
		t.Errorf("after deleting the identity out of band: %s (%s), want replace", got.Action, got.Reason)
	}
}

// BenchmarkPlan is the no-change plan of N handoffs (read and diff) with 0
// and 20 ms of latency added to every request by the dev servers.
func BenchmarkPlan(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		for _, lat := range []time.Duration{0, 20 * time.Millisecond} {
			b.Run(fmt.Sprintf("N=%d/latency=%s", n, lat), func(b *testing.B) {
				w := statetest.Start(b, n)
				w.Servers.Kit.Faults.SetLatency(lat, 0)
				if p, _ := planOnce(b, w); p.HasChanges() {
					b.Fatal("the seeded world does not plan as no change")
				}
				w.Servers.Kit.Stats.Reset()
				b.ResetTimer()
				for b.Loop() {
					planOnce(b, w)
				}
				b.ReportMetric(float64(w.Servers.Kit.Stats.Total())/float64(b.N), "requests/op")
			})
		}
	}
}
