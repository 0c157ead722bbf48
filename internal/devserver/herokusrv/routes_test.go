package herokusrv

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
)

// TestRoutes walks every route with the credentials that reach it and
// those that do not, checking statuses and Heroku's error ids.
func TestRoutes(t *testing.T) {
	e := defaultEnv(t)
	prov := bearer(DefaultProvisionerAPIKey)
	owner := bearer(DefaultOwnerAPIKey)
	member := bearer(DefaultMemberAPIKey)
	outsider := bearer(DefaultOutsiderAPIKey)
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(DefaultProvisionerEmail+":"+DefaultProvisionerAPIKey))
	authID, _ := e.authorize(DefaultProvisionerAPIKey, map[string]any{"scope": []string{"read"}})

	cases := []struct {
		name, method, path, auth string
		body                     any
		status                   int
		id                       string
		contains                 string
	}{
		{"account", "GET", "/account", prov, nil, 200, "", `"email":"handoff@raxx.app"`},
		{"account via Basic", "GET", "/account", basic, nil, 200, "", `"email":"handoff@raxx.app"`},
		{"account via Basic token as user", "GET", "/account", "Basic " + base64.StdEncoding.EncodeToString([]byte(DefaultOwnerAPIKey+":")), nil, 200, "", DefaultOwnerEmail},
		{"account without credentials", "GET", "/account", "", nil, 401, "unauthorized", "Invalid credentials provided."},
		{"account with a wrong key", "GET", "/account", bearer("HRKU-nope"), nil, 401, "unauthorized", ""},
		{"account with an unknown scheme", "GET", "/account", "Token " + DefaultOwnerAPIKey, nil, 401, "unauthorized", ""},
		{"apps of the provisioner", "GET", "/apps", prov, nil, 200, "", DefaultAllowedApp},
		{"apps of the owner", "GET", "/apps", owner, nil, 200, "", DefaultOwnerPersonalApp},
		{"app by name", "GET", "/apps/" + DefaultAllowedApp, prov, nil, 200, "", `"owner":{"email":"raxx@herokumanager.com"`},
		{"app by id", "GET", "/apps/" + uuidFor("app", DefaultAllowedApp), prov, nil, 200, "", `"name":"moosequest-staging"`},
		{"personal app owner", "GET", "/apps/" + DefaultOwnerPersonalApp, owner, nil, 200, "", `"owner":{"email":"alice@raxx.app"`},
		{"app beyond reach", "GET", "/apps/" + DefaultProductionApp, prov, nil, 403, "forbidden", "You do not have access to the app moosequest-production."},
		{"owner's personal app beyond reach", "GET", "/apps/" + DefaultOwnerPersonalApp, prov, nil, 403, "forbidden", ""},
		{"unknown app", "GET", "/apps/no-such-app", prov, nil, 404, "not_found", "Couldn't find that app."},
		{"config vars", "GET", "/apps/" + DefaultAllowedApp + "/config-vars", prov, nil, 200, "", "DATABASE_URL"},
		{"config vars, view only", "GET", "/apps/" + DefaultViewOnlyApp + "/config-vars", prov, nil, 403, "forbidden", "deploy or manage"},
		{"config vars, member view", "GET", "/apps/" + DefaultProductionApp + "/config-vars", member, nil, 403, "forbidden", ""},
		{"config vars, personal collaborator", "GET", "/apps/" + DefaultOwnerPersonalApp + "/config-vars", member, nil, 200, "", "SCRATCH_SECRET"},
		{"config vars, admin", "GET", "/apps/" + DefaultProductionApp + "/config-vars", owner, nil, 200, "", "sk_live_"},
		{"config vars beyond reach", "GET", "/apps/" + DefaultSecondTeamApp + "/config-vars", prov, nil, 403, "forbidden", ""},
		{"set config var", "PATCH", "/apps/" + DefaultAllowedApp + "/config-vars", prov, map[string]any{"NEW_KEY": "v1", "RAILS_ENV": nil}, 200, "", `"NEW_KEY":"v1"`},
		{"set config var, bad name", "PATCH", "/apps/" + DefaultAllowedApp + "/config-vars", prov, map[string]any{"BAD-NAME": "v"}, 422, "invalid_params", ""},
		{"set config var, bad value", "PATCH", "/apps/" + DefaultAllowedApp + "/config-vars", prov, map[string]any{"N": 5}, 422, "invalid_params", ""},
		{"set config var, not an object", "PATCH", "/apps/" + DefaultAllowedApp + "/config-vars", prov, []string{"x"}, 422, "invalid_params", ""},
		{"set config var, bad JSON", "PATCH", "/apps/" + DefaultAllowedApp + "/config-vars", prov, `{"A":`, 400, "bad_request", ""},
		{"set config var, view only", "PATCH", "/apps/" + DefaultViewOnlyApp + "/config-vars", prov, map[string]any{"A": "b"}, 403, "forbidden", ""},
		{"collaborators", "GET", "/apps/" + DefaultAllowedApp + "/collaborators", prov, nil, 200, "", `"role":"collaborator"`},
		{"collaborators of a personal app", "GET", "/apps/" + DefaultOwnerPersonalApp + "/collaborators", owner, nil, 200, "", `"role":"owner"`},
		{"collaborators beyond reach", "GET", "/apps/" + DefaultProductionApp + "/collaborators", prov, nil, 403, "forbidden", ""},
		{"team members for an admin", "GET", "/teams/" + DefaultTeam + "/members", owner, nil, 200, "", DefaultProvisionerEmail},
		{"team members for a member", "GET", "/teams/" + DefaultTeam + "/members", member, nil, 200, "", `"role":"collaborator"`},
		{"team members for a collaborator", "GET", "/teams/" + DefaultTeam + "/members", prov, nil, 403, "forbidden", ""},
		{"team members of another team", "GET", "/teams/" + DefaultSecondTeam + "/members", prov, nil, 404, "not_found", ""},
		{"team members by id", "GET", "/teams/" + uuidFor("team", DefaultSecondTeam) + "/members", outsider, nil, 200, "", DefaultOutsiderEmail},
		{"team permissions", "GET", "/teams/permissions", prov, nil, 200, "", `"name":"deploy"`},
		{"authorization list", "GET", "/oauth/authorizations", prov, nil, 200, "", authID},
		{"authorization info", "GET", "/oauth/authorizations/" + authID, prov, nil, 200, "", `"scope":["read"]`},
		{"authorization of another account", "GET", "/oauth/authorizations/" + authID, owner, nil, 404, "not_found", ""},
		{"authorization, not an id", "GET", "/oauth/authorizations/xyz", prov, nil, 404, "not_found", ""},
		{"authorization update", "PATCH", "/oauth/authorizations/" + authID, prov, map[string]any{"description": "renamed", "client": map[string]any{}}, 200, "", `"description":"renamed"`},
		{"authorization update without client", "PATCH", "/oauth/authorizations/" + authID, prov, map[string]any{"description": "x"}, 422, "invalid_params", ""},
		{"authorization create, scope a string", "POST", "/oauth/authorizations", prov, map[string]any{"scope": "global"}, 422, "invalid_params", "Require array: scope."},
		{"authorization create, unknown scope", "POST", "/oauth/authorizations", prov, map[string]any{"scope": []string{"admin"}}, 422, "invalid_params", "Invalid scope"},
		{"authorization create, no scope", "POST", "/oauth/authorizations", prov, map[string]any{"description": "x"}, 422, "invalid_params", ""},
		{"authorization create, empty scope", "POST", "/oauth/authorizations", prov, map[string]any{"scope": []string{}}, 422, "invalid_params", ""},
		{"authorization create, negative expires_in", "POST", "/oauth/authorizations", prov, map[string]any{"scope": []string{"read"}, "expires_in": -5}, 422, "invalid_params", "expires_in"},
		{"authorization create, fractional expires_in", "POST", "/oauth/authorizations", prov, map[string]any{"scope": []string{"read"}, "expires_in": 1.5}, 422, "invalid_params", ""},
		{"authorization create, string expires_in", "POST", "/oauth/authorizations", prov, map[string]any{"scope": []string{"read"}, "expires_in": "3600"}, 422, "invalid_params", ""},
		{"authorization create, a client", "POST", "/oauth/authorizations", prov, map[string]any{"scope": []string{"read"}, "client": "01234567-89ab-cdef-0123-456789abcdef"}, 422, "invalid_params", ""},
		{"authorization create", "POST", "/oauth/authorizations", prov, map[string]any{"scope": []string{"read-protected", "write-protected"}, "expires_in": 3600}, 201, "", `"expires_in":3600`},
		{"unknown route", "GET", "/addons", prov, nil, 404, "not_found", "The requested API endpoint was not found."},
		{"wrong method", "PUT", "/apps", prov, nil, 404, "not_found", ""},
		{"unclean path", "GET", "/apps/../account", prov, nil, 404, "not_found", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(tc.method, tc.path, tc.auth, tc.body)
			expect(t, r, tc.status, tc.id)
			if tc.contains != "" && !strings.Contains(string(r.body), tc.contains) {
				t.Errorf("body lacks %q: %s", tc.contains, r.body)
			}
			if r.header.Get("Request-Id") == "" || r.header.Get("RateLimit-Remaining") == "" {
				t.Errorf("missing Request-Id or RateLimit-Remaining: %v", r.header)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
	if got, _ := e.srv.ConfigVars(DefaultAllowedApp); got["NEW_KEY"] != "v1" || got["RAILS_ENV"] != "" {
		t.Errorf("PATCH did not set NEW_KEY and remove RAILS_ENV: %v", len(got))
	}
	if n := e.srv.RequestCount("GET /account"); n < 6 {
		t.Errorf("GET /account counted %d times", n)
	}
}

// TestAPIVersion checks Heroku's Accept handling.
func TestAPIVersion(t *testing.T) {
	e := defaultEnv(t)
	key := bearer(DefaultOwnerAPIKey)
	cases := []struct {
		accept string
		status int
		id     string
	}{
		{"application/vnd.heroku+json; version=3", 200, ""},
		{"application/vnd.heroku+json; version=3.sdk", 200, ""},
		{"application/json, application/vnd.heroku+json; version=3", 200, ""},
		{"", 400, "missing_version"},
		{"application/json", 400, "missing_version"},
		{"application/vnd.heroku+json", 400, "missing_version"},
		{"application/vnd.heroku+json; version=2", 406, "not_acceptable"},
	}
	for _, tc := range cases {
		t.Run(tc.accept, func(t *testing.T) {
			r := e.do("GET", "/account", key, nil, "Accept", tc.accept)
			expect(t, r, tc.status, tc.id)
			if tc.id == "missing_version" && !strings.Contains(string(r.body), `"error":"Please specify a version`) {
				t.Errorf("missing_version body %s, want Heroku's {id, error}", r.body)
			}
		})
	}
}

// TestETag checks conditional GETs.
func TestETag(t *testing.T) {
	e := defaultEnv(t)
	key := bearer(DefaultProvisionerAPIKey)
	first := e.do("GET", "/apps/"+DefaultAllowedApp, key, nil)
	expect(t, first, 200, "")
	etag := first.header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	again := e.do("GET", "/apps/"+DefaultAllowedApp, key, nil, "If-None-Match", etag)
	if again.status != http.StatusNotModified || len(again.body) != 0 {
		t.Fatalf("If-None-Match: %d %q", again.status, again.body)
	}
	e.do("PATCH", "/apps/"+DefaultAllowedApp+"/config-vars", key, map[string]any{"X": "y"})
	expect(t, e.do("GET", "/apps/"+DefaultAllowedApp, key, nil, "If-None-Match", etag), 200, "")
}
