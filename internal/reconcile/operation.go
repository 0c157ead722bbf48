package reconcile

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/state"
	"github.com/raxx-app/handoff/internal/surface"
)

// work is one surface operation of a run being planned.
type work struct {
	s  surface.Surface
	op surface.Op
	// rec is the manifest's record of the surface (nil when none).
	rec surface.Record
	// action is what the history records.
	action manifest.EventAction
	// fromRecord makes the surface work from its record rather than the
	// spec (the spec changed since the manifest was written).
	fromRecord bool
}

// opBuilder decides the operation of one handoff: what apply will do, in
// which order, step by step. It is the port of what apply once decided for
// itself; the plan is now the only decision.
type opBuilder struct {
	pl   *planner
	ph   *plan.Handoff
	h    *spec.Handoff      // nil: the spec is gone
	lh   *state.Handoff     // nil: no folder
	m    *manifest.Manifest // the valid live manifest, or nil
	j    *state.Journal     // the journal of a run that did not finish, if readable
	slug string

	o        plan.Operation
	revokes  []work
	regrants []work
	mints    []work
	frozen   bool
}

// operation decides what apply does for the planned handoff ph; nil when
// it changes nothing.
func (pl *planner) operation(ph *plan.Handoff, h *spec.Handoff, lh *state.Handoff) *plan.Operation {
	if !changed(ph.Changes) {
		return nil
	}
	b := &opBuilder{pl: pl, ph: ph, h: h, lh: lh, slug: ph.Slug}
	if lh != nil {
		b.m, b.j = lh.Manifest, lh.Journal
	}
	if m := b.m; m != nil && m.Status == manifest.Active && b.j != nil {
		// A kill of some surfaces gives way to a plan that revokes the
		// whole handoff (expired, spec deleted): that covers it.
		if rv := b.j.Revocation; rv != nil && rv.Kind == manifest.RevokedManual && (len(rv.Surfaces) == 0 || !b.revokesBeyond(rv.Surfaces)) {
			// An operator's kill did not finish: finish it, as the plan
			// says (it revokes what the journal names, never refreshes).
			b.o.Note = fmt.Sprintf("handoff %s: finishing the manual revocation by %s that an interrupted run started", b.slug, cmp.Or(rv.By, "an operator"))
			b.manual(KillOptions{Reason: rv.Reason, By: rv.By, Surfaces: rv.Surfaces})
			return b.finish()
		}
	}
	if !b.decide() {
		return nil
	}
	return b.finish()
}

// decide turns the plan's changes and the live folder into the run's work;
// false when there is nothing to do.
func (b *opBuilder) decide() bool {
	lh, m, ph := b.lh, b.m, b.ph
	empty := lh == nil || (!lh.HasManifest() && !lh.HasJournal() && len(lh.Secrets) == 0)
	switch {
	case m == nil && empty:
		if b.h == nil {
			return false // nothing there, nothing asked
		}
		b.o.Kind, b.o.Final, b.o.NeedFolder = plan.OpCreate, plan.FinalNew, lh == nil
		b.mintAll(manifest.EventCreate)
	case m == nil:
		// A journal without a manifest (a crashed apply), a corrupt
		// manifest, or secrets with no manifest: revoke what the names
		// find, then create again if the spec is there and the plan says so.
		b.o.Kind, b.o.Final = plan.OpRecover, plan.FinalNone
		b.sweep(nil)
		b.deleteFolder(true)
		if b.h != nil && wantsMint(ph) {
			b.o.Final = plan.FinalNew
			b.mintAll(manifest.EventReplace)
		}
	case m.Untombstoned() && b.h != nil && wantsMint(ph):
		// A lifted tombstone: the spec is minted again, as a create, into a
		// new manifest that carries the revoked one's history. What a
		// stopped attempt left (a journal, anything named for the slug) is
		// revoked first.
		b.o.Kind, b.o.Final = plan.OpCreate, plan.FinalNew
		if lh.HasJournal() || len(lh.Secrets) > 1 || len(b.pl.foundByName(b.slug)) > 0 {
			b.o.Kind = plan.OpRecover
			b.sweep(nil)
			b.deleteFolder(false)
		}
		b.mintAll(manifest.EventCreate)
	case m.Status == manifest.Revoked:
		// The leftovers of a revocation that did not finish (a journal):
		// never mint, finish revoking, keep the record.
		b.o.Kind, b.o.Final = plan.OpRevoke, plan.FinalRevoked
		if j := b.j; j != nil && j.Revocation != nil && j.Revocation.Kind == manifest.RevokedManual && !m.Tombstoned() {
			// An operator's revoke stopped before its tombstone (of a
			// lifted one, say): the tombstone it was writing.
			b.o.Revocation = toPlan(j.Revocation)
		}
		b.sweep(m)
		b.deleteFolder(false)
	case b.fullRevoke():
		b.o.Kind, b.o.Final = plan.OpRevoke, plan.FinalRevoked
		// Stamped when it runs.
		b.o.Revocation = &plan.Revocation{Kind: string(RevocationKind(m, b.pl.now)), Reason: ph.Reason, By: "handoff apply"}
		if j := b.j; j != nil && j.Revocation != nil && j.Revocation.Kind != manifest.RevokedManual {
			// Finishing a revocation that stopped part-way: its record.
			b.o.Revocation = toPlan(j.Revocation)
		}
		b.sweep(m)
		b.deleteFolder(false)
	default:
		b.update()
	}
	return true
}

func toPlan(r *manifest.Revocation) *plan.Revocation {
	if r == nil {
		return nil
	}
	return &plan.Revocation{At: r.At, Kind: string(r.Kind), Reason: r.Reason, By: r.By, Surfaces: slices.Clone(r.Surfaces)}
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
// active manifest: every change is a revoke, and every surface of it that
// is not killed is revoked. (A revoke of a killed surface alone, what a
// stopped run left of it, keeps the handoff.)
func (b *opBuilder) fullRevoke() bool {
	n := 0
	revoked := map[string]bool{}
	for _, c := range b.ph.Changes {
		switch c.Action {
		case plan.Revoke:
			n++
			revoked[c.Surface] = true
		case plan.NoOp:
		default:
			return false
		}
	}
	dead := b.m.Killed()
	for _, s := range b.m.Surfaces.Names() {
		if !dead[s] && !revoked[s] {
			return false
		}
	}
	return n > 0
}

// revokesBeyond reports whether the plan revokes the whole handoff and a
// surface other than those named.
func (b *opBuilder) revokesBeyond(surfaces []string) bool {
	if !b.fullRevoke() {
		return false
	}
	for _, c := range b.ph.Changes {
		if c.Action == plan.Revoke && !slices.Contains(surfaces, c.Surface) {
			return true
		}
	}
	return false
}

// surface returns the registry's surface name, reporting (once) a surface
// this build cannot act on.
func (b *opBuilder) surface(name, verb string) (surface.Surface, bool) {
	s, ok := b.pl.reg.Get(name)
	if ok {
		if _, cannot := s.(surface.Unprovisionable); !cannot {
			return s, true
		}
	}
	if b.pl.once("provider\x00" + b.slug + "\x00" + name) {
		d := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: fmt.Sprintf("No provider for surface %s", name),
			Detail: fmt.Sprintf("no provider for surface %s in this build: handoff %q needs its credential %s, which this build cannot do. %s",
				name, b.slug, verb, "Revoke it by hand with the vendor, or run a build that includes the "+name+" provider.")}
		if b.h != nil {
			d.Subject = b.h.BlockRange(name).Ptr()
		}
		b.pl.diags = append(b.pl.diags, d)
	}
	return nil, false
}

func (b *opBuilder) record(name string) surface.Record {
	if b.m == nil {
		return nil
	}
	return b.m.Surfaces[name]
}

// mintAll mints every surface of the spec.
func (b *opBuilder) mintAll(action manifest.EventAction) {
	for _, name := range b.h.Surfaces() {
		if s, ok := b.surface(name, "minted"); ok {
			b.mints = append(b.mints, work{s: s, op: surface.OpCreate, action: action})
		}
	}
}

// sweep revokes every surface that may hold something for the handoff: the
// ones m records, those the journal names, those whose secrets are in the
// folder, and those whose deterministic names find something.
func (b *opBuilder) sweep(m *manifest.Manifest) {
	want := map[string]bool{}
	if m != nil {
		for _, s := range m.Surfaces.Names() {
			want[s] = true
		}
	}
	if b.lh != nil {
		if b.lh.Journal != nil {
			for _, s := range b.lh.Journal.Surfaces() {
				want[s] = true
			}
		}
		for _, s := range b.pl.reg.All() {
			for _, sec := range s.Secrets(nil) {
				if _, ok := b.lh.Secrets[sec]; ok {
					want[s.Name()] = true
				}
			}
		}
	}
	for name := range b.pl.foundByName(b.slug) {
		want[name] = true
	}
	for _, name := range b.pl.reg.SortNames(slicesOf(want)) {
		if name == SurfaceVault {
			continue
		}
		s, ok := b.surface(name, "revoked")
		if !ok {
			continue
		}
		w := work{s: s, op: surface.OpRevoke, action: manifest.EventRevoke}
		if m != nil {
			w.rec = m.Surfaces[name]
		}
		b.revokes = append(b.revokes, w)
	}
}

func slicesOf(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// deleteFolder deletes every secret of the folder but the journal (and the
// manifest unless withManifest).
func (b *opBuilder) deleteFolder(withManifest bool) {
	if b.lh == nil {
		return
	}
	for _, name := range b.lh.SecretNames() {
		if name == state.JournalSecretName || (name == manifest.SecretName && !withManifest) {
			continue
		}
		b.o.Deletes = append(b.o.Deletes, name)
	}
}

// addDeletes deletes the named secrets of the folder that are there.
func (b *opBuilder) addDeletes(names ...string) {
	for _, n := range names {
		if b.lh == nil || n == manifest.SecretName || n == state.JournalSecretName || slices.Contains(b.o.Deletes, n) {
			continue
		}
		if _, ok := b.lh.Secrets[n]; ok {
			b.o.Deletes = append(b.o.Deletes, n)
		}
	}
}

// update plans the changes of an active handoff whose manifest is valid.
// The manifest keeps the spec digest and the expiry it was applied with,
// and whatever is minted lives no longer than that expiry, unless the plan
// replaces the whole handoff with a changed spec (replacesAll): then, and
// only then, a new TTL starts and the new digest is recorded. A changed
// spec that the plan does not replace (surfaces were killed: the handoff
// is frozen) allows only what mints nothing: the revocation of what a
// stopped run left of a killed surface and the narrowing of a grant from
// its record.
func (b *opBuilder) update() {
	m, ph := b.m, b.ph
	dead := m.Killed()
	b.o.Final = plan.FinalUpdate
	if m.SpecDigest != ph.SpecDigest {
		if b.replacesAll(dead) {
			b.o.NewTTL = true
		} else {
			b.frozen, b.o.Frozen = true, true
		}
	}
	b.o.Withhold = b.pl.WithheldPaths(m.Surfaces, m.KilledSurfaces())
	anyReplace := false
	for _, c := range ph.Changes {
		if !c.Action.IsChange() {
			continue
		}
		if c.Surface == SurfaceVault {
			if c.Action == plan.Revoke {
				b.addDeletes(c.Secrets...)
			}
			continue
		}
		s, ok := b.surface(c.Surface, "changed")
		if !ok {
			continue
		}
		rec := b.record(c.Surface)
		defaults := s.Secrets(nil)
		switch {
		case dead[c.Surface]:
			// Killed by an operator: never minted again; what a crashed
			// run left is revoked again. Its record stays: it is the
			// kill's (a by-reference surface's key paths stay withheld).
			b.revokes = append(b.revokes, work{s: s, op: surface.OpRevoke, rec: rec, action: manifest.EventRevoke})
			b.addDeletes(union(defaults, c.Secrets)...)
		case c.Action == plan.Revoke:
			b.revokes = append(b.revokes, work{s: s, op: surface.OpRevoke, rec: rec, action: manifest.EventRevoke})
			b.addDeletes(union(defaults, c.Secrets)...)
			b.o.Dropped = append(b.o.Dropped, c.Surface)
		case b.frozen:
			// Only the narrowing of a grant from its record:
			// addRegrants, below.
		case c.Action == plan.Replace:
			anyReplace = true
			b.revokes = append(b.revokes, work{s: s, op: surface.OpRevoke, rec: rec, action: manifest.EventReplace})
			var stale []string
			for _, n := range c.Secrets {
				if !slices.Contains(defaults, n) {
					stale = append(stale, n)
				}
			}
			b.addDeletes(stale...)
			b.mints = append(b.mints, work{s: s, op: surface.OpCreate, action: manifest.EventReplace})
		case c.Action == plan.Refresh && rec != nil:
			if b.grantOnly(c, s, rec) {
				continue // the grant changes in place: below
			}
			b.mints = append(b.mints, work{s: s, op: surface.OpRefresh, rec: rec, action: manifest.EventRefresh})
		default: // create, or a refresh of a surface the manifest lacks
			anyReplace = true
			b.mints = append(b.mints, work{s: s, op: surface.OpCreate, action: manifest.EventCreate})
		}
	}
	b.addRegrants(dead)
	switch {
	case b.o.NewTTL:
		b.o.Kind = plan.OpReplace
	case anyReplace || len(b.revokes) > 0 || len(b.regrants) > 0:
		b.o.Kind = plan.OpUpdate
	default:
		b.o.Kind = plan.OpRefresh
	}
}

// replacesAll reports whether the plan replaces the whole handoff with the
// spec: nothing of the manifest is killed, every surface of the spec is
// created or replaced (minted again under it), and every surface the
// manifest records that the spec lacks is revoked.
func (b *opBuilder) replacesAll(dead map[string]bool) bool {
	if len(dead) > 0 {
		return false
	}
	actions := map[string]plan.Action{}
	for _, c := range b.ph.Changes {
		actions[c.Surface] = c.Action
	}
	for _, s := range b.h.Surfaces() {
		if a := actions[s]; a != plan.Create && a != plan.Replace {
			return false
		}
	}
	for _, s := range b.m.Surfaces.Names() {
		if !b.h.HasSurface(s) && actions[s] != plan.Revoke {
			return false
		}
	}
	return true
}

// grantOnly reports whether the plan's refresh of surface s asks only for
// its grant to change in place: nothing to write (a new credential would
// be), the grant differs from what the spec allows less the withheld
// paths, and nothing else calls for a new credential (an expired one, a
// journal's leftovers).
func (b *opBuilder) grantOnly(c plan.Change, s surface.Surface, rec surface.Record) bool {
	rg, ok := s.(surface.Regranter)
	if !ok || len(c.Secrets) > 0 || (b.lh != nil && b.lh.HasJournal()) {
		return false
	}
	if e, ok := s.(surface.Expiring); ok {
		if at, _, _ := e.Expiry(rec); !at.IsZero() && !b.pl.now.Before(at) {
			return false
		}
	}
	return rg.NeedsRegrant(b.request(work{s: s, op: surface.OpRegrant, rec: rec, fromRecord: b.specChanged()}), rec)
}

// specChanged reports whether the spec differs from the one the manifest
// was applied from (or is gone).
func (b *opBuilder) specChanged() bool {
	return b.h == nil || b.m == nil || b.m.SpecDigest != b.ph.SpecDigest
}

// addRegrants adds the in-place change of each Regranter's grant when it
// differs from what it should hold now (the spec's less the withheld
// paths; the recorded one less them when the spec changed), unless the
// surface is killed, or this run mints it anew or revokes it (a new
// credential is granted without the withheld paths).
func (b *opBuilder) addRegrants(dead map[string]bool) {
	m := b.m
	for _, s := range b.pl.reg.All() {
		rg, ok := s.(surface.Regranter)
		if !ok || !m.Surfaces.Has(s.Name()) || dead[s.Name()] {
			continue
		}
		if b.frozen && !slices.ContainsFunc(b.ph.Changes, func(c plan.Change) bool {
			return c.Surface == s.Name() && c.Action == plan.Refresh
		}) {
			continue // frozen: only the narrowing the plan shows
		}
		if slices.ContainsFunc(append(slices.Clone(b.revokes), b.mints...), func(w work) bool {
			return w.s.Name() == s.Name() && w.op != surface.OpRefresh
		}) {
			continue
		}
		rec := m.Surfaces[s.Name()]
		w := work{s: s, op: surface.OpRegrant, rec: rec, fromRecord: b.specChanged(), action: manifest.EventRefresh}
		if rg.NeedsRegrant(b.request(w), rec) {
			b.regrants = append(b.regrants, w)
		}
	}
}

// request is what a surface works on, as the plan lists its steps.
func (b *opBuilder) request(w work) *surface.Request {
	h := b.h
	if w.fromRecord {
		h = nil
	}
	req := &surface.Request{
		Slug: b.slug, Spec: h, Folder: b.pl.folder(b.slug), Environment: b.pl.env,
		Now: b.pl.now, Withhold: b.o.Withhold, Live: b.pl.live,
	}
	for _, c := range b.ph.Changes {
		if c.Surface == w.s.Name() && c.After != nil {
			req.Planned = c.After
		}
	}
	return req
}

// finish orders the work and lists the steps.
func (b *opBuilder) finish() *plan.Operation {
	reg := b.pl.reg
	sort.SliceStable(b.revokes, func(i, j int) bool { return reg.Rank(b.revokes[i].s.Name()) < reg.Rank(b.revokes[j].s.Name()) })
	// Mints whose product is Untraceable go last, so that their secret is
	// written right after them; the rest in the registry's order.
	sort.SliceStable(b.mints, func(i, j int) bool {
		ui, uj := surface.HasUntraceable(b.mints[i].s, b.mints[i].op), surface.HasUntraceable(b.mints[j].s, b.mints[j].op)
		if ui != uj {
			return !ui
		}
		return reg.Rank(b.mints[i].s.Name()) < reg.Rank(b.mints[j].s.Name())
	})
	o := &b.o
	if o.Final == "" {
		o.Final = plan.FinalNone
	}
	o.Work = []plan.Work{}
	for _, ws := range [][]work{b.revokes, b.regrants, b.mints} {
		for _, w := range ws {
			o.Work = append(o.Work, plan.Work{Surface: w.s.Name(), Op: string(w.op), Event: string(w.action), FromRecord: w.fromRecord, Record: w.rec != nil})
		}
	}
	o.Steps = b.steps()
	return o
}

// steps lists the run's remote writes, for "step i/n" and the journal.
func (b *opBuilder) steps() []string {
	o := &b.o
	var st []string
	if o.NeedFolder {
		st = append(st, "ensure folder "+b.pl.folder(b.slug))
	}
	st = append(st, "write "+state.JournalSecretName)
	if o.TombstoneFirst {
		st = append(st, "write "+manifest.SecretName+" (tombstone)")
	}
	for _, w := range b.revokes {
		for _, s := range w.s.Steps(surface.OpRevoke, b.request(w), w.rec) {
			st = append(st, s.Name)
		}
	}
	if len(o.Deletes) > 0 {
		st = append(st, DeleteStep(o.Deletes))
	}
	for _, w := range b.regrants {
		for _, s := range w.s.Steps(surface.OpRegrant, b.request(w), w.rec) {
			st = append(st, s.Name)
		}
	}
	for _, w := range b.mints {
		for _, s := range w.s.Steps(w.op, b.request(w), w.rec) {
			if s.Untraceable {
				st = append(st, InFlightStep(s.Name))
			}
			st = append(st, s.Name)
		}
	}
	if step := CommitStep(CommitNames(b.pl.reg, o)); step != "" {
		st = append(st, step)
	}
	return append(st, "delete "+state.JournalSecretName)
}

// InFlightStep is the step that journals an Untraceable step name before
// it runs.
func InFlightStep(name string) string {
	return "record in " + state.JournalSecretName + ": " + name + " in flight"
}

// WriteOrder is the order in which a run writes the secrets its mints
// return: those of Untraceable mints first (they close the window), then
// the others.
func WriteOrder(reg *surface.Registry, ws []plan.Work) []string {
	var first, rest []string
	for _, w := range ws {
		op := surface.Op(w.Op)
		if op != surface.OpCreate && op != surface.OpRefresh {
			continue
		}
		s, ok := reg.Get(w.Surface)
		if !ok {
			continue
		}
		names := s.Secrets(nil)
		if surface.HasUntraceable(s, op) {
			first = append(first, names...)
		} else {
			rest = append(rest, names...)
		}
	}
	return append(first, rest...)
}

// KillOptions describe a manual revocation (`handoff revoke`).
type KillOptions struct {
	// Reason and By are recorded in the manifest's Revocation.
	Reason string
	By     string
	// Surfaces limits the revocation to these surfaces (the kill switch per
	// surface, H8); empty revokes the whole handoff.
	Surfaces []string
}

// ManualReason is the reason a manual revocation records.
func (o KillOptions) ManualReason() string {
	return cmp.Or(o.Reason, "revoked by hand (handoff revoke)")
}

// manual decides a manual revocation: a tombstone first, then every
// credential (or those of the named surfaces, whose kill narrows the
// grants that read them) revoked.
func (b *opBuilder) manual(opts KillOptions) error {
	m := b.m
	by := cmp.Or(opts.By, "an operator")
	rv := &plan.Revocation{Kind: string(manifest.RevokedManual), Reason: opts.ManualReason(), By: opts.By}
	b.o.TombstoneFirst = true
	b.o.Kind = plan.OpRevoke
	if len(opts.Surfaces) > 0 {
		if m == nil || m.Status != manifest.Active {
			return fmt.Errorf("revoke %s -surface: the handoff has no active manifest; revoke it whole", b.slug)
		}
		names := b.pl.surfaces(m)
		for _, s := range opts.Surfaces {
			if !slices.Contains(names, s) {
				return fmt.Errorf("revoke %s: it has no %s surface (it has %s)", b.slug, s, strings.Join(names, ", "))
			}
		}
		killed := union(nil, opts.Surfaces)
		if m.Revocation != nil && m.Revocation.Kind == manifest.RevokedManual {
			killed = union(m.Revocation.Surfaces, opts.Surfaces)
		}
		rv.Surfaces = killed
		if len(killed) < len(names) {
			b.o.Final, b.o.Revocation = plan.FinalUpdate, rv
			for _, name := range opts.Surfaces {
				s, ok := b.pl.reg.Get(name)
				if !ok {
					return fmt.Errorf("no provider for surface %s in this build: revoke it by hand with the vendor", name)
				}
				rec := m.Surfaces[name]
				b.revokes = append(b.revokes, work{s: s, op: surface.OpRevoke, rec: rec, action: manifest.EventRevoke})
				b.addDeletes(union(s.Secrets(nil), s.Secrets(rec))...)
			}
			// A surface read by reference (a pre-provisioned key the
			// handoff's identity reads from the vault) is cut off by
			// narrowing that identity's grant in place (H8).
			b.o.Withhold = b.pl.WithheldPaths(m.Surfaces, killed)
			dead := map[string]bool{}
			for _, k := range killed {
				dead[k] = true
			}
			b.addRegrants(dead)
			b.o.History = append(b.o.History, plan.Note{Action: string(manifest.EventRevoke), Surface: strings.Join(opts.Surfaces, ","),
				Detail: fmt.Sprintf("killed by %s: %s; not minted again until handoff untombstone", by, rv.Reason)})
			return nil
		}
		rv.Surfaces = nil // every surface: the whole handoff
	}
	b.o.Final, b.o.Revocation = plan.FinalRevoked, rv
	if m == nil {
		if b.h != nil {
			// No usable manifest: the tombstone is built from the spec.
			b.o.TombstoneFromSpec = true
		} else {
			b.o.Final, b.o.TombstoneFirst = plan.FinalNone, false
			b.o.Flags = append(b.o.Flags, fmt.Sprintf("handoff %s: no manifest and no spec: its leftovers are revoked but no tombstone can be written", b.slug))
		}
	}
	// Leftovers found by name only (the folder is gone): the tombstone
	// needs its folder back.
	b.o.NeedFolder = b.lh == nil && b.o.Final != plan.FinalNone
	b.sweep(m)
	b.deleteFolder(m == nil)
	b.o.History = append(b.o.History, plan.Note{Action: string(manifest.EventRevoke),
		Detail: fmt.Sprintf("tombstone: revoked by %s: %s; not minted again until handoff untombstone", by, rv.Reason)})
	return nil
}
