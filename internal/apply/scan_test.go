package apply_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/apply"
	"github.com/raxx-app/handoff/internal/planfile"
	"github.com/raxx-app/handoff/internal/state"
)

// TestNoSecretInAnyOutput runs a whole lifecycle (create, refresh, a crash
// in the mint window and its recovery, a failed run, verify, a manual
// revoke, expiry) and scans every progress line, error, report flag, plan
// (JSON, text and plan file), manifest, journal and lease for every secret
// value minted during the test, as the dev servers hold them: zero hits.
// (Every test of this package runs the same scan at cleanup; this one makes
// sure it has something to find.)
func TestNoSecretInAnyOutput(t *testing.T) {
	w := newWorld(t, worldOptions{everySpec: true})
	ctx := context.Background()
	savePlan := func() {
		b, err := planfile.Marshal(w.plan())
		if err != nil {
			t.Fatal(err)
		}
		w.text(string(b))
	}
	savePlan()
	w.mustApply()
	w.advance(55 * time.Minute)
	savePlan()
	w.mustApply()

	// A crash right after a mint, then a journal captured mid-run.
	w.advance(55 * time.Minute)
	d := w.deps()
	d.FailPoint = crashAt(iapSlug, "refresh", 5)
	if _, err := w.applyWith(d); err == nil {
		t.Fatal("no crash")
	}
	if j, ok := w.srv.Infisical.Secret(env, root+"/"+iapSlug, state.JournalSecretName); !ok || !strings.Contains(j.Value, "in_flight") {
		t.Fatalf("journal after a crash in the mint window: %v", j.Value)
	}
	w.harvest()
	w.advance(leaseTTL + time.Second)
	rep := w.mustApply()
	if len(rep.Flags) == 0 {
		t.Error("no flag for the mint window")
	}
	// A failed (compensated) run.
	w.advance(55 * time.Minute)
	d = w.deps()
	d.FailPoint = failAt(iapSlug, "refresh", 6)
	if _, err := w.applyWith(d); err == nil {
		t.Fatal("no failure")
	}
	w.mustApply()

	vs, err := apply.Verify(ctx, nil, w.deps())
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		for _, x := range v.Violations {
			w.text(x.String())
		}
		for _, f := range v.Flags {
			w.text(f.Message)
		}
	}
	rep, err = apply.Revoke(ctx, iapSlug, apply.RevokeOptions{Reason: "end of test", By: "ops"}, w.deps())
	w.record(rep, err)
	if err != nil {
		t.Fatal(err)
	}
	w.advance(24 * time.Hour)
	savePlan()
	w.mustApply()

	w.mu.Lock()
	n := len(w.values)
	w.mu.Unlock()
	// Tokens (3 good ones + the compensated one's successor), client
	// secrets (2), the provisioner's, the queue's fixtures.
	if n < 10 {
		t.Errorf("only %d secret values collected: the scan would prove little", n)
	}
}
