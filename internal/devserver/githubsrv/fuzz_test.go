package githubsrv

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/raxx-app/handoff/internal/devserver/devkit"
)

// Raw tokens planted in every fuzzed server, so that inputs reach the
// handlers behind authentication without minting (which signs a JWT).
const (
	fuzzFullToken   = "ghs_FuzzFullTokenFuzzFullTokenFuzzFull0"
	fuzzNarrowToken = "ghs_FuzzNarrowTokenFuzzNarrowTokenFuzz1"
	fuzzActions     = "ghs_FuzzActionsTokenFuzzActionsTokenFu2"
)

// plantToken records an installation token as if minted at testNow.
func plantToken(s *Server, raw string, installationID int64, repoIDs []int64, perms map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := &installationToken{Fingerprint: fingerprint(raw), Last4: last4(raw), InstallationID: installationID,
		RepositoryIDs: repoIDs, RepositorySelection: "selected", Permissions: perms,
		CreatedAt: testNow, ExpiresAt: testNow.Add(InstallationTokenLifetime)}
	s.w.tokens = append(s.w.tokens, t)
	s.w.tokenByFpr[t.Fingerprint] = t
}

var fuzzMethods = []string{"GET", "POST", "PATCH", "DELETE", "PUT"}

// FuzzHandler sends arbitrary requests to a fresh server and checks that
// every answer is GitHub-shaped: no panic, no 5xx, an error body with a
// message and a documentation_url, JSON everywhere, and no success for a
// write whose body is not a JSON object.
func FuzzHandler(f *testing.F) {
	fx := DefaultFixture()
	fx.App.PrivateKeyPEM = testKeyPEM(f)
	fx.ActionsTokens[0].Token = fuzzActions
	fx.RateLimits = NoRateLimits()
	key, err := jwt.ParseRSAPrivateKeyFromPEM([]byte(fx.App.PrivateKeyPEM))
	if err != nil {
		f.Fatal(err)
	}
	appJWT, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iat": testNow.Unix() - 60, "exp": testNow.Unix() + 540, "iss": DefaultAppID}).SignedString(key)
	if err != nil {
		f.Fatal(err)
	}
	auths := []string{"", "Bearer " + appJWT, "token " + fuzzFullToken, "Bearer " + fuzzNarrowToken, "token " + fuzzActions, "token nope", "Bearer a.b.c"}

	seeds := []struct {
		method uint8
		path   string
		auth   uint8
		body   string
	}{
		{0, "/app", 1, ""},
		{0, "/app/installations?per_page=1&page=2", 1, ""},
		{0, "/app/installations/1001", 1, ""},
		{1, "/app/installations/1001/access_tokens", 1, `{"repositories":["TradeMasterAPI"],"permissions":{"issues":"write"}}`},
		{1, "/app/installations/1001/access_tokens", 1, `{"repository_ids":[812345601, 1.5, "x"]}`},
		{1, "/app/installations/1001/access_tokens", 1, `{"permissions":{"contents":"admin","x":"y"}}`},
		{1, "/api/v3/app/installations/1002/access_tokens", 1, `[]`},
		{0, "/repos/raxx-app/TradeMasterAPI/installation", 1, ""},
		{0, "/orgs/raxx-app/installation", 1, ""},
		{0, "/installation/repositories?per_page=0", 2, ""},
		{3, "/installation/token", 3, ""},
		{0, "/repos/raxx-app/TradeMasterAPI", 2, ""},
		{0, "/repos/raxx-app/TradeMasterAPI/pulls/42", 4, ""},
		{0, "/repos/raxx-app/TradeMasterAPI/issues/42/comments?since=2026-01-01T00:00:00Z", 3, ""},
		{1, "/repos/raxx-app/TradeMasterAPI/issues/42/comments", 3, `{"body":"plan"}`},
		{1, "/repos/raxx-app/TradeMasterAPI/issues/42/comments", 4, `{"body":5}`},
		{1, "/repos/moose-labs/sandbox/issues/2/comments", 2, `{"body":"x"}`},
		{2, "/repos/raxx-app/TradeMasterAPI/issues/comments/2400000001", 2, `{"body":"edited"}`},
		{2, "/repos/raxx-app/TradeMasterAPI/issues/comments/2400000001", 2, `{"body":`},
		{0, "/orgs/raxx-app/personal-access-tokens?owner[]=alice-raxx&permission=contents_read&direction=asc", 2, ""},
		{1, "/orgs/raxx-app/personal-access-tokens", 2, `{"action":"revoke","pat_ids":[25381,25382]}`},
		{1, "/orgs/raxx-app/personal-access-tokens/25383", 2, `{"action":"revoke"}`},
		{0, "/orgs/raxx-app/personal-access-tokens/25383/repositories?per_page=1", 2, ""},
		{0, "/orgs/raxx-app/personal-access-token-requests?last_used_before=x", 2, ""},
		{1, "/orgs/raxx-app/personal-access-token-requests/7301", 2, `{"action":"approve","reason":null}`},
		{0, "/rate_limit", 0, ""},
		{0, "/meta", 6, ""},
		{4, "/app", 0, ""},
		{0, "//app/../meta", 0, ""},
		{0, "/repos/%2e%2e/x", 2, ""},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.auth, []byte(s.body))
	}

	f.Fuzz(func(t *testing.T, method uint8, target string, auth uint8, body []byte) {
		kit := &devkit.Kit{Clock: devkit.NewFrozenClock(testNow), Stats: &devkit.Stats{}, Faults: &devkit.Faults{}}
		srv, err := New(kit, fx)
		if err != nil {
			t.Fatal(err)
		}
		plantToken(srv, fuzzFullToken, DefaultInstallationID, nil, DefaultFixture().Installations[0].Permissions)
		plantToken(srv, fuzzNarrowToken, DefaultInstallationID, []int64{DefaultTradeMasterRepoID},
			map[string]string{"issues": "write", "pull_requests": "write", "metadata": "read"})

		if !strings.HasPrefix(target, "/") || strings.HasPrefix(target, "/_dev/") {
			target = "/" + strings.TrimPrefix(target, "/_dev")
		}
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return
		}
		m := fuzzMethods[int(method)%len(fuzzMethods)]
		req := &http.Request{Method: m, URL: u, RequestURI: target, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: http.Header{}, Host: "api.github.test", RemoteAddr: "127.0.0.1:40000",
			Body: http.NoBody}
		if len(body) > 0 {
			req.Body = httpBody(body)
			req.ContentLength = int64(len(body))
		}
		if a := auths[int(auth)%len(auths)]; a != "" {
			req.Header.Set("Authorization", a)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)

		status := rec.Code
		if status >= 500 {
			t.Fatalf("%s %s: %d %s", m, target, status, rec.Body)
		}
		if rec.Header().Get("X-Github-Request-Id") == "" || rec.Header().Get("X-Ratelimit-Limit") == "" {
			t.Fatalf("%s %s: %d without GitHub's headers", m, target, status)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
			t.Fatalf("%s %s: %d with Content-Type %q", m, target, status, ct)
		}
		out := rec.Body.Bytes()
		switch {
		case status == 204 || status == 304:
			if len(out) != 0 {
				t.Fatalf("%s %s: %d with a body", m, target, status)
			}
		case status >= 400:
			var e struct {
				Message string `json:"message"`
				Doc     string `json:"documentation_url"`
				Status  string `json:"status"`
			}
			if err := json.Unmarshal(out, &e); err != nil || e.Message == "" || e.Doc == "" || e.Status == "" {
				t.Fatalf("%s %s: %d error body %s", m, target, status, out)
			}
		default:
			if !json.Valid(out) {
				t.Fatalf("%s %s: %d body is not JSON: %.200s", m, target, status, out)
			}
		}
		if status < 300 && (m == "PATCH" || m == "POST" && !strings.HasSuffix(u.Path, "/access_tokens")) {
			trimmed := bytes.TrimSpace(body)
			if !json.Valid(trimmed) || len(trimmed) == 0 || trimmed[0] != '{' {
				t.Fatalf("%s %s: %d for a body that is not a JSON object: %q", m, target, status, body)
			}
		}
	})
}

type bodyReader struct{ *bytes.Reader }

func (bodyReader) Close() error { return nil }

func httpBody(b []byte) bodyReader { return bodyReader{bytes.NewReader(b)} }
