package apply_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/apply"
)

// TestConcurrentAppliesMintOnce runs two applies of one plan at once:
// exactly one mints, the other fails clearly (no wait) or, waiting for the
// lock, finds the plan stale.
func TestConcurrentAppliesMintOnce(t *testing.T) {
	for _, wait := range []time.Duration{0, 10 * time.Second} {
		t.Run("wait="+wait.String(), func(t *testing.T) {
			w := newWorld(t, worldOptions{})
			w.kit.Faults.SetLatency(5*time.Millisecond, 0)
			p := w.plan()
			start := make(chan struct{})
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					d := w.deps()
					d.Lock.Wait = wait
					<-start
					rep, err := apply.Apply(context.Background(), p, d)
					w.record(rep, err)
					errs[i] = err
				}()
			}
			close(start)
			wg.Wait()
			ok, refused := 0, 0
			for _, err := range errs {
				var locked *apply.LockedError
				switch {
				case err == nil:
					ok++
				case wait == 0 && errors.As(err, &locked):
					refused++
					if !strings.Contains(err.Error(), "another apply holds the lock: owner ") || !strings.Contains(err.Error(), ", until 2026-06-21T09:00:30Z") {
						t.Errorf("refusal: %v", err)
					}
				case wait > 0 && errors.Is(err, apply.ErrStalePlan):
					refused++
				default:
					t.Errorf("unexpected: %v", err)
				}
			}
			if ok != 1 || refused != 1 {
				t.Fatalf("%d applied, %d refused: %v", ok, refused, errs)
			}
			if n := len(w.srv.GitHub.Tokens()); n != 1 {
				t.Errorf("%d tokens minted, want 1", n)
			}
			if n := len(w.handoffIdentities()); n != 2 {
				t.Errorf("%d identities, want 2", n)
			}
			if wait > 0 && !strings.Contains(w.progress.String(), "lock: waiting for the apply of ") {
				t.Errorf("the waiting apply did not say so:\n%s", w.progress.String())
			}
			w.assertNoOrphans(false)
			w.assertNoChanges()
		})
	}
}

// TestLockHeldIsRefusedAndExpiredIsTakenOver: a live lease of another owner
// refuses the apply; once it expires, the apply takes it over.
func TestLockHeldIsRefusedAndExpiredIsTakenOver(t *testing.T) {
	w := newWorld(t, worldOptions{})
	ctx := context.Background()
	lease, _ := json.Marshal(map[string]any{"owner": "ci-runner-7", "acquired_at": t0, "expires_at": t0.Add(time.Minute)})
	if _, err := w.inf.CreateSecret(ctx, env, root, apply.LockSecretName, string(lease)); err != nil {
		t.Fatal(err)
	}
	// The lease is neither a handoff nor unexpected content: a plan made
	// while an apply runs warns of nothing about the vault. (The dev App's
	// installation holds organization permissions, which the plan reports
	// whatever the lock.)
	p := w.plan()
	var vault []string
	for _, warning := range p.Policy.Warnings {
		if !strings.HasPrefix(warning, "GitHub App installation on raxx-app") {
			vault = append(vault, warning)
		}
	}
	if len(vault) != 0 || len(p.Handoffs) != 2 || !w.live().Locked {
		t.Errorf("plan while the lock is held: warnings %q, %d handoffs", p.Policy.Warnings, len(p.Handoffs))
	}
	_, err := w.applyWith(w.deps())
	var locked *apply.LockedError
	if !errors.As(err, &locked) || locked.Owner != "ci-runner-7" || !locked.Until.Equal(t0.Add(time.Minute)) {
		t.Fatalf("held lock: %v", err)
	}
	if len(w.handoffIdentities()) != 0 {
		t.Fatal("a refused apply wrote")
	}
	w.advance(time.Minute)
	w.mustApply()
	if !strings.Contains(w.progress.String(), "took over "+root+"/PROVISION_LOCK from ci-runner-7") {
		t.Errorf("progress:\n%s", w.progress.String())
	}
	if _, ok := w.srv.Infisical.Secret(env, root, apply.LockSecretName); ok {
		t.Error("the lock was not released")
	}
}

// TestLockRenewedAndLost: a long apply renews its lease; when another run
// overwrites it, the apply stops with a clear error and undoes what it
// minted.
func TestLockRenewedAndLost(t *testing.T) {
	w := newWorld(t, worldOptions{slugs: []string{iapSlug}})
	w.kit.Faults.SetLatency(10*time.Millisecond, 0)
	d := w.deps()
	d.Lock.TTL = 60 * time.Millisecond
	if _, err := w.applyWith(d); err != nil {
		t.Fatalf("a run longer than the lease, renewed: %v", err)
	}
	w.assertNoOrphans(false)

	w.advance(55 * time.Minute) // a refresh
	d.FailPoint = func(s apply.Step) error {
		if s.Name == "write GH_HANDOFF_TOKEN" {
			other, _ := json.Marshal(map[string]any{"owner": "intruder", "acquired_at": w.now(), "expires_at": w.now().Add(time.Hour)})
			if _, err := w.inf.UpdateSecret(context.Background(), env, root, apply.LockSecretName, string(other)); err != nil {
				t.Error(err)
			}
			time.Sleep(100 * time.Millisecond) // a renewal notices
		}
		return nil
	}
	_, err := w.applyWith(d)
	if err == nil || !strings.Contains(err.Error(), "lost the lock") {
		t.Fatalf("lost lock: %v", err)
	}
	w.assertNoOrphans(false) // the new token was revoked in memory
	if _, ok := w.srv.Infisical.Secret(env, root, apply.LockSecretName); !ok {
		t.Error("the apply that lost the lock deleted the lease")
	}
}
