package infisical

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

const (
	testSecret   = "ua-secret-DO-NOT-PRINT-1234"
	testCFSecret = "cf-secret-DO-NOT-PRINT-5678"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestConfigFromEnv(t *testing.T) {
	base := Config{SiteURL: "https://vault.example.com/", OrganizationID: "org", ProjectID: "proj-hcl"}
	cfg, err := ConfigFromEnv(env(map[string]string{
		EnvClientID: "cid", EnvClientSecret: testSecret,
		EnvProjectID: "proj-env", EnvCFAccessID: "cf-id", EnvCFAccessSecret: testCFSecret,
	}), base)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ClientID != "cid" || cfg.ClientSecret != testSecret || cfg.ProjectID != "proj-env" || cfg.SiteURL != base.SiteURL || cfg.OrganizationID != "org" {
		t.Errorf("cfg = %s", cfg)
	}
	if cfg.HTTP.Headers[HeaderCFAccessID] != "cf-id" || cfg.HTTP.Headers[HeaderCFAccessSecret] != testCFSecret {
		t.Errorf("CF headers = %v", len(cfg.HTTP.Headers))
	}
	if b, _ := cfg.baseURL(); b != "https://vault.example.com" {
		t.Errorf("base = %q", b)
	}

	cfg, err = ConfigFromEnv(env(map[string]string{EnvClientID: "cid", EnvClientSecret: testSecret, EnvSiteURL: "http://127.0.0.1:8080"}), Config{ProjectID: "p"})
	if err != nil || cfg.SiteURL != "http://127.0.0.1:8080" || len(cfg.HTTP.Headers) != 0 {
		t.Errorf("override: %v %s", err, cfg)
	}
	cfg, err = ConfigFromEnv(env(map[string]string{EnvClientID: "cid", EnvClientSecret: testSecret}), Config{ProjectID: "p"})
	if err != nil || cfg.SiteURL != DefaultSiteURL {
		t.Errorf("default site: %v %s", err, cfg)
	}

	bad := []struct {
		name string
		env  map[string]string
		base Config
		want []string
	}{
		{"no credentials", map[string]string{}, Config{ProjectID: "p"}, []string{EnvClientID + " and " + EnvClientSecret + " not set"}},
		{"no secret", map[string]string{EnvClientID: "cid"}, Config{ProjectID: "p"}, []string{EnvClientSecret + " not set"}},
		{"half CF", map[string]string{EnvClientID: "cid", EnvClientSecret: testSecret, EnvCFAccessSecret: testCFSecret}, Config{ProjectID: "p"},
			[]string{EnvCFAccessSecret + " is set but " + EnvCFAccessID + " is not"}},
		{"bad URL", map[string]string{EnvClientID: "cid", EnvClientSecret: testSecret, EnvSiteURL: "ftp://user:" + testSecret + "@x"}, Config{ProjectID: "p"}, []string{"is not an http(s) base URL"}},
		{"no project", map[string]string{EnvClientID: "cid", EnvClientSecret: testSecret}, Config{}, []string{EnvProjectID}},
		{"plain http off loopback", map[string]string{EnvClientID: "cid", EnvClientSecret: testSecret, EnvSiteURL: "http://vault.example.com"}, Config{ProjectID: "p"}, []string{"uses plain http"}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ConfigFromEnv(env(tc.env), tc.base)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			assertNoSecret(t, err.Error())
		})
	}
}

func assertNoSecret(t *testing.T, s string, secrets ...string) {
	t.Helper()
	for _, sec := range append([]string{testSecret, testCFSecret}, secrets...) {
		if sec != "" && strings.Contains(s, sec) {
			t.Errorf("output leaks a secret: %s", s)
		}
	}
}

func TestNothingPrintsSecrets(t *testing.T) {
	cfg := Config{SiteURL: "https://x", ClientID: "cid", ClientSecret: testSecret, ProjectID: "p"}
	cfg.HTTP.Headers = map[string]string{HeaderCFAccessID: "cf", HeaderCFAccessSecret: testCFSecret}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.tok = accessToken{value: "tok-DO-NOT-PRINT", renewBy: time.Now().Add(time.Hour), expireAt: time.Now().Add(time.Hour)}
	secret := Secret{Path: "/a", Key: "K", Value: "value-DO-NOT-PRINT", Version: 2}
	cs := ClientSecret{ID: "cs1", Value: "cs-DO-NOT-PRINT", ExpiresAt: time.Unix(0, 0)}
	values := []any{cfg, &cfg, c, c.tok, struct{ C *Client }{c}, secret, &secret, cs, &cs, []Secret{secret}, map[string]any{"c": cfg}}
	for _, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
			out := fmt.Sprintf(verb, v)
			assertNoSecret(t, out, "tok-DO-NOT-PRINT", "value-DO-NOT-PRINT", "cs-DO-NOT-PRINT")
		}
	}
	for _, v := range []any{secret, cs, []Secret{secret}} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		assertNoSecret(t, string(b), "value-DO-NOT-PRINT", "cs-DO-NOT-PRINT")
	}
	if s := secret.String(); !strings.Contains(s, "/a/K") || !strings.Contains(s, "[redacted]") {
		t.Errorf("Secret.String() = %s", s)
	}
}

func TestScrubText(t *testing.T) {
	c, err := New(Config{ClientID: "cid", ClientSecret: testSecret, ProjectID: "p"})
	if err != nil {
		t.Fatal(err)
	}
	got := c.scrubText("a "+testSecret+" b tok123456 c value-xyz", "tok123456", []string{"value-xyz", "v"})
	if got != "a [redacted] b [redacted] c [redacted]" {
		t.Errorf("scrub = %q", got)
	}
}

func TestReadRules(t *testing.T) {
	got := ReadRules("staging", "/MooseQuest/handoffs/iap", []string{
		"/MooseQuest/queue/staging/APPLE_IAP_*",
		"/MooseQuest/queue/staging/API_KEY",
		"/MooseQuest/queue/staging/*",
		"/MooseQuest/shared/**",
		"/MooseQuest/queue/staging/APPLE_IAP_*", // duplicate
		"",
	})
	want := []string{
		"read secrets in staging where secretPath $glob /MooseQuest/handoffs/iap/**",
		"read secrets in staging where secretPath $eq /MooseQuest/queue/staging and secretName $glob APPLE_IAP_*",
		"read secrets in staging where secretPath $eq /MooseQuest/queue/staging and secretName $eq API_KEY",
		"read secrets in staging where secretPath $eq /MooseQuest/queue/staging and secretName $glob *",
		"read secrets in staging where secretPath $glob /MooseQuest/shared/**",
	}
	var gotS []string
	for _, r := range got {
		gotS = append(gotS, r.String())
	}
	if !reflect.DeepEqual(gotS, want) {
		t.Errorf("ReadRules:\n got %q\nwant %q", gotS, want)
	}
	b, _ := json.Marshal(got[1].wire())
	if string(b) != `{"action":["read"],"conditions":{"environment":"staging","secretName":{"$glob":"APPLE_IAP_*"},"secretPath":{"$eq":"/MooseQuest/queue/staging"}},"subject":"secrets"}` {
		t.Errorf("wire = %s", b)
	}
	// And back.
	var w wireRule
	if err := json.Unmarshal(b, &w); err != nil {
		t.Fatal(err)
	}
	if back := w.rule(); back.String() != got[1].String() {
		t.Errorf("round trip = %s", back)
	}
}

func TestCondUnmarshal(t *testing.T) {
	cases := map[string]Cond{
		`"dev"`:              Eq("dev"),
		`{"$eq":"dev"}`:      Eq("dev"),
		`{"$glob":"/a/**"}`:  Glob("/a/**"),
		`{"$in":["a","b"]}`:  {Op: "$in", Value: "a,b"},
		`{"$ne":"prod"}`:     {Op: "$ne", Value: "prod"},
		`{"$unknown":"x"}`:   {},
		`{"$glob":"/a/**"} `: Glob("/a/**"),
	}
	for in, want := range cases {
		var c Cond
		if err := json.Unmarshal([]byte(in), &c); err != nil || c != want {
			t.Errorf("%s → %+v %v, want %+v", in, c, err, want)
		}
	}
}

func TestMsDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		24 * time.Hour: "1d", 2 * time.Hour: "2h", 90 * time.Minute: "90m", 20 * time.Second: "20s",
		time.Hour + time.Second: "3601s", 1500 * time.Millisecond: "1s", 15 * time.Minute: "15m",
	} {
		if got := FormatMsDuration(d); got != want {
			t.Errorf("FormatMsDuration(%s) = %q, want %q", d, got, want)
		}
		back, err := ParseMsDuration(want)
		if err != nil || back != d.Truncate(time.Second) {
			t.Errorf("ParseMsDuration(%q) = %s %v", want, back, err)
		}
	}
	for in, want := range map[string]time.Duration{"1.5 hours": 90 * time.Minute, "100": 100 * time.Millisecond, "2 mins": 2 * time.Minute, "1w": 7 * 24 * time.Hour, "250ms": 250 * time.Millisecond} {
		if got, err := ParseMsDuration(in); err != nil || got != want {
			t.Errorf("ParseMsDuration(%q) = %s %v, want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "h", "1h30m", "soon"} {
		if _, err := ParseMsDuration(bad); err == nil {
			t.Errorf("ParseMsDuration(%q) accepted", bad)
		}
	}
}

func TestPrivilegeSlug(t *testing.T) {
	if s := PrivilegeSlug("iap-notif-handler-20260621"); s != "handoff-iap-notif-handler-20260621" {
		t.Errorf("short slug = %q", s)
	}
	long := strings.Repeat("a", 63)
	s := PrivilegeSlug(long)
	if len(s) > 60 || !slugRE.MatchString(s) || s == PrivilegeSlug(strings.Repeat("a", 62)+"b") {
		t.Errorf("long slug = %q (%d)", s, len(s))
	}
}

func TestPaths(t *testing.T) {
	for in, want := range map[string]string{"": "/", "/": "/", "/a/": "/a", "/a//b": "/a/b"} {
		if got, err := cleanFolder("op", in); err != nil || got != want {
			t.Errorf("cleanFolder(%q) = %q %v", in, got, err)
		}
	}
	for _, bad := range []string{"a", "/a/../b", "./a"} {
		if _, err := cleanFolder("op", bad); err == nil {
			t.Errorf("cleanFolder(%q) accepted", bad)
		}
	}
	ptr := func(s string) *string { return &s }
	got := resolveFolders("/root", []wireFolder{
		{ID: "3", Name: "c", ParentID: ptr("2")}, // listed before its parent
		{ID: "1", Name: "a", ParentID: ptr("root-id")},
		{ID: "2", Name: "b", ParentID: ptr("1")},
		{ID: "4", Name: "d"},
	})
	var paths []string
	for _, f := range got {
		paths = append(paths, f.Path)
	}
	if strings.Join(paths, " ") != "/root/a/b/c /root/a /root/a/b /root/d" {
		t.Errorf("resolveFolders = %v", paths)
	}
}

func TestDeniedAction(t *testing.T) {
	a, s := deniedAction("PermissionDenied: You are not allowed to describeSecret on secrets")
	if a != "describeSecret" || s != "secrets" {
		t.Errorf("got %q %q", a, s)
	}
	a, s = deniedAction("nope")
	if a != "this action" || s != "this resource" {
		t.Errorf("got %q %q", a, s)
	}
}

func TestRemedies(t *testing.T) {
	prov, _ := New(Config{ClientID: "cid", ClientSecret: testSecret, ProjectID: "p"})
	hand, _ := New(Config{ClientID: "cid2", ClientSecret: testSecret, ProjectID: "p"})
	hand.handoff = true
	sec := &call{env: "staging", folder: "/h/x", key: "K"}
	cases := []struct {
		name   string
		c      *Client
		cl     *call
		status int
		errN   string
		msg    string
		want   string
	}{
		{"login 401", prov, &call{login: true}, 401, "UnauthorizedError", "Invalid credentials", "check INFISICAL_CLIENT_ID and INFISICAL_CLIENT_SECRET"},
		{"handoff login 401", hand, &call{login: true}, 401, "UnauthorizedError", "Invalid credentials", "run handoff apply to mint a new one"},
		{"token", prov, sec, 403, "TokenError", "Your token has expired. Please re-authenticate.", "re-login is automatic; if this persists, check this machine's clock"},
		{"denied provisioner", prov, sec, 403, "PermissionDenied", "You are not allowed to create on secrets", "lacks create on secrets: give it the project admin role"},
		{"denied handoff", hand, sec, 403, "PermissionDenied", "You are not allowed to describeSecret on secrets", "this handoff's identity may not describeSecret on secrets"},
		{"folder missing", prov, sec, 404, "CreateSecret", "Folder with path '/h/x' in environment with slug 'staging' not found", "the folder /h/x does not exist in environment staging: apply creates it; check handoff_root"},
		{"secret missing", prov, sec, 404, "NotFound", "Secret with name 'K' not found", "no secret K in /h/x"},
		{"collision", prov, sec, 400, "BadRequest", "Secret already exists", "a secret named K already exists in /h/x (environment staging): a name collision"},
		{"rate limit", prov, sec, 429, "RateLimitExceeded", "Rate limit exceeded", "rerun in a minute"},
		{"server", prov, sec, 503, "ServiceUnavailable", "", "rerun"},
		{"identity gone", prov, &call{identityID: "i-1"}, 404, "NotFound", "Failed to find identity with ID i-1", "identity i-1 no longer exists"},
	}
	for _, tc := range cases {
		if got := tc.c.remedy(tc.cl, tc.status, tc.errN, tc.errN+": "+tc.msg); !strings.Contains(got, tc.want) {
			t.Errorf("%s: remedy %q lacks %q", tc.name, got, tc.want)
		}
	}
}
