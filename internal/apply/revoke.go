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
// The tombstone is written first, before any credential is touched, so the
// gate closes at once; then the credentials are revoked in the contract's
// order and the folder's secrets deleted, and the manifest is rewritten
// with the history. When the folder has no valid manifest, the tombstone is
// built from the spec (Deps.Repo) if there is one; leftovers found by name
// are revoked either way. It returns ErrNothingFound (wrapped) when nothing
// at all exists for the slug, or when it is already revoked with nothing
// left. What it does is planned by reconcile.PlanKill, like every
// operation apply performs.
func Revoke(ctx context.Context, slug string, opts RevokeOptions, deps Deps) (Report, error) {
	a, err := newApplier(deps)
	if err != nil {
		return Report{}, err
	}
	if a.cfg.Root == "" || a.cfg.Environment == "" {
		return Report{}, errors.New("apply: revoke: the handoff root and environment are not configured")
	}
	a.command = "revoke"
	return a.locked(ctx, func(ctx context.Context, live *state.Live) (Report, error) {
		lh := live.Handoffs[slug]
		found := foundByName(a.deps.Registry, slug, live)
		if (lh == nil || len(lh.Secrets) == 0) && !found {
			return Report{}, fmt.Errorf("apply: revoke %s: %w: no folder %s/%s and nothing named for it", slug, ErrNothingFound, a.cfg.Root, slug)
		}
		var m *manifest.Manifest
		if lh != nil {
			m = lh.Manifest
		}
		if m != nil && m.Status == manifest.Revoked && !m.Untombstoned() && !lh.HasJournal() && !found && onlyManifest(lh) {
			return Report{}, fmt.Errorf("apply: revoke %s: %w live: it was revoked (%s) at %s", slug, ErrNothingFound, m.Revocation.Kind, m.Revocation.At.UTC().Format("2006-01-02T15:04:05Z"))
		}
		ph, err := reconcile.PlanKill(a.deps.Registry, a.deps.Repo, live, slug, opts, a.now())
		if err != nil {
			return Report{}, err
		}
		r := newRun(a, &plan.Plan{}, ph, live, a.deps.Repo.Handoff(slug))
		err = r.execute(ctx)
		rep := Report{Handoffs: []HandoffReport{{Slug: slug, Op: string(r.op.Kind), Action: plan.Revoke, Steps: r.writes, Planned: r.op.Steps, Flags: r.flags, Err: err}}, Writes: r.writes, Flags: r.flags}
		if err != nil {
			return rep, fmt.Errorf("handoff %s: %w", slug, err)
		}
		return rep, nil
	})
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
		_, err = a.deps.Vault.UpdateSecret(ctx, a.cfg.Environment, a.cfg.Root+"/"+slug, manifest.SecretName, string(b))
		return Report{Writes: 1}, err
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
