package manifest

import (
	"strings"
	"testing"
	"time"
)

func TestAdmit(t *testing.T) {
	now := time.Date(2026, 6, 21, 10, 0, 0, 0, time.UTC)
	active := func(edit func(m *Manifest)) *Manifest {
		m := &Manifest{Status: Active, SpecDigest: "sha256:aaa", ExpiresAt: now.Add(time.Hour),
			Surfaces: Surfaces{GitHub: &GitHub{TokenExpiresAt: now.Add(30 * time.Minute)}}}
		if edit != nil {
			edit(m)
		}
		return m
	}
	tests := []struct {
		name    string
		m       *Manifest
		digest  string
		want    string // "" admits
		journal bool
	}{
		{"active", active(nil), "sha256:aaa", "", false},
		{"revoked", active(func(m *Manifest) {
			m.Status = Revoked
			m.Revocation = &Revocation{Kind: RevokedManual, Reason: "drill", At: now}
		}), "sha256:aaa", "revoked (manual)", false},
		{"expired", active(func(m *Manifest) { m.ExpiresAt = now }), "sha256:aaa", "expired", false},
		{"spec deleted", active(nil), "", "no spec", false},
		{"spec changed", active(nil), "sha256:bbb", "spec changed", false},
		{"token expired", active(func(m *Manifest) { m.Surfaces.GitHub.TokenExpiresAt = now }), "sha256:aaa", "GitHub token expired", false},
		{"token expired but github killed", active(func(m *Manifest) {
			m.Surfaces.GitHub.TokenExpiresAt = now
			m.Revocation = &Revocation{Kind: RevokedManual, Surfaces: []string{"github"}}
		}), "sha256:aaa", "", false},
		{"spec changed under a kill", active(func(m *Manifest) {
			m.Revocation = &Revocation{Kind: RevokedManual, Surfaces: []string{"stripe"}}
		}), "sha256:bbb", "handoff untombstone", false},
		{"no github surface", active(func(m *Manifest) { m.Surfaces.GitHub = nil }), "sha256:aaa", "", false},
		{"journal beside it", active(nil), "sha256:aaa", "apply is running", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.m.Admit(Dispatch{SpecDigest: tt.digest, Now: now, Journal: tt.journal})
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("got %v, want a refusal saying %q", err, tt.want)
			}
		})
	}
}
