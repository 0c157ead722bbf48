package apply_test

import (
	"context"
	"fmt"
	"path"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/apply"
	"github.com/raxx-app/handoff/internal/devserver/infisicalsrv"
	"github.com/raxx-app/handoff/internal/spec"
)

// benchSpec is the spec of the i-th handoff of a benchmark.
func benchSpec(tb testing.TB, i int) *spec.Handoff {
	slug := fmt.Sprintf("bench-%05d-20260621", i)
	src := fmt.Sprintf(`handoff %q {
  card        = %d
  ttl         = "24h"
  approved_by = "ops"

  github {
    repository  = "raxx-app/TradeMasterAPI"
    permissions = { contents = "write", pull_requests = "write" }
  }

  infisical {
    read = ["/MooseQuest/queue/staging/APPLE_IAP_*"]
  }
}
`, slug, 1000+i)
	h, diags := spec.ParseHandoffFile(path.Join("testdata/repo/specs", slug+".hcl"), []byte(src))
	if diags.HasErrors() {
		tb.Fatal(diags)
	}
	return h
}

// BenchmarkCreate is the create-apply of N handoffs (github + infisical
// each) with 20 ms added to every request by the dev servers, mints run by
// DefaultParallelism workers, every rate limit switched off (limits=off:
// the engine is measured, not the vendors; at their default limits a
// create of 1,000 takes hours, which tools/benchrun/vsim measures in
// virtual time). It reports the requests and the wall time of the apply
// alone (the plan before it is not timed).
func BenchmarkCreate(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("N=%d/latency=20ms/limits=off", n), func(b *testing.B) {
			specs := make([]*spec.Handoff, n)
			for i := range specs {
				specs[i] = benchSpec(b, i)
			}
			var requests, writes int64
			var wall time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				fx := infisicalsrv.DefaultFixture()
				fx.Settings.RateLimits.Profile = infisicalsrv.ProfileSelfHosted // no limiter: the server's limit is not what is measured
				w := newWorld(b, worldOptions{fixture: &fx, noCleanup: true})
				w.srv.NoRateLimits()
				w.repo.Handoffs = specs
				p := w.plan()
				w.kit.Faults.SetLatency(20*time.Millisecond, 0)
				w.kit.Stats.Reset()
				d := w.deps()
				d.Progress = nil
				start := time.Now()
				b.StartTimer()
				rep, err := apply.Apply(context.Background(), p, d)
				b.StopTimer()
				wall += time.Since(start)
				if err != nil {
					b.Fatal(err)
				}
				requests += w.kit.Stats.Total()
				writes += int64(rep.Writes)
				if got := len(w.srv.GitHub.LiveTokens()); got != n {
					b.Fatalf("%d live tokens, want %d", got, n)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(requests)/float64(b.N), "requests/op")
			b.ReportMetric(float64(requests)/float64(b.N)/float64(n), "requests/handoff")
			b.ReportMetric(float64(wall.Milliseconds())/float64(b.N), "wall-ms/op")
		})
	}
}
