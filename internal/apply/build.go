package apply

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/reconcile"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/surface"
)

func (r *run) writeManifestStep(ctx context.Context, stepName string) error {
	m, err := r.buildManifest()
	if err != nil {
		return err
	}
	if _, err := manifest.Marshal(m); err != nil {
		return err
	}
	if err := r.step(ctx, stepName); err != nil {
		return err
	}
	return r.writeManifestCAS(ctx, m)
}

func (r *run) historyEvents() []manifest.Event {
	var evs []manifest.Event
	if j := r.oldJournal; j != nil {
		what := "its leftovers were revoked"
		if r.op.Frozen {
			what = "what it left of killed surfaces was revoked; nothing was minted (the spec changed while surfaces are killed): the rest goes when the handoff is replaced or revoked"
		}
		evs = append(evs, manifest.Event{At: r.now, Action: manifest.EventAdopt,
			Detail: fmt.Sprintf("found the journal of apply run %s (%s, started %s): %s", j.RunID, j.Operation, j.StartedAt.UTC().Format(time.RFC3339), what)})
	}
	for _, f := range r.flags {
		evs = append(evs, manifest.Event{At: r.now, Action: manifest.EventAdopt, Surface: flagSurface(f), Detail: f})
	}
	for _, n := range r.op.History {
		evs = append(evs, manifest.Event{At: r.now, Action: manifest.EventAction(n.Action), Surface: n.Surface, Detail: n.Detail})
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
	switch {
	case r.op.Final == plan.FinalNew:
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
			Surfaces:      manifest.Surfaces{},
		}
		if r.m != nil && r.m.Untombstoned() {
			// Minted again after untombstone: the record goes on.
			m.History = slices.Clone(r.m.History)
		}
	case r.m != nil:
		var err error
		if m, err = cloneManifest(r.m); err != nil {
			return nil, err
		}
	case r.op.TombstoneFromSpec && r.h != nil:
		// No usable manifest: the tombstone is built from the spec.
		h := r.h
		m = &manifest.Manifest{
			SchemaVersion: manifest.SchemaVersion, Slug: r.slug, Card: int(h.Card.Value),
			SpecFile: specFile(r.a.deps.Repo, h), SpecDigest: h.Digest(), ApprovedBy: cmp.Or(h.ApprovedBy.Value, "unknown"),
			CreatedAt: r.now, UpdatedAt: r.now, ExpiresAt: r.now, Status: manifest.Revoked, Secrets: []string{},
			Surfaces: manifest.Surfaces{},
		}
	default:
		return nil, fmt.Errorf("no manifest to update for %s", r.slug)
	}
	m.UpdatedAt = r.now
	if r.p.GitCommit != "" {
		m.GitCommit = r.p.GitCommit
	}
	switch r.op.Final {
	case plan.FinalUpdate:
		// The spec and the TTL the handoff was applied with stay, unless
		// this run replaced all of it with the new spec.
		if r.op.NewTTL {
			m.SpecDigest, m.SpecFile, m.Card = r.ph.SpecDigest, r.ph.SpecFile, r.ph.Card
			m.ApprovedBy = r.h.ApprovedBy.Value
			m.ExpiresAt = r.expires
		}
		for _, s := range r.op.Dropped {
			delete(m.Surfaces, s)
		}
		if r.revocation != nil {
			m.Revocation = r.revocation // a kill of some surfaces
		}
	case plan.FinalRevoked:
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
		if err := m.Surfaces.Put(d.w.s.Name(), d.res.Record); err != nil {
			return nil, err
		}
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
	if r.op.Final == plan.FinalUpdate {
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
	if out.Surfaces == nil {
		out.Surfaces = manifest.Surfaces{}
	}
	return &out, nil
}

// recordJSON encodes a surface's record as the manifest stores it.
func recordJSON(v any) (surface.Record, error) {
	if v == nil {
		return nil, fmt.Errorf("no record")
	}
	b, err := json.Marshal(v)
	return surface.Record(b), err
}

func specFile(repo *spec.Repo, h *spec.Handoff) string {
	if repo != nil {
		if rel, err := filepath.Rel(repo.Dir, h.Filename); err == nil && !strings.HasPrefix(rel, "..") {
			return filepath.ToSlash(rel)
		}
	}
	return filepath.ToSlash(h.Filename)
}
