package cloudflare

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// assertNoValues fails when any rendering of things shows a value.
func assertNoValues(t *testing.T, things []any, values ...string) {
	t.Helper()
	var out bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&out, nil))
	for _, x := range things {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T %v"} {
			fmt.Fprintf(&out, verb+"\n", x)
		}
		fmt.Fprintln(&out, x)
		log.Info("thing", "x", x)
		if b, err := json.Marshal(x); err == nil {
			out.Write(b)
		}
	}
	for _, v := range values {
		if v == "" {
			t.Fatal("empty value to look for")
		}
		if strings.Contains(out.String(), v) {
			t.Errorf("a rendering shows a token value:\n%s", out.String())
		}
	}
	if !strings.Contains(out.String(), "[redacted]") {
		t.Error("nothing rendered as [redacted]")
	}
}

func TestSecretRendering(t *testing.T) {
	s := Secret("8M7wS6hCpXVc-DoRnPPY_UCWPgy8aea4Wy6kCe5T")
	tok := Token{ID: "ed17574386854bf78a67040be0a770b0", Name: "n", Status: "active", Value: s}
	cfg := Config{BaseURL: DefaultBaseURL, Token: s}
	req := TokenRequest{Name: "n"}
	assertNoValues(t, []any{s, &s, tok, cfg, req, []Secret{s}}, s.Reveal())
	if got := fmt.Sprint(Secret("")); got != "" {
		t.Errorf("empty secret prints %q", got)
	}
	if !strings.HasPrefix(s.Fingerprint(), "sha256:") || Secret("").Fingerprint() != "" {
		t.Errorf("fingerprints %q %q", s.Fingerprint(), Secret("").Fingerprint())
	}
	if got := tok.String(); !strings.Contains(got, "expires never") || !strings.Contains(got, "value [redacted]") {
		t.Errorf("token renders as %s", got)
	}
}

func TestNewChecksConfig(t *testing.T) {
	good := Secret(strings.Repeat("a", 40))
	cases := []struct {
		cfg Config
		ok  bool
	}{
		{Config{Token: good}, true},
		{Config{BaseURL: "http://127.0.0.1:8080/client/v4/", Token: good}, true},
		{Config{BaseURL: "http://api.cloudflare.com/client/v4", Token: good}, false},
		{Config{BaseURL: "https://user:pw@api.cloudflare.com/client/v4", Token: good}, false},
		{Config{BaseURL: "ftp://x", Token: good}, false},
		{Config{}, false},
		{Config{Token: "Bearer " + good}, false},
		{Config{Token: good + "\n"}, false},
	}
	for _, tc := range cases {
		c, err := New(tc.cfg)
		if (err == nil) != tc.ok {
			t.Errorf("New(%v) = %v", tc.cfg, err)
		}
		if err != nil && strings.Contains(err.Error(), "pw") {
			t.Errorf("error shows URL credentials: %v", err)
		}
		if c != nil && strings.HasSuffix(c.base, "/") {
			t.Errorf("base %q keeps its slash", c.base)
		}
	}
}

func TestResolvePermissionGroups(t *testing.T) {
	cat := PermissionGroups{
		{ID: "1", Name: "DNS Write", Scopes: []string{ScopeZone}},
		{ID: "2", Name: "Zone Read", Scopes: []string{ScopeZone}},
		{ID: "3", Name: "Logs Read", Scopes: []string{ScopeZone}},
		{ID: "4", Name: "Logs Read", Scopes: []string{ScopeAccount}},
		{ID: "5", Name: "API Tokens Write", Scopes: []string{ScopeUser}},
	}
	cases := []struct {
		scope   string
		names   []string
		ids     string
		errWant string
	}{
		{"", []string{"DNS Write", "API Tokens Write"}, "1,5", ""},
		{ScopeAccount, []string{"Logs Read"}, "4", ""},
		{"", []string{"Logs Read"}, "", `"Logs Read" (scopes com.cloudflare.api.account, com.cloudflare.api.account.zone) exists in several scopes`},
		{"", []string{"dns write", "Bogus", "Zone Read"}, "", `unknown permission group "dns write" (did you mean "DNS Write"?), "Bogus" in Cloudflare's catalogue`},
		{ScopeUser, []string{"DNS Write"}, "", `unknown permission group "DNS Write" in the groups of scope com.cloudflare.api.user`},
	}
	for _, tc := range cases {
		gs, err := cat.resolve(tc.scope, tc.names)
		if tc.errWant != "" {
			if err == nil || !strings.Contains(err.Error(), tc.errWant) {
				t.Errorf("resolve(%q, %v) = %v, want an error containing %s", tc.scope, tc.names, err, tc.errWant)
			}
			continue
		}
		var ids []string
		for _, g := range gs {
			ids = append(ids, g.ID)
		}
		if err != nil || strings.Join(ids, ",") != tc.ids {
			t.Errorf("resolve(%q, %v) = %v, %v", tc.scope, tc.names, ids, err)
		}
	}
}

func TestTokenRequestBody(t *testing.T) {
	g := []PermissionGroup{{ID: "c8fed203ed3043cba015a93ad1616f1f", Name: "Zone Read"}}
	res := ZoneResources("2ebc3b25e5b82662f032d2d540301afa")
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	ok := TokenRequest{Name: "t", NotBefore: now, ExpiresOn: now.Add(time.Hour), RequestIPIn: []string{"10.0.0.0/8", "192.0.2.1"},
		Policies: []Policy{{PermissionGroups: g, Resources: res}}}
	b, err := ok.body()
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(b)
	want := `{"name":"t","policies":[{"effect":"allow","resources":{"com.cloudflare.api.account.zone.2ebc3b25e5b82662f032d2d540301afa":"*"},"permission_groups":[{"id":"c8fed203ed3043cba015a93ad1616f1f"}]}],"not_before":"2026-11-23T12:00:00Z","expires_on":"2026-11-23T13:00:00Z","condition":{"request.ip":{"in":["10.0.0.0/8","192.0.2.1"]}}}`
	if string(raw) != want {
		t.Errorf("body\n%s\nwant\n%s", raw, want)
	}
	bad := map[string]func(r *TokenRequest){
		"no name":          func(r *TokenRequest) { r.Name = " " },
		"long name":        func(r *TokenRequest) { r.Name = strings.Repeat("x", 121) },
		"no policy":        func(r *TokenRequest) { r.Policies = nil },
		"bad effect":       func(r *TokenRequest) { r.Policies[0].Effect = "maybe" },
		"no groups":        func(r *TokenRequest) { r.Policies[0].PermissionGroups = nil },
		"unresolved group": func(r *TokenRequest) { r.Policies[0].PermissionGroups = []PermissionGroup{{Name: "Zone Read"}} },
		"no resources":     func(r *TokenRequest) { r.Policies[0].Resources = nil },
		"inverted window":  func(r *TokenRequest) { r.NotBefore = r.ExpiresOn },
		"bad CIDR":         func(r *TokenRequest) { r.RequestIPNotIn = []string{"10.0.0.0/99"} },
	}
	for name, mutate := range bad {
		r := ok
		r.Policies = []Policy{{PermissionGroups: g, Resources: res}}
		mutate(&r)
		if _, err := r.body(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
