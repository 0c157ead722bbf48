package reconcile

import (
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/rotation"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/state"
	"github.com/raxx-app/handoff/internal/surface"
)

// The rotation service's subscription document is a pure function of the
// manifests: one entry per credential of every active handoff's unkilled
// surfaces that its surface lists (surface.Enrollable) and that lives
// rotation.MinLife or more, or whose life handoff does not bound. The
// planner shows what each handoff's change adds to it and removes, and a
// live document that differs from what the manifests say now (edited by
// hand, or left stale by an apply that stopped before writing it) as a
// drift the next write repairs; apply writes it after the handoffs'
// changes, from the manifests as they then are.

// Entries are the rotation entries of manifest m, whose handoff folder is
// folder in environment env: none unless m is active.
func Entries(reg *surface.Registry, m *manifest.Manifest, folder, env string) []rotation.Entry {
	if m == nil || m.Status != manifest.Active {
		return nil
	}
	killed := m.Killed()
	ttl := m.ExpiresAt.Sub(m.TTLStart(m.ExpiresAt))
	var out []rotation.Entry
	for _, name := range reg.SortNames(m.Surfaces.Names()) {
		if killed[name] {
			continue
		}
		out = append(out, enroll(reg, name, m.Slug, m.ExpiresAt, surface.EnrollInput{
			Slug: m.Slug, Folder: folder, Environment: env, TTL: ttl, Record: m.Surfaces[name], Manifest: m,
		})...)
	}
	return out
}

// Document is the subscription document of the handoffs under root in env
// as manifests (by slug) record them.
func Document(reg *surface.Registry, env, root string, manifests map[string]*manifest.Manifest) *rotation.Document {
	var entries []rotation.Entry
	for slug, m := range manifests {
		if m != nil && m.Slug == slug {
			entries = append(entries, Entries(reg, m, path.Join(root, slug), env)...)
		}
	}
	return rotation.New(env, root, entries)
}

// LiveDocument is the document the manifests of live say.
func LiveDocument(reg *surface.Registry, live *state.Live) *rotation.Document {
	ms := make(map[string]*manifest.Manifest, len(live.Handoffs))
	for slug, h := range live.Handoffs {
		ms[slug] = h.Manifest
	}
	return Document(reg, live.Environment, live.Root, ms)
}

// enroll asks surface name for its credentials and keeps those that live
// long enough, as entries of handoff slug expiring at expires.
func enroll(reg *surface.Registry, name, slug string, expires time.Time, in surface.EnrollInput) []rotation.Entry {
	s, ok := reg.Get(name)
	if !ok {
		return nil
	}
	en, ok := s.(surface.Enrollable)
	if !ok {
		return nil
	}
	var out []rotation.Entry
	for _, c := range en.Credentials(in) {
		if c.Path == "" || c.Environment == "" || (c.Life != 0 && c.Life < rotation.MinLife) {
			continue
		}
		out = append(out, rotation.NewEntry(slug, c.Environment, path.Clean(c.Path), c.What, expires))
	}
	return out
}

// plannedEntries are the entries of handoff ph once its operation is
// applied: m's (the valid live manifest, or nil) when nothing changes,
// none once revoked, and otherwise those of the surfaces it keeps (from
// their records) and of those it mints (from the planned grants), less
// the surfaces killed.
func (pl *planner) plannedEntries(ph *plan.Handoff, h *spec.Handoff, m *manifest.Manifest) []rotation.Entry {
	folder := pl.folder(ph.Slug)
	op := ph.Operation
	if op == nil {
		return Entries(pl.reg, m, folder, pl.env)
	}
	switch op.Final {
	case plan.FinalNew, plan.FinalUpdate:
	default:
		return nil
	}
	fresh := op.Final == plan.FinalNew || op.NewTTL
	if !fresh && (m == nil || m.Status != manifest.Active) {
		return nil
	}
	var expires time.Time
	var ttl time.Duration
	killed := map[string]bool{}
	kept := map[string]bool{}
	if fresh {
		if h == nil {
			return nil
		}
		expires, ttl = ph.ExpiresAt, h.TTL.Value
	} else {
		expires, ttl = m.ExpiresAt, m.ExpiresAt.Sub(m.TTLStart(m.ExpiresAt))
		for k := range m.Killed() {
			killed[k] = true
		}
	}
	if m != nil && op.Final == plan.FinalUpdate {
		for _, name := range m.Surfaces.Names() {
			kept[name] = true
		}
	}
	if rv := op.Revocation; rv != nil && rv.Kind == string(manifest.RevokedManual) {
		for _, s := range rv.Surfaces {
			killed[s] = true
		}
	}
	for _, s := range op.Dropped {
		delete(kept, s)
	}
	minted := map[string]bool{}
	for _, w := range op.Work {
		switch surface.Op(w.Op) {
		case surface.OpRevoke:
			delete(kept, w.Surface)
		case surface.OpCreate, surface.OpRefresh:
			if !w.FromRecord {
				minted[w.Surface] = true
				delete(kept, w.Surface)
			}
		}
	}
	after := map[string]*plan.Grant{}
	for _, c := range ph.Changes {
		after[c.Surface] = c.After
	}
	var out []rotation.Entry
	for _, name := range pl.reg.Names() {
		in := surface.EnrollInput{Slug: ph.Slug, Folder: folder, Environment: pl.env, TTL: ttl}
		switch {
		case killed[name]:
			continue
		case minted[name] && after[name] != nil:
			in.Grant, in.Spec = after[name], h
		case kept[name] && m != nil && m.Surfaces.Has(name):
			in.Record, in.Manifest = m.Surfaces[name], m
		default:
			continue
		}
		out = append(out, enroll(pl.reg, name, ph.Slug, expires, in)...)
	}
	return out
}

// rotation plans the subscription document: per handoff, the entries its
// change adds and removes; for the document, whether apply writes it and
// what of the live one differs from what the manifests say now. specs are
// the repository's specs by slug.
func (pl *planner) rotation(p *plan.Plan, specs map[string]*spec.Handoff) {
	loc := RotationLocation(pl.repo.Config)
	lr := pl.live.Rotation
	switch {
	case loc == nil && lr == nil:
		return // enrollment is off
	case loc == nil:
		return // handoff.hcl turned it off: the document is left as it is
	case lr == nil || lr.Location != *loc:
		pl.diags = append(pl.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Rotation document not read",
			Detail: fmt.Sprintf("handoff.hcl enrolls credentials in the rotation document %s, but the live state was read without it: the plan cannot say what apply writes there. This is a bug of the caller: read the state with its location (state.Options.Rotation).", loc)})
		return
	}
	var now, after []rotation.Entry
	for i := range p.Handoffs {
		ph := &p.Handoffs[i]
		var m *manifest.Manifest
		if lh := pl.live.Handoffs[ph.Slug]; lh != nil {
			m = lh.Manifest
		}
		before := Entries(pl.reg, m, pl.folder(ph.Slug), pl.env)
		planned := pl.plannedEntries(ph, specs[ph.Slug], m)
		now = append(now, before...)
		after = append(after, planned...)
		if add, remove := rotation.Diff(before, planned); len(add)+len(remove) > 0 {
			ph.Rotation = &plan.RotationChange{Add: add, Remove: remove}
		}
	}
	want := rotation.New(pl.live.Environment, pl.live.Root, after)
	rp := &plan.Rotation{Environment: loc.Environment, Folder: loc.Folder, Secret: loc.Secret,
		Live: string(lr.State), Entries: len(want.Subscriptions)}
	p.Rotation = rp
	var changes []string
	for _, h := range p.Handoffs {
		if c := h.Rotation; c != nil {
			changes = append(changes, h.Slug)
		}
	}
	switch lr.State {
	case rotation.StateMissing:
		rp.Write = true
		rp.Reason = "the document does not exist yet: apply creates it with " + plural(len(want.Subscriptions), "entry", "entries")
		return
	case rotation.StateUnread, rotation.StateInvalid, rotation.StateForeign:
		what := map[rotation.State]string{
			rotation.StateUnread:  "could not be read",
			rotation.StateInvalid: "holds something that is not a rotation document",
			rotation.StateForeign: "is not these handoffs' document",
		}[lr.State]
		rp.Reason = fmt.Sprintf("not written: the secret %s (%s); fix it by hand, then apply", what, lr.Problem)
		pl.diags = append(pl.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Rotation document not written",
			Detail: fmt.Sprintf("The rotation document %s %s (%s), so apply leaves it as it is and enrolls nothing. %s The handoffs themselves are applied all the same.",
				loc, what, lr.Problem, rotationAdvice(lr.State))})
		return
	}
	if lr.Matches(want.Marshal()) {
		return
	}
	rp.Write = true
	add, remove := rotation.Diff(lr.Entries(), now)
	var why []string
	if len(changes) > 0 {
		why = append(why, "the changes of "+strings.Join(changes, ", "))
	}
	switch {
	case len(add)+len(remove) > 0:
		rp.Repair = &plan.RotationChange{Add: add, Remove: remove}
		why = append(why, "a repair: the live document "+drift(add, remove)+" (edited by hand, or left stale by an apply that stopped before writing it)")
	case len(changes) == 0:
		why = append(why, "a repair: the live document's form or fields differ from what handoff writes")
	}
	rp.Reason = "apply rewrites it for " + strings.Join(why, ", and ")
}

// drift says how a live document differs from what the manifests say:
// "holds 1 entry no manifest says and lacks 2".
func drift(add, remove []rotation.Entry) string {
	var parts []string
	if len(remove) > 0 {
		parts = append(parts, "holds "+plural(len(remove), "entry", "entries")+" no manifest says")
	}
	if len(add) > 0 {
		parts = append(parts, "lacks "+plural(len(add), "entry", "entries")+" the manifests say")
	}
	return strings.Join(parts, " and ")
}

// rotationAdvice says how to make an unwritable document writable again.
func rotationAdvice(s rotation.State) string {
	switch s {
	case rotation.StateUnread:
		return "Give the provisioner read and write on that one secret (see docs/getting-started.md)."
	case rotation.StateInvalid:
		return "If the secret is the rotation document, empty or delete it and apply writes it again; if it is another secret, point handoff.hcl's rotation block elsewhere."
	}
	return "Two repositories of handoffs cannot share one document (each would remove the other's entries), and a later build's document is not downgraded: give this repository a document of its own in handoff.hcl's rotation block."
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
