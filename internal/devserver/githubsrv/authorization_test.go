package githubsrv

import (
	"encoding/json"
	"net/http"
	"reflect"
	"sort"
	"testing"
)

// TestNarrowedToken is the negative prober: a token narrowed to one
// repository and three permissions is refused everything else.
func TestNarrowedToken(t *testing.T) {
	e := newEnv(t, nil)
	r := e.do("POST", "/app/installations/1001/access_tokens", "Bearer "+e.jwt(), map[string]any{
		"repositories": []string{"tradeMASTERapi"},
		"permissions":  map[string]string{"contents": "write", "pull_requests": "write", "issues": "write"},
	})
	expect(t, r, 201, "")
	var got struct {
		Token               string            `json:"token"`
		ExpiresAt           string            `json:"expires_at"`
		Permissions         map[string]string `json:"permissions"`
		RepositorySelection string            `json:"repository_selection"`
		Repositories        []struct {
			ID       int64  `json:"id"`
			FullName string `json:"full_name"`
		} `json:"repositories"`
	}
	r.json(t, &got)
	wantPerms := map[string]string{"contents": "write", "pull_requests": "write", "issues": "write", "metadata": "read"}
	if !reflect.DeepEqual(got.Permissions, wantPerms) {
		t.Errorf("permissions %v, want %v (metadata read is implied)", got.Permissions, wantPerms)
	}
	if got.ExpiresAt != "2026-11-23T13:00:00Z" || got.RepositorySelection != "selected" {
		t.Errorf("expires_at %q, repository_selection %q", got.ExpiresAt, got.RepositorySelection)
	}
	if len(got.Repositories) != 1 || got.Repositories[0].FullName != "raxx-app/TradeMasterAPI" {
		t.Errorf("repositories %+v", got.Repositories)
	}
	tok := "token " + got.Token

	expect(t, e.do("GET", "/repos/raxx-app/TradeMasterAPI", tok, nil), 200, "")
	expect(t, e.do("GET", "/repos/raxx-app/MooseQuest", tok, nil), 404, "Not Found")
	expect(t, e.do("GET", "/repos/raxx-app/PrivateVault", tok, nil), 404, "Not Found")
	expect(t, e.do("GET", "/repos/raxx-app/MooseQuest/pulls/7", tok, nil), 404, "Not Found")
	expect(t, e.do("POST", "/repos/raxx-app/MooseQuest/issues/7/comments", tok, map[string]string{"body": "x"}), 404, "Not Found")
	expect(t, e.do("GET", "/orgs/raxx-app/personal-access-tokens", tok, nil), 403, msgNotAccessible)
	// A public repository of another organization is readable, not writable.
	expect(t, e.do("GET", "/repos/moose-labs/sandbox/pulls/3", tok, nil), 200, "")
	w := e.do("POST", "/repos/moose-labs/sandbox/issues/3/comments", tok, map[string]string{"body": "x"})
	expect(t, w, 403, msgNotAccessible)
	if h := w.header.Get("X-Accepted-Github-Permissions"); h != "issues=write; pull_requests=write" {
		t.Errorf("X-Accepted-GitHub-Permissions %q", h)
	}

	info := e.srv.LiveTokens()
	if len(info) != 1 || !reflect.DeepEqual(info[0].RepositoryIDs, []int64{DefaultTradeMasterRepoID}) || !reflect.DeepEqual(info[0].Permissions, wantPerms) {
		t.Errorf("LiveTokens %+v", info)
	}
}

// TestTokenPermissions: what a token may do follows its permissions.
func TestTokenPermissions(t *testing.T) {
	e := newEnv(t, nil)
	prOnly := "token " + e.mint(1001, map[string]any{"permissions": map[string]string{"pull_requests": "write"}})
	// Pull requests are issues: pull_requests write comments on #42, not on issue #41.
	expect(t, e.do("POST", "/repos/raxx-app/TradeMasterAPI/issues/42/comments", prOnly, map[string]string{"body": "ok"}), 201, "")
	r := e.do("POST", "/repos/raxx-app/TradeMasterAPI/issues/41/comments", prOnly, map[string]string{"body": "no"})
	expect(t, r, 403, msgNotAccessible)
	if h := r.header.Get("X-Accepted-Github-Permissions"); h != "issues=write" {
		t.Errorf("X-Accepted-GitHub-Permissions %q", h)
	}
	expect(t, e.do("GET", "/repos/raxx-app/TradeMasterAPI/issues/41/comments", prOnly, nil), 403, msgNotAccessible)

	metaOnly := "token " + e.mint(1001, map[string]any{"permissions": map[string]string{"metadata": "read"}})
	expect(t, e.do("GET", "/repos/raxx-app/TradeMasterAPI", metaOnly, nil), 200, "")
	expect(t, e.do("GET", "/repos/raxx-app/TradeMasterAPI/pulls/42", metaOnly, nil), 403, msgNotAccessible)
	expect(t, e.do("PATCH", "/repos/raxx-app/TradeMasterAPI/issues/comments/2400000001", metaOnly, map[string]string{"body": "x"}), 403, msgNotAccessible)

	// Organization endpoints need the installation to be on that organization.
	moose := "token " + e.mint(DefaultSecondInstallationID, nil)
	expect(t, e.do("GET", "/orgs/raxx-app/personal-access-tokens", moose, nil), 403, msgNotAccessible)
	// A user account is not an organization.
	full := "token " + e.mint(1001, nil)
	expect(t, e.do("GET", "/orgs/alice-raxx/personal-access-tokens", full, nil), 404, "Not Found")
	// Read-only PAT administration cannot revoke.
	ro := "token " + e.mint(1001, map[string]any{"permissions": map[string]string{"organization_personal_access_tokens": "read"}})
	expect(t, e.do("GET", "/orgs/raxx-app/personal-access-tokens", ro, nil), 200, "")
	expect(t, e.do("POST", "/orgs/raxx-app/personal-access-tokens/25381", ro, map[string]string{"action": "revoke"}), 403, msgNotAccessible)

	// Anonymous callers see public repositories only and cannot write.
	expect(t, e.do("GET", "/repos/raxx-app/TradeMasterAPI", "", nil), 404, "Not Found")
	expect(t, e.do("GET", "/repos/moose-labs/website", "", nil), 200, "")
	expect(t, e.do("POST", "/repos/moose-labs/sandbox/issues/3/comments", "", map[string]string{"body": "x"}), 401, msgRequiresAuth)
	expect(t, e.do("GET", "/orgs/raxx-app/personal-access-tokens", "", nil), 401, msgRequiresAuth)
	// The App's JWT is for /app endpoints only.
	expect(t, e.do("GET", "/orgs/raxx-app/personal-access-tokens", "Bearer "+e.jwt(), nil), 403, msgNotAccessible)
	expect(t, e.do("POST", "/repos/raxx-app/TradeMasterAPI/issues/42/comments", "Bearer "+e.jwt(), map[string]string{"body": "x"}), 403, msgNotAccessible)
}

// TestAccessTokenNarrowing covers the body of the token request.
func TestAccessTokenNarrowing(t *testing.T) {
	e := newEnv(t, nil)
	jwtAuth := "Bearer " + e.jwt()
	post := func(body any) resp { return e.do("POST", "/app/installations/1001/access_tokens", jwtAuth, body) }

	// Without a body the token gets the whole installation.
	r := post(nil)
	expect(t, r, 201, "")
	var whole struct {
		Permissions         map[string]string `json:"permissions"`
		RepositorySelection string            `json:"repository_selection"`
		Repositories        []any             `json:"repositories"`
	}
	r.json(t, &whole)
	if !reflect.DeepEqual(whole.Permissions, DefaultFixture().Installations[0].Permissions) || whole.RepositorySelection != "selected" || whole.Repositories != nil {
		t.Errorf("whole installation token: %+v", whole)
	}
	ids := e.srv.Tokens()[0].RepositoryIDs
	if !reflect.DeepEqual(ids, []int64{DefaultTradeMasterRepoID, DefaultMooseQuestRepoID}) {
		t.Errorf("whole installation repositories %v", ids)
	}

	// Names and ids combine; duplicates collapse.
	expect(t, post(map[string]any{"repositories": []string{"MooseQuest"}, "repository_ids": []int64{DefaultTradeMasterRepoID, DefaultMooseQuestRepoID}}), 201, "")
	if got := e.srv.Tokens()[1].RepositoryIDs; !reflect.DeepEqual(got, []int64{DefaultTradeMasterRepoID, DefaultMooseQuestRepoID}) {
		t.Errorf("narrowed repositories %v", got)
	}
	// An "all" installation narrowed to one repository becomes "selected".
	r = e.do("POST", "/app/installations/1002/access_tokens", jwtAuth, map[string]any{"repositories": []string{"website"}})
	expect(t, r, 201, "")
	var sel struct {
		RepositorySelection string `json:"repository_selection"`
	}
	r.json(t, &sel)
	if sel.RepositorySelection != "selected" {
		t.Errorf("repository_selection %q", sel.RepositorySelection)
	}

	for _, tc := range []struct {
		name   string
		body   any
		status int
		msg    string
	}{
		{"repository of another organization", map[string]any{"repositories": []string{"sandbox"}}, 422, msgReposNotInInstall},
		{"repository id outside the installation", map[string]any{"repository_ids": []int64{DefaultPrivateVaultRepoID}}, 422, msgReposNotInInstall},
		{"unknown repository id", map[string]any{"repository_ids": []int64{1}}, 422, msgReposNotInInstall},
		{"permission above the installation", map[string]any{"permissions": map[string]string{"metadata": "write"}}, 422, msgPermsNotGranted},
		{"permission the installation lacks", map[string]any{"permissions": map[string]string{"secrets": "read"}}, 422, msgPermsNotGranted},
		{"unknown permission", map[string]any{"permissions": map[string]string{"superpowers": "write"}}, 422, msgPermsNotGranted},
		{"level not in the enum", map[string]any{"permissions": map[string]string{"contents": "admin"}}, 422, "Invalid request.\n\nFor 'properties/contents', \"admin\" is not one of [\"read\", \"write\"]."},
		{"repositories not an array", map[string]any{"repositories": "TradeMasterAPI"}, 422, "Invalid request.\n\nFor 'properties/repositories', \"TradeMasterAPI\" is not an array."},
		{"repository_ids of strings", map[string]any{"repository_ids": []string{"812345601"}}, 422, "Invalid request.\n\nFor 'items', \"812345601\" is not an integer."},
		{"permissions not an object", map[string]any{"permissions": []string{"contents"}}, 422, "Invalid request.\n\nFor 'properties/permissions', [\"contents\"] is not an object."},
		{"malformed JSON", `{"repositories": [`, 400, msgParseJSON},
		{"not an object", `["TradeMasterAPI"]`, 422, "Invalid request.\n\nFor 'links/0/schema', [\"TradeMasterAPI\"] is not an object."},
	} {
		t.Run(tc.name, func(t *testing.T) { expect(t, post(tc.body), tc.status, tc.msg) })
	}
	if n := len(e.srv.Tokens()); n != 3 {
		t.Errorf("%d tokens minted, want 3 (refused requests mint nothing)", n)
	}
}

// TestPATFilters exercises the filters of the PAT listing.
func TestPATFilters(t *testing.T) {
	e := newEnv(t, nil)
	tok := "token " + e.mint(1001, nil)
	ids := func(query string) []int64 {
		t.Helper()
		r := e.do("GET", "/orgs/raxx-app/personal-access-tokens"+query, tok, nil)
		expect(t, r, http.StatusOK, "")
		var list []struct {
			ID           int64 `json:"id"`
			TokenExpired bool  `json:"token_expired"`
		}
		r.json(t, &list)
		out := []int64{}
		for _, p := range list {
			out = append(out, p.ID)
		}
		return out
	}
	for _, tc := range []struct {
		query string
		want  []int64
	}{
		{"", []int64{25383, 25382, 25381, 25384}},
		{"?direction=asc", []int64{25384, 25381, 25382, 25383}},
		{"?owner=alice-raxx", []int64{25381, 25384}},
		{"?owner[]=bob-raxx&owner[]=carol-raxx", []int64{25383, 25382}},
		{"?repository=TradeMasterAPI", []int64{25383, 25381, 25384}},
		{"?repository=PrivateVault", []int64{25383, 25384}},
		{"?permission=contents_write", []int64{25382, 25384}},
		{"?permission=members_read", []int64{25382}},
		{"?permission=secrets", []int64{25383}},
		{"?last_used_after=2026-06-01T00:00:00Z", []int64{25381, 25384}},
		{"?last_used_before=2026-06-01T00:00:00Z", []int64{25383}},
		{"?token_id=98716&token_id=98719", []int64{25381, 25384}},
	} {
		if got := ids(tc.query); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: %v, want %v", tc.query, got, tc.want)
		}
	}
	// token_expired follows the clock.
	r := e.do("GET", "/orgs/raxx-app/personal-access-tokens?token_id=98719", tok, nil)
	var list []struct {
		TokenExpired bool `json:"token_expired"`
	}
	r.json(t, &list)
	if len(list) != 1 || !list[0].TokenExpired {
		t.Errorf("old-migration-token should be expired: %s", r.body)
	}
	for _, q := range []string{"?sort=name", "?direction=up", "?last_used_after=monday", "?token_id=abc",
		"?owner=a&owner=b&owner=c&owner=d&owner=e&owner=f&owner=g&owner=h&owner=i&owner=j&owner=k"} {
		expect(t, e.do("GET", "/orgs/raxx-app/personal-access-tokens"+q, tok, nil), 422, msgValidationFailed)
	}

	// Revoked PATs leave the listing; approved requests join it.
	expect(t, e.do("POST", "/orgs/raxx-app/personal-access-tokens/25381", tok, map[string]string{"action": "revoke"}), 204, "")
	expect(t, e.do("POST", "/orgs/raxx-app/personal-access-token-requests/7301", tok, map[string]string{"action": "approve"}), 204, "")
	got := ids("?direction=asc")
	if !reflect.DeepEqual(got, []int64{25384, 25382, 25383, 25385}) {
		t.Errorf("after revoke and approval: %v", got)
	}
	var names []string
	for _, p := range e.srv.PersonalAccessTokens("raxx-app") {
		if p.Revoked {
			names = append(names, p.TokenName)
		}
	}
	sort.Strings(names)
	if !reflect.DeepEqual(names, []string{"terraform-plan-alice"}) {
		t.Errorf("revoked: %v", names)
	}
	var reqs []json.RawMessage
	e.do("GET", "/orgs/raxx-app/personal-access-token-requests", tok, nil).json(t, &reqs)
	if len(reqs) != 1 {
		t.Errorf("%d pending requests, want 1", len(reqs))
	}
	// A PAT's repositories follow its selection.
	var repos []struct {
		FullName string `json:"full_name"`
	}
	e.do("GET", "/orgs/raxx-app/personal-access-tokens/25384/repositories", tok, nil).json(t, &repos)
	if len(repos) != 2 || repos[0].FullName != "raxx-app/TradeMasterAPI" || repos[1].FullName != "raxx-app/PrivateVault" {
		t.Errorf("PAT 25384 repositories: %+v", repos)
	}
}

// TestArchivedRepository: an archived repository reads but refuses writes.
func TestArchivedRepository(t *testing.T) {
	e := newEnv(t, func(fx *Fixture) { fx.Repositories[1].Archived = true }) // MooseQuest
	tok := "token " + e.mint(DefaultInstallationID, nil)
	expect(t, e.do("GET", "/repos/raxx-app/MooseQuest/issues/7/comments", tok, nil), 200, "")
	expect(t, e.do("POST", "/repos/raxx-app/MooseQuest/issues/7/comments", tok, map[string]string{"body": "x"}), 403, msgArchived)
}
