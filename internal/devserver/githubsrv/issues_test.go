package githubsrv

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

type issueOut struct {
	Number      int     `json:"number"`
	State       string  `json:"state"`
	StateReason *string `json:"state_reason"`
	Title       string  `json:"title"`
	Body        *string `json:"body"`
	User        struct {
		Login string `json:"login"`
	} `json:"user"`
	Labels []struct {
		Name  string `json:"name"`
		Color string `json:"color"`
	} `json:"labels"`
	ClosedAt *string `json:"closed_at"`
	ClosedBy *struct {
		Login string `json:"login"`
	} `json:"closed_by"`
	PullRequest *struct {
		URL string `json:"url"`
	} `json:"pull_request"`
	PerformedViaGithubApp *struct {
		Slug string `json:"slug"`
	} `json:"performed_via_github_app"`
}

func actionsAuth(t *testing.T, e *env) string {
	t.Helper()
	tok, ok := e.srv.ActionsToken(DefaultActionsTokenRepository)
	if !ok {
		t.Fatal("no actions token")
	}
	return "Bearer " + tok
}

// TestIssueLifecycle opens, lists, edits, closes and reopens an issue with a
// workflow's GITHUB_TOKEN, as an alerting step does.
func TestIssueLifecycle(t *testing.T) {
	e := newEnv(t, nil)
	auth := actionsAuth(t, e)
	const base = "/repos/raxx-app/TradeMasterAPI/issues"

	r := e.do("POST", base, auth, map[string]any{"title": "handoff: scope violation", "body": "<!-- marker -->", "labels": []string{"handoff-alert"}})
	expect(t, r, http.StatusCreated, "")
	var is issueOut
	r.json(t, &is)
	// 41 and 42 exist (an issue and a pull request share the numbers).
	if is.Number != 43 || is.State != "open" || is.User.Login != actionsBotLogin || len(is.Labels) != 1 ||
		is.Labels[0].Name != "handoff-alert" || is.Labels[0].Color != "ededed" || is.PerformedViaGithubApp == nil ||
		is.PerformedViaGithubApp.Slug != actionsAppSlug || is.StateReason != nil {
		t.Fatalf("created %+v", is)
	}
	if loc := r.header.Get("Location"); !strings.HasSuffix(loc, base+"/43") {
		t.Errorf("Location %q", loc)
	}

	// Label filter, case-insensitive; the pull request and #41 are left out.
	r = e.do("GET", base+"?labels=HANDOFF-ALERT&state=open&creator="+actionsBotLogin, auth, nil)
	expect(t, r, http.StatusOK, "")
	var list []issueOut
	r.json(t, &list)
	if len(list) != 1 || list[0].Number != 43 {
		t.Fatalf("filtered list %+v", list)
	}
	r = e.do("GET", base, auth, nil)
	r.json(t, &list)
	if len(list) != 3 || list[0].Number != 43 || list[1].PullRequest == nil {
		t.Fatalf("default list (open, newest first, pull requests included): %+v", list)
	}

	e.kit.Clock.Advance(time.Minute)
	r = e.do("PATCH", base+"/43", auth, map[string]any{"body": "updated"})
	expect(t, r, http.StatusOK, "")
	r.json(t, &is)
	if is.Body == nil || *is.Body != "updated" || is.Title != "handoff: scope violation" {
		t.Fatalf("edited %+v", is)
	}

	r = e.do("PATCH", base+"/43", auth, map[string]any{"state": "closed", "state_reason": "completed"})
	expect(t, r, http.StatusOK, "")
	r.json(t, &is)
	if is.State != "closed" || is.StateReason == nil || *is.StateReason != "completed" || is.ClosedAt == nil ||
		is.ClosedBy == nil || is.ClosedBy.Login != actionsBotLogin {
		t.Fatalf("closed %+v", is)
	}
	r = e.do("GET", base+"?labels=handoff-alert", auth, nil)
	r.json(t, &list)
	if len(list) != 0 {
		t.Fatalf("a closed issue is not open: %+v", list)
	}
	r = e.do("GET", base+"?labels=handoff-alert&state=closed", auth, nil)
	r.json(t, &list)
	if len(list) != 1 {
		t.Fatalf("state=closed: %+v", list)
	}

	r = e.do("PATCH", base+"/43", auth, map[string]any{"state": "open"})
	r.json(t, &is)
	if is.State != "open" || is.StateReason == nil || *is.StateReason != "reopened" || is.ClosedAt != nil {
		t.Fatalf("reopened %+v", is)
	}
	r = e.do("GET", base+"/43", auth, nil)
	expect(t, r, http.StatusOK, "")

	got := e.srv.Issues("raxx-app", "TradeMasterAPI")
	if len(got) != 2 || got[1].Number != 43 || got[1].ViaApp != actionsAppSlug || got[1].StateReason != "reopened" {
		t.Fatalf("Issues() = %+v", got)
	}
}

// TestIssueRefusals: the status codes and messages GitHub documents.
func TestIssueRefusals(t *testing.T) {
	e := newEnv(t, func(fx *Fixture) {
		fx.ActionsTokens = append(fx.ActionsTokens, ActionsToken{Repository: "raxx-app/MooseQuest",
			Permissions: map[string]string{"contents": "read", "metadata": "read"}})
	})
	auth := actionsAuth(t, e)
	readOnly, _ := e.srv.ActionsToken("raxx-app/MooseQuest")
	inst := "token " + e.mint(DefaultSecondInstallationID, nil)
	tests := []struct {
		name, method, path, auth string
		body                     any
		status                   int
		msg                      string
	}{
		{"no issues permission, create", "POST", "/repos/raxx-app/MooseQuest/issues", "Bearer " + readOnly, map[string]any{"title": "x"}, 403, msgNotAccessible},
		{"no issues permission, list", "GET", "/repos/raxx-app/MooseQuest/issues", "Bearer " + readOnly, nil, 403, msgNotAccessible},
		{"unknown repository", "POST", "/repos/raxx-app/Nope/issues", auth, map[string]any{"title": "x"}, 404, msgNotFound},
		{"repository the token does not reach", "POST", "/repos/raxx-app/PrivateVault/issues", auth, map[string]any{"title": "x"}, 404, msgNotFound},
		{"issues disabled, create", "POST", "/repos/moose-labs/sandbox/issues", inst, map[string]any{"title": "x"}, 410, msgIssuesDisabled},
		{"issues disabled, list", "GET", "/repos/moose-labs/sandbox/issues", inst, nil, 410, msgIssuesDisabled},
		{"issues disabled, close", "PATCH", "/repos/moose-labs/sandbox/issues/2", inst, map[string]any{"state": "closed"}, 410, msgIssuesDisabled},
		{"no title", "POST", "/repos/raxx-app/TradeMasterAPI/issues", auth, map[string]any{"body": "x"}, 422, "Invalid request.\n\n\"title\" wasn't supplied."},
		{"title too long", "POST", "/repos/raxx-app/TradeMasterAPI/issues", auth, map[string]any{"title": strings.Repeat("t", MaxIssueTitleLength+1)}, 422, msgValidationFailed},
		{"bad state", "PATCH", "/repos/raxx-app/TradeMasterAPI/issues/41", auth, map[string]any{"state": "done"}, 422, ""},
		{"bad state_reason", "PATCH", "/repos/raxx-app/TradeMasterAPI/issues/41", auth, map[string]any{"state": "closed", "state_reason": "fixed"}, 422, ""},
		{"no such issue", "PATCH", "/repos/raxx-app/TradeMasterAPI/issues/999", auth, map[string]any{"state": "closed"}, 404, msgNotFound},
		{"not JSON", "POST", "/repos/raxx-app/TradeMasterAPI/issues", auth, "{", 400, msgParseJSON},
		{"the App's JWT", "POST", "/repos/raxx-app/TradeMasterAPI/issues", "Bearer " + e.jwt(), map[string]any{"title": "x"}, 403, msgNotAccessible},
		{"anonymous write", "POST", "/repos/moose-labs/website/issues", "", map[string]any{"title": "x"}, 401, msgRequiresAuth},
		{"bad list filter", "GET", "/repos/raxx-app/TradeMasterAPI/issues?state=any", auth, nil, 422, msgValidationFailed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(tc.method, tc.path, tc.auth, tc.body)
			expect(t, r, tc.status, tc.msg)
			if tc.status == 403 && tc.msg == msgNotAccessible && tc.auth != "Bearer "+e.jwt() &&
				!strings.Contains(r.header.Get("X-Accepted-Github-Permissions"), "issues=") {
				t.Errorf("403 without X-Accepted-GitHub-Permissions naming issues: %v", r.header)
			}
		})
	}
	if n := len(e.srv.Issues("raxx-app", "TradeMasterAPI")); n != 1 {
		t.Fatalf("a refused write created an issue: %d issues", n)
	}
}

// TestIssueListPagination: per_page is capped at 100, the Link header names
// next and last.
func TestIssueListPagination(t *testing.T) {
	e := newEnv(t, func(fx *Fixture) {
		for i := range 105 {
			fx.Issues = append(fx.Issues, Issue{Repository: "raxx-app/MooseQuest", Number: 100 + i, Title: "i" + strconv.Itoa(i),
				User: "bob-raxx", State: "open", Labels: []string{"bulk"},
				CreatedAt: testNow.Add(time.Duration(i) * time.Minute), UpdatedAt: testNow})
		}
	})
	tok := "token " + e.mint(DefaultInstallationID, nil)
	r := e.do("GET", "/repos/raxx-app/MooseQuest/issues?labels=bulk&per_page=500", tok, nil)
	expect(t, r, http.StatusOK, "")
	var list []issueOut
	r.json(t, &list)
	if len(list) != MaxPerPage || list[0].Number != 204 {
		t.Fatalf("page 1: %d issues, first #%d", len(list), list[0].Number)
	}
	link := r.header.Get("Link")
	if !strings.Contains(link, `page=2&per_page=500>; rel="next"`) || !strings.Contains(link, `rel="last"`) {
		t.Fatalf("Link %q", link)
	}
	r = e.do("GET", "/repos/raxx-app/MooseQuest/issues?labels=bulk&per_page=100&page=2&direction=asc", tok, nil)
	r.json(t, &list)
	if len(list) != 5 || list[0].Number != 200 {
		t.Fatalf("page 2 ascending: %+v", list)
	}
}

// TestIssueWritesCountAsWrites: an issue write costs 5 points of the
// per-endpoint secondary limit and one unit of content creation, as the
// comment routes do.
func TestIssueWritesCountAsWrites(t *testing.T) {
	e := newEnv(t, func(fx *Fixture) { fx.RateLimits.SecondaryLimitPerMinute = 2 })
	auth := actionsAuth(t, e)
	for i := range 2 {
		r := e.do("POST", "/repos/raxx-app/TradeMasterAPI/issues", auth, map[string]any{"title": "n" + strconv.Itoa(i)})
		expect(t, r, http.StatusCreated, "")
	}
	r := e.do("POST", "/repos/raxx-app/TradeMasterAPI/issues", auth, map[string]any{"title": "third"})
	if r.status != http.StatusTooManyRequests && r.status != http.StatusForbidden {
		t.Fatalf("third write in a minute: %d %s", r.status, r.body)
	}
	if got := pointCost("PATCH"); got != 5 {
		t.Fatalf("PATCH costs %d points", got)
	}
}

// TestIssuesSurviveRestart: an opened and closed issue, its labels and its
// state_reason are in MarshalState and back after RestoreState.
func TestIssuesSurviveRestart(t *testing.T) {
	e := newEnv(t, nil)
	auth := actionsAuth(t, e)
	expect(t, e.do("POST", "/repos/raxx-app/TradeMasterAPI/issues", auth, map[string]any{"title": "alert", "labels": []string{"Handoff-Alert"}}), 201, "")
	expect(t, e.do("PATCH", "/repos/raxx-app/TradeMasterAPI/issues/43", auth, map[string]any{"state": "closed", "state_reason": "not_planned"}), 200, "")
	state, err := e.srv.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	fx := DefaultFixture()
	fx.App.PrivateKeyPEM = testKeyPEM(t)
	srv, err := New(nil, fx)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.RestoreState(state); err != nil {
		t.Fatal(err)
	}
	got := srv.Issues("raxx-app", "TradeMasterAPI")
	if len(got) != 2 {
		t.Fatalf("issues after restore: %+v", got)
	}
	is := got[1]
	if is.Number != 43 || is.State != "closed" || is.StateReason != "not_planned" || is.ClosedBy != actionsBotLogin ||
		is.ViaApp != actionsAppSlug || len(is.Labels) != 1 || is.Labels[0] != "Handoff-Alert" {
		t.Errorf("restored %+v", is)
	}
}

// TestStateReasonNeedsAStateChange: GitHub ignores a state_reason sent
// without a change of state.
func TestStateReasonNeedsAStateChange(t *testing.T) {
	e := newEnv(t, nil)
	auth := actionsAuth(t, e)
	const path = "/repos/raxx-app/TradeMasterAPI/issues/41"
	var is issueOut
	e.do("PATCH", path, auth, map[string]any{"state": "closed", "state_reason": "not_planned"}).json(t, &is)
	if is.StateReason == nil || *is.StateReason != "not_planned" {
		t.Fatalf("closed as not planned: %+v", is)
	}
	e.do("PATCH", path, auth, map[string]any{"state_reason": "completed"}).json(t, &is)
	if *is.StateReason != "not_planned" {
		t.Errorf("state_reason alone changed it to %q", *is.StateReason)
	}
	e.do("PATCH", path, auth, map[string]any{"state": "closed", "state_reason": "duplicate"}).json(t, &is)
	if *is.StateReason != "not_planned" {
		t.Errorf("closing a closed issue changed its reason to %q", *is.StateReason)
	}
}
