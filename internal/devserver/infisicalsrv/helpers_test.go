package infisicalsrv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/devserver/contracttest"
	"github.com/raxx-app/handoff/internal/devserver/devkit"
)

// t0 is the frozen start of every test clock.
var t0 = time.Date(2026, 6, 21, 10, 0, 0, 0, time.UTC)

// testEnv is a server on httptest with a contract-checked client and a
// plain one (for answers the contract does not describe: 5xx, unknown
// routes, dropped connections).
type testEnv struct {
	t      *testing.T
	kit    *devkit.Kit
	srv    *Server
	ts     *httptest.Server
	v      *contracttest.Validator
	client *http.Client
	raw    *http.Client
}

func newTestEnv(t *testing.T, fx ...Fixture) *testEnv {
	t.Helper()
	kit := &devkit.Kit{Clock: devkit.NewFrozenClock(t0), Stats: &devkit.Stats{}, Faults: &devkit.Faults{}}
	f := DefaultFixture()
	if len(fx) > 0 {
		f = fx[0]
	}
	srv, err := New(kit, f)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	v := contracttest.MustNew(t, contracttest.Infisical, ts.URL)
	return &testEnv{
		t: t, kit: kit, srv: srv, ts: ts, v: v,
		client: &http.Client{Transport: v.Transport(t, nil, "/_dev/")},
		raw:    &http.Client{},
	}
}

type resp struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

// str digs a string out of the body: r.str("secret", "secretValue").
func (r resp) str(keys ...string) string {
	v := r.get(keys...)
	s, _ := v.(string)
	return s
}

func (r resp) get(keys ...string) any {
	var cur any = r.body
	for _, k := range keys {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[k]
	}
	return cur
}

func (r resp) list(keys ...string) []any {
	l, _ := r.get(keys...).([]any)
	return l
}

// call sends a request; body is marshalled to JSON unless it is a string
// (sent as is) or nil.
func (e *testEnv) call(c *http.Client, method, path, token string, body any, header ...string) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.ts.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := resp{status: res.StatusCode, header: res.Header, raw: raw}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

// do goes through the contract-checking client.
func (e *testEnv) do(method, path, token string, body any, header ...string) resp {
	e.t.Helper()
	return e.call(e.client, method, path, token, body, header...)
}

// doRaw goes around the contract (for answers it does not describe).
func (e *testEnv) doRaw(method, path, token string, body any, header ...string) resp {
	e.t.Helper()
	return e.call(e.raw, method, path, token, body, header...)
}

// want fails the test unless r has the status (and, when given, the error
// name and a message containing msg).
func want(t *testing.T, r resp, status int, errName ...string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	if len(errName) > 0 && errName[0] != "" && r.str("error") != errName[0] {
		t.Fatalf("error %q, want %q: %s", r.str("error"), errName[0], r.raw)
	}
	if len(errName) > 1 && !strings.Contains(fmt.Sprint(r.get("message")), errName[1]) {
		t.Fatalf("message %v, want it to contain %q", r.get("message"), errName[1])
	}
	if status >= 400 && r.str("error") != "Not Found" {
		if sc, _ := r.get("statusCode").(float64); r.str("reqId") == "" || int(sc) != status {
			t.Fatalf("error body lacks reqId/statusCode: %s", r.raw)
		}
	}
}

func (e *testEnv) login(clientID, clientSecret string) string {
	e.t.Helper()
	r := e.do("POST", "/api/v1/auth/universal-auth/login", "", map[string]any{"clientId": clientID, "clientSecret": clientSecret})
	want(e.t, r, 200)
	return r.str("accessToken")
}

func (e *testEnv) admin() string {
	e.t.Helper()
	id, secret := e.srv.ProvisionerCredentials()
	return e.login(id, secret)
}

// handoff is a least-privilege identity as handoff apply makes one.
type handoff struct {
	slug, identityID, clientID, clientSecret, privilegeID string
}

// provisionHandoff creates, with the admin token, an identity with org
// role no-access, universal auth (token TTL 900 s), a client secret with
// ttl, project role no-access and a temporary privilege (rng) reading
// <root>/<slug>/** plus extra rules.
func (e *testEnv) provisionHandoff(adm, slug string, ttl int, rng string, extra ...map[string]any) handoff {
	e.t.Helper()
	r := e.do("POST", "/api/v1/identities", adm, map[string]any{"name": "infisical-handoff-" + slug, "organizationId": DefaultOrganizationID, "role": "no-access"})
	want(e.t, r, 200)
	h := handoff{slug: slug, identityID: r.str("identity", "id")}
	r = e.do("POST", "/api/v1/auth/universal-auth/identities/"+h.identityID, adm, map[string]any{"accessTokenTTL": 900, "accessTokenMaxTTL": 3600})
	want(e.t, r, 200)
	h.clientID = r.str("identityUniversalAuth", "clientId")
	r = e.do("POST", "/api/v1/auth/universal-auth/identities/"+h.identityID+"/client-secrets", adm, map[string]any{"ttl": ttl, "description": slug})
	want(e.t, r, 200)
	h.clientSecret = r.str("clientSecret")
	r = e.do("POST", "/api/v1/projects/"+DefaultProjectID+"/memberships/identities/"+h.identityID, adm, map[string]any{"role": "no-access"})
	want(e.t, r, 200)
	r = e.do("POST", "/api/v2/folders", adm, map[string]any{"projectId": DefaultProjectID, "environment": "staging", "name": slug, "path": DefaultHandoffRoot})
	want(e.t, r, 200)
	perms := []map[string]any{{"subject": "secrets", "action": []string{"read"},
		"conditions": map[string]any{"environment": "staging", "secretPath": map[string]any{"$glob": DefaultHandoffRoot + "/" + slug + "/**"}}}}
	perms = append(perms, extra...)
	r = e.do("POST", "/api/v2/identity-project-additional-privilege", adm, map[string]any{
		"identityId": h.identityID, "projectId": DefaultProjectID, "slug": slug, "permissions": perms,
		"type": map[string]any{"isTemporary": true, "temporaryMode": "relative", "temporaryRange": rng,
			"temporaryAccessStartTime": e.kit.Clock.Now().Format(time.RFC3339)},
	})
	want(e.t, r, 200)
	h.privilegeID = r.str("privilege", "id")
	return h
}

func q(path string, kv ...string) string {
	var b strings.Builder
	b.WriteString(path)
	for i := 0; i+1 < len(kv); i += 2 {
		if i == 0 {
			b.WriteString("?")
		} else {
			b.WriteString("&")
		}
		b.WriteString(kv[i] + "=" + urlQueryEscape(kv[i+1]))
	}
	return b.String()
}

func urlQueryEscape(s string) string {
	r := strings.NewReplacer("%", "%25", "&", "%26", "=", "%3D", "+", "%2B", " ", "%20", "#", "%23", "?", "%3F")
	return r.Replace(s)
}
