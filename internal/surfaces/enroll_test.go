package surfaces_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/surface"
	"github.com/raxx-app/handoff/internal/surfaces"
	"github.com/raxx-app/handoff/internal/surfaces/byref"
	cfsurface "github.com/raxx-app/handoff/internal/surfaces/cloudflare"
	"github.com/raxx-app/handoff/internal/surfaces/heroku"
	infsurface "github.com/raxx-app/handoff/internal/surfaces/infisical"
)

// TestEnrollableSurfaces: which surfaces list credentials for the rotation
// service, and why the others do not.
func TestEnrollableSurfaces(t *testing.T) {
	want := map[string]string{
		"infisical":  "the identity's client secret lives the handoff's TTL",
		"stripe":     "a pre-provisioned key, long-lived and shared",
		"cloudflare": "an API token that lives its ttl, else the handoff's TTL",
		"heroku":     "an OAuth token that lives its ttl, else the handoff's TTL",
		"apple_iap":  "a pre-provisioned key",
		"alpaca":     "a pre-provisioned key",
	}
	not := map[string]string{
		"github": "installation tokens live an hour, fixed by GitHub, and handoff mints them again itself",
		"aws":    "STS sessions last an hour at most, and handoff mints them again itself",
		"mcp":    "tool lists are no credential",
	}
	for _, s := range surfaces.Default.All() {
		_, ok := s.(surface.Enrollable)
		if _, yes := want[s.Name()]; yes != ok {
			t.Errorf("%s: Enrollable %t; want %t (%s%s)", s.Name(), ok, yes, want[s.Name()], not[s.Name()])
		}
		if _, yes := want[s.Name()]; !yes && not[s.Name()] == "" {
			t.Errorf("%s: say whether it is enrolled, and why", s.Name())
		}
	}
}

const enrollSpec = `handoff "enroll-all-20260621" {
  card        = 1
  ttl         = "%s"
  approved_by = "ops"

  infisical {
    environment = "staging"
    read        = ["/MooseQuest/queue/staging/STRIPE_RESTRICTED_KEY", "/MooseQuest/queue/staging/ALPACA_*"]
  }

  stripe {
    permissions = { checkout_sessions = "write" }
  }

  alpaca {}

  cloudflare {
    zones             = ["example.com"]
    permission_groups = ["DNS Write"]
    ttl               = "%s"
  }

  heroku {
    app   = "moosequest-staging"
    scope = ["read-protected"]
  }
}
`

// TestCredentialsOfGrantAndRecord: a surface lists the same credentials
// from the grant a plan mints and from the record apply writes for it, so
// that what the plan shows is what apply enrolls.
func TestCredentialsOfGrantAndRecord(t *testing.T) {
	const slug = "enroll-all-20260621"
	now := time.Date(2026, 6, 21, 9, 0, 0, 0, time.UTC)
	folder := "/MooseQuest/handoffs/" + slug
	for _, tc := range []struct{ ttl, cfTTL string }{{"24h", "2h"}, {"45m", "30m"}} {
		t.Run(tc.ttl, func(t *testing.T) {
			h, diags := spec.ParseHandoffFile(filepath.Join("specs", slug+".hcl"), fmt.Appendf(nil, enrollSpec, tc.ttl, tc.cfTTL))
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			ttl := h.TTL.Value
			m := &manifest.Manifest{Slug: slug, CreatedAt: now, ExpiresAt: now.Add(ttl), Status: manifest.Active}
			put := func(name string, v any) {
				if err := m.Surfaces.Put(name, v); err != nil {
					t.Fatal(err)
				}
			}
			// The records Create writes (ids aside).
			put(infsurface.Name, &infsurface.Record{IdentityID: "id", IdentityName: "n", Environment: "staging", ClientSecretExpiresAt: m.ExpiresAt})
			put("stripe", &byref.Record{Mode: "test", KeyPaths: []string{"/MooseQuest/queue/staging/STRIPE_RESTRICTED_KEY"}})
			put("alpaca", &byref.Record{Mode: "paper", KeyPaths: []string{"/MooseQuest/queue/staging/ALPACA_*"}})
			put(cfsurface.Name, &cfsurface.Record{TokenID: "t", Secret: cfsurface.SecretName, TTL: tc.cfTTL})
			put(heroku.Name, &heroku.Record{AuthorizationID: "a", Secret: heroku.SecretName})

			compared := 0
			target := surface.Target{Slug: slug, Spec: h, Root: "/MooseQuest/handoffs", Folder: folder, Environment: "staging", Now: now, ExpiresAt: now.Add(ttl)}
			for _, s := range surfaces.Default.All() {
				en, ok := s.(surface.Enrollable)
				if !ok || !h.HasSurface(s.Name()) {
					continue
				}
				base := surface.EnrollInput{Slug: slug, Folder: folder, Environment: "staging", TTL: ttl}
				planned, recorded := base, base
				planned.Grant, planned.Spec = s.Desired(target), h
				recorded.Record, recorded.Manifest = m.Surfaces[s.Name()], m
				compared++
				a, b := fmt.Sprint(en.Credentials(planned)), fmt.Sprint(en.Credentials(recorded))
				if a != b {
					t.Errorf("%s: from the grant %s\nfrom the record %s", s.Name(), a, b)
				}
				for _, c := range en.Credentials(recorded) {
					if !strings.HasPrefix(c.Path, "/") || strings.Contains(c.Path, "*") || c.Environment == "" || c.What == "" {
						t.Errorf("%s: %+v", s.Name(), c)
					}
					if c.Life > ttl {
						t.Errorf("%s: lives %s, longer than the handoff's %s", s.Name(), c.Life, ttl)
					}
				}
			}
			if compared != 5 {
				t.Errorf("compared %d surfaces, want 5", compared)
			}
		})
	}
}
