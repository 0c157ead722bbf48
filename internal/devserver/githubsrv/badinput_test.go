package githubsrv

import (
	"strings"
	"testing"
)

// TestBadInput: malformed, mistyped, missing, oversized and unknown input
// gets GitHub's status and body, never a 200.
func TestBadInput(t *testing.T) {
	e := newEnv(t, nil)
	tok := "token " + e.mint(DefaultInstallationID, nil)
	const comments = "/repos/raxx-app/TradeMasterAPI/issues/42/comments"
	const pats = "/orgs/raxx-app/personal-access-tokens"
	huge := `{"body": "` + strings.Repeat("x", 2<<20) + `"}`
	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
		msg                string
	}{
		{"malformed JSON", "POST", comments, `{"body": `, 400, msgParseJSON},
		{"no body", "POST", comments, nil, 422, "Invalid request.\n\nFor 'links/0/schema', nil is not an object."},
		{"null body", "POST", comments, `null`, 422, "Invalid request.\n\nFor 'links/0/schema', nil is not an object."},
		{"array body", "POST", comments, `[1]`, 422, "Invalid request.\n\nFor 'links/0/schema', [1] is not an object."},
		{"missing field", "POST", comments, `{}`, 422, "Invalid request.\n\n\"body\" wasn't supplied."},
		{"wrong type", "POST", comments, `{"body": 5}`, 422, "Invalid request.\n\nFor 'properties/body', 5 is not a string."},
		{"null field", "POST", comments, `{"body": null}`, 422, "Invalid request.\n\nFor 'properties/body', nil is not a string."},
		{"blank", "POST", comments, `{"body": ""}`, 422, msgValidationFailed},
		{"too long", "POST", comments, map[string]string{"body": strings.Repeat("é", MaxCommentLength+1)}, 422, msgValidationFailed},
		{"oversized", "POST", comments, huge, 422, msgValidationFailed},
		{"oversized token request", "POST", "/app/installations/1001/access_tokens", `{"repositories": ["` + strings.Repeat("x", 2<<20) + `"]}`, 400, msgParseJSON},
		{"unknown issue", "POST", "/repos/raxx-app/TradeMasterAPI/issues/9999/comments", `{"body": "x"}`, 404, msgNotFound},
		{"non-numeric issue", "GET", "/repos/raxx-app/TradeMasterAPI/issues/abc/comments", nil, 404, msgNotFound},
		{"negative issue", "GET", "/repos/raxx-app/TradeMasterAPI/issues/-1/comments", nil, 404, msgNotFound},
		{"huge issue", "GET", "/repos/raxx-app/TradeMasterAPI/issues/99999999999999999999/comments", nil, 404, msgNotFound},
		{"unknown comment", "PATCH", "/repos/raxx-app/TradeMasterAPI/issues/comments/1", `{"body": "x"}`, 404, msgNotFound},
		{"comment of another repository", "PATCH", "/repos/raxx-app/MooseQuest/issues/comments/2400000001", `{"body": "x"}`, 404, msgNotFound},
		{"unknown repository", "GET", "/repos/raxx-app/Nope/pulls/1", nil, 404, msgNotFound},
		{"unknown pull", "GET", "/repos/raxx-app/TradeMasterAPI/pulls/9", nil, 404, msgNotFound},
		{"since not a time", "GET", comments + "?since=yesterday", nil, 422, msgValidationFailed},
		{"missing action", "POST", pats + "/25381", `{}`, 422, "Invalid request.\n\n\"action\" wasn't supplied."},
		{"unknown action", "POST", pats + "/25381", `{"action": "delete"}`, 422, "Invalid request.\n\nFor 'properties/action', \"delete\" is not one of [\"revoke\"]."},
		{"missing pat_ids", "POST", pats, `{"action": "revoke"}`, 422, "Invalid request.\n\n\"pat_ids\" wasn't supplied."},
		{"pat_ids of strings", "POST", pats, `{"action": "revoke", "pat_ids": ["25381"]}`, 422, "Invalid request.\n\nFor 'items', \"25381\" is not an integer."},
		{"pat_ids too many", "POST", pats, `{"action": "revoke", "pat_ids": [` + strings.TrimSuffix(strings.Repeat("1,", 101), ",") + `]}`, 422, msgValidationFailed},
		{"unknown pat", "POST", pats + "/999", `{"action": "revoke"}`, 404, msgNotFound},
		{"reason too long", "POST", "/orgs/raxx-app/personal-access-token-requests/7301", map[string]string{"action": "deny", "reason": strings.Repeat("r", 1025)}, 422, msgValidationFailed},
		{"reason wrong type", "POST", "/orgs/raxx-app/personal-access-token-requests/7301", `{"action": "deny", "reason": 7}`, 422, "Invalid request.\n\nFor 'properties/reason', 7 is not a string."},
		{"unknown request", "POST", "/orgs/raxx-app/personal-access-token-requests/1", `{"action": "deny"}`, 404, msgNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			auth := tok
			if strings.HasPrefix(tc.path, "/app/") {
				auth = "Bearer " + e.jwt()
			}
			expect(t, e.do(tc.method, tc.path, auth, tc.body), tc.status, tc.msg)
		})
	}
	if n := len(e.srv.Comments("raxx-app", "TradeMasterAPI", 42)); n != 1 {
		t.Errorf("%d comments on #42, want the fixture's 1", n)
	}
	if live := len(e.srv.LiveTokens()); live != 1 {
		t.Errorf("%d live tokens, want 1", live)
	}
	// A comment of exactly the maximum length, in characters, is accepted.
	expect(t, e.do("POST", comments, tok, map[string]string{"body": strings.Repeat("é", MaxCommentLength)}), 201, "")
}
