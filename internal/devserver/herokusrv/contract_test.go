package herokusrv

import (
	"net/http"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/devserver/devkit"
	"github.com/raxx-app/handoff/internal/devserver/herokucontract"
)

// TestEveryRouteIsALink: the server serves the contract's links and
// nothing else.
func TestEveryRouteIsALink(t *testing.T) {
	v := herokucontract.MustNew(t)
	e := defaultEnv(t)
	served := map[string]bool{}
	for _, p := range e.srv.Routes() {
		l, ok := v.MatchPattern(p)
		if !ok {
			t.Errorf("route %s matches no link of the contract", p)
			continue
		}
		served[l.Name()] = true
	}
	for _, l := range v.Links() {
		if !served[l] {
			t.Errorf("link %s is not served", l)
		}
	}
}

// TestContractTour walks every link of Heroku's contract, its successes and
// the errors Heroku gives, through a client that validates each request
// against the link's schema and each answer against its targetSchema (and
// Heroku's strictProperties and error shape). A link left unvisited fails
// the test.
func TestContractTour(t *testing.T) {
	e := newEnv(t, manyApps(3))
	v := herokucontract.MustNew(t)
	e.client = &http.Client{Transport: v.Transport(t, nil, "/_dev/")}
	key := bearer(DefaultProvisionerAPIKey)
	owner := bearer(DefaultOwnerAPIKey)
	staging := "/apps/" + DefaultAllowedApp

	// Account and apps.
	expect(t, e.do("GET", "/account", key, nil), 200, "")
	expect(t, e.do("GET", "/account", owner, nil), 200, "")
	expect(t, e.do("GET", "/account", "", nil), 401, "unauthorized")
	expect(t, e.do("GET", "/account", key, nil, "Accept", ""), 400, "missing_version")
	expect(t, e.do("GET", "/account", key, nil, "Accept", "application/vnd.heroku+json; version=2"), 406, "not_acceptable")
	expect(t, e.do("GET", "/apps", key, nil), 200, "")
	expect(t, e.do("GET", "/apps", owner, nil, "Range", "name ..; max=2"), 206, "")
	expect(t, e.do("GET", "/apps", owner, nil, "Range", "id ..; max=2, order=desc"), 206, "")
	expect(t, e.do("GET", "/apps", owner, nil, "Range", "nope .."), 416, "requested_range_not_satisfiable")
	expect(t, e.do("GET", staging, key, nil), 200, "")
	expect(t, e.do("GET", "/apps/"+DefaultOwnerPersonalApp, owner, nil), 200, "")
	expect(t, e.do("GET", "/apps/"+DefaultProductionApp, key, nil), 403, "forbidden")
	expect(t, e.do("GET", "/apps/nope-nope", key, nil), 404, "not_found")

	// Config vars.
	expect(t, e.do("GET", staging+"/config-vars", key, nil), 200, "")
	expect(t, e.do("PATCH", staging+"/config-vars", key, map[string]any{"HANDOFF_TOKEN": "v1", "RAILS_ENV": nil}), 200, "")
	expect(t, e.do("PATCH", staging+"/config-vars", key, map[string]any{}), 200, "")
	expect(t, e.do("GET", "/apps/"+DefaultViewOnlyApp+"/config-vars", key, nil), 403, "forbidden")
	expect(t, e.do("PATCH", staging+"/config-vars", key, map[string]any{"BAD-NAME": "x"}), 422, "invalid_params")
	expect(t, e.do("PATCH", staging+"/config-vars", key, `{"x":`), 400, "bad_request")

	// Collaborators, team members, permissions.
	expect(t, e.do("GET", staging+"/collaborators", key, nil), 200, "")
	expect(t, e.do("GET", staging+"/collaborators", owner, nil, "Range", "id ..; max=1"), 206, "")
	expect(t, e.do("GET", "/apps/"+DefaultOwnerPersonalApp+"/collaborators", owner, nil), 200, "")
	expect(t, e.do("GET", "/teams/"+DefaultTeam+"/members", owner, nil), 200, "")
	expect(t, e.do("GET", "/teams/"+DefaultTeam+"/members", owner, nil, "Range", "email ..; max=2"), 206, "")
	expect(t, e.do("GET", "/teams/"+DefaultTeam+"/members", key, nil), 403, "forbidden")
	expect(t, e.do("GET", "/teams/"+DefaultSecondTeam+"/members", key, nil), 404, "not_found")
	expect(t, e.do("GET", "/teams/permissions", key, nil), 200, "")

	// OAuth authorizations.
	id, tok := e.authorize(DefaultProvisionerAPIKey, map[string]any{"scope": []string{"read-protected", "write-protected"},
		"description": "handoff iap-notif-handler-20260621", "expires_in": 3600})
	_, forever := e.authorize(DefaultProvisionerAPIKey, map[string]any{"scope": []string{"read"}})
	expect(t, e.do("POST", "/oauth/authorizations", key, map[string]any{"scope": []string{"root"}}), 422, "invalid_params")
	expect(t, e.do("POST", "/oauth/authorizations", bearer(tok), map[string]any{"scope": []string{"global"}}), 403, "forbidden")
	expect(t, e.do("GET", "/oauth/authorizations", key, nil), 200, "")
	expect(t, e.do("GET", "/oauth/authorizations", key, nil, "Range", "id ..; max=1"), 206, "")
	expect(t, e.do("GET", "/oauth/authorizations/"+id, key, nil), 200, "")
	expect(t, e.do("GET", "/oauth/authorizations/"+id, owner, nil), 404, "not_found")
	expect(t, e.do("PATCH", "/oauth/authorizations/"+id, key, map[string]any{"description": "renamed", "client": map[string]any{}}), 200, "")
	expect(t, e.do("PATCH", "/oauth/authorizations/"+id, key, map[string]any{"description": "x"}), 422, "invalid_params")
	expect(t, e.do("GET", staging+"/config-vars", bearer(tok), nil), 200, "")
	expect(t, e.do("GET", staging+"/config-vars", bearer(forever), nil), 403, "forbidden")
	r := e.do("POST", "/oauth/authorizations/"+id+"/actions/regenerate-tokens", key, nil)
	expect(t, r, 200, "")
	var regen struct {
		AccessToken struct {
			Token string `json:"token"`
		} `json:"access_token"`
	}
	r.json(t, &regen)
	expect(t, e.do("POST", "/oauth/authorizations/"+id+"/actions/regenerate-tokens", owner, nil), 404, "not_found")
	expect(t, e.do("GET", "/apps", bearer(tok), nil), 401, "unauthorized")
	expect(t, e.do("DELETE", "/oauth/authorizations/"+id, key, nil), 200, "")
	expect(t, e.do("DELETE", "/oauth/authorizations/"+id, key, nil), 404, "not_found")
	expect(t, e.do("GET", "/apps", bearer(regen.AccessToken.Token), nil), 401, "unauthorized")
	e.kit.Clock.Advance(24 * time.Hour)
	expect(t, e.do("GET", "/apps", bearer(forever), nil), 200, "")

	// Statuses only a degraded Heroku gives, through fault injection.
	for _, f := range []struct {
		method, path string
		status       int
	}{{"GET", staging, 503}, {"PATCH", staging + "/config-vars", 500}, {"POST", "/oauth/authorizations", 429}, {"DELETE", "/oauth/authorizations/" + id, 502}} {
		fid := e.kit.Faults.Add(devkit.Fault{Route: f.method + " " + f.path, Status: f.status})
		expect(t, e.do(f.method, f.path, key, map[string]any{"scope": []string{"read"}}), f.status, "")
		e.kit.Faults.Remove(fid)
	}

	if u := v.Uncovered(); len(u) > 0 {
		t.Errorf("links no exchange covered: %v", u)
	}
	for _, l := range v.Links() {
		t.Logf("%-85s %v", l, v.Statuses(l))
	}
}
