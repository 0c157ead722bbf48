package manifest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/surface"
	ghsurface "github.com/raxx-app/handoff/internal/surfaces/github"
)

// expiries are the short-lived credentials of m as its caller gives them
// to the gate: the GitHub token, read from the github surface's record
// with the surface's own Expiry and Title.
func expiries(t *testing.T, m *manifest.Manifest) []manifest.Expiry {
	t.Helper()
	rec, ok := m.Surfaces[ghsurface.Name]
	if !ok {
		return nil
	}
	var s surface.Surface = ghsurface.New(nil)
	at, _, _ := s.(surface.Expiring).Expiry(rec)
	return []manifest.Expiry{{Surface: ghsurface.Name, What: s.(surface.Titled).Title(), At: at}}
}

func TestAdmit(t *testing.T) {
	now := time.Date(2026, 6, 21, 10, 0, 0, 0, time.UTC)
	setToken := func(m *manifest.Manifest, at time.Time) {
		if err := m.Surfaces.Put(ghsurface.Name, &ghsurface.Record{TokenExpiresAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	active := func(edit func(m *manifest.Manifest)) *manifest.Manifest {
		m := &manifest.Manifest{Status: manifest.Active, SpecDigest: "sha256:aaa", ExpiresAt: now.Add(time.Hour)}
		setToken(m, now.Add(30*time.Minute))
		if edit != nil {
			edit(m)
		}
		return m
	}
	tests := []struct {
		name    string
		m       *manifest.Manifest
		digest  string
		want    string // "" admits
		journal bool
	}{
		{"active", active(nil), "sha256:aaa", "", false},
		{"revoked", active(func(m *manifest.Manifest) {
			m.Status = manifest.Revoked
			m.Revocation = &manifest.Revocation{Kind: manifest.RevokedManual, Reason: "drill", At: now}
		}), "sha256:aaa", "revoked (manual)", false},
		{"expired", active(func(m *manifest.Manifest) { m.ExpiresAt = now }), "sha256:aaa", "expired", false},
		{"spec deleted", active(nil), "", "no spec", false},
		{"spec changed", active(nil), "sha256:bbb", "spec changed", false},
		{"token expired", active(func(m *manifest.Manifest) { setToken(m, now) }), "sha256:aaa", "GitHub token expired", false},
		{"token expired but github killed", active(func(m *manifest.Manifest) {
			setToken(m, now)
			m.Revocation = &manifest.Revocation{Kind: manifest.RevokedManual, Surfaces: []string{"github"}}
		}), "sha256:aaa", "", false},
		{"token expired and another surface killed", active(func(m *manifest.Manifest) {
			setToken(m, now)
			m.Revocation = &manifest.Revocation{Kind: manifest.RevokedManual, Surfaces: []string{"stripe"}}
		}), "sha256:aaa", "GitHub token expired", false},
		{"spec changed under a kill", active(func(m *manifest.Manifest) {
			m.Revocation = &manifest.Revocation{Kind: manifest.RevokedManual, Surfaces: []string{"stripe"}}
		}), "sha256:bbb", "handoff untombstone", false},
		{"no github surface", active(func(m *manifest.Manifest) { delete(m.Surfaces, ghsurface.Name) }), "sha256:aaa", "", false},
		{"journal beside it", active(nil), "sha256:aaa", "apply is running", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.m.Admit(manifest.Dispatch{SpecDigest: tt.digest, Now: now, Journal: tt.journal, Expiries: expiries(t, tt.m)})
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("got %v, want a refusal saying %q", err, tt.want)
			}
		})
	}
}
