package manifest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/surface"
	awssurface "github.com/raxx-app/handoff/internal/surfaces/aws"
	cfsurface "github.com/raxx-app/handoff/internal/surfaces/cloudflare"
	ghsurface "github.com/raxx-app/handoff/internal/surfaces/github"
	hksurface "github.com/raxx-app/handoff/internal/surfaces/heroku"
	infsurface "github.com/raxx-app/handoff/internal/surfaces/infisical"
)

// stampedRegistry holds every surface whose record holds a time.
var stampedRegistry = surface.NewRegistry(ghsurface.New(nil), cfsurface.New(nil), hksurface.New(nil), awssurface.New(nil), infsurface.New(nil))

// fingerprint stands for what a record holds of a secret: no refusal
// quotes it.
const fingerprint = "sha256:0123456789abcdef"

// stamped is one surface's record, written with given mint and expiry
// times (a zero mint: the record says none).
type stamped struct {
	name                     string
	title                    string
	mintedField, expireField string
	put                      func(t *testing.T, m *manifest.Manifest, minted, expires time.Time)
}

// verb is how the gate says the credential came to be: an STS session is
// issued, a token minted.
func (s stamped) verb() string {
	if s.mintedField == "issued_at" {
		return "issued"
	}
	return "minted"
}

func putRecord(t *testing.T, m *manifest.Manifest, name string, rec any) {
	t.Helper()
	if err := m.Surfaces.Put(name, rec); err != nil {
		t.Fatal(err)
	}
}

var stampedSurfaces = []stamped{
	{ghsurface.Name, "GitHub token", "minted_at", "token_expires_at", func(t *testing.T, m *manifest.Manifest, minted, expires time.Time) {
		putRecord(t, m, ghsurface.Name, &ghsurface.Record{Repository: "raxx-app/iap", MintedAt: minted, TokenExpiresAt: expires, TokenFingerprint: fingerprint})
	}},
	{cfsurface.Name, "Cloudflare API token", "minted_at", "token_expires_at", func(t *testing.T, m *manifest.Manifest, minted, expires time.Time) {
		putRecord(t, m, cfsurface.Name, &cfsurface.Record{TokenID: "tok-1", MintedAt: minted, TokenExpiresAt: expires,
			HandoffExpiresAt: m.ExpiresAt, TokenFingerprint: fingerprint})
	}},
	{hksurface.Name, "Heroku token", "minted_at", "expires_at", func(t *testing.T, m *manifest.Manifest, minted, expires time.Time) {
		putRecord(t, m, hksurface.Name, &hksurface.Record{AuthorizationID: "auth-1", App: "moosequest-staging", MintedAt: minted,
			ExpiresAt: expires, RefreshEarly: true, TokenFingerprint: fingerprint})
	}},
	{awssurface.Name, "AWS session", "issued_at", "expires_at", func(t *testing.T, m *manifest.Manifest, minted, expires time.Time) {
		putRecord(t, m, awssurface.Name, &awssurface.Record{RoleARN: "arn:aws:iam::123456789012:role/agent", Duration: "1h",
			IssuedAt: minted, ExpiresAt: expires, KeyFingerprint: fingerprint})
	}},
}

// TestAdmitChecksEverySurfacesTimes: the gate refused a GitHub token
// minted in the future and admitted a Cloudflare or Heroku token, or an
// AWS session, whose record claimed the same: it checked the mint of a
// surface whose vendor fixes the life only. Every surface whose record
// holds a time now says so (surface.Stamped), and the refusal names the
// surface and the field.
func TestAdmitChecksEverySurfacesTimes(t *testing.T) {
	now := gateNow
	// activeManifest: applied 2 h ago, expires in 1 h, last written 30 min
	// ago, when each credential was minted for an hour.
	mint, expiry := now.Add(-30*time.Minute), now.Add(30*time.Minute)
	for _, s := range stampedSurfaces {
		field := func(name string) string { return "surfaces." + s.name + "." + name }
		tests := []struct {
			name            string
			minted, expires func(m *manifest.Manifest) time.Time
			want            []string // nil admits
		}{
			{"as applied", at(mint), at(expiry), nil},
			{"minted a little ahead (another machine's clock)", at(now.Add(2 * time.Minute)), at(expiry), nil},
			{"a record that does not say when it was minted", at(time.Time{}), at(expiry), nil},
			{"minted in the future, within the handoff", at(now.Add(40 * time.Minute)), at(now.Add(50 * time.Minute)),
				[]string{field(s.mintedField) + ": its " + s.title + " was " + s.verb() + " at 2026-06-21T10:40:00Z, in the future"}},
			{"minted hours in the future", at(now.Add(3 * time.Hour)), at(now.Add(3*time.Hour + 30*time.Minute)),
				[]string{field(s.mintedField) + ": its " + s.title + " was " + s.verb() + " at 2026-06-21T13:00:00Z, in the future"}},
			{"minted before the handoff was created", func(m *manifest.Manifest) time.Time { return m.CreatedAt.Add(-time.Hour) }, at(expiry),
				[]string{field(s.mintedField) + ": its " + s.title + " was " + s.verb() + " at 2026-06-21T07:00:00Z, before the handoff was created"}},
			{"expires after the handoff", at(mint), func(m *manifest.Manifest) time.Time { return m.ExpiresAt.Add(2 * time.Hour) },
				[]string{field(s.expireField) + ": its " + s.title + " expires at 2026-06-21T13:00:00Z"}},
			{"expires before it was minted", at(mint), at(mint.Add(-10 * time.Minute)),
				[]string{field(s.expireField) + ": its " + s.title + " expires at 2026-06-21T09:20:00Z, before it was " + s.verb() + " (2026-06-21T09:30:00Z)"}},
		}
		for _, tt := range tests {
			t.Run(s.name+"/"+tt.name, func(t *testing.T) {
				m := activeManifest(t, func(m *manifest.Manifest) {
					delete(m.Surfaces, ghsurface.Name)
					s.put(t, m, tt.minted(m), tt.expires(m))
				})
				err := m.Admit(manifest.Dispatch{SpecDigest: m.SpecDigest, Now: now, MaxTTL: 24 * time.Hour, Expiries: stampedRegistry.Expiries(m)})
				if tt.want == nil {
					if err != nil {
						t.Errorf("refused: %v", err)
					}
					return
				}
				if err == nil {
					t.Fatalf("admitted, want a refusal saying %q", tt.want)
				}
				for _, w := range append(tt.want, "cannot be trusted") {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("got %v\nwant a refusal saying %q", err, w)
					}
				}
				if strings.Contains(err.Error(), fingerprint) {
					t.Errorf("the refusal quotes the record's fingerprint: %v", err)
				}
			})
		}
	}
}

func at(t time.Time) func(*manifest.Manifest) time.Time {
	return func(*manifest.Manifest) time.Time { return t }
}

// TestExpiriesNameTheRecordsFields: Registry.Expiries passes each
// surface's names for its times to the gate, and leaves out a record that
// holds none.
func TestExpiriesNameTheRecordsFields(t *testing.T) {
	now := gateNow
	for _, s := range stampedSurfaces {
		m := activeManifest(t, func(m *manifest.Manifest) {
			delete(m.Surfaces, ghsurface.Name)
			s.put(t, m, now.Add(-time.Minute), now.Add(time.Minute))
		})
		got := stampedRegistry.Expiries(m)
		want := manifest.Expiry{Surface: s.name, What: s.title, At: now.Add(time.Minute), MintedAt: now.Add(-time.Minute),
			AtField: s.expireField, MintedField: s.mintedField}
		if s.name == ghsurface.Name {
			want.Life = ghsurface.TokenLife
		}
		if len(got) != 1 || got[0] != want {
			t.Errorf("%s: Expiries %+v, want %+v", s.name, got, want)
		}
	}
	m := activeManifest(t, func(m *manifest.Manifest) {
		delete(m.Surfaces, ghsurface.Name)
		putRecord(t, m, cfsurface.Name, &cfsurface.Record{TokenID: "tok-1"})
	})
	if got := stampedRegistry.Expiries(m); len(got) != 0 {
		t.Errorf("a record with no time: Expiries %+v", got)
	}
}
