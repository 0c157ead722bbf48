package apply

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/provider"
	"github.com/raxx-app/handoff/internal/provider/infisical"
	"github.com/raxx-app/handoff/internal/reconcile"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/state"
)

// Operations of a handoff's run, as journaled and reported.
const (
	opCreate  = "create"  // a new handoff
	opRecover = "recover" // leftovers of a crashed run or a corrupt manifest, then create again when the spec exists
	opRefresh = "refresh" // re-mint with the same grant
	opUpdate  = "update"  // some surfaces replaced, created or revoked
	opReplace = "replace" // the spec changed: everything minted again, new TTL
	opRevoke  = "revoke"  // everything revoked, the manifest kept as the record
)

// finalKind is what a run writes last.
type finalKind int

const (
	finalNone    finalKind = iota // nothing (leftovers of a handoff with no spec and no manifest)
	finalNew                      // a new active manifest
	finalUpdate                   // the active manifest, updated
	finalRevoked                  // the manifest, revoked (a new Revocation unless it has one)
)

// work is one surface operation of a run.
type work struct {
	s  provider.Surface
	op provider.Op
	// rec is the manifest's record of the surface (nil when none).
	rec *provider.Record
	// action is what the history records (create, refresh, replace, revoke).
	action manifest.EventAction
	// fromRecord makes a regrant start from the recorded grant rather than
	// the spec (the spec changed since the manifest was written: a changed
	// spec is not applied while surfaces are killed).
	fromRecord bool
}

// done is a finished mint.
type done struct {
	w   work
	res provider.Result
}

// run applies one handoff.
type run struct {
	a    *applier
	p    *plan.Plan
	ph   *plan.Handoff
	live *state.Live
	lh   *state.Handoff     // nil: no folder
	h    *spec.Handoff      // nil: the spec is gone
	m    *manifest.Manifest // the valid live manifest, or nil

	slug, folder, env string
	now, expires      time.Time
	op                string

	needFolder bool
	revokes    []work
	deletes    []string
	// regrants change a grant in place (the identity's privilege, narrowed
	// by the kill of a surface read by reference or widened once the kill
	// is lifted): after the revocations, before the mints.
	regrants []work
	mints    []work
	// withhold are the read paths the identity must not be granted (the
	// key paths of killed surfaces read by reference): Request.Withhold.
	withhold []string
	// newSpec is set when the run replaces the whole handoff with a
	// changed spec: only then does the manifest take the new spec digest
	// and a new TTL. frozen is set when the spec changed but the plan does
	// not replace the handoff (surfaces were killed): nothing may be minted.
	newSpec, frozen bool
	dropped         []string // surfaces whose record goes
	final           finalKind
	revocation      *manifest.Revocation
	// manual is set for `handoff revoke`; tombstoneFirst writes the
	// manifest's revocation record before any credential is touched.
	manual         *RevokeOptions
	tombstoneFirst bool
	// base is the manifest a manual revoke starts from when the folder has
	// none (built from the spec), so that a tombstone can be written.
	base *manifest.Manifest

	steps  []string
	pos    int
	writes int

	oldJournal *Journal
	journal    *Journal
	comps      []func(context.Context) error
	minted     []done
	written    []string
	deleted    map[string]bool
	events     []manifest.Event
	flags      []string
}

func newRun(a *applier, p *plan.Plan, ph *plan.Handoff, live *state.Live, h *spec.Handoff) *run {
	r := &run{a: a, p: p, ph: ph, live: live, h: h, slug: ph.Slug, env: a.cfg.Environment,
		folder: a.cfg.Root + "/" + ph.Slug, now: a.now().UTC(), deleted: map[string]bool{}}
	r.lh = live.Handoffs[ph.Slug]
	if r.lh != nil {
		r.m = r.lh.Manifest
	}
	return r
}

// execute decides, announces and carries out the handoff's operation.
func (r *run) execute(ctx context.Context) (err error) {
	r.parseOldJournal()
	if err := r.decide(); err != nil {
		return err
	}
	if r.op == "" {
		return nil // nothing there and nothing asked
	}
	r.planSteps()
	if err := r.readOldJournal(ctx); err != nil {
		return err
	}
	defer func() {
		if err == nil || r.a.crashed.Load() {
			return
		}
		// Not a crash: undo in memory what this run minted and did not
		// commit. The journal stays for the next apply.
		if cerr := r.compensate(ctx); cerr != nil {
			err = fmt.Errorf("%w; undoing what was minted failed too: %v (the next apply revokes it from the journal)", err, cerr)
		}
	}()

	if r.needFolder {
		if err := r.step(ctx, "ensure folder "+r.folder); err != nil {
			return err
		}
		if err := r.a.deps.Infisical.EnsureFolder(ctx, r.env, r.folder); err != nil {
			return fmt.Errorf("create the folder %s: %w", r.folder, err)
		}
	}
	if err := r.writeJournal(ctx); err != nil {
		return err
	}
	if r.tombstoneFirst {
		// The gate closes and no apply mints again before anything is
		// revoked: a crash from here on leaves a tombstone with leftovers,
		// which the next apply revokes.
		if err := r.writeManifestStep(ctx, "write "+manifest.SecretName+" (tombstone)"); err != nil {
			return err
		}
	}
	for _, w := range r.revokes {
		if err := w.s.Revoke(ctx, r.request(w), w.rec); err != nil {
			return r.stopped(err)
		}
		r.events = append(r.events, manifest.Event{At: r.now, Action: w.action, Surface: w.s.Name(), Detail: revokedDetail(w)})
	}
	for _, name := range r.deletes {
		if err := r.step(ctx, "delete secret "+name); err != nil {
			return err
		}
		if err := r.a.deps.Infisical.DeleteSecret(ctx, r.env, r.folder, name); err != nil {
			return fmt.Errorf("delete %s/%s: %w", r.folder, name, err)
		}
		r.deleted[name] = true
	}
	if len(r.deletes) > 0 {
		r.events = append(r.events, manifest.Event{At: r.now, Action: manifest.EventRevoke, Surface: reconcile.SurfaceVault,
			Detail: "deleted secrets " + strings.Join(r.deletes, ", ") + " from " + r.folder})
	}
	for _, w := range r.regrants {
		res, err := w.s.(provider.Regranter).Regrant(ctx, r.request(w), *w.rec)
		if err != nil {
			return r.stopped(err)
		}
		w.action = manifest.EventRefresh
		if old, now := w.rec.Infisical, res.Record.Infisical; old != nil && now != nil && len(reconcile.Without(old.ReadPaths, now.ReadPaths)) > 0 {
			w.action = manifest.EventRevoke // narrower: a kill
		}
		r.minted = append(r.minted, done{w: w, res: res})
		// A refresh of the same surface in this run starts from the new
		// grant.
		for i := range r.mints {
			if r.mints[i].s.Name() == w.s.Name() && r.mints[i].rec != nil {
				rec := res.Record
				r.mints[i].rec = &rec
			}
		}
	}
	for _, w := range r.mints {
		var res provider.Result
		var err error
		if w.op == provider.OpRefresh && w.rec != nil {
			res, err = w.s.Refresh(ctx, r.request(w), *w.rec)
		} else {
			res, err = w.s.Create(ctx, r.request(w))
		}
		if res.Compensate != nil {
			r.comps = append(r.comps, res.Compensate)
		}
		if err != nil {
			return r.stopped(err)
		}
		r.minted = append(r.minted, done{w: w, res: res})
	}
	if err := r.writeSecrets(ctx); err != nil {
		return err
	}
	if err := r.writeManifest(ctx); err != nil {
		return err
	}
	// Committed: nothing to undo any more.
	r.comps = nil
	if err := r.step(ctx, "delete "+state.JournalSecretName); err != nil {
		return err
	}
	if err := r.a.deps.Infisical.DeleteSecret(ctx, r.env, r.folder, state.JournalSecretName); err != nil {
		return fmt.Errorf("delete the journal of %s (the next plan refreshes what it names): %w", r.slug, err)
	}
	return nil
}

// stopped returns a surface's error, as the crash when the run crashed.
func (r *run) stopped(err error) error {
	if r.a.crashed.Load() {
		return r.a.crashError()
	}
	return err
}

func (r *run) compensate(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	var errs []error
	for i := len(r.comps) - 1; i >= 0; i-- {
		if err := r.comps[i](ctx); err != nil {
			errs = append(errs, err)
		}
	}
	r.comps = nil
	if len(errs) == 0 && len(r.minted)+len(r.written) > 0 {
		r.a.progress("undid what was minted for %s", r.slug)
	}
	return errors.Join(errs...)
}

// decide turns the plan's changes and the live folder into the run's work.
func (r *run) decide() error {
	if r.manual == nil && r.m != nil && r.m.Status == manifest.Active && r.oldJournal != nil {
		// A kill of some surfaces gives way to a plan that revokes the
		// whole handoff (expired, spec deleted): that covers it.
		if rv := r.oldJournal.Revocation; rv != nil && rv.Kind == manifest.RevokedManual && (len(rv.Surfaces) == 0 || !revokesBeyond(r.ph, r.m, rv.Surfaces)) {
			// An operator's kill did not finish: finish it, as the plan
			// says (it revokes what the journal names, never refreshes).
			r.manual = &RevokeOptions{Reason: rv.Reason, By: rv.By, Surfaces: rv.Surfaces}
			r.a.progress("handoff %s: finishing the manual revocation by %s that an interrupted run started", r.slug, cmp.Or(rv.By, "an operator"))
		}
	}
	if r.manual != nil {
		return r.decideManual()
	}
	lh, m, ph := r.lh, r.m, r.ph
	empty := lh == nil || (!lh.HasManifest() && !lh.HasJournal() && len(lh.Secrets) == 0)
	switch {
	case m == nil && empty:
		if r.h == nil {
			return nil // nothing there, nothing asked
		}
		r.op, r.final, r.needFolder = opCreate, finalNew, lh == nil
		r.expires = r.now.Add(r.h.TTL.Value)
		return r.mintAll(manifest.EventCreate)
	case m == nil:
		// A journal without a manifest (a crashed apply), a corrupt
		// manifest, or secrets with no manifest: revoke what the names
		// find, then create again if the spec is there and the plan says so.
		r.op = opRecover
		if err := r.sweep(nil); err != nil {
			return err
		}
		r.deleteFolder(true)
		if r.h != nil && wantsMint(ph) {
			r.final = finalNew
			r.expires = r.now.Add(r.h.TTL.Value)
			return r.mintAll(manifest.EventReplace)
		}
		return nil
	case m.Untombstoned() && r.h != nil && wantsMint(ph):
		// A lifted tombstone: the spec is minted again, as a create, into a
		// new manifest that carries the revoked one's history. What a
		// stopped attempt left (a journal, anything named for the slug) is
		// revoked first.
		r.op, r.final = opCreate, finalNew
		r.expires = r.now.Add(r.h.TTL.Value)
		if lh.HasJournal() || len(lh.Secrets) > 1 || len(r.live.IdentitiesOf(r.slug)) > 0 {
			r.op = opRecover
			if err := r.sweep(nil); err != nil {
				return err
			}
			r.deleteFolder(false)
		}
		return r.mintAll(manifest.EventCreate)
	case m.Status == manifest.Revoked:
		// The leftovers of a revocation that did not finish (a journal):
		// never mint, finish revoking, keep the record.
		r.op, r.final, r.expires = opRevoke, finalRevoked, m.ExpiresAt
		if j := r.oldJournal; j != nil && j.Revocation != nil && j.Revocation.Kind == manifest.RevokedManual && !m.Tombstoned() {
			// An operator's revoke stopped before its tombstone (of a
			// lifted one, say): the tombstone it was writing.
			r.revocation = j.Revocation
		}
		if err := r.sweep(m); err != nil {
			return err
		}
		r.deleteFolder(false)
		return nil
	case fullRevoke(ph, m):
		r.op, r.final, r.expires = opRevoke, finalRevoked, m.ExpiresAt
		r.revocation = &manifest.Revocation{At: r.now, Kind: reconcile.RevocationKind(m, r.now), Reason: ph.Reason, By: "handoff apply"}
		if j := r.oldJournal; j != nil && j.Revocation != nil && j.Revocation.Kind != manifest.RevokedManual {
			// Finishing a revocation that stopped part-way: its record.
			r.revocation = j.Revocation
		}
		if err := r.sweep(m); err != nil {
			return err
		}
		r.deleteFolder(false)
		return nil
	}
	return r.update()
}

// wantsMint reports whether the plan mints anything for the handoff.
func wantsMint(ph *plan.Handoff) bool {
	for _, c := range ph.Changes {
		switch c.Action {
		case plan.Create, plan.Replace, plan.Refresh:
			return true
		}
	}
	return false
}

// fullRevoke reports whether the plan revokes the whole handoff of the
// active manifest m: every change is a revoke, and every surface of m that
// is not killed is revoked. (A revoke of a killed surface alone, what a
// stopped run left of it, keeps the handoff.)
func fullRevoke(ph *plan.Handoff, m *manifest.Manifest) bool {
	n := 0
	revoked := map[string]bool{}
	for _, c := range ph.Changes {
		switch c.Action {
		case plan.Revoke:
			n++
			revoked[c.Surface] = true
		case plan.NoOp:
		default:
			return false
		}
	}
	dead := m.Killed()
	for _, s := range m.Surfaces.Names() {
		if !dead[s] && !revoked[s] {
			return false
		}
	}
	return n > 0
}

// revokesBeyond reports whether the plan revokes the whole handoff and a
// surface other than those named.
func revokesBeyond(ph *plan.Handoff, m *manifest.Manifest, surfaces []string) bool {
	if !fullRevoke(ph, m) {
		return false
	}
	for _, c := range ph.Changes {
		if c.Action == plan.Revoke && !slices.Contains(surfaces, c.Surface) {
			return true
		}
	}
	return false
}

// mintAll mints every surface of the spec.
func (r *run) mintAll(action manifest.EventAction) error {
	if r.h == nil {
		return fmt.Errorf("no spec for handoff %s", r.slug)
	}
	for _, name := range r.h.Surfaces() {
		s, ok := r.a.deps.Registry.Get(name)
		if !ok {
			return fmt.Errorf("no provider for surface %s in this build: the plan should have refused it", name)
		}
		r.mints = append(r.mints, work{s: s, op: provider.OpCreate, action: action})
	}
	r.orderMints()
	return nil
}

// sweep revokes every surface that may hold something for the handoff: the
// ones m records, those the old journal names, those whose secrets are in
// the folder, and infisical when identities are named for the slug.
func (r *run) sweep(m *manifest.Manifest) error {
	want := map[string]bool{}
	if m != nil {
		for _, s := range m.Surfaces.Names() {
			want[s] = true
		}
	}
	if r.lh != nil {
		if r.lh.Journal != nil {
			for _, s := range r.lh.Journal.Surfaces() {
				want[s] = true
			}
		}
		for name, s := range r.a.deps.Registry {
			for _, sec := range s.Secrets() {
				if _, ok := r.lh.Secrets[sec]; ok {
					want[name] = true
				}
			}
		}
	}
	if len(r.live.IdentitiesOf(r.slug)) > 0 {
		want[spec.SurfaceInfisical] = true
	}
	for name := range want {
		s, ok := r.a.deps.Registry.Get(name)
		if !ok {
			if name == reconcile.SurfaceVault {
				continue
			}
			return fmt.Errorf("no provider for surface %s in this build: its credential cannot be revoked here; revoke it by hand with the vendor", name)
		}
		w := work{s: s, op: provider.OpRevoke, action: manifest.EventRevoke}
		if m != nil {
			if rec, ok := provider.RecordOf(m.Surfaces, name); ok {
				w.rec = &rec
			}
		}
		r.revokes = append(r.revokes, w)
	}
	r.orderRevokes()
	return nil
}

// deleteFolder deletes every secret of the folder but the journal (and the
// manifest unless withManifest).
func (r *run) deleteFolder(withManifest bool) {
	if r.lh == nil {
		return
	}
	for _, name := range r.lh.SecretNames() {
		if name == state.JournalSecretName || (name == manifest.SecretName && !withManifest) {
			continue
		}
		r.deletes = append(r.deletes, name)
	}
}

// update plans the changes of an active handoff whose manifest is valid.
// The manifest keeps the spec digest and the expiry it was applied with,
// and whatever is minted lives no longer than that expiry, unless the plan
// replaces the whole handoff with a changed spec (replacesAll): then, and
// only then, a new TTL starts and the new digest is recorded. A changed
// spec that the plan does not replace (surfaces were killed: reconcile
// freezes the handoff) allows only what mints nothing: the revocation of
// what a stopped run left of a killed surface and the narrowing of the
// privilege from its record. A plan that would mint there (one from an
// older build) is refused before any write.
func (r *run) update() error {
	m, ph := r.m, r.ph
	if r.h == nil {
		return fmt.Errorf("the plan changes handoff %s, whose spec is gone, other than by revoking it", r.slug)
	}
	dead := m.Killed()
	r.final, r.expires = finalUpdate, m.ExpiresAt
	if m.SpecDigest != ph.SpecDigest {
		if replacesAll(ph, m, r.h, dead) {
			r.newSpec = true
			r.expires = r.now.Add(r.h.TTL.Value)
		} else {
			r.frozen = true
			if err := r.checkFrozen(dead); err != nil {
				return err
			}
		}
	}
	r.withhold = reconcile.WithheldPaths(m.Surfaces, m.KilledSurfaces())
	present := func(name string) bool {
		if r.lh == nil {
			return false
		}
		_, ok := r.lh.Secrets[name]
		return ok
	}
	addDeletes := func(names ...string) {
		for _, n := range names {
			if present(n) && !slices.Contains(r.deletes, n) && n != manifest.SecretName && n != state.JournalSecretName {
				r.deletes = append(r.deletes, n)
			}
		}
	}
	anyReplace := false
	for _, c := range ph.Changes {
		if !c.Action.IsChange() {
			continue
		}
		if c.Surface == reconcile.SurfaceVault {
			if c.Action == plan.Revoke {
				addDeletes(c.Secrets...)
			}
			continue
		}
		s, ok := r.a.deps.Registry.Get(c.Surface)
		if !ok {
			return fmt.Errorf("no provider for surface %s in this build: the plan should have refused it", c.Surface)
		}
		var recp *provider.Record
		if rec, ok := provider.RecordOf(m.Surfaces, c.Surface); ok {
			recp = &rec
		}
		switch {
		case dead[c.Surface]:
			// Killed by an operator: never minted again; what a crashed
			// run left is revoked again. Its record stays: it is the
			// kill's (a by-reference surface's key paths stay withheld).
			r.revokes = append(r.revokes, work{s: s, op: provider.OpRevoke, rec: recp, action: manifest.EventRevoke})
			addDeletes(union(s.Secrets(), c.Secrets)...)
		case c.Action == plan.Revoke:
			r.revokes = append(r.revokes, work{s: s, op: provider.OpRevoke, rec: recp, action: manifest.EventRevoke})
			addDeletes(union(s.Secrets(), c.Secrets)...)
			r.dropped = append(r.dropped, c.Surface)
		case r.frozen:
			// checkFrozen let through only the privilege's narrowing:
			// addRegrant, below, from the record.
		case c.Action == plan.Replace:
			anyReplace = true
			r.revokes = append(r.revokes, work{s: s, op: provider.OpRevoke, rec: recp, action: manifest.EventReplace})
			var stale []string
			for _, n := range c.Secrets {
				if !slices.Contains(s.Secrets(), n) {
					stale = append(stale, n)
				}
			}
			addDeletes(stale...)
			r.mints = append(r.mints, work{s: s, op: provider.OpCreate, action: manifest.EventReplace})
		case c.Action == plan.Refresh && recp != nil:
			if r.grantOnly(c, s, recp) {
				continue // the privilege changes in place: below
			}
			r.mints = append(r.mints, work{s: s, op: provider.OpRefresh, rec: recp, action: manifest.EventRefresh})
		default: // create, or a refresh of a surface the manifest lacks
			anyReplace = true
			r.mints = append(r.mints, work{s: s, op: provider.OpCreate, action: manifest.EventCreate})
		}
	}
	r.addRegrant(dead)
	switch {
	case r.newSpec:
		r.op = opReplace
	case anyReplace || len(r.revokes) > 0 || len(r.regrants) > 0:
		r.op = opUpdate
	default:
		r.op = opRefresh
	}
	r.orderRevokes()
	r.orderMints()
	return nil
}

// replacesAll reports whether the plan replaces the whole handoff with the
// spec h: nothing of m is killed, every surface of h is created or
// replaced (minted again under h), and every surface m records that h
// lacks is revoked.
func replacesAll(ph *plan.Handoff, m *manifest.Manifest, h *spec.Handoff, dead map[string]bool) bool {
	if len(dead) > 0 {
		return false
	}
	actions := map[string]plan.Action{}
	for _, c := range ph.Changes {
		actions[c.Surface] = c.Action
	}
	for _, s := range h.Surfaces() {
		if a := actions[s]; a != plan.Create && a != plan.Replace {
			return false
		}
	}
	for _, s := range m.Surfaces.Names() {
		if !slices.Contains(h.Surfaces(), s) && actions[s] != plan.Revoke {
			return false
		}
	}
	return true
}

// checkFrozen refuses a plan that would mint for a handoff whose spec
// changed without replacing it: what it minted would stand, under the
// manifest's old spec digest and expiry, for grants of neither spec (H3,
// H4). Allowed is what mints nothing: revocations, the in-place narrowing
// of the identity's privilege (a refresh of infisical that writes no
// secret), and the vault folder's changes.
func (r *run) checkFrozen(dead map[string]bool) error {
	why := "the plan does not replace the whole handoff"
	if len(dead) > 0 {
		why = "surfaces are killed (" + strings.Join(slices.Sorted(maps.Keys(dead)), ", ") + "): the changed spec is not applied until handoff untombstone, or a new slug"
	}
	for _, c := range r.ph.Changes {
		switch {
		case !c.Action.IsChange(), c.Action == plan.Revoke, c.Surface == reconcile.SurfaceVault:
			continue
		case c.Surface == spec.SurfaceInfisical && c.Action == plan.Refresh && len(c.Secrets) == 0:
			continue
		}
		return fmt.Errorf("handoff %s: its spec changed since the last apply and %s, but the plan would %s %s: "+
			"that would mint, under the manifest's old spec digest and expiry, what neither spec granted; nothing was done: plan again",
			r.slug, why, c.Action, c.Surface)
	}
	return nil
}

// grantOnly reports whether the plan's refresh of surface s (infisical)
// asks only for its grant to change in place: nothing to write (a new
// client secret would be), the grant differs from what the spec allows
// less r.withhold, and nothing else calls for a new client secret (an
// expired one, a journal's leftovers).
func (r *run) grantOnly(c plan.Change, s provider.Surface, rec *provider.Record) bool {
	rg, ok := s.(provider.Regranter)
	if !ok || len(c.Secrets) > 0 || (r.lh != nil && r.lh.HasJournal()) {
		return false
	}
	if inf := rec.Infisical; inf == nil || (!inf.ClientSecretExpiresAt.IsZero() && !r.now.Before(inf.ClientSecretExpiresAt)) {
		return false
	}
	return rg.NeedsRegrant(r.request(work{s: s, op: provider.OpRegrant, rec: rec, fromRecord: r.specChanged()}), *rec)
}

// specChanged reports whether the spec differs from the one the manifest
// was applied from (or is gone).
func (r *run) specChanged() bool {
	return r.h == nil || r.m == nil || r.m.SpecDigest != r.h.Digest()
}

// addRegrant adds the in-place change of the identity's privilege when the
// read paths it records differ from those it should hold now (the spec's
// less r.withhold; the recorded ones less r.withhold when the spec
// changed), unless the infisical surface is killed, or this run creates,
// replaces or revokes the identity (a new identity's privilege is made
// without the withheld paths).
func (r *run) addRegrant(dead map[string]bool) {
	m := r.m
	if m == nil || m.Surfaces.Infisical == nil || dead[spec.SurfaceInfisical] {
		return
	}
	if r.frozen && !slices.ContainsFunc(r.ph.Changes, func(c plan.Change) bool {
		return c.Surface == spec.SurfaceInfisical && c.Action == plan.Refresh
	}) {
		return // frozen: only the narrowing the plan shows (not of an identity deleted out of band)
	}
	for _, w := range append(append([]work{}, r.revokes...), r.mints...) {
		if w.s.Name() == spec.SurfaceInfisical && w.op != provider.OpRefresh {
			return
		}
	}
	s, ok := r.a.deps.Registry.Get(spec.SurfaceInfisical)
	if !ok {
		return
	}
	rg, ok := s.(provider.Regranter)
	if !ok {
		return
	}
	rec, _ := provider.RecordOf(m.Surfaces, spec.SurfaceInfisical)
	w := work{s: s, op: provider.OpRegrant, rec: &rec, fromRecord: r.specChanged()}
	if rg.NeedsRegrant(r.request(w), rec) {
		r.regrants = append(r.regrants, w)
	}
}

// orderRevokes puts the revocations in the contract's order: GitHub token
// first, then the identity, then the rest.
func (r *run) orderRevokes() {
	sort.SliceStable(r.revokes, func(i, j int) bool {
		return revokeRank(r.revokes[i].s.Name()) < revokeRank(r.revokes[j].s.Name())
	})
}

func revokeRank(name string) int {
	switch name {
	case spec.SurfaceGitHub:
		return 0
	case spec.SurfaceInfisical:
		return 1
	}
	return 2 + surfaceRank(name)
}

// orderMints puts the mints whose product is Untraceable last, so that their
// secret is written right after them; the rest in the spec's order
// (infisical first).
func (r *run) orderMints() {
	sort.SliceStable(r.mints, func(i, j int) bool {
		ui, uj := provider.HasUntraceable(r.mints[i].s, r.mints[i].op), provider.HasUntraceable(r.mints[j].s, r.mints[j].op)
		if ui != uj {
			return !ui
		}
		return surfaceRank(r.mints[i].s.Name()) < surfaceRank(r.mints[j].s.Name())
	})
}

var surfaceOrder = []string{spec.SurfaceGitHub, spec.SurfaceInfisical, spec.SurfaceMCP, spec.SurfaceStripe,
	spec.SurfaceCloudflare, spec.SurfaceAWS, spec.SurfaceHeroku, spec.SurfaceAppleIAP, spec.SurfaceAlpaca}

func surfaceRank(s string) int {
	if i := slices.Index(surfaceOrder, s); i >= 0 {
		return i
	}
	return len(surfaceOrder)
}

// writeOrder is the order the minted secrets are written in: those of
// Untraceable mints first (they close the window), then the others.
func (r *run) writeOrder() []string {
	var first, rest []string
	for _, w := range r.mints {
		names := w.s.Secrets()
		if provider.HasUntraceable(w.s, w.op) {
			first = append(first, names...)
		} else {
			rest = append(rest, names...)
		}
	}
	return append(first, rest...)
}

// planSteps lists the run's remote writes, for "step i/n" and the journal.
func (r *run) planSteps() {
	var st []string
	if r.needFolder {
		st = append(st, "ensure folder "+r.folder)
	}
	st = append(st, "write "+state.JournalSecretName)
	if r.tombstoneFirst {
		st = append(st, "write "+manifest.SecretName+" (tombstone)")
	}
	for _, w := range r.revokes {
		for _, s := range w.s.Steps(provider.OpRevoke, r.request(w), w.rec) {
			st = append(st, s.Name)
		}
	}
	for _, n := range r.deletes {
		st = append(st, "delete secret "+n)
	}
	for _, w := range r.regrants {
		for _, s := range w.s.Steps(provider.OpRegrant, r.request(w), w.rec) {
			st = append(st, s.Name)
		}
	}
	for _, w := range r.mints {
		for _, s := range w.s.Steps(w.op, r.request(w), w.rec) {
			if s.Untraceable {
				st = append(st, inFlightStep(s.Name))
			}
			st = append(st, s.Name)
		}
	}
	for _, n := range r.writeOrder() {
		st = append(st, "write "+n)
	}
	if r.final != finalNone {
		st = append(st, "write "+manifest.SecretName)
	}
	st = append(st, "delete "+state.JournalSecretName)
	r.steps = st
}

func inFlightStep(name string) string {
	return "record in " + state.JournalSecretName + ": " + name + " in flight"
}

// step announces the next remote write and runs the fail point.
func (r *run) step(ctx context.Context, name string) error {
	if r.a.crashed.Load() {
		return r.a.crashError()
	}
	if err := ctx.Err(); err != nil {
		if c := context.Cause(ctx); c != nil {
			return c
		}
		return err
	}
	if lk := r.a.held.Load(); lk != nil && lk.left() <= 0 {
		return lk.lapseError()
	}
	i := r.pos
	for j := r.pos; j < len(r.steps); j++ {
		if r.steps[j] == name {
			i = j
			break
		}
	}
	if i >= len(r.steps) {
		i = len(r.steps) - 1
	}
	r.pos = i + 1
	info := Step{Slug: r.slug, Op: r.op, Index: i + 1, Total: len(r.steps), Name: name}
	r.a.progress("%s", info)
	if fp := r.a.deps.FailPoint; fp != nil {
		if err := fp(info); err != nil {
			if errors.Is(err, ErrCrash) {
				r.a.crash(fmt.Errorf("%s: %w", info, err))
				return r.a.crashError()
			}
			return fmt.Errorf("%s: %w", info, err)
		}
	}
	r.writes++
	return nil
}

// request is what a surface works on.
func (r *run) request(w work) *provider.Request {
	h := r.h
	if w.fromRecord {
		h = nil
	}
	return &provider.Request{
		Slug: r.slug, Spec: h, Folder: r.folder, Environment: r.env,
		Now: r.now, ExpiresAt: r.expires, IdentityName: r.identityName(),
		Withhold: r.withhold,
		Live:     r.live, Vault: r.a.deps.Infisical,
		Step: func(ctx context.Context, name string, ids map[string]string) error {
			return r.surfaceStep(ctx, w, name, ids)
		},
	}
}

// identityName is the plan's name for a new identity, else today's.
func (r *run) identityName() string {
	for _, c := range r.ph.Changes {
		if c.Surface == spec.SurfaceInfisical && c.After != nil {
			if n := c.After.Attributes[reconcile.AttrIdentity]; n != "" {
				return n
			}
		}
	}
	return state.IdentityName(r.slug, r.now)
}

// surfaceStep is a surface's Begin: an Untraceable step is journaled first.
func (r *run) surfaceStep(ctx context.Context, w work, name string, ids map[string]string) error {
	r.noteIDs(w.s.Name(), ids)
	op := w.op
	untraceable := false
	for _, s := range w.s.Steps(op, nil, w.rec) {
		if s.Name == name && s.Untraceable {
			untraceable = true
		}
	}
	if untraceable {
		if err := r.step(ctx, inFlightStep(name)); err != nil {
			return err
		}
		f := InFlight{Surface: w.s.Name(), Step: name, At: r.a.now().UTC(), IDs: ids}
		if len(w.s.Secrets()) > 0 {
			f.Secret = w.s.Secrets()[0]
		}
		f.PrevFingerprint = ids["prev_fingerprint"]
		r.journal.InFlight = append(r.journal.InFlight, f)
		// The journal exists (written first): one PATCH.
		if _, err := r.a.deps.Infisical.UpdateSecret(ctx, r.env, r.folder, state.JournalSecretName, r.journal.marshal()); err != nil {
			return fmt.Errorf("record the %s in the journal of %s: %w", name, r.slug, err)
		}
	}
	return r.step(ctx, name)
}

// noteIDs keeps the remote ids a surface announced in the journal's entry
// for it; they are written with the next journal write (the one before an
// Untraceable step): ids that are not derivable by name come no later.
func (r *run) noteIDs(surface string, ids map[string]string) {
	if r.journal == nil || len(ids) == 0 {
		return
	}
	for i := range r.journal.Entries {
		e := &r.journal.Entries[i]
		if e.Surface != surface {
			continue
		}
		if e.RemoteIDs == nil {
			e.RemoteIDs = map[string]string{}
		}
		for k, v := range ids {
			e.RemoteIDs[k] = v
		}
		return
	}
}

// readOldJournal parses the journal of a run that did not finish and checks
// whether the Untraceable steps it recorded reached the vault; those that
// did not are flagged.
func (r *run) parseOldJournal() {
	if r.lh == nil || r.lh.JournalRaw == nil {
		return
	}
	j, err := ParseJournal(r.lh.JournalRaw)
	if err != nil {
		r.a.progress("handoff %s: unreadable journal (%v): its leftovers are found by name", r.slug, err)
		return
	}
	r.oldJournal = j
}

func (r *run) readOldJournal(ctx context.Context) error {
	j := r.oldJournal
	if j == nil {
		return nil
	}
	r.addFlags(j.Flags...)
	for _, f := range j.InFlight {
		reached, err := r.reachedVault(ctx, f)
		if err != nil {
			return err
		}
		if !reached {
			r.addFlags(flagFor(r.slug, f, j.RunID))
		}
	}
	return nil
}

func (r *run) addFlags(flags ...string) {
	for _, f := range flags {
		if !slices.Contains(r.flags, f) {
			r.flags = append(r.flags, f)
			r.a.progress("WARNING: %s", f)
		}
	}
}

// reachedVault reports whether the product of an in-flight step was
// written: the secret's value is not the one it held before the step.
func (r *run) reachedVault(ctx context.Context, f InFlight) (bool, error) {
	if f.Secret == "" {
		return false, nil
	}
	sec, err := r.a.deps.Infisical.GetSecret(ctx, r.env, r.folder, f.Secret)
	if infisical.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read %s to check the journal of %s: %w", f.Secret, r.slug, err)
	}
	v := strings.TrimSpace(sec.Value)
	sec.Value = ""
	if v == "" {
		return false, nil
	}
	return manifest.Fingerprint(v) != f.PrevFingerprint, nil
}

// writeJournal records the operation before its first remote write.
func (r *run) writeJournal(ctx context.Context) error {
	j := &Journal{Slug: r.slug, Operation: r.op, RunID: r.a.runID, Owner: r.a.deps.Lock.Owner,
		StartedAt: r.now, Steps: r.steps, Flags: r.flags}
	for _, w := range r.mints {
		if w.s.Name() == spec.SurfaceInfisical && w.op == provider.OpCreate {
			j.IdentityName = r.identityName()
		}
	}
	seen := map[string]bool{}
	for _, w := range append(append(append([]work{}, r.revokes...), r.regrants...), r.mints...) {
		if seen[w.s.Name()] {
			continue
		}
		seen[w.s.Name()] = true
		j.Entries = append(j.Entries, state.JournalEntry{Step: string(w.op), Surface: w.s.Name(), At: r.now})
	}
	// A revocation records what it will write, so that a run that finds
	// it unfinished finishes it (reconcile plans a revoke, never a
	// refresh) with the same record.
	j.Revocation = r.revocation
	r.journal = j
	if err := r.step(ctx, "write "+state.JournalSecretName); err != nil {
		return err
	}
	if _, err := r.a.deps.Infisical.UpsertSecretWithComment(ctx, r.env, r.folder, state.JournalSecretName, j.marshal(), r.comment()); err != nil {
		return fmt.Errorf("write the journal of %s: %w", r.slug, err)
	}
	return nil
}

// comment is the secretComment of every secret the run writes (H5): the
// handoff and the command.
func (r *run) comment() string {
	return fmt.Sprintf("handoff %s: written by handoff %s", r.slug, r.a.command)
}

// writeSecrets writes what the mints returned, Untraceable products first,
// and drops the values.
func (r *run) writeSecrets(ctx context.Context) error {
	values := map[string]string{}
	for i := range r.minted {
		for k, v := range r.minted[i].res.Secrets {
			values[k] = v
		}
		r.minted[i].res.Secrets = nil
	}
	defer clear(values)
	for _, name := range r.writeOrder() {
		v, ok := values[name]
		if !ok {
			continue
		}
		if err := r.step(ctx, "write "+name); err != nil {
			return err
		}
		if _, err := r.a.deps.Infisical.UpsertSecretWithComment(ctx, r.env, r.folder, name, v, r.comment()); err != nil {
			return fmt.Errorf("write %s/%s: %w", r.folder, name, err)
		}
		r.written = append(r.written, name)
	}
	return nil
}

// writeManifest builds and writes the manifest: last, as one secret.
func (r *run) writeManifest(ctx context.Context) error {
	if r.final == finalNone {
		return nil
	}
	return r.writeManifestStep(ctx, "write "+manifest.SecretName)
}

func (r *run) writeManifestStep(ctx context.Context, stepName string) error {
	m, err := r.buildManifest()
	if err != nil {
		return err
	}
	b, err := manifest.Marshal(m)
	if err != nil {
		return err
	}
	if err := r.step(ctx, stepName); err != nil {
		return err
	}
	if _, err := r.a.deps.Infisical.UpsertSecretWithComment(ctx, r.env, r.folder, manifest.SecretName, string(b), r.comment()); err != nil {
		return fmt.Errorf("write the manifest of %s: %w", r.slug, err)
	}
	return nil
}

func (r *run) historyEvents() []manifest.Event {
	var evs []manifest.Event
	if j := r.oldJournal; j != nil {
		what := "its leftovers were revoked"
		if r.frozen {
			what = "what it left of killed surfaces was revoked; nothing was minted (the spec changed while surfaces are killed): the rest goes when the handoff is replaced or revoked"
		}
		evs = append(evs, manifest.Event{At: r.now, Action: manifest.EventAdopt,
			Detail: fmt.Sprintf("found the journal of apply run %s (%s, started %s): %s", j.RunID, j.Operation, j.StartedAt.UTC().Format(time.RFC3339), what)})
	}
	for _, f := range r.flags {
		evs = append(evs, manifest.Event{At: r.now, Action: manifest.EventAdopt, Surface: spec.SurfaceGitHub, Detail: f})
	}
	evs = append(evs, r.events...)
	for _, d := range r.minted {
		evs = append(evs, manifest.Event{At: r.now, Action: d.w.action, Surface: d.w.s.Name(), Detail: d.res.Detail, Fingerprint: d.res.Fingerprint})
	}
	for i := range evs {
		evs[i].GitCommit = r.p.GitCommit
	}
	return evs
}

func (r *run) buildManifest() (*manifest.Manifest, error) {
	var m *manifest.Manifest
	switch r.final {
	case finalNew:
		m = &manifest.Manifest{
			SchemaVersion: manifest.SchemaVersion,
			Slug:          r.slug,
			Card:          r.ph.Card,
			SpecFile:      r.ph.SpecFile,
			SpecDigest:    r.ph.SpecDigest,
			ApprovedBy:    r.h.ApprovedBy.Value,
			CreatedAt:     r.now,
			ExpiresAt:     r.expires,
			Status:        manifest.Active,
		}
		if r.m != nil && r.m.Untombstoned() {
			// Minted again after untombstone: the record goes on.
			m.History = append([]manifest.Event(nil), r.m.History...)
		}
	default:
		base := r.m
		if base == nil {
			base = r.base
		}
		if base == nil {
			return nil, fmt.Errorf("no manifest to update for %s", r.slug)
		}
		var err error
		if m, err = cloneManifest(base); err != nil {
			return nil, err
		}
	}
	m.UpdatedAt = r.now
	if r.p.GitCommit != "" {
		m.GitCommit = r.p.GitCommit
	}
	switch r.final {
	case finalUpdate:
		// The spec and the TTL the handoff was applied with stay, unless
		// this run replaced all of it with the new spec (update).
		if r.newSpec {
			m.SpecDigest, m.SpecFile, m.Card = r.ph.SpecDigest, r.ph.SpecFile, r.ph.Card
			m.ApprovedBy = r.h.ApprovedBy.Value
			m.ExpiresAt = r.expires
		}
		for _, s := range r.dropped {
			provider.Record{}.Put(&m.Surfaces, s)
		}
		if r.revocation != nil {
			m.Revocation = r.revocation // a kill of some surfaces
		}
	case finalRevoked:
		m.Status = manifest.Revoked
		if r.revocation != nil || m.Revocation == nil {
			rv := r.revocation
			if rv == nil {
				rv = &manifest.Revocation{At: r.now, Kind: reconcile.RevocationKind(m, r.now), Reason: r.ph.Reason, By: "handoff apply"}
			}
			m.Revocation = rv
		}
	}
	for _, d := range r.minted {
		d.res.Record.Put(&m.Surfaces, d.w.s.Name())
	}
	m.Secrets = r.finalSecrets(m)
	m.History = append(m.History, r.historyEvents()...)
	return m, nil
}

// finalSecrets are the names in the folder once the run is done, manifest
// and journal aside: what the manifest named and is still there, and what
// was written.
func (r *run) finalSecrets(m *manifest.Manifest) []string {
	out := []string{}
	if r.final == finalUpdate {
		for _, n := range m.Secrets {
			if r.deleted[n] {
				continue
			}
			if r.lh != nil {
				if _, ok := r.lh.Secrets[n]; !ok {
					continue
				}
			}
			out = append(out, n)
		}
	}
	for _, n := range r.written {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

func cloneManifest(m *manifest.Manifest) (*manifest.Manifest, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	var out manifest.Manifest
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// revokedDetail describes a revocation for the history, from the record.
func revokedDetail(w work) string {
	verb := "revoked"
	if w.action == manifest.EventReplace {
		verb = "revoked to be replaced:"
	}
	if w.rec != nil {
		switch {
		case w.rec.GitHub != nil:
			g := w.rec.GitHub
			return fmt.Sprintf("%s installation token %s for %s (the token in the vault, with itself)", verb, g.TokenFingerprint, g.Repository)
		case w.rec.Infisical != nil:
			i := w.rec.Infisical
			return fmt.Sprintf("%s identity %s (%s): client secret, privilege, membership, identity, and any other identity named for the handoff", verb, i.IdentityName, i.IdentityID)
		case w.rec.Meta != nil && w.action == manifest.EventRevoke:
			if keys := reconcile.WithheldPaths(manifest.Surfaces{Other: map[string]manifest.Meta{w.s.Name(): w.rec.Meta}}, []string{w.s.Name()}); len(keys) > 0 {
				return fmt.Sprintf("%s %s, read by reference: nothing to end at the vendor (the key is pre-provisioned and shared); the handoff's identity no longer reads %s",
					verb, w.s.Name(), strings.Join(keys, ", "))
			}
		}
	}
	return fmt.Sprintf("%s %s: whatever its deterministic names found", verb, w.s.Name())
}

func union(a, b []string) []string {
	out := append([]string(nil), a...)
	for _, x := range b {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}
