package infisicalvault

import (
	"context"
	"testing"

	"github.com/raxx-app/handoff/internal/provider/pace"
	"github.com/raxx-app/handoff/internal/vault"
)

// TestUrgentReachesThePacer: the lease's requests (vault.Urgent) reach the
// client's pacer as urgent ones; the others do not.
func TestUrgentReachesThePacer(t *testing.T) {
	for _, tc := range []struct {
		ctx  context.Context
		want bool
	}{
		{context.Background(), false},
		{vault.Urgent(context.Background()), true},
	} {
		if got := pace.IsPriority(paced(tc.ctx)); got != tc.want {
			t.Errorf("urgent %v: the pacer sees %v", vault.IsUrgent(tc.ctx), got)
		}
	}
}
