package heroku_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/devserver/herokusrv"
	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/surface"
	"github.com/raxx-app/handoff/internal/surfaces/heroku"
)

// TestDesiredRecordedRoundTrip: what a create records reads back as the
// grant the plan showed: app, scope, ttl, reach and expiry.
func TestDesiredRecordedRoundTrip(t *testing.T) {
	tests := []struct {
		name      string
		ttl       string
		block     string
		wantAttrs map[string]string
		wantLife  time.Duration
		early     bool
	}{
		{"ends with the handoff", "8h", `    app   = "moosequest-staging"
    scope = ["read", "read"]`,
			map[string]string{"app": "moosequest-staging", "scope": "read", "ttl": "8h", "reach": "moosequest-staging, trademaster-api"}, 8 * time.Hour, false},
		{"a shorter ttl bounds it", "8h", `    app   = "moosequest-staging"
    scope = ["read-protected", "write-protected"]
    ttl   = "90m"`,
			map[string]string{"app": "moosequest-staging", "scope": "read-protected, write-protected", "ttl": "1h30m", "reach": "moosequest-staging, trademaster-api"}, 90 * time.Minute, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, herokusrv.DefaultFixture())
			h := parse(t, tt.ttl, tt.block)
			live := w.live()
			tgt := surface.Target{Slug: slug, Spec: h, Folder: folder, Environment: env, Now: testNow, ExpiresAt: testNow.Add(8 * time.Hour), Live: live}
			want := w.s.Desired(tgt)
			if !reflect.DeepEqual(want.Attributes, tt.wantAttrs) || !want.ExpiresAt.Equal(testNow.Add(tt.wantLife)) {
				t.Fatalf("Desired = %+v", want)
			}
			res, err := w.s.Create(context.Background(), w.request(h, live))
			if err != nil {
				t.Fatal(err)
			}
			rec := recordOf(t, res)
			got := w.s.Recorded(rec, &manifest.Manifest{ExpiresAt: testNow.Add(8 * time.Hour)})
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Recorded = %+v\nDesired  = %+v", got, want)
			}
			at, noun, early := w.s.Expiry(rec)
			if !at.Equal(want.ExpiresAt) || noun != "token" || early != tt.early {
				t.Errorf("Expiry = %s %s %v", at, noun, early)
			}
			// The server holds what the record says.
			infos := w.srv.Authorizations(herokusrv.DefaultProvisionerEmail)
			if len(infos) != 1 || infos[0].Description != heroku.Description(slug) || infos[0].ExpiresAt == nil || !infos[0].ExpiresAt.Equal(at) {
				t.Errorf("server holds %+v", infos)
			}
			// Without live state, the plan shows no reach.
			tgt.Live = nil
			if g := w.s.Desired(tgt); g.Attributes[heroku.AttrReach] != "" {
				t.Errorf("reach without live state: %v", g.Attributes)
			}
		})
	}
	s := heroku.New(nil)
	if s.Desired(surface.Target{Spec: nil}) != nil || s.Recorded(nil, nil) != nil {
		t.Error("no block, no grant")
	}
	if s.Resource(slug, nil) != "OAuth authorization" || s.Title() != "Heroku token" {
		t.Error("names")
	}
	kinds := s.Attrs()
	if !kinds[heroku.AttrReach].List || !kinds[heroku.AttrScope].List || !kinds[heroku.AttrTTL].Duration {
		t.Errorf("attrs %+v", kinds)
	}
}

// TestSession: the token as HEROKU_API_KEY, the app as HEROKU_APP.
func TestSession(t *testing.T) {
	s := heroku.New(nil)
	got := s.Session([]byte(`{"authorization_id":"a","app":"moosequest-staging","secret":"HEROKU_API_KEY"}`), folder)
	want := []surface.EnvVar{{Name: "HEROKU_API_KEY", Secret: "HEROKU_API_KEY"}, {Name: "HEROKU_APP", Value: "moosequest-staging"}}
	if !reflect.DeepEqual(got.Env, want) {
		t.Errorf("Session = %+v", got)
	}
	if got := s.Secrets(nil); len(got) != 1 || got[0] != "HEROKU_API_KEY" {
		t.Errorf("Secrets = %v", got)
	}
	if got := s.SecretPrefixes(); len(got) != 1 || got[0] != "HEROKU_" {
		t.Errorf("SecretPrefixes = %v", got)
	}
}
