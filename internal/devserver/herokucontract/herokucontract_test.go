package herokucontract

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The embedded copy must stay identical to the shared original whenever it
// is beside the checkout (main checkout or a worktree under wt/).
func TestEmbeddedContractMatchesShared(t *testing.T) {
	for _, up := range []string{"../../../..", "../../../../.."} {
		want, err := os.ReadFile(filepath.Join(up, "shared", "contracts", "heroku.schema.json"))
		if err != nil {
			continue
		}
		if !bytes.Equal(Document(), want) {
			t.Fatalf("embedded heroku.schema.json differs from %s/shared/contracts: copy it again", up)
		}
		return
	}
	t.Skip("shared/contracts not beside the checkout")
}

func TestLinks(t *testing.T) {
	v := MustNew(t)
	want := []string{
		"DELETE /oauth/authorizations/{oauth-authorization_identity}",
		"GET /account",
		"GET /apps",
		"GET /apps/{app_identity}",
		"GET /apps/{app_identity}/collaborators",
		"GET /apps/{app_identity}/config-vars",
		"GET /oauth/authorizations",
		"GET /oauth/authorizations/{oauth-authorization_identity}",
		"GET /teams/permissions",
		"GET /teams/{team_identity}/members",
		"PATCH /apps/{app_identity}/config-vars",
		"PATCH /oauth/authorizations/{oauth-authorization_identity}",
		"POST /oauth/authorizations",
		"POST /oauth/authorizations/{oauth-authorization_identity}/actions/regenerate-tokens",
	}
	if got := v.Links(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("links:\n%s", strings.Join(got, "\n"))
	}
	// Only the space name's ECMAScript lookahead is beyond Go's regexp.
	if sk := v.Skipped(); len(sk) != 1 || !strings.Contains(sk[0], "(?!-)") {
		t.Errorf("skipped patterns %q", sk)
	}
	if l, ok := v.Match("GET", "/teams/permissions"); !ok || l.Resource != "team-app-permission" {
		t.Errorf("/teams/permissions matched %+v", l)
	}
	if l, ok := v.MatchPattern("GET /apps/{app}/config-vars"); !ok || l.Title != "Info for App" {
		t.Errorf("pattern matched %+v", l)
	}
	if _, ok := v.Match("GET", "/apps/x/addons"); ok {
		t.Error("matched a path outside the contract")
	}
}

// TestCheck feeds the validator good and bad answers.
func TestCheck(t *testing.T) {
	v := MustNew(t)
	hdr := func(h http.Header) http.Header {
		h.Set("Request-Id", "r")
		h.Set("RateLimit-Remaining", "10")
		h.Set("Content-Type", "application/json")
		return h
	}
	cases := []struct {
		name, method, path, reqBody string
		status                      int
		body                        string
		header                      http.Header
		ok                          bool
	}{
		{"config vars", "GET", "/apps/a/config-vars", "", 200, `{"A":"b"}`, nil, true},
		{"config var not a string", "GET", "/apps/a/config-vars", "", 200, `{"A":5}`, nil, false},
		{"bad config var name in request", "PATCH", "/apps/a/config-vars", `{"A-B":"x"}`, 200, `{}`, nil, false},
		{"permissions", "GET", "/teams/permissions", "", 200, `[{"name":"view","description":"d"}]`, http.Header{"Content-Range": {"id a..a; max=200"}}, true},
		{"list without Content-Range", "GET", "/teams/permissions", "", 200, `[]`, nil, false},
		{"206 without Next-Range", "GET", "/teams/permissions", "", 206, `[]`, http.Header{"Content-Range": {"id ..; max=200"}}, false},
		{"strict properties", "GET", "/account", "", 200, `{"email":"a@b.c","id":"01234567-89ab-cdef-0123-456789abcdef"}`, nil, false},
		{"error", "GET", "/account", "", 401, `{"id":"unauthorized","message":"Invalid credentials provided."}`, nil, true},
		{"error without id", "GET", "/account", "", 401, `{"message":"x"}`, nil, false},
		{"missing_version", "GET", "/account", "", 400, `{"id":"missing_version","error":"Please specify a version"}`, nil, true},
		{"outside the contract", "GET", "/addons", "", 200, `[]`, nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.reqBody))
			h := hdr(http.Header{})
			for k, vs := range tc.header {
				h[k] = vs
			}
			err := v.Check(req, []byte(tc.reqBody), &http.Response{StatusCode: tc.status, Header: h}, []byte(tc.body))
			if (err == nil) != tc.ok {
				t.Errorf("Check = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
