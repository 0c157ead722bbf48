package cloudflaresrv

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/raxx-app/handoff/internal/devserver/devkit"
)

// Token values planted in every fuzzed server, so that inputs reach the
// handlers behind authentication.
const (
	fuzzProvisioner = "FuzzProvisionerTokenFuzzProvisionerToken"
	fuzzZoneToken   = "FuzzZoneTokenFuzzZoneTokenFuzzZoneToken_"
	fuzzIPToken     = "FuzzIPTokenFuzzIPTokenFuzzIPTokenFuzzIP-"
)

var fuzzMethods = []string{"GET", "POST", "PUT", "DELETE", "PATCH"}

// FuzzHandler sends arbitrary requests to a fresh server and checks that
// every answer is Cloudflare-shaped: no panic, no 5xx, JSON with success,
// errors and messages, success exactly on 2xx, an error code on failures,
// and no token value in any answer but a creation's or a roll's.
func FuzzHandler(f *testing.F) {
	fx := DefaultFixture()
	fx.Tokens[0].Value = fuzzProvisioner
	fx.Tokens = append(fx.Tokens,
		FixtureToken{Name: "zone", Value: fuzzZoneToken, Policies: []FixturePolicy{{
			PermissionGroups: []string{GroupZoneRead, GroupDNSWrite}, Resources: map[string]any{ScopeZone + "." + DefaultZoneExampleID: "*"}}}},
		FixtureToken{Name: "ip", Value: fuzzIPToken, RequestIPIn: []string{"10.0.0.0/8"}, Policies: []FixturePolicy{{
			PermissionGroups: []string{GroupZoneRead}, Resources: map[string]any{ScopeZone + ".*": "*"}}}},
	)
	fx.Settings.RateLimit = -1
	auths := []string{"", "Bearer " + fuzzProvisioner, "Bearer " + fuzzZoneToken, "Bearer " + fuzzIPToken,
		"Bearer " + strings.Repeat("x", 40), "Basic abc", "Bearer a b"}

	seeds := []struct {
		method uint8
		path   string
		auth   uint8
		body   string
	}{
		{0, "/client/v4/user/tokens/verify", 1, ""},
		{0, "/client/v4/user/tokens?page=2&per_page=5&direction=desc", 1, ""},
		{1, "/client/v4/user/tokens", 1, `{"name":"t","policies":[{"effect":"allow","resources":{"com.cloudflare.api.account.zone.2ebc3b25e5b82662f032d2d540301afa":"*"},"permission_groups":[{"id":"c8fed203ed3043cba015a93ad1616f1f"}]}],"expires_on":"2030-01-01T00:00:00Z","condition":{"request.ip":{"in":["10.0.0.0/8"]}}}`},
		{1, "/client/v4/user/tokens", 1, `{"name":"t","policies":[{"effect":"deny","resources":{"com.cloudflare.api.account.bdfbcde43a044b27b3f8b979228afeb6":{"com.cloudflare.api.account.zone.*":"*"}},"permission_groups":[{"id":"4755a26eedb94da69e1066d98aa820be"}]}]}`},
		{1, "/client/v4/user/tokens", 1, `{"name":5,"policies":{}}`},
		{1, "/client/v4/user/tokens", 2, `[]`},
		{2, "/client/v4/user/tokens/aaf9a8615575500e3868a892d0b69c9f", 1, `{"name":"p","status":"disabled","policies":[{"id":"x","effect":"allow","resources":{"com.cloudflare.api.user.0551c6f616c9aefeb6985961d1542963":"*"},"permission_groups":[{"id":"686d18d5ac6c441c867cbf6771e58a0a"}]}]}`},
		{2, "/client/v4/user/tokens/aaf9a8615575500e3868a892d0b69c9f/value", 1, `{}`},
		{3, "/client/v4/user/tokens/aaf9a8615575500e3868a892d0b69c9f", 1, ""},
		{0, "/client/v4/user/tokens/permission_groups", 1, ""},
		{0, "/client/v4/zones?name=contains:example&match=any&status=active&order=account.name", 2, ""},
		{0, "/client/v4/zones/2ebc3b25e5b82662f032d2d540301afa", 2, ""},
		{1, "/client/v4/zones/2ebc3b25e5b82662f032d2d540301afa/dns_records", 2, `{"type":"MX","name":"@","content":"mx.example.com","priority":70000}`},
		{0, "/client/v4/zones/2ebc3b25e5b82662f032d2d540301afa/dns_records?per_page=5000001", 2, ""},
		{4, "/client/v4/zones", 3, ""},
		{0, "/client/v4/user/tokens/../tokens/verify", 1, ""},
		{0, "/nowhere", 0, ""},
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
		if !strings.HasPrefix(target, "/") || strings.HasPrefix(target, "/_dev/") {
			target = "/" + strings.TrimPrefix(target, "/_dev")
		}
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return
		}
		m := fuzzMethods[int(method)%len(fuzzMethods)]
		req := &http.Request{Method: m, URL: u, RequestURI: target, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: http.Header{}, Host: "api.cloudflare.test", RemoteAddr: "127.0.0.1:40000", Body: http.NoBody}
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
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("%s %s: %d with Content-Type %q", m, target, status, ct)
		}
		var env struct {
			Success  *bool        `json:"success"`
			Errors   []cfMessage  `json:"errors"`
			Messages *[]cfMessage `json:"messages"`
			Result   any          `json:"result"`
		}
		out := rec.Body.Bytes()
		if err := json.Unmarshal(out, &env); err != nil || env.Success == nil || env.Messages == nil {
			t.Fatalf("%s %s: %d body is not Cloudflare's envelope: %.300s", m, target, status, out)
		}
		if *env.Success != (status < 300) {
			t.Fatalf("%s %s: %d with success %v", m, target, status, *env.Success)
		}
		if status >= 400 && (len(env.Errors) == 0 || env.Errors[0].Code < 1000 || env.Result != nil) {
			t.Fatalf("%s %s: %d error body %s", m, target, status, out)
		}
		for _, v := range []string{fuzzProvisioner, fuzzZoneToken, fuzzIPToken} {
			if bytes.Contains(out, []byte(v)) {
				t.Fatalf("%s %s: answer shows a token value: %s", m, target, out)
			}
		}
		if status < 300 && m == "POST" {
			trimmed := bytes.TrimSpace(body)
			if len(trimmed) == 0 || trimmed[0] != '{' {
				t.Fatalf("%s %s: %d for a body that is not a JSON object: %q", m, target, status, body)
			}
		}
	})
}

type bodyReader struct{ *bytes.Reader }

func (bodyReader) Close() error { return nil }

func httpBody(b []byte) bodyReader { return bodyReader{bytes.NewReader(b)} }
