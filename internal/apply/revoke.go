package apply

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/provider"
	"github.com/raxx-app/handoff/internal/reconcile"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/state"
)

// ErrNothingFound is the error of a manual revoke that found nothing live
// for the slug (the CLI's exit 8).
var ErrNothingFound = errors.New("nothing found")

// RevokeOptions describe a manual revocation (`handoff revoke`).
type RevokeOptions struct {
	// Reason and By are recorded in the manifest's Revocation.
	Reason string
	By     string
	// Surfaces limits the revocation to these surfaces (the kill switch per
	// surface, H8); empty revokes the whole handoff.
	Surfaces []string
}

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
// left.
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
		idents := live.IdentitiesOf(slug)
		if (lh == nil || len(lh.Secrets) == 0) && len(idents) == 0 {
			return Report{}, fmt.Errorf("apply: revoke %s: %w: no folder %s/%s and no identity named for it", slug, ErrNothingFound, a.cfg.Root, slug)
		}
		var m *manifest.Manifest
		if lh != nil {
			m = lh.Manifest
		}
		if m != nil && m.Status == manifest.Revoked && !m.Untombstoned() && !lh.HasJournal() && len(idents) == 0 && onlyManifest(lh) {
			return Report{}, fmt.Errorf("apply: revoke %s: %w live: it was revoked (%s) at %s", slug, ErrNothingFound, m.Revocation.Kind, m.Revocation.At.UTC().Format("2006-01-02T15:04:05Z"))
		}
		ph := &plan.Handoff{Slug: slug, Action: plan.Revoke, Reason: manualReason(opts)}
		r := newRun(a, &plan.Plan{}, ph, live, a.deps.Repo.Handoff(slug))
		r.manual = &opts
		err := r.execute(ctx)
		rep := Report{Handoffs: []HandoffReport{{Slug: slug, Op: r.op, Action: plan.Revoke, Steps: r.writes, Flags: r.flags, Err: err}}, Writes: r.writes, Flags: r.flags}
		if err != nil {
			return rep, fmt.Errorf("handoff %s: %w", slug, err)
		}
		return rep, nil
	})
}

func onlyManifest(lh *state.Handoff) bool {
	for name := range lh.Secrets {
		if name != manifest.SecretName {
			return false
		}
	}
	return true
}

func manualReason(o RevokeOptions) string {
	if o.Reason != "" {
		return o.Reason
	}
	return "revoked by hand (handoff revoke)"
}

// decideManual plans a manual revocation.
func (r *run) decideManual() error {
	o := r.manual
	m := r.m
	by := o.By
	if by == "" {
		by = "an operator"
	}
	rv := &manifest.Revocation{At: r.now, Kind: manifest.RevokedManual, Reason: manualReason(*o), By: o.By}
	r.tombstoneFirst = true
	r.op = opRevoke
	partial := len(o.Surfaces) > 0
	if partial {
		if m == nil || m.Status != manifest.Active {
			return fmt.Errorf("revoke %s -surface: the handoff has no active manifest; revoke it whole", r.slug)
		}
		for _, s := range o.Surfaces {
			if !slices.Contains(m.Surfaces.Names(), s) {
				return fmt.Errorf("revoke %s: it has no %s surface (it has %s)", r.slug, s, strings.Join(m.Surfaces.Names(), ", "))
			}
		}
		killed := union(nil, o.Surfaces)
		if m.Revocation != nil && m.Revocation.Kind == manifest.RevokedManual {
			killed = union(m.Revocation.Surfaces, o.Surfaces)
		}
		rv.Surfaces = killed
		if len(killed) < len(m.Surfaces.Names()) {
			r.final, r.revocation, r.expires = finalUpdate, rv, m.ExpiresAt
			for _, name := range o.Surfaces {
				s, ok := r.a.deps.Registry.Get(name)
				if !ok {
					return fmt.Errorf("no provider for surface %s in this build: revoke it by hand with the vendor", name)
				}
				rec, _ := provider.RecordOf(m.Surfaces, name)
				r.revokes = append(r.revokes, work{s: s, op: provider.OpRevoke, rec: &rec, action: manifest.EventRevoke})
				for _, sec := range ownedSecrets(m, name, s) {
					if _, ok := r.lh.Secrets[sec]; ok {
						r.deletes = append(r.deletes, sec)
					}
				}
			}
			r.orderRevokes()
			// A surface read by reference (a pre-provisioned key the
			// handoff's identity reads from the vault) is cut off by
			// narrowing that identity's privilege in place (H8).
			r.withhold = reconcile.WithheldPaths(m.Surfaces, killed)
			dead := map[string]bool{}
			for _, k := range killed {
				dead[k] = true
			}
			r.addRegrant(dead)
			r.events = append(r.events, manifest.Event{At: r.now, Action: manifest.EventRevoke, Surface: strings.Join(o.Surfaces, ","),
				Detail: fmt.Sprintf("killed by %s: %s; not minted again until handoff untombstone", by, rv.Reason)})
			return nil
		}
		rv.Surfaces = nil // every surface: the whole handoff
	}
	r.final, r.revocation = finalRevoked, rv
	if m != nil {
		r.expires = m.ExpiresAt
	} else if h := r.h; h != nil {
		// No usable manifest: the tombstone is built from the spec.
		r.base = &manifest.Manifest{
			SchemaVersion: manifest.SchemaVersion, Slug: r.slug, Card: int(h.Card.Value),
			SpecFile: specFile(r.a.deps.Repo, h), SpecDigest: h.Digest(), ApprovedBy: cmp.Or(h.ApprovedBy.Value, "unknown"),
			CreatedAt: r.now, UpdatedAt: r.now, ExpiresAt: r.now, Status: manifest.Revoked, Secrets: []string{},
		}
		r.expires = r.now
	} else {
		r.final, r.tombstoneFirst = finalNone, false
		r.addFlags(fmt.Sprintf("handoff %s: no manifest and no spec: its leftovers are revoked but no tombstone can be written", r.slug))
	}
	// Leftovers found by name only (the folder is gone): the tombstone
	// needs its folder back.
	r.needFolder = r.lh == nil && r.final != finalNone
	if err := r.sweep(m); err != nil {
		return err
	}
	r.deleteFolder(m == nil)
	r.events = append(r.events, manifest.Event{At: r.now, Action: manifest.EventRevoke,
		Detail: fmt.Sprintf("tombstone: revoked by %s: %s; not minted again until handoff untombstone", by, rv.Reason)})
	return nil
}

// ownedSecrets are the folder secrets of one surface of m.
func ownedSecrets(m *manifest.Manifest, name string, s provider.Surface) []string {
	out := append([]string(nil), s.Secrets()...)
	if rec, ok := provider.RecordOf(m.Surfaces, name); ok {
		if rec.GitHub != nil && rec.GitHub.Secret != "" {
			out = union(out, []string{rec.GitHub.Secret})
		}
		if rec.Infisical != nil {
			for _, n := range []string{rec.Infisical.ClientIDSecret, rec.Infisical.ClientSecretSecret} {
				if n != "" {
					out = union(out, []string{n})
				}
			}
		}
	}
	return out
}

func specFile(repo *spec.Repo, h *spec.Handoff) string {
	if repo != nil {
		if rel, err := filepath.Rel(repo.Dir, h.Filename); err == nil && !strings.HasPrefix(rel, "..") {
			return filepath.ToSlash(rel)
		}
	}
	return filepath.ToSlash(h.Filename)
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
		if lh.HasJournal() || (m.Status == manifest.Revoked && len(live.IdentitiesOf(slug)) > 0) {
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
		_, err = a.deps.Infisical.UpdateSecret(ctx, a.cfg.Environment, a.cfg.Root+"/"+slug, manifest.SecretName, string(b))
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
