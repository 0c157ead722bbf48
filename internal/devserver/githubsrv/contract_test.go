package githubsrv

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/devserver/devkit"
)

// TestContractTour walks every operation of GitHub's contract, its successes
// and the errors the document lists that a GitHub server can produce, through
// a client that validates each request and answer against the OpenAPI
// document. An answer GitHub's schema rejects fails the test, and so does an
// operation left unvisited.
func TestContractTour(t *testing.T) {
	suspended := testNow.Add(-24 * time.Hour)
	e := newEnv(t, func(fx *Fixture) {
		fx.Accounts = append(fx.Accounts, Account{Login: "frozen-org", ID: 143256791, Type: "Organization"})
		fx.Installations = append(fx.Installations, Installation{ID: 1003, Account: "frozen-org", RepositorySelection: "all",
			Permissions: map[string]string{"metadata": "read"}, CreatedAt: testNow.Add(-48 * time.Hour), UpdatedAt: suspended, SuspendedAt: &suspended})
	})
	v := e.contract()
	jwtAuth := "Bearer " + e.jwt()
	const (
		tm   = "/repos/raxx-app/TradeMasterAPI"
		pats = "/orgs/raxx-app/personal-access-tokens"
		reqs = "/orgs/raxx-app/personal-access-token-requests"
	)

	// GET /meta and GET /rate_limit, with their 304s.
	meta := e.do("GET", "/meta", "", nil)
	expect(t, meta, 200, "")
	expect(t, e.do("GET", "/meta", "", nil, "If-None-Match", meta.header.Get("Etag")), 304, "")
	rl := e.do("GET", "/rate_limit", jwtAuth, nil)
	expect(t, rl, 200, "")
	expect(t, e.do("GET", "/rate_limit", jwtAuth, nil, "If-None-Match", rl.header.Get("Etag")), 304, "")

	// The App.
	expect(t, e.do("GET", "/app", jwtAuth, nil), 200, "")
	expect(t, e.do("GET", GHESPrefix+"/app", jwtAuth, nil), 200, "")
	list := e.do("GET", "/app/installations?per_page=1", jwtAuth, nil)
	expect(t, list, 200, "")
	if !strings.Contains(list.header.Get("Link"), `rel="next"`) {
		t.Errorf("installations page 1: Link %q lacks next", list.header.Get("Link"))
	}
	expect(t, e.do("GET", "/app/installations?per_page=2&page=2", jwtAuth, nil), 200, "")
	expect(t, e.do("GET", "/app/installations/1001", jwtAuth, nil), 200, "")
	expect(t, e.do("GET", "/app/installations/1003", jwtAuth, nil), 200, "")
	expect(t, e.do("GET", "/app/installations/999", jwtAuth, nil), 404, "Not Found")
	expect(t, e.do("GET", tm+"/installation", jwtAuth, nil), 200, "")
	expect(t, e.do("GET", "/repos/raxx-app/PrivateVault/installation", jwtAuth, nil), 404, "Not Found")
	expect(t, e.do("GET", "/orgs/raxx-app/installation", jwtAuth, nil), 200, "")

	// Installation tokens.
	full := e.mint(1001, nil)
	narrowBody := map[string]any{"repository_ids": []int64{DefaultTradeMasterRepoID},
		"permissions": map[string]string{"contents": "read", "issues": "write", "pull_requests": "write"}}
	narrow := e.mint(1001, narrowBody)
	expect(t, e.do("POST", "/app/installations/1001/access_tokens", jwtAuth, map[string]any{"repositories": []string{"TradeMasterAPI", "MooseQuest"}}), 201, "")
	expect(t, e.do("POST", "/app/installations/1001/access_tokens", jwtAuth, map[string]any{"repositories": []string{"PrivateVault"}}), 422, msgReposNotInInstall)
	expect(t, e.do("POST", "/app/installations/1001/access_tokens", jwtAuth, map[string]any{"permissions": map[string]string{"metadata": "write"}}), 422, msgPermsNotGranted)
	expect(t, e.do("POST", "/app/installations/1001/access_tokens", jwtAuth, map[string]any{"permissions": map[string]string{"administration": "read"}}), 422, msgPermsNotGranted)
	expect(t, e.do("POST", "/app/installations/999/access_tokens", jwtAuth, nil), 404, "Not Found")
	expect(t, e.do("POST", "/app/installations/1003/access_tokens", jwtAuth, nil), 403, msgSuspended)
	expect(t, e.do("POST", "/app/installations/1001/access_tokens", "Bearer "+full, nil), 401, msgJWTUndecodable)
	noWrite := e.mint(1001, map[string]any{"permissions": map[string]string{"contents": "read"}})
	other := e.mint(DefaultSecondInstallationID, nil)

	// The installation's repositories.
	repos := e.do("GET", "/installation/repositories?per_page=1", "token "+full, nil)
	expect(t, repos, 200, "")
	if !strings.Contains(repos.header.Get("Link"), `rel="last"`) {
		t.Errorf("installation repositories: Link %q lacks last", repos.header.Get("Link"))
	}
	expect(t, e.do("GET", "/installation/repositories", "token "+full, nil, "If-None-Match", e.do("GET", "/installation/repositories", "token "+full, nil).header.Get("Etag")), 304, "")
	expect(t, e.do("GET", GHESPrefix+"/installation/repositories", "Bearer "+narrow, nil), 200, "")
	expect(t, e.do("GET", "/installation/repositories", "token ghs_000000000000000000000000000000000000", nil), 401, msgBadCredentials)
	expect(t, e.do("GET", "/installation/repositories", jwtAuth, nil), 403, msgListReposNeedsToken)

	// Repositories and pull requests.
	expect(t, e.do("GET", tm, "token "+full, nil), 200, "")
	expect(t, e.do("GET", "/repos/moose-labs/sandbox", "", nil), 200, "")
	expect(t, e.do("GET", "/repos/raxx-app/PrivateVault", "token "+full, nil), 404, "Not Found")
	expect(t, e.do("GET", "/repos/raxx-app/MooseQuest", "token "+narrow, nil), 404, "Not Found")
	expect(t, e.do("GET", tm, jwtAuth, nil), 403, msgNotAccessible)
	pr := e.do("GET", tm+"/pulls/42", "token "+full, nil)
	expect(t, pr, 200, "")
	expect(t, e.do("GET", tm+"/pulls/42", "token "+full, nil, "If-None-Match", pr.header.Get("Etag")), 304, "")
	expect(t, e.do("GET", "/repos/raxx-app/MooseQuest/pulls/7", "token "+full, nil), 200, "")
	expect(t, e.do("GET", tm+"/pulls/41", "token "+full, nil), 404, "Not Found")

	// Comments.
	expect(t, e.do("GET", tm+"/issues/42/comments", "token "+narrow, nil), 200, "")
	expect(t, e.do("GET", tm+"/issues/999/comments", "token "+narrow, nil), 404, "Not Found")
	expect(t, e.do("GET", "/repos/moose-labs/sandbox/issues/2/comments", "token "+other, nil), 410, msgIssuesDisabled)
	created := e.do("POST", tm+"/issues/42/comments", "token "+narrow, map[string]string{"body": "## handoff plan\n\n+ create `iap-notif-handler-20260621`"})
	expect(t, created, 201, "")
	var cm struct {
		ID  int64  `json:"id"`
		URL string `json:"url"`
	}
	created.json(t, &cm)
	if created.header.Get("Location") != cm.URL {
		t.Errorf("Location %q, want the comment's url %q", created.header.Get("Location"), cm.URL)
	}
	expect(t, e.do("POST", tm+"/issues/41/comments", "token "+noWrite, map[string]string{"body": "x"}), 403, msgNotAccessible)
	expect(t, e.do("POST", tm+"/issues/999/comments", "token "+narrow, map[string]string{"body": "x"}), 404, "Not Found")
	expect(t, e.do("POST", "/repos/moose-labs/sandbox/issues/2/comments", "token "+other, map[string]string{"body": "x"}), 410, msgIssuesDisabled)
	expect(t, e.do("POST", tm+"/issues/42/comments", "token "+narrow, map[string]string{"body": strings.Repeat("a", MaxCommentLength+1)}), 422, msgValidationFailed)
	expect(t, e.do("POST", "/repos/moose-labs/sandbox/issues/3/comments", "token "+other, map[string]string{"body": "PR comments still work"}), 201, "")
	commentPath := tm + "/issues/comments/" + strconv.FormatInt(cm.ID, 10)
	expect(t, e.do("PATCH", commentPath, "token "+narrow, map[string]string{"body": "## handoff plan (updated)"}), 200, "")
	expect(t, e.do("PATCH", commentPath, "token "+narrow, map[string]string{"body": ""}), 422, msgValidationFailed)
	expect(t, e.do("GET", tm+"/issues/42/comments", "token "+full, nil, "Accept", "application/vnd.github.full+json"), 200, "")

	// Fine-grained PATs of the organization.
	all := e.do("GET", pats+"?per_page=2", "token "+full, nil)
	expect(t, all, 200, "")
	if !strings.Contains(all.header.Get("Link"), `rel="next"`) {
		t.Errorf("PAT list: Link %q lacks next", all.header.Get("Link"))
	}
	expect(t, e.do("GET", pats+"?owner=alice-raxx&owner=bob-raxx&repository=TradeMasterAPI&permission=contents_read&sort=created_at&direction=asc&last_used_after=2026-01-01T00:00:00Z&last_used_before=2026-12-01T00:00:00Z&token_id=98716", "token "+full, nil), 200, "")
	expect(t, e.do("GET", pats, "token "+narrow, nil), 403, msgNotAccessible)
	expect(t, e.do("GET", "/orgs/no-such-org/personal-access-tokens", "token "+full, nil), 404, "Not Found")
	expect(t, e.do("GET", pats+"?direction=sideways", "token "+full, nil), 422, msgValidationFailed)

	expect(t, e.do("GET", pats+"/25381/repositories", "token "+full, nil), 200, "")
	expect(t, e.do("GET", pats+"/25383/repositories?per_page=1&page=2", "token "+full, nil), 200, "")
	expect(t, e.do("GET", pats+"/25381/repositories", "token "+narrow, nil), 403, msgNotAccessible)
	expect(t, e.do("GET", pats+"/1/repositories", "token "+full, nil), 404, "Not Found")

	expect(t, e.do("POST", pats+"/25384", "token "+full, map[string]string{"action": "revoke"}), 204, "")
	expect(t, e.do("POST", pats+"/25384", "token "+full, map[string]string{"action": "revoke"}), 404, "Not Found")
	expect(t, e.do("POST", pats+"/25383", "token "+full, map[string]string{"action": "approve"}), 422, "")
	expect(t, e.do("POST", pats+"/25383", "token "+narrow, map[string]string{"action": "revoke"}), 403, msgNotAccessible)

	expect(t, e.do("POST", pats, "token "+full, map[string]any{"action": "revoke", "pat_ids": []int64{25382}}), 202, "")
	expect(t, e.do("POST", pats, "token "+full, map[string]any{"action": "revoke", "pat_ids": []int64{25382}}), 404, "Not Found")
	expect(t, e.do("POST", pats, "token "+full, map[string]any{"action": "revoke", "pat_ids": []int64{}}), 422, "")
	expect(t, e.do("POST", pats, "token "+narrow, map[string]any{"action": "revoke", "pat_ids": []int64{25381}}), 403, msgNotAccessible)

	expect(t, e.do("GET", reqs, "token "+full, nil), 200, "")
	expect(t, e.do("GET", reqs+"?owner[]=carol-raxx&permission=contents_write", "token "+full, nil), 200, "")
	expect(t, e.do("GET", reqs, "token "+narrow, nil), 403, msgNotAccessible)
	expect(t, e.do("GET", "/orgs/no-such-org/personal-access-token-requests", "token "+full, nil), 404, "Not Found")
	expect(t, e.do("GET", reqs+"?last_used_before=yesterday", "token "+full, nil), 422, msgValidationFailed)

	expect(t, e.do("POST", reqs+"/7301", "token "+full, map[string]string{"action": "approve", "reason": "Freeze exception approved by ops"}), 204, "")
	expect(t, e.do("POST", reqs+"/7302", "token "+full, map[string]any{"action": "deny", "reason": nil}), 204, "")
	expect(t, e.do("POST", reqs+"/7302", "token "+full, map[string]string{"action": "approve"}), 404, "Not Found")
	expect(t, e.do("POST", reqs+"/7301", "token "+narrow, map[string]string{"action": "approve"}), 403, msgNotAccessible)
	e.srv.mu.Lock()
	e.srv.w.patReqByID[7302].Status = "pending" // reopen, to reach the body check
	e.srv.mu.Unlock()
	expect(t, e.do("POST", reqs+"/7302", "token "+full, map[string]string{"action": "maybe"}), 422, "")

	// DELETE /installation/token, then the token is dead.
	expect(t, e.do("DELETE", "/installation/token", "token "+noWrite, nil), 204, "")
	expect(t, e.do("GET", "/installation/repositories", "token "+noWrite, nil), 401, msgBadCredentials)

	// Statuses only a degraded GitHub gives, through fault injection: the
	// injected answers must still satisfy the contract.
	for _, f := range []struct {
		path   string
		status int
	}{
		{tm + "/pulls/42", 500}, {tm + "/pulls/42", 503}, {tm + "/pulls/42", 406},
		{"/rate_limit", 404}, {pats, 500}, {pats + "/25381/repositories", 500}, {reqs, 500},
		{pats + "/25381", 500}, {pats, 500}, {reqs + "/7302", 500},
	} {
		method := "GET"
		if strings.HasSuffix(f.path, "/25381") || strings.HasSuffix(f.path, "/7302") {
			method = "POST"
		}
		id := e.kit.Faults.Add(devkit.Fault{Route: method + " " + f.path, Status: f.status})
		expect(t, e.do(method, f.path, "token "+full, map[string]string{"action": "revoke"}), f.status, "")
		e.kit.Faults.Remove(id)
	}
	id := e.kit.Faults.Add(devkit.Fault{Route: "POST " + pats, Status: 500})
	expect(t, e.do("POST", pats, "token "+full, map[string]any{"action": "revoke", "pat_ids": []int64{25381}}), 500, "")
	e.kit.Faults.Remove(id)

	if u := v.Uncovered(); len(u) > 0 {
		t.Errorf("operations no exchange covered: %v", u)
	}
	for _, op := range v.Operations() {
		t.Logf("%-70s %v", op, v.Statuses(op))
	}
}
