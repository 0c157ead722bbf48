package herokusrv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/raxx-app/handoff/internal/devserver/devkit"
)

// fuzzToken is an OAuth token planted in every fuzzed server (scope
// read-protected), so inputs reach the handlers behind a token without a
// create first.
const fuzzToken = "HRKU-fuzz0000-0000-4000-8000-000000000001"

func plantAuthorization(s *Server, token string, scope ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.w.addAuth(&authorization{ID: "0f0f0f0f-0000-4000-8000-000000000001", AccountID: s.w.provisioner.ID, Scope: scope,
		TokenID: "0f0f0f0f-0000-4000-8000-000000000002", Fingerprint: fingerprint(token), CreatedAt: testNow, UpdatedAt: testNow})
}

var fuzzMethods = []string{"GET", "POST", "PATCH", "DELETE", "PUT"}

// FuzzHandler sends arbitrary requests to a fresh server and checks that
// every answer is Heroku-shaped: no panic, no 5xx, JSON with Request-Id and
// RateLimit-Remaining, errors as {"id", "message"}, no token in any answer
// but the one that creates it, and no success for a write whose body is
// not a JSON object.
func FuzzHandler(f *testing.F) {
	fx := DefaultFixture()
	fx.RateLimit.Disabled = true
	auths := []string{"", bearer(DefaultProvisionerAPIKey), bearer(DefaultOwnerAPIKey), bearer(fuzzToken),
		"Basic " + "OmhycQ==", "Bearer nope", "Basic !!!"}
	seeds := []struct {
		method uint8
		path   string
		auth   uint8
		body   string
		rng    string
	}{
		{0, "/account", 1, "", ""},
		{0, "/apps", 2, "", "name ..; max=1"},
		{0, "/apps", 2, "", "id ]zzz..; max=3, order=desc"},
		{0, "/apps/moosequest-staging", 1, "", ""},
		{0, "/apps/moosequest-staging/config-vars", 3, "", ""},
		{2, "/apps/moosequest-staging/config-vars", 1, `{"A":"b","RAILS_ENV":null}`, ""},
		{2, "/apps/moosequest-staging/config-vars", 1, `{"A":1}`, ""},
		{2, "/apps/moosequest-staging/config-vars", 1, `[1]`, ""},
		{0, "/apps/alice-scratchpad/collaborators", 2, "", ""},
		{0, "/teams/raxx/members", 2, "", "email ..; max=1"},
		{0, "/teams/permissions", 3, "", ""},
		{1, "/oauth/authorizations", 1, `{"scope":["read"],"expires_in":60,"description":"x"}`, ""},
		{1, "/oauth/authorizations", 1, `{"scope":"read"}`, ""},
		{1, "/oauth/authorizations", 1, `{"scope":["read"],"expires_in":1e99}`, ""},
		{0, "/oauth/authorizations", 1, "", "id ..; max=0"},
		{0, "/oauth/authorizations/0f0f0f0f-0000-4000-8000-000000000001", 1, "", ""},
		{2, "/oauth/authorizations/0f0f0f0f-0000-4000-8000-000000000001", 1, `{"client":{"id":null}}`, ""},
		{3, "/oauth/authorizations/0f0f0f0f-0000-4000-8000-000000000001", 1, "", ""},
		{1, "/oauth/authorizations/0f0f0f0f-0000-4000-8000-000000000001/actions/regenerate-tokens", 1, "", ""},
		{4, "/apps", 1, "", ""},
		{0, "//apps/../account", 1, "", ""},
		{0, "/apps/%2e%2e", 1, "", ""},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.auth, []byte(s.body), s.rng)
	}

	f.Fuzz(func(t *testing.T, method uint8, target string, auth uint8, body []byte, rng string) {
		kit := &devkit.Kit{Clock: devkit.NewFrozenClock(testNow), Stats: &devkit.Stats{}, Faults: &devkit.Faults{}}
		srv, err := New(kit, fx)
		if err != nil {
			t.Fatal(err)
		}
		plantAuthorization(srv, fuzzToken, ScopeReadProtected)
		if !strings.HasPrefix(target, "/") || strings.HasPrefix(target, "/_dev/") {
			target = "/" + strings.TrimPrefix(target, "/_dev")
		}
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return
		}
		m := fuzzMethods[int(method)%len(fuzzMethods)]
		req := &http.Request{Method: m, URL: u, RequestURI: target, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: http.Header{"Accept": {accept3}}, Host: "api.heroku.test", RemoteAddr: "127.0.0.1:40000", Body: http.NoBody}
		if len(body) > 0 {
			req.Body = io.NopCloser(bytes.NewReader(body))
			req.ContentLength = int64(len(body))
		}
		if a := auths[int(auth)%len(auths)]; a != "" {
			req.Header.Set("Authorization", a)
		}
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)

		status := rec.Code
		out := rec.Body.Bytes()
		if status >= 500 {
			t.Fatalf("%s %s: %d %s", m, target, status, out)
		}
		if rec.Header().Get("Request-Id") == "" || rec.Header().Get("RateLimit-Remaining") == "" {
			t.Fatalf("%s %s: %d without Heroku's headers", m, target, status)
		}
		switch {
		case status == http.StatusNotModified:
		case status >= 400:
			var e struct {
				ID      string `json:"id"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal(out, &e); err != nil || e.ID == "" || e.Message == "" {
				t.Fatalf("%s %s: %d error body %s", m, target, status, out)
			}
		default:
			if !json.Valid(out) {
				t.Fatalf("%s %s: %d body is not JSON: %.200s", m, target, status, out)
			}
		}
		creates := m == "POST" && status < 300
		for _, key := range []string{DefaultProvisionerAPIKey, DefaultOwnerAPIKey, fuzzToken} {
			if bytes.Contains(out, []byte(key)) || strings.Contains(fmt.Sprint(rec.Header()), key) {
				t.Fatalf("%s %s: %d shows a credential", m, target, status)
			}
		}
		if !creates && bytes.Contains(out, []byte(`"token":"`)) {
			t.Fatalf("%s %s: %d shows a token: %.300s", m, target, status, out)
		}
		if status < 300 && (m == "PATCH" || m == "POST" && !strings.HasSuffix(u.Path, "/regenerate-tokens")) {
			trimmed := bytes.TrimSpace(body)
			if len(trimmed) > 0 && trimmed[0] != '{' {
				t.Fatalf("%s %s: %d for a body that is not a JSON object: %q", m, target, status, body)
			}
		}
	})
}
