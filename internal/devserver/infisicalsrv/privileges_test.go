package infisicalsrv

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// TestUpdatePrivilegeValidation pins the 422 a real server gives a PATCH
// of a privilege that lacks slug, permissions or type (observed
// 2026-12-05): every missing field is one zod issue, in schema order.
func TestUpdatePrivilegeValidation(t *testing.T) {
	e := newTestEnv(t)
	adm := e.admin()
	h := e.provisionHandoff(adm, "patch-me", 3600, "1h")
	path := "/api/v2/identity-project-additional-privilege/" + h.privilegeID
	perms := []any{}
	permanent := map[string]any{"isTemporary": false}
	const (
		slugIssue  = `{"code":"invalid_type","expected":"string","received":"undefined","path":["slug"],"message":"Required"}`
		permsIssue = `{"code":"custom","message":"Invalid input","path":["permissions"]}`
		typeIssue  = `{"code":"invalid_type","expected":"object","received":"undefined","path":["type"],"message":"Required"}`
	)
	for _, tc := range []struct {
		name   string
		body   map[string]any
		issues string
	}{
		{"no slug", map[string]any{"permissions": perms, "type": permanent}, "[" + slugIssue + "]"},
		{"no type", map[string]any{"slug": "patch-me", "permissions": perms}, "[" + typeIssue + "]"},
		{"no permissions", map[string]any{"slug": "patch-me", "type": permanent}, "[" + permsIssue + "]"},
		{"empty body", map[string]any{}, "[" + slugIssue + "," + permsIssue + "," + typeIssue + "]"},
		{"temporary without its fields", map[string]any{"slug": "patch-me", "permissions": perms, "type": map[string]any{"isTemporary": true}}, `[
			{"code":"invalid_type","expected":"'relative'","received":"undefined","path":["type","temporaryMode"],"message":"Required"},
			{"code":"invalid_type","expected":"string","received":"undefined","path":["type","temporaryRange"],"message":"Required"},
			{"code":"invalid_type","expected":"string","received":"undefined","path":["type","temporaryAccessStartTime"],"message":"Required"}]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("PATCH", path, adm, tc.body)
			want(t, r, 422, nameValidation)
			var wantIssues any
			if err := json.Unmarshal([]byte(tc.issues), &wantIssues); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(r.get("message"), wantIssues) {
				t.Fatalf("issues\n got %s\nwant %s", r.raw, tc.issues)
			}
		})
	}
	// Validation comes first: an unknown id with a bad body is a 422; with
	// a good one, the observed 404.
	want(t, e.do("PATCH", "/api/v2/identity-project-additional-privilege/nope", adm, map[string]any{}), 422, nameValidation)
	r := e.do("PATCH", "/api/v2/identity-project-additional-privilege/nope", adm, map[string]any{"slug": "x", "permissions": perms, "type": permanent})
	want(t, r, 404, nameNotFound)
	if r.str("message") != "Privilege with id nope not found" {
		t.Fatalf("message %q", r.str("message"))
	}
}

// TestUpdatePrivilegeBehaviour: the observed 200 answers.
func TestUpdatePrivilegeBehaviour(t *testing.T) {
	e := newTestEnv(t)
	adm := e.admin()
	h := e.provisionHandoff(adm, "upd", 86400, "1h")
	path := "/api/v2/identity-project-additional-privilege/" + h.privilegeID
	own := DefaultHandoffRoot + "/upd"
	want(t, e.do("POST", "/api/v4/secrets/K", adm, map[string]any{"projectId": DefaultProjectID, "environment": "staging", "secretPath": own, "secretValue": "v"}), 200)
	readOwn := []map[string]any{{"subject": "secrets", "action": []string{"read"},
		"conditions": map[string]any{"environment": "staging", "secretPath": map[string]any{"$glob": own + "/**"}}}}
	endOfTemporary := t0.Add(time.Hour).Format(time.RFC3339)
	tok := e.login(h.clientID, h.clientSecret)
	read := func() int {
		return e.do("GET", q("/api/v4/secrets/K", "projectId", DefaultProjectID, "environment", "staging", "secretPath", own), tok, nil).status
	}

	// The current slug keeps it.
	r := e.do("PATCH", path, adm, map[string]any{"slug": "upd", "permissions": readOwn,
		"type": map[string]any{"isTemporary": true, "temporaryMode": "relative", "temporaryRange": "1h", "temporaryAccessStartTime": t0.Format(time.RFC3339)}})
	want(t, r, 200)
	if r.str("privilege", "slug") != "upd" || r.str("privilege", "temporaryAccessEndTime") != endOfTemporary {
		t.Fatalf("same slug: %s", r.raw)
	}
	// A new slug renames; permanent keeps the old temporary fields.
	r = e.do("PATCH", path, adm, map[string]any{"slug": "upd-2", "permissions": readOwn, "type": map[string]any{"isTemporary": false}})
	want(t, r, 200)
	if r.str("privilege", "slug") != "upd-2" || r.get("privilege", "isTemporary") != false ||
		r.str("privilege", "temporaryAccessEndTime") != endOfTemporary || r.str("privilege", "temporaryRange") != "1h" {
		t.Fatalf("rename to permanent: %s", r.raw)
	}
	for _, k := range []string{"id", "slug", "isTemporary", "temporaryMode", "temporaryRange", "temporaryAccessStartTime", "temporaryAccessEndTime", "permissions", "createdAt", "updatedAt"} {
		if _, ok := r.get("privilege").(map[string]any)[k]; !ok {
			t.Fatalf("answer lacks %s: %s", k, r.raw)
		}
	}
	// Permanent now: it still grants after the old end.
	e.kit.Clock.Advance(2 * time.Hour)
	tok = e.login(h.clientID, h.clientSecret) // its access tokens live 15 minutes
	if st := read(); st != 200 {
		t.Fatalf("read after the old end of a privilege made permanent: %d", st)
	}
	// No rules at all is accepted, and grants nothing.
	r = e.do("PATCH", path, adm, map[string]any{"slug": "upd-2", "permissions": []any{}, "type": map[string]any{"isTemporary": false}})
	want(t, r, 200)
	if n := len(r.list("privilege", "permissions")); n != 0 {
		t.Fatalf("permissions []: %s", r.raw)
	}
	if st := read(); st != 403 {
		t.Fatalf("read with no rules: %d", st)
	}
	// Deleting the identity deletes its privileges.
	want(t, e.do("DELETE", "/api/v1/identities/"+h.identityID, adm, nil), 200)
	r = e.do("GET", path, adm, nil)
	want(t, r, 404, nameNotFound, "Privilege with id "+h.privilegeID+" not found")
}
