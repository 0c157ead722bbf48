package apply

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/reconcile"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/state"
	"github.com/raxx-app/handoff/internal/surface"
	"github.com/raxx-app/handoff/internal/vault"
)

// work is one surface operation of a run, as the plan lists it.
type work struct {
	s  surface.Surface
	op surface.Op
	// rec is the manifest's record of the surface (nil when none).
	rec    surface.Record
	action manifest.EventAction
	// fromRecord makes the surface work from its record (the spec changed
	// under a kill).
	fromRecord bool
}

// done is a finished mint or regrant.
type done struct {
	w   work
	res surface.Result
}

// run executes one handoff's operation, as the plan decided it.
type run struct {
	a    *applier
	p    *plan.Plan
	ph   *plan.Handoff
	op   *plan.Operation
	live *state.Live
	lh   *state.Handoff     // nil: no folder
	h    *spec.Handoff      // nil: the spec is gone
	m    *manifest.Manifest // the valid live manifest, or nil

	slug, folder, env string
	now, expires      time.Time
	revocation        *manifest.Revocation

	pos    int
	writes int

	oldJournal *state.Journal
	journal    *state.Journal
	// jver is the version of the journal as this run last wrote it (0:
	// not written by this run).
	jver   int
	comps  []func(context.Context) error
	minted []done
	// mintsBack are the surfaces whose mint (Create or Refresh, not a
	// regrant) came back with its product and a way to undo it: what
	// their in-flight journal entries name, compensate revokes.
	mintsBack map[string]bool
	written   []string
	deleted   map[string]bool
	events    []manifest.Event
	flags     []string

	// fence checks, before each step of an apply's run, that nobody wrote
	// the manifest since mver (nil: not fenced).
	fence *fence
	// mver is the version of the manifest as this run last read or wrote
	// it (0: none).
	mver int
	// kill marks the run of a kill (handoff revoke, or an apply finishing
	// one): never fenced, and its manifest writes merge with what another
	// run wrote meanwhile.
	kill bool
	// committed is set once the manifest is written: nothing is left to
	// fence.
	committed bool
	// lost is set when a manifest write replaced one made by someone else
	// between this run's read and its write.
	lost bool
	// stoppedByKill is set when the fence stopped the run.
	stoppedByKill bool
	// fenceNext makes the next step check the fence first: set before each
	// surface operation, before each step that mints what the journal
	// cannot trace, before the secrets are written and before the
	// manifest.
	fenceNext bool
	// regranted are the surfaces whose grant this run changed in place.
	regranted []string
	// journalKept names the owner of the lock whose run's journal a kill
	// found in the folder and left as it is.
	journalKept string
	// final is the manifest this run wrote last (nil: none), from which
	// the rotation document is computed (rotation.go).
	final *manifest.Manifest
}

func newRun(a *applier, p *plan.Plan, ph *plan.Handoff, live *state.Live, h *spec.Handoff) *run {
	r := &run{a: a, p: p, ph: ph, op: ph.Operation, live: live, h: h, slug: ph.Slug, env: a.cfg.Environment,
		folder: a.cfg.Root + "/" + ph.Slug, now: a.now().UTC(), deleted: map[string]bool{}, mintsBack: map[string]bool{}}
	if r.op == nil {
		r.op = &plan.Operation{}
	}
	r.lh = live.Handoffs[ph.Slug]
	r.kill = a.command == "revoke" || r.op.TombstoneFirst
	if r.lh != nil {
		r.m = r.lh.Manifest
		r.mver = r.lh.Secrets[manifest.SecretName].Version
		r.oldJournal = r.lh.Journal
		if r.oldJournal.Settled() {
			// The commit mark of a run that finished: nothing to recover.
			r.oldJournal = nil
		}
		if r.lh.JournalRaw != nil && r.lh.Journal == nil {
			a.progress("handoff %s: unreadable journal (%v): its leftovers are found by name", r.slug, r.lh.JournalErr)
		}
	}
	switch {
	case r.op.Final == plan.FinalNew, r.op.NewTTL:
		if h != nil {
			r.expires = r.now.Add(h.TTL.Value)
		}
	case r.m != nil:
		r.expires = r.m.ExpiresAt
	default:
		r.expires = r.now // a tombstone built from the spec
	}
	if rv := r.op.Revocation; rv != nil {
		r.revocation = &manifest.Revocation{At: rv.At, Kind: manifest.RevocationKind(rv.Kind), Reason: rv.Reason, By: rv.By, Surfaces: slices.Clone(rv.Surfaces)}
		if r.revocation.At.IsZero() {
			r.revocation.At = r.now
		}
	}
	return r
}

// works turns the operation's work of the given ops into surfaces.
func (r *run) works(ops ...surface.Op) ([]work, error) {
	var out []work
	for _, w := range r.op.Work {
		op := surface.Op(w.Op)
		if !slices.Contains(ops, op) {
			continue
		}
		s, ok := r.a.deps.Registry.Get(w.Surface)
		if !ok {
			return nil, fmt.Errorf("no provider for surface %s in this build: the plan should have refused it", w.Surface)
		}
		x := work{s: s, op: op, action: manifest.EventAction(w.Event), fromRecord: w.FromRecord}
		if w.Record && r.m != nil {
			x.rec = r.m.Surfaces[w.Surface]
		}
		out = append(out, x)
	}
	return out, nil
}

// execute announces and carries out the handoff's operation.
func (r *run) execute(ctx context.Context) (err error) {
	if r.op.Kind == "" {
		return nil
	}
	if r.op.Kind == plan.OpSettle {
		// A run that committed and stopped before deleting its journal:
		// only the journal is left.
		r.committed = true
		return r.deleteJournal(ctx)
	}
	revokes, err := r.works(surface.OpRevoke)
	if err != nil {
		return err
	}
	regrants, err := r.works(surface.OpRegrant)
	if err != nil {
		return err
	}
	mints, err := r.works(surface.OpCreate, surface.OpRefresh)
	if err != nil {
		return err
	}
	if err := r.checkFrozen(); err != nil {
		return err
	}
	if err := r.checkMints(ctx, mints); err != nil {
		return err
	}
	if r.op.Note != "" {
		r.a.progress("%s", r.op.Note)
	}
	r.addFlags(r.op.Flags...)
	if err := r.readOldJournal(ctx); err != nil {
		return err
	}
	defer func() {
		if err == nil || r.a.crashed.Load() {
			return
		}
		// A failure caused by a kill (the identity it was building was
		// deleted under it, say) is reported as the kill.
		err = r.killedUnder(ctx, err)
		// Not a crash: undo in memory what this run minted and did not
		// commit. The journal stays for the next apply.
		if cerr := r.compensate(ctx); cerr != nil {
			err = fmt.Errorf("%w; undoing what was minted failed too: %v (the next apply revokes it from the journal)", err, cerr)
		} else {
			r.markUndone(ctx, err)
		}
	}()

	if r.op.NeedFolder {
		if err := r.step(ctx, "ensure folder "+r.folder); err != nil {
			return err
		}
		if err := r.a.deps.Vault.EnsureFolder(ctx, r.env, r.folder); err != nil {
			return fmt.Errorf("create the folder %s: %w", r.folder, err)
		}
	}
	if err := r.writeJournal(ctx); err != nil {
		return err
	}
	if r.op.TombstoneFirst {
		// The gate closes and no apply mints again before anything is
		// revoked: a crash from here on leaves a tombstone with leftovers,
		// which the next apply revokes.
		if err := r.writeManifestStep(ctx, "write "+manifest.SecretName+" (tombstone)"); err != nil {
			return err
		}
	}
	for _, w := range revokes {
		r.fenceNext = true
		if err := w.s.Revoke(ctx, r.request(w), w.rec); err != nil {
			return r.stopped(err)
		}
		r.events = append(r.events, manifest.Event{At: r.now, Action: w.action, Surface: w.s.Name(), Detail: revokedDetail(w)})
	}
	if err := r.deleteSecrets(ctx); err != nil {
		return err
	}
	if len(r.op.Deletes) > 0 {
		r.events = append(r.events, manifest.Event{At: r.now, Action: manifest.EventRevoke, Surface: reconcile.SurfaceVault,
			Detail: "deleted secrets " + strings.Join(r.op.Deletes, ", ") + " from " + r.folder})
	}
	for _, w := range regrants {
		rg, ok := w.s.(surface.Regranter)
		if !ok {
			return fmt.Errorf("surface %s cannot change its grant in place: the plan should not ask it", w.s.Name())
		}
		r.regranted = append(r.regranted, w.s.Name())
		r.fenceNext = true
		res, err := rg.Regrant(ctx, r.request(w), w.rec)
		if err != nil {
			return r.stopped(err)
		}
		w.action = manifest.EventRefresh
		if res.Narrower {
			w.action = manifest.EventRevoke // a kill
		}
		r.minted = append(r.minted, done{w: w, res: res})
		// A refresh of the same surface in this run starts from the new
		// grant.
		if rec, err := recordJSON(res.Record); err == nil {
			for i := range mints {
				if mints[i].s.Name() == w.s.Name() && mints[i].rec != nil {
					mints[i].rec = rec
				}
			}
		}
	}
	for _, w := range mints {
		var res surface.Result
		var err error
		r.fenceNext = true
		if w.op == surface.OpRefresh && w.rec != nil {
			res, err = w.s.Refresh(ctx, r.request(w), w.rec)
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
		if res.Compensate != nil {
			r.mintsBack[w.s.Name()] = true
		}
	}
	r.fenceNext = true
	if err := r.commit(ctx); err != nil {
		return err
	}
	// Committed: nothing to undo any more.
	r.comps = nil
	r.committed = true
	return r.deleteJournal(ctx)
}

// checkMints runs the pre-mint checks of the surfaces the operation
// creates or refreshes (surface.PreMintChecker), before its first step: a
// refusal leaves nothing made, nothing to undo.
func (r *run) checkMints(ctx context.Context, mints []work) error {
	for _, w := range mints {
		if pc, ok := w.s.(surface.PreMintChecker); ok {
			if err := pc.CheckMint(ctx, r.request(w)); err != nil {
				return err
			}
		}
	}
	return nil
}

// deleteJournal ends the run. A kill leaves a journal it did not write (an
// apply that holds the lock wrote it, or wrote over this run's).
func (r *run) deleteJournal(ctx context.Context) error {
	if err := r.step(ctx, "delete "+state.JournalSecretName); err != nil {
		return err
	}
	if r.journalKept != "" {
		r.writes--
		r.a.progress("handoff %s: left %s as it is: it is the journal of the apply of %s, which the next apply settles", r.slug, state.JournalSecretName, r.journalKept)
		return nil
	}
	if r.kill && r.a.held.Load() == nil {
		sec, err := r.a.deps.Vault.GetSecret(ctx, r.env, r.folder, state.JournalSecretName)
		if vault.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read the journal of %s: %w", r.slug, err)
		}
		j, jerr := state.ParseJournal([]byte(sec.Value))
		sec.Value = ""
		if jerr != nil || j.RunID != r.a.runID {
			r.a.progress("handoff %s: left %s as it is: another run wrote it over this one's; the next apply settles it", r.slug, state.JournalSecretName)
			return nil
		}
	}
	if err := r.a.deps.Vault.DeleteSecret(ctx, r.env, r.folder, state.JournalSecretName); err != nil {
		return fmt.Errorf("delete the journal of %s (the next plan refreshes what it names): %w", r.slug, err)
	}
	return nil
}

// markUndone records in the journal, once compensate has revoked what
// this run minted, that its in-flight steps whose product came back, or
// that it stopped before, are undone, so that the next apply does not flag
// them as credentials nobody can revoke. A step whose call failed keeps
// its entry: what it may have minted is unknown. Best effort: when the journal is no longer the one
// this run wrote, or the write fails, the next apply flags them as before.
func (r *run) markUndone(ctx context.Context, cause error) {
	if r.journal == nil || r.jver == 0 || r.journalKept != "" || len(r.journal.InFlight) == 0 || r.kill {
		return
	}
	// Killed, or the lease gone: another writer (the kill switch, which
	// takes no lock, or the next apply) may be writing the journal now,
	// and the read below and the write after it are not one conditional
	// write.
	var k *KilledError
	if errors.As(cause, &k) {
		return
	}
	if lk := r.a.held.Load(); lk == nil || lk.left() <= 0 {
		return
	}
	returned := r.mintsBack
	changed := false
	for i := range r.journal.InFlight {
		switch f := &r.journal.InFlight[i]; {
		case f.Undone:
			changed = true // stopped before its step (surfaceStep)
		case returned[f.Surface]:
			f.Undone, changed = true, true
		}
	}
	if !changed {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	sec, err := r.a.deps.Vault.GetSecret(ctx, r.env, r.folder, state.JournalSecretName)
	sec.Value = ""
	if err != nil || sec.Version != r.jver {
		return
	}
	if sec, err = r.a.deps.Vault.UpdateSecret(ctx, r.env, r.folder, state.JournalSecretName, marshalJournal(r.journal)); err == nil {
		r.jver = sec.Version
	}
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
	steps := r.op.Steps
	i := r.pos
	for j := r.pos; j < len(steps); j++ {
		if steps[j] == name {
			i = j
			break
		}
	}
	if i >= len(steps) {
		i = len(steps) - 1
	}
	r.pos = i + 1
	info := Step{Slug: r.slug, Op: string(r.op.Kind), Index: i + 1, Total: len(steps), Name: name}
	if r.a.deps.Executed != nil {
		r.a.deps.Executed(r.slug, name)
	}
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
	// Right before a write that mints or commits (after the fail point,
	// where a test pauses the run): has the handoff been killed meanwhile?
	if r.fenceNext {
		r.fenceNext = false
		if err := r.guard(ctx, name); err != nil {
			if r.a.crashed.Load() {
				return r.a.crashError()
			}
			return err
		}
	}
	r.writes++
	return nil
}

// request is what a surface works on.
func (r *run) request(w work) *surface.Request {
	h := r.h
	if w.fromRecord {
		h = nil
	}
	req := &surface.Request{
		Slug: r.slug, Spec: h, Folder: r.folder, Environment: r.env,
		Now: r.now, ExpiresAt: r.expires, Withhold: r.op.Withhold,
		Live: r.live, Vault: r.a.deps.Vault,
		Step: func(ctx context.Context, name string, ids map[string]string) error {
			return r.surfaceStep(ctx, w, name, ids)
		},
	}
	for _, c := range r.ph.Changes {
		if c.Surface == w.s.Name() && c.After != nil {
			req.Planned = c.After
		}
	}
	return req
}

// surfaceStep is a surface's Begin: an Untraceable step is journaled first.
func (r *run) surfaceStep(ctx context.Context, w work, name string, ids map[string]string) error {
	r.noteIDs(w.s.Name(), ids)
	untraceable := false
	for _, s := range w.s.Steps(w.op, nil, w.rec) {
		if s.Name == name && s.Untraceable {
			untraceable = true
		}
	}
	if untraceable {
		if err := r.step(ctx, reconcile.InFlightStep(name)); err != nil {
			return err
		}
		f := state.InFlight{Surface: w.s.Name(), Step: name, At: r.a.now().UTC(), IDs: ids}
		if names := w.s.Secrets(nil); len(names) > 0 {
			f.Secret = names[0]
		}
		f.PrevFingerprint = ids["prev_fingerprint"]
		r.journal.InFlight = append(r.journal.InFlight, f)
		// The journal exists (written first): one update.
		sec, err := r.a.deps.Vault.UpdateSecret(ctx, r.env, r.folder, state.JournalSecretName, marshalJournal(r.journal))
		if err != nil {
			return fmt.Errorf("record the %s in the journal of %s: %w", name, r.slug, err)
		}
		r.jver = sec.Version
		r.fenceNext = true // right before the mint
		if err := r.step(ctx, name); err != nil {
			// Stopped before the step (a fail point, a kill, a lapsed
			// lease): nothing was minted, unless the process dies here.
			r.journal.InFlight[len(r.journal.InFlight)-1].Undone = !r.a.crashed.Load()
			return err
		}
		return nil
	}
	return r.step(ctx, name)
}

// noteIDs keeps the remote ids a surface announced in the journal's entry
// for it; they are written with the next journal write (the one before an
// Untraceable step): ids that are not derivable by name come no later.
func (r *run) noteIDs(surfaceName string, ids map[string]string) {
	if r.journal == nil || len(ids) == 0 {
		return
	}
	for i := range r.journal.Entries {
		e := &r.journal.Entries[i]
		if e.Surface != surfaceName {
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

// readOldJournal checks whether the Untraceable steps the journal of a run
// that did not finish recorded reached the vault; those that did not are
// flagged.
func (r *run) readOldJournal(ctx context.Context) error {
	j := r.oldJournal
	if j == nil {
		return nil
	}
	r.addFlags(j.Flags...)
	for _, f := range j.InFlight {
		if f.Undone {
			continue
		}
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
func (r *run) reachedVault(ctx context.Context, f state.InFlight) (bool, error) {
	if f.Secret == "" {
		return false, nil
	}
	sec, err := r.a.deps.Vault.GetSecret(ctx, r.env, r.folder, f.Secret)
	if vault.IsNotFound(err) {
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
	j := &state.Journal{Slug: r.slug, Operation: string(r.op.Kind), RunID: r.a.runID, Owner: r.a.deps.Lock.Owner,
		StartedAt: r.now, Steps: r.op.Steps, Flags: r.flags}
	for _, c := range r.ph.Changes {
		if c.Action == plan.Create || c.Action == plan.Replace {
			if c.After != nil && c.After.Attributes["identity"] != "" && j.IdentityName == "" {
				j.IdentityName = c.After.Attributes["identity"]
			}
		}
	}
	seen := map[string]bool{}
	for _, w := range r.op.Work {
		if seen[w.Surface] {
			continue
		}
		seen[w.Surface] = true
		j.Entries = append(j.Entries, state.JournalEntry{Step: w.Op, Surface: w.Surface, At: r.now})
	}
	// A revocation records what it will write, so that a run that finds
	// it unfinished finishes it (the plan revokes, never refreshes) with
	// the same record.
	j.Revocation = r.revocation
	r.journal = j
	if err := r.step(ctx, "write "+state.JournalSecretName); err != nil {
		return err
	}
	if r.kill && r.a.held.Load() == nil && r.lh != nil && r.lh.HasJournal() {
		// The journal of another run: a kill does not write over the
		// journal of an apply that may be running (its record of a mint
		// in flight); the kill's record is in the tombstone.
		if owner, valid := r.a.foreignLease(ctx); valid {
			r.journalKept = owner
			r.writes--
			r.a.progress("handoff %s: kept %s as it is: the apply of %s holds the lock and may be working on it", r.slug, state.JournalSecretName, owner)
			return nil
		}
	}
	sec, err := r.writeJournalSecret(ctx, marshalJournal(j))
	if err != nil {
		return fmt.Errorf("write the journal of %s: %w", r.slug, err)
	}
	r.jver = sec.Version
	return nil
}

func marshalJournal(j *state.Journal) string {
	b, err := j.Marshal()
	if err != nil {
		panic(err) // ids and strings only
	}
	return string(b)
}

// comment is the secretComment of every secret the run writes (H5): the
// handoff and the command.
func (r *run) comment() string {
	return fmt.Sprintf("handoff %s: written by handoff %s", r.slug, r.a.command)
}

// revokedDetail describes a revocation for the history, from the record.
func revokedDetail(w work) string {
	verb := "revoked"
	if w.action == manifest.EventReplace {
		verb = "revoked to be replaced:"
	}
	if d, ok := w.s.(surface.RevokeDescriber); ok && w.rec != nil {
		if text := d.DescribeRevoke(w.rec, w.action == manifest.EventReplace); text != "" {
			return verb + " " + text
		}
	}
	return fmt.Sprintf("%s %s: whatever its deterministic names found", verb, w.s.Name())
}

// checkFrozen refuses, before any write, an operation that would mint for
// a handoff whose spec changed while some of its surfaces are killed: what
// it minted would stand, under the manifest's old spec digest and expiry,
// for grants of neither spec (H3, H4). The planner never plans that; a plan
// file edited by hand, or made by another build, might.
func (r *run) checkFrozen() error {
	m := r.m
	if m == nil || m.Status != manifest.Active || m.SpecDigest == r.ph.SpecDigest || r.ph.SpecDigest == "" {
		return nil
	}
	dead := m.Killed()
	if len(dead) == 0 {
		return nil
	}
	for _, w := range r.op.Work {
		if op := surface.Op(w.Op); op == surface.OpCreate || op == surface.OpRefresh || r.op.NewTTL {
			return fmt.Errorf("handoff %s: its spec changed since the last apply and surfaces are killed (%s): the changed spec is not applied until handoff untombstone, or a new slug; but the plan would %s %s: "+
				"that would mint, under the manifest's old spec digest and expiry, what neither spec granted; nothing was done: plan again",
				r.slug, strings.Join(slices.Sorted(maps.Keys(dead)), ", "), w.Op, w.Surface)
		}
	}
	return nil
}
