package apply

import (
	"context"
	"sort"
	"time"

	"github.com/raxx-app/handoff/internal/plan"
)

// runOrder sorts the handoffs of a run by what must not wait: revocations
// first (a TTL that ended, a deleted spec: the credentials must go), then
// refreshes by the expiry of the credential they replace, soonest first
// (a refresh taken on late in a long run must still come before its
// credential expires), then the rest in the plan's order.
func runOrder(todo []*plan.Handoff) {
	rank := func(ph *plan.Handoff) (int, time.Time) {
		if ph.Operation.Final == plan.FinalRevoked {
			return 0, time.Time{}
		}
		if ph.Action == plan.Refresh {
			var soonest time.Time
			for _, c := range ph.Changes {
				if c.Action != plan.Refresh || c.Before == nil || c.Before.ExpiresAt.IsZero() {
					continue
				}
				if soonest.IsZero() || c.Before.ExpiresAt.Before(soonest) {
					soonest = c.Before.ExpiresAt
				}
			}
			if !soonest.IsZero() {
				return 1, soonest
			}
		}
		return 2, time.Time{}
	}
	sort.SliceStable(todo, func(i, j int) bool {
		ri, ti := rank(todo[i])
		rj, tj := rank(todo[j])
		if ri != rj {
			return ri < rj
		}
		return ti.Before(tj)
	})
}

// pastDeadline reports whether the run's deadline (Deps.Deadline) has come.
func (a *applier) pastDeadline() bool {
	return !a.deps.Deadline.IsZero() && !a.now().Before(a.deps.Deadline)
}

// sleep waits d on the run's clock (Deps.Sleep, else a timer) and reports
// true, or false as soon as done is closed or ctx ends.
func (a *applier) sleep(ctx context.Context, done <-chan struct{}, d time.Duration) bool {
	if a.deps.Sleep == nil {
		return sleep(ctx, done, d)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-done:
			cancel()
		case <-ctx.Done():
		}
	}()
	if err := a.deps.Sleep(ctx, d); err != nil {
		return false
	}
	select {
	case <-done:
		return false
	default:
		return ctx.Err() == nil
	}
}
