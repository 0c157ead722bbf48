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
	"github.com/raxx-app/handoff/internal/devserver/devkit"
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
		if strings.HasPrefix(s.Name, "write GH_HANDOFF_TOKEN") {
			other, _ := json.Marshal(map[string]any{"owner": "intruder", "acquired_at": w.now(), "expires_at": w.now().Add(time.Hour)})
			if _, err := w.inf.UpdateSecret(context.Background(), env, root, apply.LockSecretName, string(other)); err != nil {
				t.Error(err)
			}
			// The step waits for a renewal to notice (every TTL/4), so
			// that the apply has lost the lock before its next request
			// whatever the scheduling: a fixed sleep let a starved
			// renewer miss the window and the run finish.
			if !eventually(time.Minute, func() bool { return strings.Contains(w.progress.String(), "lock: apply: lost the lock") }) {
				t.Errorf("no renewal noticed the intruder's lease:\n%s", w.progress.String())
			}
		}
		return nil
	}
	_, err := w.applyWith(d)
	if err == nil || !strings.Contains(err.Error(), "lost the lock") {
		t.Fatalf("lost lock: %v", err)
	}
	w.assertNoOrphans(false) // the new token was revoked in memory
	// The lease is the intruder's, or, when a renewal raced the intruder's
	// write, the apply's own last renewal: never deleted.
	if _, ok := w.srv.Infisical.Secret(env, root, apply.LockSecretName); !ok {
		t.Error("the apply that lost the lock deleted the lease")
	}
}

// TestLockLapsesWhenRenewalFails: renewals fail (Infisical answers 503)
// while the lease's expiry comes: the holder stops before the lease lapses,
// with the reason, instead of minting on under a lease another apply may
// take over; and its release leaves alone the lease the next apply took.
func TestLockLapsesWhenRenewalFails(t *testing.T) {
	w := newWorld(t, worldOptions{slugs: []string{iapSlug}})
	d := w.deps()
	d.Lock.TTL = 600 * time.Millisecond // renewed every 200 ms
	d.Lock.Owner = "first-apply"
	stopped := false
	d.FailPoint = func(s apply.Step) error {
		if !strings.HasPrefix(s.Name, "write GH_HANDOFF_TOKEN") {
			return nil
		}
		// The token is minted; every renewal fails from now on (the
		// client's retries too), and then the lease's expiry comes.
		id := w.kit.Faults.Add(devkit.Fault{Route: "PATCH /api/v4/secrets/" + apply.LockSecretName, Status: 503})
		if !eventually(time.Minute, func() bool { return strings.Contains(w.progress.String(), "lock: renewal failed") }) {
			t.Errorf("no renewal failed:\n%s", w.progress.String())
		}
		w.advance(d.Lock.TTL)
		stopped = eventually(time.Minute, func() bool {
			return strings.Contains(w.progress.String(), "could not renew")
		})
		w.kit.Faults.Remove(id)
		// The lease has expired: a second apply takes it over while the
		// first is still in its step.
		w.takeOver("second-apply")
		return nil
	}
	_, err := w.applyWith(d)
	if !stopped {
		t.Errorf("the holder did not stop when its lease lapsed:\n%s", w.progress.String())
	}
	const cause = "apply: lost the lock: could not renew " + root + "/PROVISION_LOCK before it expired"
	if err == nil || !strings.Contains(err.Error(), cause) || !strings.Contains(err.Error(), "last renewal: infisical: ") ||
		!strings.Contains(err.Error(), "the next apply converges from the journals") {
		t.Fatalf("a run whose lease lapsed: %v", err)
	}
	if strings.Contains(w.progress.String(), "delete PROVISION_JOURNAL") || w.manifests()[iapSlug] != nil {
		t.Errorf("the run went on after its lease lapsed:\n%s", w.progress.String())
	}
	if owner := w.leaseOwner(); owner != "second-apply" {
		t.Errorf("the lease the second apply took over: owner %q", owner)
	}
	w.assertNoOrphans(false) // what the stopped run minted was revoked

	w.advance(leaseTTL + time.Second)
	w.mustApply()
	w.assertNoOrphans(false)
	w.assertNoChanges()
}

// TestReleaseLeavesATakenOverLease: an apply whose lease expired during its
// run (a stall) must not delete, as it releases, the lease another apply
// took over meanwhile. Its release's DELETE is slowed down so that the
// second apply's takeover falls between the first's read of the lease and
// its delete.
func TestReleaseLeavesATakenOverLease(t *testing.T) {
	w := newWorld(t, worldOptions{slugs: []string{iapSlug}})
	d := w.deps()
	d.Lock.Owner = "first-apply"
	d.FailPoint = func(s apply.Step) error {
		if strings.HasSuffix(s.Name, "PROVISION_MANIFEST") {
			w.advance(leaseTTL + time.Second) // the run stalled past its lease
			return errors.New("injected failure")
		}
		return nil
	}
	del := w.kit.Faults.Add(devkit.Fault{Route: "DELETE /api/v4/secrets/" + apply.LockSecretName, Delay: 500 * time.Millisecond, Count: 1})
	firstDone := make(chan struct{})
	var (
		second      sync.WaitGroup
		secondErr   error
		ownerInside string
	)
	second.Add(1)
	go func() {
		defer second.Done()
		// Once the first apply's delete of the lease is on its way (or the
		// first apply is done), the second apply starts.
		eventually(10*time.Second, func() bool {
			select {
			case <-firstDone:
				return true
			default:
			}
			for _, f := range w.kit.Faults.List() {
				if f.ID == del && f.Fired > 0 {
					return true
				}
			}
			return false
		})
		d2 := w.deps()
		d2.Lock.Owner = "second-apply"
		first := true
		d2.FailPoint = func(apply.Step) error {
			if first {
				first = false
				<-firstDone // the first apply's release is over
				ownerInside = w.leaseOwner()
			}
			return nil
		}
		_, secondErr = w.applyWith(d2)
	}()
	_, err := w.applyWith(d)
	close(firstDone)
	second.Wait()
	if err == nil || !strings.Contains(err.Error(), "injected failure") {
		t.Fatalf("first apply: %v", err)
	}
	if secondErr != nil {
		t.Fatalf("second apply: %v\n%s", secondErr, w.progress.String())
	}
	if ownerInside != "second-apply" {
		t.Errorf("while the second apply ran, the lease's owner was %q: the first apply's release undermined it\n%s", ownerInside, w.progress.String())
	}
	if !strings.Contains(w.progress.String(), "took over "+root+"/PROVISION_LOCK from first-apply") {
		t.Errorf("progress:\n%s", w.progress.String())
	}
	w.assertNoOrphans(false)
	w.assertNoChanges()
}

// TestReleaseChecksOwnerAndVersion: release deletes the lease only when it
// is the version this run wrote last; one written since, even under the
// same owner (an ambiguous renewal the client repeated), is left to expire.
func TestReleaseChecksOwnerAndVersion(t *testing.T) {
	w := newWorld(t, worldOptions{slugs: []string{iapSlug}})
	d := w.deps()
	d.Lock.Owner = "first-apply"
	d.FailPoint = func(s apply.Step) error {
		if s.Name == "delete PROVISION_JOURNAL" {
			sec, err := w.inf.GetSecret(context.Background(), env, root, apply.LockSecretName)
			if err == nil {
				_, err = w.inf.UpdateSecret(context.Background(), env, root, apply.LockSecretName, sec.Value)
			}
			if err != nil {
				t.Error(err)
			}
		}
		return nil
	}
	if _, err := w.applyWith(d); err != nil {
		t.Fatal(err)
	}
	if owner := w.leaseOwner(); owner != "first-apply" {
		t.Errorf("release deleted a lease version it did not write (owner now %q)", owner)
	}
	if !strings.Contains(w.progress.String(), "it is no longer the lease this run wrote (owner first-apply, version 2, ours 1)") {
		t.Errorf("progress:\n%s", w.progress.String())
	}
	w.advance(leaseTTL + time.Second)
	w.assertNoChanges()
}

// leaseOwner is the owner the lock secret names ("" without one).
func (w *world) leaseOwner() string {
	w.t.Helper()
	sec, err := w.inf.GetSecret(context.Background(), env, root, apply.LockSecretName)
	if err != nil {
		return ""
	}
	var l struct {
		Owner string `json:"owner"`
	}
	if err := json.Unmarshal([]byte(sec.Value), &l); err != nil {
		w.t.Errorf("lease: %v", err)
	}
	return l.Owner
}

// takeOver writes the lease of owner over an expired one, as acquire does
// (it may be called from an apply's goroutine: it fails with Errorf).
func (w *world) takeOver(owner string) {
	w.t.Helper()
	ctx := context.Background()
	cur, err := w.inf.GetSecret(ctx, env, root, apply.LockSecretName)
	if err != nil {
		w.t.Errorf("read the lease: %v", err)
		return
	}
	var l struct {
		ExpiresAt time.Time `json:"expires_at"`
	}
	if err := json.Unmarshal([]byte(cur.Value), &l); err != nil || w.now().Before(l.ExpiresAt) {
		w.t.Errorf("the lease has not expired (until %s, now %s): %v", l.ExpiresAt, w.now(), err)
		return
	}
	mine, _ := json.Marshal(map[string]any{"owner": owner, "acquired_at": w.now(), "expires_at": w.now().Add(leaseTTL)})
	upd, err := w.inf.UpdateSecret(ctx, env, root, apply.LockSecretName, string(mine))
	if err != nil || upd.Version != cur.Version+1 {
		w.t.Errorf("take over the lease: %v (version %d after %d: someone else wrote it)", err, upd.Version, cur.Version)
	}
}

// eventually polls cond until it holds or d has passed. d bounds a wait
// for something the run does, not its speed: it is generous, so that a
// loaded machine never fails the test by it.
func eventually(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// TestStepRefusesALapsedLease: a process suspended past its lease (the
// clock jumps during a step) takes no further step, whatever the
// watchdog's timer has done yet: each step checks the lease itself.
func TestStepRefusesALapsedLease(t *testing.T) {
	w := newWorld(t, worldOptions{slugs: []string{iapSlug}})
	d := w.deps()
	d.Lock.TTL = time.Hour // the watchdog's own checks are far apart
	var after []string
	jumped := false
	d.FailPoint = func(s apply.Step) error {
		if jumped {
			after = append(after, s.Name)
		}
		if s.Name == "create identity" {
			w.advance(2 * time.Hour)
			jumped = true
		}
		return nil
	}
	_, err := w.applyWith(d)
	if err == nil || !strings.Contains(err.Error(), "lost the lock") {
		t.Fatalf("apply after the lease lapsed: %v", err)
	}
	if len(after) != 0 {
		t.Errorf("steps taken after the lease lapsed: %v", after)
	}
	w.advance(time.Minute)
	w.mustApply()
	w.assertNoOrphans(false)
}
