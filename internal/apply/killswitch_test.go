package apply_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/apply"
	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/provider/infisical"
	"github.com/raxx-app/handoff/internal/vault"
)

// callLog is a vault that records every call (operation and secret, never
// a value) and can run a hook before a write: the tests interleave another
// run exactly there.
type callLog struct {
	vault.Vault
	mu    sync.Mutex
	calls []string
	// before, when set, is called before each write with its operation
	// and full path; it runs once per write.
	before func(op, fullPath string)
}

func (l *callLog) log(op, folder, key string) {
	l.mu.Lock()
	l.calls = append(l.calls, op+" "+path.Join(folder, key))
	hook := l.before
	l.mu.Unlock()
	if hook != nil && op != "get" && op != "list" && op != "names" {
		hook(op, path.Join(folder, key))
	}
}

func (l *callLog) log0() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.calls...)
}

func (l *callLog) ListSecrets(ctx context.Context, env, folder string, recursive bool) ([]vault.Secret, error) {
	l.log("list", folder, "")
	return l.Vault.ListSecrets(ctx, env, folder, recursive)
}

func (l *callLog) ListSecretNames(ctx context.Context, env, folder string, recursive bool) ([]vault.Secret, error) {
	l.log("names", folder, "")
	return l.Vault.ListSecretNames(ctx, env, folder, recursive)
}

func (l *callLog) GetSecret(ctx context.Context, env, folder, key string) (vault.Secret, error) {
	l.log("get", folder, key)
	return l.Vault.GetSecret(ctx, env, folder, key)
}

func (l *callLog) CreateSecret(ctx context.Context, env, folder, key, value, comment string) (vault.Secret, error) {
	l.log("create", folder, key)
	return l.Vault.CreateSecret(ctx, env, folder, key, value, comment)
}

func (l *callLog) UpdateSecret(ctx context.Context, env, folder, key, value string) (vault.Secret, error) {
	l.log("update", folder, key)
	return l.Vault.UpdateSecret(ctx, env, folder, key, value)
}

func (l *callLog) UpsertSecret(ctx context.Context, env, folder, key, value, comment string) (vault.Secret, error) {
	l.log("upsert", folder, key)
	return l.Vault.UpsertSecret(ctx, env, folder, key, value, comment)
}

func (l *callLog) DeleteSecret(ctx context.Context, env, folder, key string) error {
	l.log("delete", folder, key)
	return l.Vault.DeleteSecret(ctx, env, folder, key)
}

func (l *callLog) EnsureFolder(ctx context.Context, env, folder string) error {
	l.log("folder", folder, "")
	return l.Vault.EnsureFolder(ctx, env, folder)
}

// revokeDeps are the dependencies of `handoff revoke`: the CLI's lock
// timeout (which a kill must never spend) and a logged vault.
func (w *world) revokeDeps() (apply.Deps, *callLog) {
	d := w.deps()
	d.Lock.Wait = time.Second // the CLI waits 2 minutes; a kill must not wait at all
	l := &callLog{Vault: d.Vault}
	d.Vault = l
	return d, l
}

// mustRevoke kills slug (every surface, or those given) and fails on error.
func (w *world) mustRevoke(d apply.Deps, slug string, surfaces ...string) apply.Report {
	w.t.Helper()
	rep, err := apply.Revoke(context.Background(), slug, apply.RevokeOptions{Reason: "incident", By: "sec", Surfaces: surfaces}, d)
	w.record(rep, err)
	if err != nil {
		w.t.Fatalf("revoke %s %v: %v\nprogress:\n%s", slug, surfaces, err, w.progress.String())
	}
	return rep
}

// assertTombstoned checks that slug is revoked by hand and that nothing of
// it lives: no identity named for it, no live GitHub token.
func (w *world) assertTombstoned(slug string) {
	w.t.Helper()
	m := w.manifest(slug)
	if !m.Tombstoned() {
		w.t.Errorf("%s is not tombstoned: status %s, revocation %s", slug, m.Status, asJSON(m.Revocation))
	}
	for _, id := range w.handoffIdentities() {
		if strings.Contains(id.Name, slug) {
			w.t.Errorf("identity %s of %s still exists", id.Name, slug)
		}
	}
	if live := w.srv.GitHub.LiveTokens(); len(live) != 0 {
		w.t.Errorf("%d GitHub tokens live after the kill", len(live))
	}
}

// indexOf is the position of the first call with the prefix, or -1.
func indexOf(calls []string, prefix string) int {
	for i, c := range calls {
		if strings.HasPrefix(c, prefix) {
			return i
		}
	}
	return -1
}

// TestKillSwitchDoesNotWaitForACrashedApply (issue 12, item 3): after an
// apply is killed -9 (its lease stays, valid for its TTL on the dev clock,
// which does not move), `handoff revoke` neither reads nor waits for the
// lock: it reads the live state, writes the tombstone among its first
// writes, revokes every credential of the handoff and finishes.
func TestKillSwitchDoesNotWaitForACrashedApply(t *testing.T) {
	w := newWorld(t, worldOptions{slugs: []string{iapSlug}})
	w.mustApply()
	w.advance(55 * time.Minute) // a refresh is due
	d := w.deps()
	d.FailPoint = crashAt(iapSlug, "refresh", 3)
	if _, err := w.applyWith(d); !errors.Is(err, apply.ErrCrash) {
		t.Fatalf("the apply did not crash: %v", err)
	}
	if _, held := w.srv.Infisical.Secret(env, root, apply.LockSecretName); !held {
		t.Fatal("the crashed apply's lease is gone")
	}
	rd, calls := w.revokeDeps()
	w.kit.Stats.Reset()
	w.mustRevoke(rd, iapSlug)
	log := calls.log0()
	for _, c := range log {
		if strings.HasSuffix(c, apply.LockSecretName) && !strings.HasPrefix(c, "get ") {
			t.Errorf("the kill wrote the lock: %s", c)
		}
	}
	if n := strings.Count(strings.Join(log, "\n"), "get "+path.Join(root, apply.LockSecretName)); n > 1 {
		t.Errorf("the kill read the lock %d times", n)
	}
	if strings.Contains(w.progress.String(), "lock: waiting") {
		t.Errorf("the kill waited for the lock:\n%s", w.progress.String())
	}
	// The gate closes before any credential is touched: the tombstone is
	// among the kill's first writes, right after the live state.
	tomb := indexOf(log, "upsert "+path.Join(root, iapSlug, manifest.SecretName))
	firstWrite := -1
	for i, c := range log {
		if !strings.HasPrefix(c, "get ") && !strings.HasPrefix(c, "names ") && !strings.HasPrefix(c, "list ") {
			firstWrite = i
			break
		}
	}
	if tomb < 0 || tomb > firstWrite+1 || tomb > 6 {
		t.Errorf("the tombstone is vault call %d (first write %d):\n%s", tomb, firstWrite, strings.Join(log, "\n"))
	}
	w.assertTombstoned(iapSlug)
	if n := w.kit.Stats.Total(); n > 40 {
		t.Errorf("the kill sent %d requests", n)
	}
	// The crashed apply's journal is settled by the next apply, which
	// mints nothing.
	w.advance(leaseTTL)
	w.mustApply()
	w.assertTombstoned(iapSlug)
	w.assertNoChanges()
}

// pausedApply runs an apply of p in the background, paused before step k
// of op on slug until the returned resume is called.
type pausedApply struct {
	paused chan struct{}
	resume chan struct{}
	done   chan struct{}
	rep    apply.Report
	err    error
	hit    bool
}

func (w *world) startPaused(slug, op string, k int) *pausedApply {
	w.t.Helper()
	p := w.plan()
	pa := &pausedApply{paused: make(chan struct{}), resume: make(chan struct{}), done: make(chan struct{})}
	d := w.deps()
	d.FailPoint = func(s apply.Step) error {
		if s.Slug == slug && s.Op == op && s.Index == k && !pa.hit {
			pa.hit = true
			close(pa.paused)
			<-pa.resume
		}
		return nil
	}
	go func() {
		defer close(pa.done)
		pa.rep, pa.err = apply.Apply(context.Background(), p, d)
	}()
	return pa
}

// wait waits until the apply pauses or ends; false when it ended first.
func (pa *pausedApply) wait() bool {
	select {
	case <-pa.paused:
		return true
	case <-pa.done:
		return false
	}
}

// stepsOf are the steps a clean run of op on slug announces, from a world
// set up the same way.
func stepsOf(t *testing.T, setup func(*world), slug, op string) []apply.Step {
	ref := newWorld(t, worldOptions{slugs: []string{slug}})
	setup(ref)
	var l stepLog
	d := ref.deps()
	d.FailPoint = l.fp
	if _, err := ref.applyWith(d); err != nil {
		t.Fatal(err)
	}
	return l.of(slug, op)
}

// TestKillSwitchWhileAnApplyIsPausedAtEachStep: an apply paused before each
// step of a create and of a refresh in turn, `handoff revoke` runs to the
// end without waiting; when the apply resumes it mints nothing more for the
// handoff, revokes what it had minted, and never writes it back to life: the
// tombstone stands, no identity or token of the handoff is alive, and the
// next apply converges with nothing to do.
func TestKillSwitchWhileAnApplyIsPausedAtEachStep(t *testing.T) {
	phases := []struct {
		name, op string
		setup    func(*world)
	}{
		{"create", "create", func(*world) {}},
		{"refresh", "refresh", func(w *world) { w.mustApply(); w.advance(55 * time.Minute) }},
	}
	for _, ph := range phases {
		t.Run(ph.name, func(t *testing.T) {
			steps := stepsOf(t, ph.setup, iapSlug, ph.op)
			if len(steps) < 4 {
				t.Fatalf("%d steps", len(steps))
			}
			for _, st := range steps {
				t.Run(fmt.Sprintf("%02d-%s", st.Index, strings.ReplaceAll(st.Name, " ", "_")), func(t *testing.T) {
					w := newWorld(t, worldOptions{slugs: []string{iapSlug}})
					ph.setup(w)
					a := w.startPaused(iapSlug, ph.op, st.Index)
					if !a.wait() {
						t.Fatalf("the apply ended before step %d: %v", st.Index, a.err)
					}
					rd, _ := w.revokeDeps()
					w.mustRevoke(rd, iapSlug)
					close(a.resume)
					<-a.done
					w.record(a.rep, a.err)
					var killed *apply.KilledError
					switch last := st.Index == len(steps); {
					case last && a.err != nil:
						t.Errorf("the apply paused after its manifest failed: %v", a.err)
					case !last && !errors.As(a.err, &killed):
						t.Errorf("the apply's error is not the kill's: %v", a.err)
					case !last && (killed.Revocation == nil || killed.Revocation.By != "sec"):
						t.Errorf("the kill's error does not name it: %v", a.err)
					}
					w.assertTombstoned(iapSlug)
					// What the resumed apply may have left (a dead value
					// in the folder) is swept by the next apply, which
					// mints nothing.
					w.advance(leaseTTL)
					w.mustApply()
					w.assertTombstoned(iapSlug)
					w.assertNoChanges()
				})
			}
		})
	}
}

// TestKillOfASurfaceWhileAnApplyWidensIt: after untombstone, an apply
// widens the privilege back (the by-reference key is read again); an
// operator kills that surface again while the apply is paused before each
// of its steps. The key stays refused once both are done: the apply's
// widening, if it lands after the kill's narrowing, is narrowed again by
// the apply itself.
func TestKillOfASurfaceWhileAnApplyWidensIt(t *testing.T) {
	setup := func(w *world) {
		w.mustApply()
		w.kill(iapSlug, "apple_iap")
		if _, err := apply.Untombstone(context.Background(), iapSlug, w.deps()); err != nil {
			w.t.Fatal(err)
		}
	}
	steps := stepsOf(t, setup, iapSlug, "update")
	for _, st := range steps {
		t.Run(fmt.Sprintf("%02d-%s", st.Index, strings.ReplaceAll(st.Name, " ", "_")), func(t *testing.T) {
			w := newWorld(t, worldOptions{slugs: []string{iapSlug}})
			setup(w)
			a := w.startPaused(iapSlug, "update", st.Index)
			if !a.wait() {
				t.Fatalf("the apply ended before step %d: %v", st.Index, a.err)
			}
			rd, _ := w.revokeDeps()
			w.mustRevoke(rd, iapSlug, "apple_iap")
			close(a.resume)
			<-a.done
			w.record(a.rep, a.err)
			if err := w.canRead(iapSlug, queue, "APPLE_IAP_KEY_ID"); !infisical.IsForbidden(err) {
				t.Errorf("after the kill and the paused apply: APPLE_IAP_KEY_ID: want 403, got %v\n%s", err, w.progress.String())
			}
			m := w.manifest(iapSlug)
			if m.Status != manifest.Active || strings.Join(m.KilledSurfaces(), ",") != "apple_iap" {
				t.Errorf("manifest: %s, kill %v", m.Status, m.KilledSurfaces())
			}
			w.mustApply()
			if err := w.canRead(iapSlug, queue, "APPLE_IAP_KEY_ID"); !infisical.IsForbidden(err) {
				t.Errorf("after the next apply: APPLE_IAP_KEY_ID: want 403, got %v", err)
			}
			w.assertNoOrphans(false)
			w.assertNoChanges()
		})
	}
}

// TestApplyThatOverwritesATombstoneFailsClosed: the kill runs whole
// between an apply's last check of the manifest and its write of it (its
// request stalled). The apply's write replaces the tombstone; the version
// it gets back says someone wrote in between, so it fails closed: the
// handoff is revoked whole again, nothing it minted lives, and nothing is
// minted again.
func TestApplyThatOverwritesATombstoneFailsClosed(t *testing.T) {
	for _, op := range []string{"create", "refresh"} {
		t.Run(op, func(t *testing.T) {
			w := newWorld(t, worldOptions{slugs: []string{iapSlug}})
			if op == "refresh" {
				w.mustApply()
				w.advance(55 * time.Minute)
			}
			d := w.deps()
			l := &callLog{Vault: d.Vault}
			d.Vault = l
			var once sync.Once
			l.before = func(o, full string) {
				if o == "upsert" && full == path.Join(root, iapSlug, manifest.SecretName) {
					once.Do(func() { w.mustRevoke(w.deps(), iapSlug) })
				}
			}
			rep, err := apply.Apply(context.Background(), w.plan(), d)
			w.record(rep, err)
			if !errors.Is(err, apply.ErrLostUpdate) {
				t.Fatalf("apply over a tombstone: %v", err)
			}
			w.assertTombstoned(iapSlug)
			m := w.manifest(iapSlug)
			if !strings.Contains(m.Revocation.Reason, "wrote the manifest over a write it could not see") {
				t.Errorf("the record does not say why: %s", asJSON(m.Revocation))
			}
			w.advance(leaseTTL)
			w.mustApply()
			w.assertTombstoned(iapSlug)
			w.assertNoChanges()
		})
	}
}

// TestTwoKillsAtOnce: two revokes of one handoff at once, whole or of one
// surface, in either order, one of them running whole between the other's
// read of the manifest and its write: kills are idempotent, a tombstone is
// never weakened, and a kill whose write replaced another's fails closed
// (revokes the handoff whole).
func TestTwoKillsAtOnce(t *testing.T) {
	tests := []struct {
		name          string
		outer, inner  []string // the surfaces each kills (nil: all)
		wantTombstone bool
	}{
		{"whole, whole", nil, nil, true},
		{"whole, then github inside", nil, []string{"github"}, true},
		{"github, then whole inside", []string{"github"}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, worldOptions{slugs: []string{iapSlug}})
			w.mustApply()
			d, l := w.revokeDeps()
			var once sync.Once
			l.before = func(o, full string) {
				if o == "upsert" && full == path.Join(root, iapSlug, manifest.SecretName) {
					once.Do(func() { w.mustRevoke(w.deps(), iapSlug, tt.inner...) })
				}
			}
			w.mustRevoke(d, iapSlug, tt.outer...)
			w.assertTombstoned(iapSlug)
			m := w.manifest(iapSlug)
			if n := strings.Count(asJSON(m.History), "revoked by sec"); n < 1 {
				t.Errorf("history: %s", asJSON(m.History))
			}
			w.mustApply()
			w.assertTombstoned(iapSlug)
			w.assertNoChanges()
		})
	}
	// Two kills truly at once, on a slow server: whatever the order, the
	// handoff ends tombstoned with nothing alive.
	t.Run("concurrent", func(t *testing.T) {
		w := newWorld(t, worldOptions{slugs: []string{iapSlug}})
		w.mustApply()
		w.kit.Faults.SetLatency(3*time.Millisecond, 2*time.Millisecond)
		var wg sync.WaitGroup
		for _, s := range [][]string{nil, {"github"}, nil} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rep, err := apply.Revoke(context.Background(), iapSlug, apply.RevokeOptions{Reason: "incident", By: "sec", Surfaces: s}, w.deps())
				w.record(rep, err)
				if err != nil && !errors.Is(err, apply.ErrNothingFound) && !strings.Contains(err.Error(), "no active manifest") {
					t.Errorf("revoke %v: %v", s, err)
				}
			}()
		}
		wg.Wait()
		w.kit.Faults.SetLatency(0, 0)
		w.assertTombstoned(iapSlug)
		w.mustApply()
		w.assertTombstoned(iapSlug)
		w.assertNoChanges()
	})
}

// TestUntombstoneRacingAKillFailsClosed: a kill written between
// untombstone's read and its write is not lifted: untombstone sees the
// version and revokes the handoff whole again.
func TestUntombstoneRacingAKillFailsClosed(t *testing.T) {
	w := newWorld(t, worldOptions{slugs: []string{iapSlug}})
	w.mustApply()
	w.mustRevoke(w.deps(), iapSlug)
	d := w.deps()
	l := &callLog{Vault: d.Vault}
	d.Vault = l
	var once sync.Once
	l.before = func(o, full string) {
		if o == "update" && full == path.Join(root, iapSlug, manifest.SecretName) {
			once.Do(func() {
				// A second incident: someone kills it again, by hand.
				m := w.manifest(iapSlug)
				m.Revocation.Reason = "second incident"
				b, _ := json.Marshal(m)
				if _, err := w.inf.UpdateSecret(context.Background(), env, path.Join(root, iapSlug), manifest.SecretName, string(b)); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
	_, err := apply.Untombstone(context.Background(), iapSlug, d)
	if !errors.Is(err, apply.ErrLostUpdate) {
		t.Fatalf("untombstone racing a kill: %v", err)
	}
	w.text(err.Error())
	w.assertTombstoned(iapSlug)
	if p := w.plan(); p.HasChanges() {
		t.Errorf("the plan after the race mints: %+v", p.Summary())
	}
}
