package infisicalsrv

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/raxx-app/handoff/internal/devserver/devkit"
)

var fuzzMethods = []string{"GET", "POST", "PATCH", "DELETE", "PUT"}

// FuzzHandler sends arbitrary methods, paths, bodies and tokens to the
// handlers. Whatever comes in, the answer is JSON, errors carry Infisical's
// shape with a matching statusCode, and a 500 only ever answers a body
// that is not JSON (as Fastify's parser failures do).
func FuzzHandler(f *testing.F) {
	pid := DefaultProjectID
	seeds := []struct {
		method byte
		path   string
		body   string
		auth   byte
	}{
		{1, "/api/v1/auth/universal-auth/login", `{"clientId":"x","clientSecret":"y"}`, 0},
		{1, "/api/v1/auth/token/renew", `{"accessToken":"a.b.c"}`, 0},
		{1, "/api/v1/identities", `{"name":"f","organizationId":"org-raxx","role":"member"}`, 1},
		{0, "/api/v1/identities?orgId=org-raxx", ``, 1},
		{2, "/api/v1/identities/x", `{"name":7}`, 1},
		{1, "/api/v1/auth/universal-auth/identities/x", `{"accessTokenTTL":-1}`, 1},
		{1, "/api/v1/auth/universal-auth/identities/x/client-secrets", `{"ttl":"soon"}`, 1},
		{1, "/api/v1/projects/" + pid + "/memberships/identities/x", `{"roles":[{"role":"viewer","isTemporary":true}]}`, 1},
		{1, "/api/v2/identity-project-additional-privilege", `{"identityId":"x","projectId":"` + pid + `","permissions":[{"subject":"secrets","action":["read"],"conditions":{"secretPath":{"$glob":"/a/**"},"environment":{"$in":["dev"]}}}],"type":{"isTemporary":false}}`, 1},
		{1, "/api/v1/additional-privilege/identity/temporary", `{"identityId":"x","projectSlug":"moosequest","privilegePermission":{"actions":["read"],"subject":"secrets"},"temporaryMode":"relative","temporaryRange":"1h","temporaryAccessStartTime":"2026-01-01T00:00:00Z"}`, 1},
		{1, "/api/v2/folders", `{"projectId":"` + pid + `","environment":"staging","name":"fz","path":"/a/b"}`, 1},
		{0, "/api/v2/folders?projectId=" + pid + "&environment=staging&recursive=true", ``, 1},
		{3, "/api/v2/folders/fz", `{"projectId":"` + pid + `","environment":"staging","path":"/a/b","forceDelete":true}`, 1},
		{1, "/api/v4/secrets/FZ", `{"projectId":"` + pid + `","environment":"staging","secretPath":"/MooseQuest/handoffs","secretValue":"v"}`, 1},
		{0, "/api/v4/secrets?projectId=" + pid + "&environment=staging&secretPath=/&recursive=true", ``, 1},
		{0, "/api/v4/secrets/FZ?projectId=" + pid + "&environment=staging&secretPath=/MooseQuest/handoffs&version=1", ``, 2},
		{2, "/api/v3/secrets/raw/FZ", `{"workspaceId":"` + pid + `","environment":"staging","secretValue":null}`, 1},
		{0, "/api/v1/organization/audit-logs?limit=3&eventType=get-secret", ``, 1},
		{4, "/api/v4/secrets", `[]`, 1},
		{1, "/api/v4/secrets/X", `{"projectId":`, 1},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, []byte(s.body), s.auth)
	}
	fx := DefaultFixture()
	fx.Settings.RateLimits.Profile = ProfileSelfHosted // no limiter: the fuzzer calls one route many times
	srv, err := New(devkit.NewKit(), fx)
	if err != nil {
		f.Fatal(err)
	}
	id, secret := srv.ProvisionerCredentials()
	rec := httptest.NewRecorder()
	b, _ := json.Marshal(map[string]string{"clientId": id, "clientSecret": secret})
	req := httptest.NewRequest("POST", "/api/v1/auth/universal-auth/login", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	srv.ServeHTTP(rec, req)
	var login tokenResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &login); err != nil || login.AccessToken == "" {
		f.Fatalf("login: %s", rec.Body.Bytes())
	}
	tokens := []string{"", login.AccessToken, "garbage.token.here"}

	f.Fuzz(func(t *testing.T, method byte, path string, body []byte, auth byte) {
		if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "/_dev") || strings.ContainsAny(path, " \r\n\t#") {
			return
		}
		req, err := http.NewRequest(fuzzMethods[int(method)%len(fuzzMethods)], "http://infisical.test"+path, bytes.NewReader(body))
		if err != nil {
			return
		}
		req.RemoteAddr = "127.0.0.1:5555"
		if len(body) > 0 {
			req.Header.Set("Content-Type", "application/json")
		}
		if tok := tokens[int(auth)%len(tokens)]; tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		res := rec.Result()
		var out map[string]any
		raw := rec.Body.Bytes()
		if res.StatusCode == http.StatusMovedPermanently || res.StatusCode == http.StatusTemporaryRedirect {
			return // net/http's path cleaning, before any handler
		}
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: answer is not a JSON object: %d %q", req.Method, path, res.StatusCode, raw)
		}
		if res.StatusCode >= 400 {
			sc, _ := out["statusCode"].(float64)
			if int(sc) != res.StatusCode || out["error"] == nil || out["message"] == nil {
				t.Fatalf("%s %s: error body %s does not match status %d", req.Method, path, raw, res.StatusCode)
			}
		}
		if res.StatusCode == 500 {
			if _, err := decodeJSONValue(body); err == nil && len(body) < devkit.DefaultMaxBodyBytes {
				t.Fatalf("%s %s: 500 for a JSON body %q: %s", req.Method, path, body, raw)
			}
		}
	})
}
