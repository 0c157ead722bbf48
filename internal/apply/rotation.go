package apply

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/reconcile"
	"github.com/raxx-app/handoff/internal/rotation"
	"github.com/raxx-app/handoff/internal/state"
)

// The rotation service's subscription document (package rotation) is a
// pure function of the manifests. An apply writes it last, under its
// lock, after the handoffs' runs: from the manifests as its runs left
// them, one write, none when the live document already says the same. A
// crash before that write leaves the document stale, and the next plan
// shows it as a drift that the next apply repairs.
//
// The kill switch takes no lock, so an apply fences the write as it
// fences each handoff's steps: right before it, one listing of the root
// (names and versions) tells which manifests someone else wrote since the
// apply read or wrote them (a handoff revoke), and their handoffs are
// left out of the document: a handoff being revoked is never enrolled
// again by an apply that raced it. Revoke removes the revoked handoff's
// entries itself, best-effort, after cutting its credentials
// (unenroll); a revoke that lands between an apply's fence and its write
// may see its removal overwritten, and the next apply, which reads the
// revoked manifest, removes the entries for good (auto_revoke_after
// bounds them meanwhile).

// RotationReport says what an apply did with the rotation document.
type RotationReport struct {
	// Location is where the document is.
	Location rotation.Location
	// Written says the document was written; Entries counts its entries
	// (those of the live document when it was not).
	Written bool
	Entries int
	// LeftOut are the handoffs left out of the document because their
	// manifest was written by someone else while the apply ran (a kill).
	LeftOut []string
	// Problem says why a document that differs was not written (it is
	// not these handoffs': the plan warned); empty otherwise.
	Problem string
}

// RotationStep is the Op of the step of the document's write (Step.Op), as
// a FailPoint sees it; its Slug is empty for an apply's write, the slug
// for a revoke's removal.
const RotationStep = "rotation"

// enroll turns on the document's read and write when handoff.hcl
// configures it.
func (a *applier) enroll() {
	if a.deps.Repo != nil {
		a.rotation = reconcile.RotationLocation(a.deps.Repo.Config)
	}
}

// comment is the vault comment of the document's secret.
func (a *applier) rotationComment() string {
	return fmt.Sprintf("handoff rotation subscriptions of the handoffs under %s (%s): written by handoff %s from their manifests; edits by hand are undone by the next apply",
		a.cfg.Root, a.cfg.Environment, a.command)
}

// writeRotation writes the document after the runs of an apply, from the
// manifests live read under the lock and those the runs wrote. It sends
// nothing when enrollment is off, when the run lost its lock, or when the
// live document already holds what the manifests say.
func (a *applier) writeRotation(ctx context.Context, live *state.Live, runs []*run, rep *Report) error {
	loc := a.rotation
	if loc == nil || live.Rotation == nil || ctx.Err() != nil {
		return nil
	}
	ms := make(map[string]*manifest.Manifest, len(live.Handoffs))
	known := map[string]int{} // folder → the manifest's version as this run knows it
	for slug, h := range live.Handoffs {
		ms[slug] = h.Manifest
		known[path.Clean(h.Folder)] = h.Secrets[manifest.SecretName].Version
	}
	for _, r := range runs {
		if r == nil {
			continue
		}
		if r.final != nil {
			ms[r.slug] = r.final
		}
		known[path.Clean(r.folder)] = r.mver
	}
	rr := &RotationReport{Location: *loc}
	rep.Rotation = rr
	doc := reconcile.Document(a.deps.Registry, a.cfg.Environment, a.cfg.Root, ms)
	want := doc.Marshal()
	rr.Entries = len(doc.Subscriptions)
	switch {
	case live.Rotation.Matches(want):
		a.progress("rotation document %s: up to date (%s)", loc, plural(rr.Entries, "entry", "entries"))
		return nil
	case !live.Rotation.Writable():
		rr.Problem = fmt.Sprintf("the secret is %s (%s)", live.Rotation.State, live.Rotation.Problem)
		rr.Entries = len(live.Rotation.Entries())
		a.progress("WARNING: rotation document %s not written: %s; it enrolls nothing until fixed by hand", loc, rr.Problem)
		return nil
	}
	info := Step{Op: RotationStep, Index: 1, Total: 1, Name: "write " + loc.Secret}
	a.progress("step 1/1: write the rotation document %s", loc)
	if fp := a.deps.FailPoint; fp != nil {
		if err := fp(info); err != nil {
			if errors.Is(err, ErrCrash) {
				a.crash(fmt.Errorf("%s: %w", info, err))
				return a.crashError()
			}
			return fmt.Errorf("write the rotation document %s: %w", loc, err)
		}
	}
	// The fence, right before the write: a manifest someone else wrote
	// since this run read or wrote it is a kill's.
	versions, err := newFence(ctx, a).list()
	if err != nil {
		return fmt.Errorf("write the rotation document %s: %w", loc, err)
	}
	for slug := range ms {
		folder := path.Clean(path.Join(a.cfg.Root, slug))
		if versions[folder] != known[folder] {
			rr.LeftOut = append(rr.LeftOut, slug)
			ms[slug] = nil
		}
	}
	if len(rr.LeftOut) > 0 {
		sort.Strings(rr.LeftOut)
		a.progress("rotation document: left out %s: their manifests were written by another run meanwhile (a handoff revoke?); the next apply settles them", strings.Join(rr.LeftOut, ", "))
		doc = reconcile.Document(a.deps.Registry, a.cfg.Environment, a.cfg.Root, ms)
		want, rr.Entries = doc.Marshal(), len(doc.Subscriptions)
		if live.Rotation.Matches(want) {
			return nil
		}
	}
	if err := ctx.Err(); err != nil {
		return context.Cause(ctx)
	}
	if _, err := a.deps.Vault.UpsertSecret(ctx, loc.Environment, loc.Folder, loc.Secret, string(want), a.rotationComment()); err != nil {
		return fmt.Errorf("write the rotation document %s (its folder must exist, and the provisioner may write that secret): %w; the next apply writes it again", loc, err)
	}
	rr.Written = true
	rep.Writes++
	a.progress("rotation document %s: written (%s)", loc, plural(rr.Entries, "entry", "entries"))
	return nil
}

// unenrollTimeout bounds the kill switch's removal of entries: it never
// holds up an operator for long.
const unenrollTimeout = 30 * time.Second

// unenroll removes, best-effort, the entries of slug that its manifest no
// longer says (all of them once revoked) from the live document, after a
// revoke cut the credentials: one read, and one write when it held any.
// It never adds an entry, and a failure is a warning only: the next apply
// converges the document from the manifests.
func (a *applier) unenroll(ctx context.Context, slug string, final *manifest.Manifest, rep *Report) {
	if a.deps.Repo == nil || ctx.Err() != nil || a.crashed.Load() {
		return
	}
	loc := reconcile.RotationLocation(a.deps.Repo.Config)
	if loc == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, unenrollTimeout)
	defer cancel()
	warn := func(format string, args ...any) {
		a.progress("warning: handoff %s: rotation document %s: %s; the next apply removes its entries", slug, loc, fmt.Sprintf(format, args...))
	}
	live := rotation.Read(ctx, a.deps.Vault, *loc, a.cfg.Environment, a.cfg.Root)
	if live.State != rotation.StateValid {
		if live.State == rotation.StateUnread {
			warn("could not be read (%s)", live.Problem)
		}
		return
	}
	keep := reconcile.Entries(a.deps.Registry, final, path.Join(a.cfg.Root, slug), a.cfg.Environment)
	consumer := rotation.Consumer(slug)
	var entries []rotation.Entry
	removed := 0
	for _, e := range live.Doc.Subscriptions {
		if e.ConsumerID == consumer && !containsEntry(keep, e) {
			removed++
			continue
		}
		entries = append(entries, e)
	}
	if removed == 0 {
		return
	}
	info := Step{Slug: slug, Op: RotationStep, Index: 1, Total: 1, Name: "remove its entries from the rotation document"}
	a.progress("%s", info)
	if fp := a.deps.FailPoint; fp != nil {
		if err := fp(info); err != nil {
			if errors.Is(err, ErrCrash) {
				a.crash(err)
				return
			}
			warn("%v", err)
			return
		}
	}
	doc := *live.Doc
	doc.Subscriptions = entries
	if _, err := a.deps.Vault.UpsertSecret(ctx, loc.Environment, loc.Folder, loc.Secret, string(doc.Marshal()), a.rotationComment()); err != nil {
		warn("%v", err)
		return
	}
	rep.Writes++
	a.progress("handoff %s: removed %s from the rotation document %s", slug, plural(removed, "entry", "entries"), loc)
}

func containsEntry(list []rotation.Entry, e rotation.Entry) bool {
	for _, x := range list {
		if x.Equal(e) {
			return true
		}
	}
	return false
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
