package pace

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// TestUrgentRequestsGoAheadOfTheQueue: 160 ordinary requests queue on one
// route for four windows ahead (40 a minute); a lease's
// renewal (urgent) made meanwhile goes out in the current window, not
// behind them (at once: the window keeps a request for it), and the
// server refuses nothing. Without WithPriority the
// same request waits for the end of the queue.
func TestUrgentRequestsGoAheadOfTheQueue(t *testing.T) {
	for _, tc := range []struct {
		name   string
		urgent bool
		// within is how long the renewal may wait at most; beyond is how
		// long it must wait at least.
		within, beyond time.Duration
	}{
		{"urgent", true, time.Second, 0},
		{"ordinary", false, 0, 3 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				const max = 40
				clock := RealClock{} // the bubble's
				srv := newFakeServer(clock, max, time.Minute, Fixed)
				srv.headers = true
				m := perRoute(max, time.Minute, Fixed)
				m.Classes["secretsLimit"][0].Reserve = 1
				p := New(Config{Clock: clock})
				if err := p.Register(base, m); err != nil {
					t.Fatal(err)
				}
				url := base + "/api/v4/secrets/batch"
				lease := context.Background()
				if tc.urgent {
					lease = WithPriority(lease)
				}
				// The lease is taken first, as apply does.
				if n, err := send(t, p, srv, lease, "POST", url); err != nil || n > 0 {
					t.Fatalf("take: %d refusals, %v", n, err)
				}
				var wg sync.WaitGroup
				for range 160 {
					wg.Go(func() {
						if n, err := send(t, p, srv, context.Background(), "POST", url); err != nil || n > 0 {
							t.Errorf("ordinary: %d refusals, %v", n, err)
						}
					})
				}
				time.Sleep(10 * time.Second)
				synctest.Wait()
				start := time.Now()
				if n, err := send(t, p, srv, lease, "POST", url); err != nil || n > 0 {
					t.Fatalf("renew: %d refusals, %v", n, err)
				}
				waited := time.Since(start)
				wg.Wait()
				if tc.within > 0 && waited > tc.within {
					t.Errorf("the renewal waited %s, want at most %s", waited, tc.within)
				}
				if waited < tc.beyond {
					t.Errorf("the renewal waited %s, want at least %s (behind the queue)", waited, tc.beyond)
				}
				if srv.refused > 0 {
					t.Errorf("the server refused %d requests", srv.refused)
				}
				if got := srv.count("POST /api/v4/secrets/batch"); got != 162 {
					t.Errorf("%d requests arrived, want 162", got)
				}
			})
		})
	}
}
