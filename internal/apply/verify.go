package apply

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/reconcile"
	"github.com/raxx-app/handoff/internal/rotation"
	"github.com/raxx-app/handoff/internal/state"
	"github.com/raxx-app/handoff/internal/surface"
)

// Verification is what Verify found for one handoff.
type Verification struct {
	Slug       string
	Status     manifest.Status
	Violations []surface.Violation
	// Flags are credentials that may be live with no manifest able to
	// revoke them (PendingMints).
	Flags []Flag
}

// Scope reports whether a violation is a scope violation (exit 4).
func (v Verification) Scope() bool {
	for _, x := range v.Violations {
		if x.Scope {
			return true
		}
	}
	return false
}

// Verify compares, for each handoff of slugs (every handoff with a folder
// when empty), its manifest with its spec and with the live metadata of
// every surface it records; for a revoked handoff or a killed surface, it
// asks the surfaces whose credentials outlive a revocation at their vendor
// (surface.RevokedVerifier) that they are still refused. It writes
// nothing, takes no lock and never returns a secret value.
func Verify(ctx context.Context, slugs []string, deps Deps) ([]Verification, error) {
	a, err := newApplier(deps)
	if err != nil {
		return nil, err
	}
	if a.cfg.Root == "" || a.cfg.Environment == "" {
		return nil, fmt.Errorf("apply: verify: the handoff root and environment are not configured")
	}
	a.enroll()
	live, err := a.readState(ctx)
	if err != nil {
		return nil, err
	}
	all := len(slugs) == 0
	if all {
		slugs = live.Slugs()
	}
	var wantDoc *rotation.Document // what the manifests say, once for every handoff
	if live.Rotation != nil {
		wantDoc = reconcile.LiveDocument(a.deps.Registry, live)
	}
	now := a.now().UTC()
	flags := PendingMints(live, now)
	var out []Verification
	for _, slug := range slugs {
		v := Verification{Slug: slug}
		for _, f := range flags {
			if f.Slug == slug {
				v.Flags = append(v.Flags, f)
			}
		}
		lh := live.Handoffs[slug]
		switch {
		case lh == nil:
			v.Violations = append(v.Violations, surface.Violation{Surface: "vault", Message: "no folder " + a.cfg.Root + "/" + slug})
		case lh.ManifestErr != nil:
			v.Violations = append(v.Violations, surface.Violation{Surface: "vault", Message: lh.ManifestErr.Error()})
		case lh.Manifest == nil:
			v.Violations = append(v.Violations, surface.Violation{Surface: "vault", Message: "no manifest in " + lh.Folder})
		default:
			m := lh.Manifest
			v.Status = m.Status
			dead := m.Killed()
			for _, name := range a.deps.Registry.SortNames(m.Surfaces.Names()) {
				revoked := m.Status != manifest.Active || dead[name]
				s, ok := a.deps.Registry.Get(name)
				rv, verifiesRevoked := s.(surface.RevokedVerifier)
				switch {
				case revoked && !verifiesRevoked:
					continue // ended at its vendor: nothing to ask
				case !ok:
					v.Violations = append(v.Violations, surface.Violation{Surface: name, Message: "no provider in this build to verify it"})
					continue
				}
				req := &surface.Request{Slug: slug, Spec: a.deps.Repo.Handoff(slug), Folder: lh.Folder, Environment: a.cfg.Environment,
					Now: now, ExpiresAt: m.ExpiresAt, Live: live, Vault: a.deps.Vault,
					Withhold: reconcile.WithheldPaths(a.deps.Registry, m.Surfaces, m.KilledSurfaces())}
				if revoked {
					v.Violations = append(v.Violations, rv.VerifyRevoked(ctx, req, m.Surfaces[name])...)
					continue
				}
				v.Violations = append(v.Violations, s.Verify(ctx, req, m.Surfaces[name])...)
			}
			if m.Status == manifest.Active {
				v.Violations = append(v.Violations, strays(a.deps.Registry, live, slug, m)...)
				if !now.Before(m.ExpiresAt) {
					// Its credentials outlive the TTL until apply revokes them.
					v.Violations = append(v.Violations, surface.Violation{Surface: "vault",
						Message: fmt.Sprintf("the handoff expired at %s but is still active: run handoff apply to revoke it", m.ExpiresAt.UTC().Format(time.RFC3339))})
				}
			}
		}
		v.Violations = append(v.Violations, rotationFindings(live, wantDoc, slug)...)
		out = append(out, v)
	}
	if all {
		out = append(out, unknownConsumers(live)...)
	}
	return out, nil
}

// rotationFindings say where the rotation document, when handoff.hcl
// enrolls credentials, differs from what the manifests say for one
// handoff: a long-lived credential it lacks is never updated by the
// rotation service, and an entry no manifest says sends the service to a
// credential that is gone. Apply repairs both (drift, not scope). want is
// the document the manifests say, nil when enrollment is off.
func rotationFindings(live *state.Live, want *rotation.Document, slug string) []surface.Violation {
	lr := live.Rotation
	if lr == nil || want == nil {
		return nil
	}
	consumer := rotation.Consumer(slug)
	wanted := want.Of(consumer)
	finding := func(format string, args ...any) surface.Violation {
		return surface.Violation{Surface: "rotation", Message: fmt.Sprintf(format, args...)}
	}
	switch lr.State {
	case rotation.StateValid:
	case rotation.StateMissing:
		if len(wanted) == 0 {
			return nil
		}
		return []surface.Violation{finding("the rotation document %s does not exist, so the rotation service updates none of its %s: handoff apply writes it",
			lr.Location, plural(len(wanted), "long-lived credential", "long-lived credentials"))}
	default:
		if len(wanted) == 0 {
			return nil
		}
		return []surface.Violation{finding("the rotation document %s is %s (%s), so the rotation service may update none of its %s; handoff never overwrites it",
			lr.Location, lr.State, lr.Problem, plural(len(wanted), "long-lived credential", "long-lived credentials"))}
	}
	add, remove := rotation.Diff(lr.Doc.Of(consumer), wanted)
	var out []surface.Violation
	for _, e := range add {
		out = append(out, finding("the rotation document %s lacks the entry of %s (%s): handoff apply writes it", lr.Location, e.UpdateEndpoint, e.Env))
	}
	for _, e := range remove {
		out = append(out, finding("the rotation document %s holds an entry for %s (%s) that no manifest says: handoff apply removes it", lr.Location, e.UpdateEndpoint, e.Env))
	}
	return out
}

// unknownConsumers are the handoffs the rotation document names that have
// no folder at all: each is a finding of its own.
func unknownConsumers(live *state.Live) []Verification {
	lr := live.Rotation
	if lr == nil || lr.State != rotation.StateValid {
		return nil
	}
	var out []Verification
	for _, c := range lr.Doc.Consumers() {
		slug, ok := strings.CutPrefix(c, rotation.ConsumerPrefix)
		if !ok || live.Handoffs[slug] != nil {
			continue
		}
		n := len(lr.Doc.Of(c))
		out = append(out, Verification{Slug: slug, Violations: []surface.Violation{{Surface: "rotation",
			Message: fmt.Sprintf("the rotation document %s holds %s of a handoff with no folder: handoff apply removes them", lr.Location, plural(n, "entry", "entries"))}}})
	}
	return out
}

// strays are what a surface's deterministic names find for the handoff
// while its manifest records nothing of that surface (a surface that
// records something reports its own strays in Verify): something minted
// it that no manifest can revoke.
func strays(reg *surface.Registry, live *state.Live, slug string, m *manifest.Manifest) []surface.Violation {
	var out []surface.Violation
	for _, s := range reg.All() {
		lf, ok := s.(surface.Leftovers)
		if !ok || m.Surfaces.Has(s.Name()) {
			continue
		}
		for _, x := range lf.Leftovers(slug, live) {
			out = append(out, surface.Violation{Surface: s.Name(), Scope: true,
				Message: fmt.Sprintf("%s %s (%s) is named for the handoff but not recorded by its manifest", x.Kind, x.Name, x.ID)})
		}
	}
	return out
}
