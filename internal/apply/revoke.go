package apply

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/reconcile"
	"github.com/raxx-app/handoff/internal/state"
	"github.com/raxx-app/handoff/internal/surface"
)

// ErrNothingFound is the error of a manual revoke that found nothing live
// for the slug (the CLI's exit 8).
var ErrNothingFound = errors.New("nothing found")

// RevokeOptions describe a manual revocation (`handoff revoke`).
type RevokeOptions = reconcile.KillOptions

// Revoke revokes a handoff now, out of band, and leaves a tombstone: apply
// never mints the slug (or the killed surfaces) again until Untombstone.
//
// It never waits for an apply, running or dead: it takes no lock. It reads
// the live state, writes its journal (unless an apply that holds the lock
// may be working on the handoff: its journal is left as it is) and the
// tombstone, before touching any credential, so that the gate closes at
// once and a running apply stops before its next mint (see KilledError);
// then it revokes the credentials in the contract's order (every
// revocation is idempotent: another kill may run at the same time),
// deletes the folder's secrets, and rewrites the manifest with the
// history. Its manifest writes read the manifest first and merge with what
// another run wrote since its read (a tombstone is never weakened). When
// one of them replaced a write it could not see (two writers at once:
// Infisical has no conditional update), it fails closed: it revokes the
// whole handoff again from a fresh read (a kill of some surfaces becomes a
// full revocation, saying why).
//
// When the folder has no valid manifest, the tombstone is built from the
// spec (Deps.Repo) if there is one; leftovers found by name are revoked
// either way. It returns ErrNothingFound (wrapped) when nothing at all
// exists for the slug, or when it is already revoked with nothing left.
// What it does is planned by reconcile.PlanKill, like every operation apply
// performs.
func Revoke(ctx context.Context, slug string, opts RevokeOptions, deps Deps) (Report, error) {
	a, err := newApplier(deps)
	if err != nil {
		return Report{}, err
	}
	if a.cfg.Root == "" || a.cfg.Environment == "" {
		return Report{}, errors.New("apply: revoke: the handoff root and environment are not configured")
	}
	a.command = "revoke"
	rep, err := a.revoke(ctx, slug, opts, false)
	if err == nil || errors.Is(err, ErrNothingFound) || rep.Writes > 0 {
		// After the credentials are cut, never before; never a failure.
		a.unenroll(ctx, slug, a.killed, &rep)
	}
	return rep, err
}

// revoke is Revoke's pass; again is set for the pass that fails closed.
func (a *applier) revoke(ctx context.Context, slug string, opts RevokeOptions, again bool) (Report, error) {
	live, err := a.readState(ctx)
	if err != nil {
		return Report{}, err
	}
	lh := live.Handoffs[slug]
	found := foundByName(a.deps.Registry, slug, live)
	if (lh == nil || len(lh.Secrets) == 0) && !found {
		if again {
			return Report{}, nil
		}
		// Nothing yet; but an apply that holds the lock may be creating
		// it right now: a tombstone built from the spec stops it.
		owner, creating := "", false
		if a.deps.Repo.Handoff(slug) != nil && live.Locked {
			owner, creating = a.foreignLease(ctx)
		}
		if !creating {
			return Report{}, fmt.Errorf("apply: revoke %s: %w: no folder %s/%s and nothing named for it", slug, ErrNothingFound, a.cfg.Root, slug)
		}
		a.progress("handoff %s: nothing exists yet, but the apply of %s holds the lock and may be creating it: writing its tombstone from the spec", slug, owner)
	}
	var m *manifest.Manifest
	if lh != nil {
		m = lh.Manifest
	}
	if m != nil && m.Status == manifest.Revoked && !m.Untombstoned() && !lh.HasJournal() && !found && onlyManifest(lh) {
		if again {
			return Report{}, nil
		}
		return Report{}, fmt.Errorf("apply: revoke %s: %w live: it was revoked (%s) at %s", slug, ErrNothingFound, m.Revocation.Kind, m.Revocation.At.UTC().Format("2006-01-02T15:04:05Z"))
	}
	ph, err := reconcile.PlanKill(a.deps.Registry, a.deps.Repo, live, slug, opts, a.now())
	if err != nil {
		return Report{}, err
	}
	r := newRun(a, &plan.Plan{}, ph, live, a.deps.Repo.Handoff(slug))
	err = r.execute(ctx)
	a.killed = r.final
	rep := Report{Handoffs: []HandoffReport{{Slug: slug, Op: string(r.op.Kind), Action: plan.Revoke, Steps: r.writes, Planned: r.op.Steps, Flags: r.flags, Err: err}}, Writes: r.writes, Flags: r.flags}
	if err != nil {
		return rep, fmt.Errorf("handoff %s: %w", slug, err)
	}
	if r.lost && !again {
		full := opts
		full.Surfaces = nil
		full.Reason = opts.ManualReason() + " (revoked whole: another run wrote the manifest at the same time as this kill, and what it wrote was lost)"
		a.progress("handoff %s: failing closed: revoking it whole, from a fresh read", slug)
		more, err := a.revoke(ctx, slug, full, true)
		rep.Writes += more.Writes
		rep.Flags = append(rep.Flags, more.Flags...)
		rep.Handoffs = append(rep.Handoffs, more.Handoffs...)
		if err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// failClosed revokes a handoff whole, from a fresh read, after a write that
// may have replaced a tombstone (ErrLostUpdate): why says so in the
// record. It takes no lock (it may run under this run's).
func (a *applier) failClosed(ctx context.Context, slug, why string) (Report, error) {
	b, err := newApplier(a.deps)
	if err != nil {
		return Report{}, err
	}
	b.cfg, b.command = a.cfg, "revoke"
	a.progress("handoff %s: failing closed: %s; revoking it whole", slug, why)
	return b.revoke(ctx, slug, RevokeOptions{Reason: why, By: "handoff " + a.command + " (" + a.deps.Lock.Owner + ")"}, true)
}

// afterKill is what an apply does for a handoff whose run stopped because
// its manifest was written by another run (err): what the run minted is
// undone already (its compensation). A manifest write of its own that
// replaced another's fails closed: the handoff is revoked whole. Otherwise
// the kill's own run revokes the rest; but a grant this run changed in
// place may have been widened after the kill narrowed it, and there is
// nothing to undo it with: the grant is set again as the kill asks.
func (a *applier) afterKill(ctx context.Context, r *run, err error) error {
	if r.lost {
		if _, ferr := a.failClosed(ctx, r.slug, fmt.Sprintf("apply run %s wrote the manifest over a write it could not see (a handoff revoke's tombstone?)", a.runID)); ferr != nil {
			return fmt.Errorf("%w; revoking it whole failed too: %v: run handoff revoke %s", err, ferr, r.slug)
		}
		return err
	}
	if len(r.regranted) > 0 {
		if rerr := r.regrantAsKilled(ctx); rerr != nil {
			return fmt.Errorf("%w; setting its grant again as the kill asks failed: %v: run handoff revoke again", err, rerr)
		}
	}
	return err
}

// regrantAsKilled sets again, in place, the grants this run changed, from
// the manifest's records less the paths its kill withholds.
func (r *run) regrantAsKilled(ctx context.Context) error {
	m, _, err := r.readManifest(ctx)
	if err != nil || m == nil || m.Status != manifest.Active {
		return err // revoked whole: the kill's run ends the identity
	}
	killed := m.KilledSurfaces()
	if len(killed) == 0 {
		return nil
	}
	dead := m.Killed()
	withhold := reconcile.WithheldPaths(r.a.deps.Registry, m.Surfaces, killed)
	for _, name := range r.regranted {
		s, ok := r.a.deps.Registry.Get(name)
		rg, regrants := s.(surface.Regranter)
		if !ok || !regrants || dead[name] || m.Surfaces[name] == nil {
			continue
		}
		req := &surface.Request{Slug: r.slug, Folder: r.folder, Environment: r.env, Now: r.now, ExpiresAt: m.ExpiresAt,
			Withhold: withhold, Live: r.live, Vault: r.a.deps.Vault,
			Step: func(_ context.Context, step string, _ map[string]string) error {
				r.a.progress("handoff %s: %s again, as the kill of %s asks", r.slug, step, strings.Join(killed, ", "))
				return nil
			}}
		if _, err := rg.Regrant(ctx, req, m.Surfaces[name]); err != nil {
			return err
		}
	}
	return nil
}

// foundByName reports whether a surface's deterministic names find
// something for slug.
func foundByName(reg *surface.Registry, slug string, live *state.Live) bool {
	for _, s := range reg.All() {
		if lf, ok := s.(surface.Leftovers); ok && len(lf.Leftovers(slug, live)) > 0 {
			return true
		}
	}
	return false
}

func onlyManifest(lh *state.Handoff) bool {
	for name := range lh.Secrets {
		if name != manifest.SecretName {
			return false
		}
	}
	return true
}

// Untombstone lifts a manual revocation so that apply may mint the slug
// again; it returns the manifest as it was before (its Revocation says who
// revoked it, when and why).
// For a handoff killed surface by surface (still active), the kill record
// is removed from the manifest. For a tombstoned (revoked) handoff, the
// manifest is kept as the record: it stays revoked, its revocation gains
// untombstoned_at, and the next apply mints the spec again into a new
// manifest that carries this one's history. Either way the history gains
// an untombstone event. Lifting a lifted tombstone writes nothing. It
// refuses while a revocation is unfinished (a journal: run apply first).
func Untombstone(ctx context.Context, slug string, deps Deps) (*manifest.Manifest, error) {
	a, err := newApplier(deps)
	if err != nil {
		return nil, err
	}
	var was *manifest.Manifest
	_, err = a.locked(ctx, func(ctx context.Context, live *state.Live) (Report, error) {
		lh := live.Handoffs[slug]
		if lh == nil || lh.Manifest == nil {
			return Report{}, fmt.Errorf("apply: untombstone %s: %w: no valid manifest", slug, ErrNothingFound)
		}
		m := lh.Manifest
		if m.Revocation == nil || m.Revocation.Kind != manifest.RevokedManual {
			return Report{}, fmt.Errorf("apply: untombstone %s: not tombstoned (status %s): nothing to lift", slug, m.Status)
		}
		if lh.HasJournal() || (m.Status == manifest.Revoked && foundByName(a.deps.Registry, slug, live)) {
			return Report{}, fmt.Errorf("apply: untombstone %s: its revocation did not finish: run handoff apply first", slug)
		}
		was = m
		if m.Untombstoned() {
			a.progress("handoff %s: untombstoned already at %s: the next apply mints it", slug, m.Revocation.UntombstonedAt.UTC().Format(time.RFC3339))
			return Report{}, nil
		}
		n, err := cloneManifest(m)
		if err != nil {
			return Report{}, err
		}
		now := a.now().UTC()
		rv := m.Revocation
		what := "the tombstone (all surfaces)"
		if m.Status == manifest.Active {
			what = "the kill of " + strings.Join(rv.Surfaces, ", ")
			n.Revocation = nil
		} else {
			n.Revocation.UntombstonedAt = now
		}
		n.UpdatedAt = now
		n.History = append(n.History, manifest.Event{At: now, Action: manifest.EventUntombstone, Surface: strings.Join(rv.Surfaces, ","),
			Detail: fmt.Sprintf("untombstoned by handoff untombstone (%s): %s by %s at %s (%s) is lifted; the next apply mints what the spec asks for",
				a.deps.Lock.Owner, what, cmp.Or(rv.By, "an operator"), rv.At.UTC().Format(time.RFC3339), rv.Reason)})
		b, err := manifest.Marshal(n)
		if err != nil {
			return Report{}, err
		}
		a.progress("step 1/1: write %s (%s)", manifest.SecretName, slug)
		read := lh.Secrets[manifest.SecretName].Version
		w, err := a.deps.Vault.UpdateSecret(ctx, a.cfg.Environment, a.cfg.Root+"/"+slug, manifest.SecretName, string(b))
		if err != nil {
			return Report{Writes: 1}, err
		}
		if w.Version != read+1 {
			// A kill wrote the manifest since the read (handoff revoke
			// takes no lock): this write may have lifted it. Fail closed.
			rep, ferr := a.failClosed(ctx, slug, "handoff untombstone wrote the manifest over a write it could not see (a handoff revoke's tombstone?); nothing is lifted")
			rep.Writes++
			if ferr != nil {
				return rep, fmt.Errorf("apply: untombstone %s: %w; revoking it whole failed too: %v: run handoff revoke %s", slug, ErrLostUpdate, ferr, slug)
			}
			return rep, fmt.Errorf("apply: untombstone %s: %w: the handoff was revoked whole again; run handoff untombstone again if that is still wanted", slug, ErrLostUpdate)
		}
		return Report{Writes: 1}, nil
	})
	if err != nil {
		return nil, err
	}
	return was, nil
}

// locked runs fn under the lock with a fresh read of the live state. fn's
// context is cancelled, with the cause, when the lock is lost; the lock is
// released when fn returns, unless the run crashed (a killed process
// releases nothing).
func (a *applier) locked(ctx context.Context, fn func(ctx context.Context, live *state.Live) (Report, error)) (Report, error) {
	if a.cfg.Root == "" || a.cfg.Environment == "" {
		return Report{}, errors.New("apply: the handoff root and environment are not configured")
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	lk, err := a.acquire(ctx)
	if err != nil {
		return Report{}, err
	}
	a.held.Store(lk)
	stop := lk.renew(ctx, cancel)
	defer func() {
		stop()
		if a.crashed.Load() {
			return
		}
		if err := lk.release(context.WithoutCancel(ctx)); err != nil {
			a.progress("lock: could not release %s: %v (it expires by itself)", lk.path(), err)
		}
	}()
	live, err := a.readState(ctx)
	if err != nil {
		return Report{}, err
	}
	return fn(ctx, live)
}
