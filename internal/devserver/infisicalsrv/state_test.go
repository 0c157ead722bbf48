package infisicalsrv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/devserver/contracttest"
)

// TestStateSurvivesRestart marshals a server's state and restores it into a
// fresh one: tokens, privileges, secrets and the audit log carry over, and
// the state holds no access token and no plaintext client secret other than
// the provisioner's.
func TestStateSurvivesRestart(t *testing.T) {
	e := newTestEnv(t)
	adm := e.admin()
	h := e.provisionHandoff(adm, "keep", 86400, "24h")
	path := DefaultHandoffRoot + "/keep"
	want(t, e.do("POST", "/api/v4/secrets/GH_HANDOFF_TOKEN", adm, map[string]any{"projectId": DefaultProjectID, "environment": "staging", "secretPath": path, "secretValue": "ghs_1"}), 200)
	want(t, e.do("PATCH", "/api/v4/secrets/GH_HANDOFF_TOKEN", adm, map[string]any{"projectId": DefaultProjectID, "environment": "staging", "secretPath": path, "secretValue": "ghs_2"}), 200)
	tok := e.login(h.clientID, h.clientSecret)
	read := q("/api/v4/secrets/GH_HANDOFF_TOKEN", "projectId", DefaultProjectID, "environment", "staging", "secretPath", path)
	want(t, e.do("GET", read, tok, nil), 200)

	b, err := e.srv.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte(tok)) || bytes.Contains(b, []byte(adm)) || bytes.Contains(b, []byte(h.clientSecret)) {
		t.Fatal("state holds an access token or a handoff's client secret")
	}

	srv2, err := New(e.kit, DefaultFixture())
	if err != nil {
		t.Fatal(err)
	}
	if err := srv2.RestoreState(b); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv2)
	defer ts.Close()
	e2 := &testEnv{t: t, kit: e.kit, srv: srv2, ts: ts, v: contracttest.MustNew(t, contracttest.Infisical, ts.URL)}
	e2.client = &http.Client{Transport: e2.v.Transport(t, nil, "/_dev/")}
	e2.raw = &http.Client{}

	r := e2.do("GET", read, tok, nil)
	want(t, r, 200)
	if r.str("secret", "secretValue") != "ghs_2" || r.get("secret", "version").(float64) != 2 {
		t.Fatalf("after restore: %s", r.raw)
	}
	want(t, e2.do("GET", q("/api/v4/secrets/APPLE_IAP_KEY_ID", "projectId", DefaultProjectID, "environment", "staging", "secretPath", DefaultQueuePath), tok, nil), 403, namePermission)
	id1, s1 := e.srv.ProvisionerCredentials()
	id2, s2 := srv2.ProvisionerCredentials()
	if id1 != id2 || s1 != s2 {
		t.Fatal("provisioner credentials changed across a restore")
	}
	e2.login(h.clientID, h.clientSecret)
	if len(srv2.AuditEvents()) <= len(e.srv.AuditEvents()) || len(srv2.Identities()) != 2 {
		t.Fatal("audit log or identities lost")
	}
	// The temporary privilege still ends on time.
	e.kit.Clock.Advance(24 * time.Hour)
	want(t, e2.do("GET", read, tok, nil), 403, nameToken) // the 900 s token is long gone
	b2, _ := srv2.MarshalState()
	srv3, _ := New(e.kit, DefaultFixture())
	if err := srv3.RestoreState(b2); err != nil {
		t.Fatal(err)
	}
	if srv3.Allowed(h.identityID, actReadValue, "staging", path, "GH_HANDOFF_TOKEN") {
		t.Fatal("expired privilege grants after restore")
	}

	if err := srv3.RestoreState(nil); err != nil {
		t.Fatal(err)
	}
	if err := srv3.RestoreState([]byte(`{"format": 99}`)); err == nil {
		t.Fatal("unknown format accepted")
	}
	if err := srv3.RestoreState([]byte(`{`)); err == nil {
		t.Fatal("garbage accepted")
	}
}

func TestFixtureJSONRoundTrip(t *testing.T) {
	b, err := json.Marshal(DefaultFixture())
	if err != nil {
		t.Fatal(err)
	}
	var fx Fixture
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fx); err != nil {
		t.Fatal(err)
	}
	if _, err := New(nil, fx); err != nil {
		t.Fatal(err)
	}
}

func TestFixtureValidation(t *testing.T) {
	bad := []func(*Fixture){
		func(f *Fixture) { f.Organization.ID = "" },
		func(f *Fixture) { f.Projects = append(f.Projects, f.Projects[0]) },
		func(f *Fixture) {
			f.Projects[0].Folders = append(f.Projects[0].Folders, FixtureFolder{Environment: "qa", Path: "/x"})
		},
		func(f *Fixture) {
			f.Projects[0].Folders = append(f.Projects[0].Folders, FixtureFolder{Environment: "dev", Path: "/bad name"})
		},
		func(f *Fixture) { f.Identities[0].OrgRole = "owner" },
		func(f *Fixture) { f.Identities[0].ProjectRoles = map[string]string{"nope": "admin"} },
		func(f *Fixture) { f.Identities = append(f.Identities, f.Identities[0]) },
		func(f *Fixture) { f.Identities[0].UniversalAuth.TrustedIPs = []string{"nowhere"} },
	}
	for i, mutate := range bad {
		fx := DefaultFixture()
		mutate(&fx)
		if _, err := New(nil, fx); err == nil {
			t.Errorf("case %d: fixture accepted", i)
		}
	}
	fx := DefaultFixture()
	fx.Identities[0].UniversalAuth = &FixtureUniversalAuth{ClientID: "fixed-id", ClientSecret: "fixed-secret-value"}
	s, err := New(nil, fx)
	if err != nil {
		t.Fatal(err)
	}
	if id, secret := s.ProvisionerCredentials(); id != "fixed-id" || secret != "fixed-secret-value" {
		t.Fatalf("fixture credentials: %s %s", id, secret)
	}
	if s.OrganizationID() != DefaultOrganizationID || s.ProjectID() != DefaultProjectID {
		t.Fatal("ids")
	}
	if got := s.Folders("staging"); fmt.Sprint(got) != "[/ /MooseQuest /MooseQuest/handoffs /MooseQuest/queue /MooseQuest/queue/staging]" {
		t.Fatalf("folders: %v", got)
	}
	if sec, ok := s.Secret("staging", DefaultQueuePath, "STRIPE_WEBHOOK_SECRET"); !ok || sec.Value == "" {
		t.Fatal("fixture secret missing")
	}
}
