package manifest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/policy"
	"github.com/raxx-app/handoff/internal/surface"
	ghsurface "github.com/raxx-app/handoff/internal/surfaces/github"
	infsurface "github.com/raxx-app/handoff/internal/surfaces/infisical"
)

// registry holds the surfaces whose records the tests write: the gate's
// caller reads their expiries through the seam (Registry.Expiries).
var registry = surface.NewRegistry(ghsurface.New(nil), infsurface.New(nil))

var gateNow = time.Date(2026, 6, 21, 10, 0, 0, 0, time.UTC)

// activeManifest is a handoff applied 2 h ago with a TTL of 3 h, whose
// GitHub token was refreshed 30 min ago; edit changes it.
func activeManifest(t *testing.T, edit func(m *manifest.Manifest)) *manifest.Manifest {
	t.Helper()
	now := gateNow
	m := &manifest.Manifest{Slug: "iap-notif-handler-20260621", Status: manifest.Active, SpecDigest: "sha256:aaa",
		CreatedAt: now.Add(-2 * time.Hour), UpdatedAt: now.Add(-30 * time.Minute), ExpiresAt: now.Add(time.Hour),
		History: []manifest.Event{
			{At: now.Add(-2 * time.Hour), Action: manifest.EventCreate, Surface: "github"},
			{At: now.Add(-30 * time.Minute), Action: manifest.EventRefresh, Surface: "github"},
		}}
	setToken(t, m, now.Add(-30*time.Minute), now.Add(30*time.Minute))
	if edit != nil {
		edit(m)
	}
	return m
}

func setToken(t *testing.T, m *manifest.Manifest, minted, expires time.Time) {
	t.Helper()
	if err := m.Surfaces.Put(ghsurface.Name, &ghsurface.Record{MintedAt: minted, TokenExpiresAt: expires}); err != nil {
		t.Fatal(err)
	}
}

func TestAdmit(t *testing.T) {
	now := gateNow
	active := func(edit func(m *manifest.Manifest)) *manifest.Manifest { return activeManifest(t, edit) }
	tokenAt := func(at time.Time) func(m *manifest.Manifest) {
		return func(m *manifest.Manifest) { setToken(t, m, at.Add(-time.Hour), at) }
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
		{"token expired", active(tokenAt(now)), "sha256:aaa", "GitHub token expired", false},
		{"token expired but github killed", active(func(m *manifest.Manifest) {
			tokenAt(now)(m)
			m.Revocation = &manifest.Revocation{Kind: manifest.RevokedManual, Surfaces: []string{"github"}}
		}), "sha256:aaa", "", false},
		{"token expired and another surface killed", active(func(m *manifest.Manifest) {
			tokenAt(now)(m)
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
			err := tt.m.Admit(manifest.Dispatch{SpecDigest: tt.digest, Now: now, Journal: tt.journal, MaxTTL: 24 * time.Hour,
				Expiries: registry.Expiries(tt.m)})
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("got %v, want a refusal saying %q", err, tt.want)
			}
		})
	}
}

// TestAdmitRefusesInconsistentDates: the gate does not take a manifest's
// word for how long it lives (issue 12, item 5). A manifest rewritten with
// its dates in 2099 was admitted, "expires … in 631734h", though its token
// and identity were long dead.
func TestAdmitRefusesInconsistentDates(t *testing.T) {
	now := gateNow
	y2099 := time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
	clientSecret := func(at time.Time) func(m *manifest.Manifest) {
		return func(m *manifest.Manifest) {
			if err := m.Surfaces.Put(infsurface.Name, &infsurface.Record{IdentityID: "id-1", ClientSecretExpiresAt: at}); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name   string
		edit   func(m *manifest.Manifest)
		maxTTL time.Duration
		want   string // "" admits
	}{
		{"as applied", nil, 24 * time.Hour, ""},
		{"the review's 2099 rewrite, 26 h after the apply", func(m *manifest.Manifest) {
			m.CreatedAt, m.UpdatedAt = now.Add(-26*time.Hour), now.Add(-26*time.Hour)
			m.History = []manifest.Event{{At: m.CreatedAt, Action: manifest.EventCreate, Surface: "github"}}
			m.ExpiresAt = y2099
			setToken(t, m, m.CreatedAt, y2099)
		}, 24 * time.Hour, "beyond the policy's max_ttl of 24h"},
		{"longer than a stricter max_ttl", nil, 2 * time.Hour, "it expires at 2026-06-21T11:00:00Z, 3h after its TTL began (2026-06-21T08:00:00Z), beyond the policy's max_ttl of 2h"},
		{"no max_ttl given: the hard 24h", func(m *manifest.Manifest) { m.ExpiresAt = m.CreatedAt.Add(25 * time.Hour) }, 0, "max_ttl of 24h"},
		{"a new TTL after a full replacement keeps created_at", func(m *manifest.Manifest) {
			m.CreatedAt = now.Add(-30 * time.Hour)
			m.History = append([]manifest.Event{{At: m.CreatedAt, Action: manifest.EventCreate, Surface: "github"}},
				manifest.Event{At: now.Add(-time.Hour), Action: manifest.EventReplace, Surface: "github"})
			m.UpdatedAt = now.Add(-time.Hour)
			m.ExpiresAt = now.Add(23 * time.Hour)
			setToken(t, m, now.Add(-time.Hour), now.Add(time.Minute))
		}, 24 * time.Hour, ""},
		{"a replace in the future does not start the TTL", func(m *manifest.Manifest) {
			m.ExpiresAt = now.Add(23 * time.Hour)
			m.History = append(m.History, manifest.Event{At: now.Add(23 * time.Hour), Action: manifest.EventReplace, Surface: "github"})
		}, 24 * time.Hour, "in the future"},
		{"created in the future", func(m *manifest.Manifest) { m.CreatedAt = now.Add(time.Hour) }, 24 * time.Hour, "created at 2026-06-21T11:00:00Z, in the future"},
		{"updated before created", func(m *manifest.Manifest) { m.UpdatedAt = m.CreatedAt.Add(-manifest.ClockSkew - time.Second) }, 24 * time.Hour, "before it was created"},
		{"updated a little before created (another machine's clock)", func(m *manifest.Manifest) { m.UpdatedAt = m.CreatedAt.Add(-time.Minute) }, 24 * time.Hour, ""},
		{"clock skew is tolerated", func(m *manifest.Manifest) { m.UpdatedAt = now.Add(2 * time.Minute) }, 24 * time.Hour, ""},
		{"token outlives its hour", func(m *manifest.Manifest) { setToken(t, m, now.Add(-30*time.Minute), y2099) }, 24 * time.Hour,
			"its GitHub token expires at 2099-01-01T00:00:00Z, more than the 1h its vendor allows after it was minted (2026-06-21T09:30:00Z)"},
		{"token minted in the future", func(m *manifest.Manifest) { setToken(t, m, now.Add(time.Hour), now.Add(2*time.Hour)) }, 24 * time.Hour,
			"GitHub token was minted at 2026-06-21T11:00:00Z, in the future"},
		{"token minted after the handoff's end", func(m *manifest.Manifest) {
			m.ExpiresAt = now.Add(time.Minute)
			setToken(t, m, now.Add(2*time.Minute), now.Add(62*time.Minute))
		}, 24 * time.Hour, "after the handoff expired"},
		{"token minted before the handoff", func(m *manifest.Manifest) { setToken(t, m, m.CreatedAt.Add(-time.Hour), now.Add(time.Minute)) }, 24 * time.Hour,
			"before the handoff was created"},
		{"a token may outlive the handoff by its hour", func(m *manifest.Manifest) {
			m.ExpiresAt = now.Add(10 * time.Minute)
			setToken(t, m, now.Add(-time.Minute), now.Add(59*time.Minute))
		}, 24 * time.Hour, ""},
		{"a record without minted_at: bounded by the last write", func(m *manifest.Manifest) { setToken(t, m, time.Time{}, now.Add(31*time.Minute)) }, 24 * time.Hour, ""},
		{"a record without minted_at, rewritten", func(m *manifest.Manifest) { setToken(t, m, time.Time{}, y2099) }, 24 * time.Hour,
			"after it was last written by apply (2026-06-21T09:30:00Z)"},
		{"a client secret ends with the handoff", clientSecret(now.Add(time.Hour)), 24 * time.Hour, ""},
		{"a client secret after the handoff", clientSecret(y2099), 24 * time.Hour, "its infisical client secret expires at 2099-01-01T00:00:00Z, after the handoff (2026-06-21T11:00:00Z)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := activeManifest(t, tt.edit)
			err := m.Admit(manifest.Dispatch{SpecDigest: m.SpecDigest, Now: now, MaxTTL: tt.maxTTL, Expiries: registry.Expiries(m)})
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.want != "" && err == nil:
				t.Errorf("admitted, want a refusal saying %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Errorf("got %v\nwant a refusal saying %q", err, tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), "cannot be trusted") && !strings.Contains(err.Error(), "expired"):
				t.Errorf("the refusal does not say the manifest cannot be trusted: %v", err)
			}
		})
	}
}

func TestHardMaxTTLIsPolicys(t *testing.T) {
	if manifest.HardMaxTTL != policy.HardMaxTTL {
		t.Errorf("manifest.HardMaxTTL %s, policy.HardMaxTTL %s", manifest.HardMaxTTL, policy.HardMaxTTL)
	}
}
