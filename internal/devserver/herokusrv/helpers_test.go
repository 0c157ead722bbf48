package herokusrv

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/devserver/devkit"
)

// testNow is where every test's frozen clock starts.
var testNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

const accept3 = "application/vnd.heroku+json; version=3"

// env is a server under test with its HTTP front.
type env struct {
	t      testing.TB
	srv    *Server
	kit    *devkit.Kit
	ts     *httptest.Server
	client *http.Client
}

// newEnv serves fx on a frozen clock at testNow.
func newEnv(t testing.TB, fx Fixture) *env {
	t.Helper()
	kit := &devkit.Kit{Clock: devkit.NewFrozenClock(testNow), Stats: &devkit.Stats{}, Faults: &devkit.Faults{}}
	srv, err := New(kit, fx)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &env{t: t, srv: srv, kit: kit, ts: ts, client: ts.Client()}
}

func defaultEnv(t testing.TB) *env { return newEnv(t, DefaultFixture()) }

// resp is an answer with its body.
type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %d %s: %v", r.status, r.body, err)
	}
}

// errID returns the "id" of an error body.
func (r resp) errID() string {
	var e struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(r.body, &e)
	return e.ID
}

// bearer is an Authorization header value for a token.
func bearer(tok string) string { return "Bearer " + tok }

// do sends a request with the version 3 Accept header (override it with
// "Accept" in headers); auth is a full Authorization value ("" for none);
// body is marshalled unless it is a string.
func (e *env) do(method, path, auth string, body any, headers ...string) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.ts.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Accept", accept3)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: raw}
}

// expect fails unless r has the status and, when id is set, the error id.
func expect(t testing.TB, r resp, status int, id string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	if id != "" && r.errID() != id {
		t.Fatalf("error id %q, want %q; body %s", r.errID(), id, r.body)
	}
}

// authorize creates an authorization for an API key and returns its id and
// token.
func (e *env) authorize(apiKey string, body map[string]any) (string, string) {
	e.t.Helper()
	r := e.do("POST", "/oauth/authorizations", bearer(apiKey), body)
	expect(e.t, r, http.StatusCreated, "")
	var a struct {
		ID          string `json:"id"`
		AccessToken struct {
			Token string `json:"token"`
		} `json:"access_token"`
	}
	r.json(e.t, &a)
	if a.ID == "" || a.AccessToken.Token == "" {
		e.t.Fatalf("authorization without id or token: %s", r.body)
	}
	return a.ID, a.AccessToken.Token
}

// scoped creates an authorization of the provisioner with the given scopes
// and returns its token.
func (e *env) scoped(scope ...string) string {
	e.t.Helper()
	_, tok := e.authorize(DefaultProvisionerAPIKey, map[string]any{"scope": scope, "description": "test " + strings.Join(scope, ",")})
	return tok
}
