package infisicalsrv

import (
	"sort"
	"testing"
	"time"
)

func secretKeys(r resp) []string {
	var out []string
	for _, s := range r.list("secrets") {
		m := s.(map[string]any)
		out = append(out, m["secretPath"].(string)+"/"+m["secretKey"].(string))
	}
	sort.Strings(out)
	return out
}

// sameStrings compares as sets of lines (order ignored).
func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	a, b = append([]string(nil), a...), append([]string(nil), b...)
	sort.Strings(a)
	sort.Strings(b)
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// appleIAPRead is how handoff grants "/MooseQuest/queue/staging/APPLE_IAP_*".
var appleIAPRead = map[string]any{"subject": "secrets", "action": []string{"read"}, "conditions": map[string]any{
	"environment": "staging",
	"secretPath":  map[string]any{"$eq": DefaultQueuePath},
	"secretName":  map[string]any{"$glob": "APPLE_IAP_*"},
}}

// TestLeastPrivilege is the negative prober of the handoff shape: the
// identity reads its own folder and the granted queue secrets, and is
// refused everything else.
func TestLeastPrivilege(t *testing.T) {
	e := newTestEnv(t)
	adm := e.admin()
	pid := DefaultProjectID
	h := e.provisionHandoff(adm, "iap-notif-handler-20260621", 86400, "24h", appleIAPRead)
	other := e.provisionHandoff(adm, "founders-checkout-20260621", 86400, "24h")
	for _, s := range []struct{ slug, key, value string }{
		{h.slug, "GH_HANDOFF_TOKEN", "ghs_mine"}, {h.slug, "PROVISION_MANIFEST", "{}"},
		{other.slug, "GH_HANDOFF_TOKEN", "ghs_theirs"},
	} {
		want(t, e.do("POST", "/api/v4/secrets/"+s.key, adm, map[string]any{"projectId": pid, "environment": "staging",
			"secretPath": DefaultHandoffRoot + "/" + s.slug, "secretValue": s.value}), 200)
	}
	tok := e.login(h.clientID, h.clientSecret)
	mine := DefaultHandoffRoot + "/" + h.slug
	theirs := DefaultHandoffRoot + "/" + other.slug
	get := func(path, key string, env ...string) resp {
		en := "staging"
		if len(env) > 0 {
			en = env[0]
		}
		return e.do("GET", q("/api/v4/secrets/"+key, "projectId", pid, "environment", en, "secretPath", path), tok, nil)
	}
	list := func(path string, recursive bool) resp {
		rec := "false"
		if recursive {
			rec = "true"
		}
		return e.do("GET", q("/api/v4/secrets", "projectId", pid, "environment", "staging", "secretPath", path, "recursive", rec), tok, nil)
	}

	// Allowed.
	r := get(mine, "GH_HANDOFF_TOKEN")
	want(t, r, 200)
	if r.str("secret", "secretValue") != "ghs_mine" {
		t.Fatalf("own secret: %s", r.raw)
	}
	want(t, get(DefaultQueuePath, "APPLE_IAP_KEY_ID"), 200)
	want(t, get(DefaultQueuePath+"/", "APPLE_IAP_PRIVATE_KEY"), 200)
	if got := secretKeys(list(mine, false)); !sameStrings(got, []string{mine + "/GH_HANDOFF_TOKEN", mine + "/PROVISION_MANIFEST"}) {
		t.Fatalf("own list: %v", got)
	}
	if got := secretKeys(list(DefaultQueuePath, false)); !sameStrings(got, []string{
		DefaultQueuePath + "/APPLE_IAP_ISSUER_ID", DefaultQueuePath + "/APPLE_IAP_KEY_ID", DefaultQueuePath + "/APPLE_IAP_PRIVATE_KEY"}) {
		t.Fatalf("queue list holds more than APPLE_IAP_*: %v", got)
	}
	// A recursive list from the root holds exactly what it may read.
	if got := secretKeys(list("/", true)); !sameStrings(got, []string{
		DefaultQueuePath + "/APPLE_IAP_ISSUER_ID", DefaultQueuePath + "/APPLE_IAP_KEY_ID", DefaultQueuePath + "/APPLE_IAP_PRIVATE_KEY",
		mine + "/GH_HANDOFF_TOKEN", mine + "/PROVISION_MANIFEST"}) {
		t.Fatalf("recursive list: %v", got)
	}

	// Refused: the other handoff, the rest of the queue, other environments,
	// writes, organization endpoints.
	r = get(theirs, "GH_HANDOFF_TOKEN")
	want(t, r, 403, namePermission, "You are not allowed to describeSecret on secrets")
	if d, ok := r.get("details").([]any); !ok || len(d) != 0 {
		t.Fatalf("details of a denial with no describeSecret rule: %s", r.raw)
	}
	want(t, list(theirs, false), 403, namePermission, "describeSecret on secrets")
	want(t, list(theirs, true), 403, namePermission, "describeSecret on secrets")
	want(t, list(DefaultHandoffRoot, false), 403, namePermission)
	want(t, get(DefaultQueuePath, "STRIPE_TEST_SECRET_KEY"), 403, namePermission)
	want(t, get(mine, "GH_HANDOFF_TOKEN", "prod"), 404, "GetSecretByName")
	want(t, e.do("GET", q("/api/v4/secrets", "projectId", pid, "environment", "dev", "secretPath", "/"), tok, nil), 403, namePermission)
	want(t, e.do("POST", "/api/v4/secrets/X", tok, map[string]any{"projectId": pid, "environment": "staging", "secretPath": mine, "secretValue": "x"}), 403, namePermission, "create on secrets")
	want(t, e.do("PATCH", "/api/v4/secrets/GH_HANDOFF_TOKEN", tok, map[string]any{"projectId": pid, "environment": "staging", "secretPath": mine, "secretValue": "x"}), 403, namePermission, "edit on secrets")
	want(t, e.do("DELETE", "/api/v4/secrets/GH_HANDOFF_TOKEN", tok, map[string]any{"projectId": pid, "environment": "staging", "secretPath": theirs}), 403, namePermission, "delete on secrets")
	want(t, e.do("POST", "/api/v2/folders", tok, map[string]any{"projectId": pid, "environment": "staging", "name": "x", "path": mine}), 403, namePermission)
	want(t, e.do("POST", "/api/v1/identities", tok, map[string]any{"name": "x", "organizationId": DefaultOrganizationID}), 403, namePermission, "You are not allowed to create on identity")
	want(t, e.do("GET", q("/api/v1/identities", "orgId", DefaultOrganizationID), tok, nil), 403, namePermission, "read on identity")
	want(t, e.do("POST", "/api/v1/auth/universal-auth/identities/"+other.identityID+"/client-secrets", tok, map[string]any{}), 403, namePermission)
	want(t, e.do("GET", "/api/v1/organization/audit-logs", tok, nil), 403, namePermission, "read on audit-logs")
	want(t, e.do("POST", "/api/v2/identity-project-additional-privilege", tok, map[string]any{"identityId": h.identityID, "projectId": pid,
		"permissions": []map[string]any{{"subject": "secrets", "action": []string{"read"}}}, "type": map[string]any{"isTemporary": false}}), 403, namePermission, "edit on identity")
	want(t, e.do("DELETE", "/api/v1/projects/"+pid+"/memberships/identities/"+other.identityID, tok, nil), 403, namePermission)

	// The Go inspection API agrees.
	if !e.srv.Allowed(h.identityID, actReadValue, "staging", mine, "GH_HANDOFF_TOKEN") ||
		e.srv.Allowed(h.identityID, actReadValue, "staging", theirs, "GH_HANDOFF_TOKEN") ||
		e.srv.Allowed(h.identityID, actReadValue, "staging", DefaultQueuePath, "STRIPE_WEBHOOK_SECRET") ||
		e.srv.Allowed(h.identityID, actCreate, "staging", mine, "X") {
		t.Fatal("Allowed disagrees with the API")
	}

	// Every request of the identity is audited with its name, denials are in
	// the access log.
	var reads int
	for _, ev := range e.srv.AuditEvents() {
		if ev.ActorID == h.identityID {
			if ev.ActorName != "infisical-handoff-"+h.slug {
				t.Fatalf("actor name %q", ev.ActorName)
			}
			if ev.Type == "get-secret" {
				reads++
			}
		}
	}
	if reads != 3 {
		t.Fatalf("get-secret events of the handoff: %d, want 3", reads)
	}
	denied := 0
	for _, a := range e.srv.AccessLog() {
		if a.IdentityID == h.identityID && a.Status == 403 {
			denied++
		}
	}
	if denied < 15 {
		t.Fatalf("access log has %d denials", denied)
	}
}

func TestTemporaryAccessExpires(t *testing.T) {
	e := newTestEnv(t)
	adm := e.admin()
	h := e.provisionHandoff(adm, "short", 86400, "20s")
	want(t, e.do("POST", "/api/v4/secrets/A", adm, map[string]any{"projectId": DefaultProjectID, "environment": "staging",
		"secretPath": DefaultHandoffRoot + "/short", "secretValue": "v"}), 200)
	tok := e.login(h.clientID, h.clientSecret)
	path := q("/api/v4/secrets/A", "projectId", DefaultProjectID, "environment", "staging", "secretPath", DefaultHandoffRoot+"/short")
	want(t, e.do("GET", path, tok, nil), 200)
	e.kit.Clock.Advance(19 * time.Second)
	want(t, e.do("GET", path, tok, nil), 200)
	e.kit.Clock.Advance(time.Second)
	want(t, e.do("GET", path, tok, nil), 403, namePermission)
	if p := e.srv.Privileges(h.identityID); len(p) != 1 || p[0].Active {
		t.Fatalf("privilege still active: %+v", p)
	}

	// A temporary project role lapses the same way.
	r := e.do("PATCH", "/api/v1/projects/"+DefaultProjectID+"/memberships/identities/"+h.identityID, adm, map[string]any{"roles": []map[string]any{
		{"role": "viewer", "isTemporary": true, "temporaryMode": "relative", "temporaryRange": "1m",
			"temporaryAccessStartTime": e.kit.Clock.Now().Format(time.RFC3339)}}})
	want(t, r, 200)
	want(t, e.do("GET", path, tok, nil), 200)
	e.kit.Clock.Advance(time.Minute)
	want(t, e.do("GET", path, tok, nil), 403, namePermission)
}

func TestProjectRoles(t *testing.T) {
	e := newTestEnv(t)
	adm := e.admin()
	pid := DefaultProjectID
	mk := func(role string) string {
		r := e.do("POST", "/api/v1/identities", adm, map[string]any{"name": role, "organizationId": DefaultOrganizationID})
		want(t, r, 200)
		id := r.str("identity", "id")
		r = e.do("POST", "/api/v1/auth/universal-auth/identities/"+id, adm, map[string]any{})
		want(t, r, 200)
		cid := r.str("identityUniversalAuth", "clientId")
		r = e.do("POST", "/api/v1/auth/universal-auth/identities/"+id+"/client-secrets", adm, map[string]any{})
		want(t, r, 200)
		want(t, e.do("POST", "/api/v1/projects/"+pid+"/memberships/identities/"+id, adm, map[string]any{"role": role}), 200)
		return e.login(cid, r.str("clientSecret"))
	}
	viewer, member, none := mk("viewer"), mk("member"), mk("no-access")
	read := q("/api/v4/secrets/APPLE_IAP_KEY_ID", "projectId", pid, "environment", "staging", "secretPath", DefaultQueuePath)
	write := func(tok, key string) resp {
		return e.do("POST", "/api/v4/secrets/"+key, tok, map[string]any{"projectId": pid, "environment": "staging", "secretPath": DefaultQueuePath, "secretValue": "v"})
	}
	want(t, e.do("GET", read, viewer, nil), 200)
	want(t, write(viewer, "V"), 403, namePermission, "create on secrets")
	want(t, e.do("POST", "/api/v2/folders", viewer, map[string]any{"projectId": pid, "environment": "staging", "name": "v"}), 403, namePermission)
	want(t, e.do("GET", read, member, nil), 200)
	want(t, write(member, "M"), 200)
	want(t, e.do("POST", "/api/v2/folders", member, map[string]any{"projectId": pid, "environment": "staging", "name": "m"}), 200)
	want(t, e.do("POST", "/api/v1/identities", member, map[string]any{"name": "x", "organizationId": DefaultOrganizationID}), 403, namePermission)
	// A member may add identities to the project only as no-access: roles
	// need assign-role (the new privilege system's boundary).
	r := e.do("POST", "/api/v1/identities", adm, map[string]any{"name": "target", "organizationId": DefaultOrganizationID})
	target := r.str("identity", "id")
	want(t, e.do("POST", "/api/v1/projects/"+pid+"/memberships/identities/"+target, member, map[string]any{"role": "admin"}), 403, nameBoundary)
	want(t, e.do("GET", read, none, nil), 403, namePermission, "describeSecret")
	want(t, e.do("GET", q("/api/v4/secrets", "projectId", pid, "environment", "staging"), none, nil), 403, namePermission, "describeSecret")
	// Folder names are visible to any project member, as in Infisical.
	want(t, e.do("GET", q("/api/v2/folders", "projectId", pid, "environment", "staging", "recursive", "true"), none, nil), 200)
	// Organization member: reads identities, creates none.
	r = e.do("PATCH", "/api/v1/identities/"+target, adm, map[string]any{"role": "member"})
	want(t, r, 200)
	r = e.do("POST", "/api/v1/auth/universal-auth/identities/"+target, adm, map[string]any{})
	cid := r.str("identityUniversalAuth", "clientId")
	r = e.do("POST", "/api/v1/auth/universal-auth/identities/"+target+"/client-secrets", adm, map[string]any{})
	orgMember := e.login(cid, r.str("clientSecret"))
	want(t, e.do("GET", q("/api/v1/identities", "orgId", DefaultOrganizationID), orgMember, nil), 200)
	want(t, e.do("POST", "/api/v1/identities", orgMember, map[string]any{"name": "x", "organizationId": DefaultOrganizationID}), 403, namePermission, "create on identity")
}

func TestPrivilegeConditions(t *testing.T) {
	e := newTestEnv(t)
	adm := e.admin()
	pid := DefaultProjectID
	h := e.provisionHandoff(adm, "cond", 86400, "24h",
		// describe (not read) every staging secret whose env is not prod…
		map[string]any{"subject": "secrets", "action": []string{"describeSecret"}, "conditions": map[string]any{
			"environment": map[string]any{"$in": []string{"staging", "dev"}}, "secretPath": map[string]any{"$glob": "/MooseQuest/**"}}},
		// …read the Stripe ones except the webhook secret.
		map[string]any{"subject": "secrets", "action": []string{"readValue"}, "conditions": map[string]any{
			"environment": map[string]any{"$ne": "prod"}, "secretName": map[string]any{"$glob": "STRIPE_*"}}},
		map[string]any{"subject": "secrets", "action": []string{"readValue"}, "inverted": true, "conditions": map[string]any{
			"secretName": map[string]any{"$eq": "STRIPE_WEBHOOK_SECRET"}}},
	)
	tok := e.login(h.clientID, h.clientSecret)
	get := func(key string, extra ...string) resp {
		return e.do("GET", q("/api/v4/secrets/"+key, append([]string{"projectId", pid, "environment", "staging", "secretPath", DefaultQueuePath}, extra...)...), tok, nil)
	}
	want(t, get("STRIPE_TEST_SECRET_KEY"), 200)
	r := get("STRIPE_WEBHOOK_SECRET")
	want(t, r, 403, namePermission, "You are not allowed to readValue on secrets")
	if d := r.list("details"); len(d) != 2 {
		t.Fatalf("details should list the two readValue rules: %s", r.raw)
	}
	want(t, get("APPLE_IAP_KEY_ID"), 403, namePermission, "readValue")
	r = get("APPLE_IAP_KEY_ID", "viewSecretValue", "false")
	want(t, r, 200)
	if r.str("secret", "secretValue") != hiddenValue || r.get("secret", "secretValueHidden") != true {
		t.Fatalf("hidden value: %s", r.raw)
	}
	// Listing the folder: describable but unreadable secrets of the folder
	// itself fail the request…
	list := q("/api/v4/secrets", "projectId", pid, "environment", "staging", "secretPath", DefaultQueuePath)
	want(t, e.do("GET", list, tok, nil), 403, namePermission, "readValue")
	// …unless values are not asked for…
	r = e.do("GET", list+"&viewSecretValue=false", tok, nil)
	want(t, r, 200)
	if len(r.list("secrets")) != 5 {
		t.Fatalf("describe-only list: %s", r.raw)
	}
	// …and a recursive list leaves the unreadable ones out.
	r = e.do("GET", q("/api/v4/secrets", "projectId", pid, "environment", "staging", "secretPath", "/MooseQuest/queue", "recursive", "true"), tok, nil)
	want(t, r, 200)
	if got := secretKeys(r); !sameStrings(got, []string{DefaultQueuePath + "/STRIPE_TEST_SECRET_KEY"}) {
		t.Fatalf("recursive readable: %v", got)
	}
}

func TestPermissionCache(t *testing.T) {
	e := newTestEnv(t)
	e.srv.SetPermissionCache(10 * time.Second)
	adm := e.admin()
	r := e.do("POST", "/api/v1/identities", adm, map[string]any{"name": "late", "organizationId": DefaultOrganizationID})
	id := r.str("identity", "id")
	cid := e.do("POST", "/api/v1/auth/universal-auth/identities/"+id, adm, map[string]any{}).str("identityUniversalAuth", "clientId")
	secret := e.do("POST", "/api/v1/auth/universal-auth/identities/"+id+"/client-secrets", adm, map[string]any{}).str("clientSecret")
	want(t, e.do("POST", "/api/v1/projects/"+DefaultProjectID+"/memberships/identities/"+id, adm, map[string]any{"role": "no-access"}), 200)
	tok := e.login(cid, secret)
	read := q("/api/v4/secrets/APPLE_IAP_KEY_ID", "projectId", DefaultProjectID, "environment", "staging", "secretPath", DefaultQueuePath)
	want(t, e.do("GET", read, tok, nil), 403, namePermission) // probed before the grant: cached
	want(t, e.do("POST", "/api/v2/identity-project-additional-privilege", adm, map[string]any{"identityId": id, "projectId": DefaultProjectID,
		"permissions": []any{appleIAPRead}, "type": map[string]any{"isTemporary": false}}), 200)
	want(t, e.do("GET", read, tok, nil), 403, namePermission)
	e.kit.Clock.Advance(10 * time.Second)
	want(t, e.do("GET", read, tok, nil), 200)
}
