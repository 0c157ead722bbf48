package infisicalsrv

import (
	"strings"
	"testing"
	"time"
)

// TestContractTour drives every operation of the Infisical contract, with
// its successes and the errors this server can produce, through the
// contract-validating transport: any request the vendor would refuse (when
// the server accepted it) or any answer the vendor's schema rejects fails
// the test, and so does an operation nobody exercised.
func TestContractTour(t *testing.T) {
	e := newTestEnv(t)
	adm := e.admin()
	const pid = DefaultProjectID
	ua := "/api/v1/auth/universal-auth/identities/"

	// --- Login, renew, revoke.
	provID, provSecret := e.srv.ProvisionerCredentials()
	want(t, e.do("POST", "/api/v1/auth/universal-auth/login", "", map[string]any{"clientId": provID, "clientSecret": "nope" + provSecret[4:]}), 401, nameUnauthorized, "Invalid credentials")
	want(t, e.do("POST", "/api/v1/auth/universal-auth/login", "", map[string]any{"clientId": "unknown", "clientSecret": provSecret}), 401, nameUnauthorized, "Invalid credentials")
	r := e.do("POST", "/api/v1/auth/universal-auth/login", "", map[string]any{"clientId": provID})
	want(t, r, 422, nameValidation)
	if issues := r.list("message"); len(issues) != 1 || issues[0].(map[string]any)["message"] != "Required" {
		t.Fatalf("422 message: %s", r.raw)
	}
	want(t, e.do("POST", "/api/v1/auth/universal-auth/login", "", map[string]any{"clientId": provID, "clientSecret": provSecret, "subOrganizationName": "elsewhere"}), 404, nameNotFound)
	r = e.do("POST", "/api/v1/auth/universal-auth/login", "", map[string]any{"clientId": provID, "clientSecret": provSecret, "organizationSlug": DefaultOrganizationSlug})
	want(t, r, 200)
	if r.str("tokenType") != "Bearer" || r.get("expiresIn").(float64) != defaultAccessTokenTTL {
		t.Fatalf("login: %s", r.raw)
	}
	spare := r.str("accessToken")

	r = e.do("POST", "/api/v1/auth/token/renew", "", map[string]any{"accessToken": spare})
	want(t, r, 200)
	renewed := r.str("accessToken")
	want(t, e.do("POST", "/api/v1/auth/token/renew", "", map[string]any{"accessToken": "garbage"}), 403, nameToken, "malformed")
	want(t, e.do("POST", "/api/v1/auth/token/renew", "", map[string]any{}), 422, nameValidation)
	want(t, e.do("POST", "/api/v1/auth/token/revoke", "", map[string]any{"accessToken": renewed}), 200)
	want(t, e.do("POST", "/api/v1/auth/token/revoke", "", map[string]any{"accessToken": spare}), 401, nameUnauthorized, "No identity access token found")
	want(t, e.do("POST", "/api/v1/auth/token/revoke", "", map[string]any{"accessToken": "a.b.c"}), 403, nameToken)
	want(t, e.do("POST", "/api/v1/auth/token/revoke", "", map[string]any{"accessToken": 7}), 422, nameValidation)

	// --- Identities.
	r = e.do("POST", "/api/v1/identities", adm, map[string]any{"name": "tour-identity", "organizationId": DefaultOrganizationID, "role": "no-access",
		"metadata": []map[string]string{{"key": "slug", "value": "tour"}}})
	want(t, r, 200)
	idA := r.str("identity", "id")
	want(t, e.do("POST", "/api/v1/identities", adm, map[string]any{"organizationId": DefaultOrganizationID}), 422, nameValidation)
	want(t, e.do("POST", "/api/v1/identities", adm, map[string]any{"name": "x", "organizationId": DefaultOrganizationID, "role": "overlord"}), 404, nameNotFound)
	want(t, e.do("POST", "/api/v1/identities", adm, map[string]any{"name": "x", "organizationId": "org-other"}), 403, nameForbidden)
	want(t, e.do("POST", "/api/v1/identities", "", map[string]any{"name": "x", "organizationId": DefaultOrganizationID}), 401, nameUnauthorized, "Token missing")
	r = e.do("GET", q("/api/v1/identities", "orgId", DefaultOrganizationID), adm, nil)
	want(t, r, 200)
	if n := len(r.list("identities")); n != 2 || r.get("totalCount").(float64) != 2 {
		t.Fatalf("identities: %s", r.raw)
	}
	want(t, e.do("GET", "/api/v1/identities", adm, nil), 422, nameValidation)
	r = e.do("GET", "/api/v1/identities/"+idA, adm, nil)
	want(t, r, 200)
	if r.str("identity", "identity", "name") != "tour-identity" || r.str("identity", "role") != "no-access" {
		t.Fatalf("get identity: %s", r.raw)
	}
	want(t, e.do("GET", "/api/v1/identities/unknown-id", adm, nil), 404, nameNotFound)
	r = e.do("PATCH", "/api/v1/identities/"+idA, adm, map[string]any{"name": "tour-identity-2"})
	want(t, r, 200)
	if r.str("identity", "name") != "tour-identity-2" {
		t.Fatalf("patch identity: %s", r.raw)
	}
	want(t, e.do("PATCH", "/api/v1/identities/unknown-id", adm, map[string]any{"name": "x"}), 404, nameNotFound)
	want(t, e.do("PATCH", "/api/v1/identities/"+idA, adm, map[string]any{"role": "overlord"}), 404, nameNotFound)

	// --- Universal auth and client secrets.
	want(t, e.do("GET", ua+idA, adm, nil), 404, nameNotFound, "Failed to find universal auth")
	want(t, e.do("POST", ua+idA, adm, map[string]any{"accessTokenTTL": 7200, "accessTokenMaxTTL": 3600}), 422, nameValidation)
	r = e.do("POST", ua+idA, adm, map[string]any{"accessTokenTTL": 900, "accessTokenMaxTTL": 3600, "accessTokenNumUsesLimit": 0,
		"clientSecretTrustedIps": []map[string]string{{"ipAddress": "0.0.0.0/0"}, {"ipAddress": "::/0"}}})
	want(t, r, 200)
	clientA := r.str("identityUniversalAuth", "clientId")
	want(t, e.do("POST", ua+idA, adm, map[string]any{}), 400, nameBadRequest, "already configured")
	want(t, e.do("POST", ua+"unknown-id", adm, map[string]any{}), 404, nameNotFound)
	r = e.do("GET", ua+idA, adm, nil)
	want(t, r, 200)
	if r.get("identityUniversalAuth", "accessTokenTTL").(float64) != 900 {
		t.Fatalf("get ua: %s", r.raw)
	}
	want(t, e.do("PATCH", ua+idA, adm, map[string]any{"accessTokenTTL": 1200}), 200)
	want(t, e.do("PATCH", ua+idA, adm, map[string]any{"accessTokenTTL": 7200}), 400, nameBadRequest, "cannot be greater than max TTL")
	want(t, e.do("PATCH", ua+idA, adm, map[string]any{"accessTokenTrustedIps": []map[string]string{{"ipAddress": "not-an-ip"}}}), 400, nameBadRequest, "not a valid")
	want(t, e.do("PATCH", ua+idA, adm, map[string]any{"accessTokenTTL": -1}), 422, nameValidation)

	r = e.do("POST", ua+idA+"/client-secrets", adm, map[string]any{"description": "tour", "ttl": 600, "numUsesLimit": 2})
	want(t, r, 200)
	secretA, csA := r.str("clientSecret"), r.str("clientSecretData", "id")
	if len(secretA) != 64 || r.str("clientSecretData", "clientSecretPrefix") != secretA[:4] {
		t.Fatalf("client secret: %s", r.raw)
	}
	want(t, e.do("POST", ua+idA+"/client-secrets", adm, map[string]any{"ttl": -5}), 422, nameValidation)
	want(t, e.do("POST", ua+"unknown-id/client-secrets", adm, map[string]any{}), 404, nameNotFound)
	r = e.do("GET", ua+idA+"/client-secrets", adm, nil)
	want(t, r, 200)
	if len(r.list("clientSecretData")) != 1 {
		t.Fatalf("list client secrets: %s", r.raw)
	}
	want(t, e.do("GET", ua+idA+"/client-secrets/"+csA, adm, nil), 200)
	want(t, e.do("GET", ua+idA+"/client-secrets/unknown", adm, nil), 404, nameNotFound)
	tokA := e.login(clientA, secretA)

	// The identity exists only in the organization: project routes refuse it.
	want(t, e.do("GET", q("/api/v4/secrets", "projectId", pid, "environment", "staging"), tokA, nil), 403, "ProjectMembershipNotFound")
	// And its org role is no-access.
	want(t, e.do("GET", "/api/v1/identities/"+idA, tokA, nil), 403, namePermission, "You are not allowed to read on identity")

	// --- Project memberships (current paths).
	want(t, e.do("POST", "/api/v1/projects/"+pid+"/memberships/identities/"+idA, adm, map[string]any{}), 400, nameBadRequest, "either role or roles")
	r = e.do("POST", "/api/v1/projects/"+pid+"/memberships/identities/"+idA, adm, map[string]any{"roles": []map[string]any{{"role": "viewer", "isTemporary": false}}})
	want(t, r, 200)
	if r.str("identityMembership", "role") != "viewer" {
		t.Fatalf("membership: %s", r.raw)
	}
	want(t, e.do("POST", "/api/v1/projects/"+pid+"/memberships/identities/"+idA, adm, map[string]any{"role": "viewer"}), 400, nameBadRequest, "already exists")
	want(t, e.do("POST", "/api/v1/projects/"+pid+"/memberships/identities/unknown-id", adm, map[string]any{"role": "viewer"}), 404, nameNotFound)
	want(t, e.do("POST", "/api/v1/projects/proj-none/memberships/identities/"+idA, adm, map[string]any{"role": "viewer"}), 404, nameNotFound, "Project with proj-none not found")
	start := e.kit.Clock.Now().Format(time.RFC3339)
	r = e.do("PATCH", "/api/v1/projects/"+pid+"/memberships/identities/"+idA, adm, map[string]any{"roles": []map[string]any{
		{"role": "no-access", "isTemporary": false},
		{"role": "viewer", "isTemporary": true, "temporaryMode": "relative", "temporaryRange": "1h", "temporaryAccessStartTime": start},
	}})
	want(t, r, 200)
	want(t, e.do("PATCH", "/api/v1/projects/"+pid+"/memberships/identities/"+idA, adm, map[string]any{"roles": []any{}}), 422, nameValidation)
	want(t, e.do("PATCH", "/api/v1/projects/"+pid+"/memberships/identities/"+idA, adm, map[string]any{"roles": []map[string]any{
		{"role": "viewer", "isTemporary": true, "temporaryMode": "relative", "temporaryRange": "soon", "temporaryAccessStartTime": start}}}), 422, nameValidation)
	r = e.do("GET", "/api/v1/projects/"+pid+"/memberships/identities/"+idA, adm, nil)
	want(t, r, 200)
	if roles := r.list("identityMembership", "roles"); len(roles) != 2 {
		t.Fatalf("membership roles: %s", r.raw)
	}
	want(t, e.do("GET", "/api/v1/projects/"+pid+"/memberships/identities/unknown-id", adm, nil), 404, nameNotFound)
	// The temporary viewer role lets it read the queue for an hour.
	want(t, e.do("GET", q("/api/v4/secrets/APPLE_IAP_KEY_ID", "projectId", pid, "environment", "staging", "secretPath", DefaultQueuePath), tokA, nil), 200)
	want(t, e.do("DELETE", "/api/v1/projects/"+pid+"/memberships/identities/"+idA, adm, nil), 200)
	want(t, e.do("DELETE", "/api/v1/projects/"+pid+"/memberships/identities/"+idA, adm, nil), 404, nameNotFound)

	// Deprecated membership paths.
	want(t, e.do("POST", "/api/v1/projects/"+pid+"/identity-memberships/"+idA, adm, map[string]any{"role": "no-access"}), 200)
	want(t, e.do("POST", "/api/v1/projects/"+pid+"/identity-memberships/"+idA, adm, map[string]any{"role": "no-access"}), 400, nameBadRequest)
	want(t, e.do("DELETE", "/api/v1/projects/"+pid+"/identity-memberships/"+idA, adm, nil), 200)
	want(t, e.do("DELETE", "/api/v1/projects/"+pid+"/identity-memberships/"+idA, adm, nil), 404, nameNotFound)
	want(t, e.do("POST", "/api/v1/projects/"+pid+"/memberships/identities/"+idA, adm, map[string]any{"role": "no-access"}), 200)

	// --- Folders (v2, then the deprecated v1).
	r = e.do("POST", "/api/v2/folders", adm, map[string]any{"projectId": pid, "environment": "staging", "name": "tour", "path": DefaultHandoffRoot})
	want(t, r, 200)
	folderID := r.str("folder", "id")
	if r.str("folder", "path") != DefaultHandoffRoot+"/tour" {
		t.Fatalf("folder: %s", r.raw)
	}
	want(t, e.do("POST", "/api/v2/folders", adm, map[string]any{"projectId": pid, "environment": "staging", "name": "tour", "path": DefaultHandoffRoot}), 400, nameBadRequest, "already exists")
	r = e.do("POST", "/api/v2/folders", adm, map[string]any{"projectId": pid, "environment": "staging", "name": "bad name!", "path": "/"})
	want(t, r, 422, nameValidation, "Invalid folder name")
	want(t, e.do("POST", "/api/v2/folders", adm, map[string]any{"projectId": pid, "environment": "qa", "name": "x"}), 404, nameNotFound, "Environment with slug 'qa'")
	// Missing parents are created, as Infisical does.
	r = e.do("POST", "/api/v2/folders", adm, map[string]any{"projectId": pid, "environment": "dev", "name": "leaf", "path": "/a/b"})
	want(t, r, 200)
	if r.str("folder", "path") != "/a/b/leaf" {
		t.Fatalf("nested folder: %s", r.raw)
	}
	r = e.do("GET", q("/api/v2/folders", "projectId", pid, "environment", "staging", "path", DefaultHandoffRoot), adm, nil)
	want(t, r, 200)
	if len(r.list("folders")) != 1 {
		t.Fatalf("folders: %s", r.raw)
	}
	r = e.do("GET", q("/api/v2/folders", "projectId", pid, "environment", "staging", "path", "/", "recursive", "true"), adm, nil)
	want(t, r, 200)
	if len(r.list("folders")) != 5 { // MooseQuest, queue, staging, handoffs, tour
		t.Fatalf("recursive folders: %s", r.raw)
	}
	want(t, e.do("GET", q("/api/v2/folders", "projectId", pid), adm, nil), 422, nameValidation)
	want(t, e.do("GET", q("/api/v2/folders", "projectId", pid, "environment", "staging", "recursive", "yes"), adm, nil), 422, nameValidation)
	r = e.do("GET", "/api/v2/folders/"+folderID, adm, nil)
	want(t, r, 200)
	if r.str("folder", "path") != DefaultHandoffRoot+"/tour" {
		t.Fatalf("folder by id: %s", r.raw)
	}
	want(t, e.do("GET", "/api/v2/folders/unknown", adm, nil), 404, nameNotFound)
	want(t, e.do("PATCH", "/api/v2/folders/"+folderID, adm, map[string]any{"projectId": pid, "environment": "staging", "name": "tour2", "path": DefaultHandoffRoot}), 200)
	want(t, e.do("PATCH", "/api/v2/folders/unknown", adm, map[string]any{"projectId": pid, "environment": "staging", "name": "x", "path": DefaultHandoffRoot}), 404, "UpdateFolder")
	want(t, e.do("PATCH", "/api/v2/folders/"+folderID, adm, map[string]any{"projectId": pid, "environment": "staging"}), 422, nameValidation)

	r = e.do("POST", "/api/v1/folders", adm, map[string]any{"workspaceId": pid, "environment": "dev", "name": "legacy", "directory": "/"})
	want(t, r, 200)
	want(t, e.do("POST", "/api/v1/folders", adm, map[string]any{"workspaceId": pid, "environment": "dev"}), 422, nameValidation)
	r = e.do("GET", q("/api/v1/folders", "workspaceId", pid, "environment", "dev"), adm, nil)
	want(t, r, 200)
	if len(r.list("folders")) != 2 { // a, legacy
		t.Fatalf("v1 folders: %s", r.raw)
	}
	want(t, e.do("GET", q("/api/v1/folders", "workspaceId", pid, "environment", "qa"), adm, nil), 404, nameNotFound)

	// --- Secrets v4.
	sp := DefaultHandoffRoot + "/tour2"
	r = e.do("POST", "/api/v4/secrets/GH_HANDOFF_TOKEN", adm, map[string]any{"projectId": pid, "environment": "staging", "secretPath": sp, "secretValue": "ghs_x  ", "secretComment": "tour"})
	want(t, r, 200)
	if r.str("secret", "secretValue") != "ghs_x" || r.get("secret", "version").(float64) != 1 {
		t.Fatalf("create secret: %s", r.raw)
	}
	want(t, e.do("POST", "/api/v4/secrets/GH_HANDOFF_TOKEN", adm, map[string]any{"projectId": pid, "environment": "staging", "secretPath": sp, "secretValue": "y"}), 400, nameBadRequest, "Secret already exists")
	r = e.do("POST", "/api/v4/secrets/X", adm, map[string]any{"projectId": pid, "environment": "staging", "secretPath": "/x/y", "secretValue": "v"})
	want(t, r, 404, "CreateSecret", "Folder with path '/x/y' in environment with slug 'staging' not found")
	want(t, e.do("POST", "/api/v4/secrets/X", adm, map[string]any{"projectId": pid, "environment": "staging"}), 422, nameValidation)
	want(t, e.do("POST", "/api/v4/secrets/X", adm, map[string]any{"projectId": pid, "environment": "staging", "secretValue": "v", "type": "personal"}), 400, nameBadRequest, "Must be user")

	r = e.do("GET", q("/api/v4/secrets", "projectId", pid, "environment", "staging", "secretPath", sp), adm, nil)
	want(t, r, 200)
	if l := r.list("secrets"); len(l) != 1 || l[0].(map[string]any)["secretPath"] != sp {
		t.Fatalf("list: %s", r.raw)
	}
	r = e.do("GET", q("/api/v4/secrets", "projectId", pid, "environment", "staging", "secretPath", "/MooseQuest", "recursive", "true"), adm, nil)
	want(t, r, 200)
	if l := r.list("secrets"); len(l) != 6 {
		t.Fatalf("recursive list: %d %s", len(l), r.raw)
	}
	want(t, e.do("GET", q("/api/v4/secrets", "projectId", pid), adm, nil), 400, nameBadRequest, "Missing project id or environment")
	want(t, e.do("GET", q("/api/v4/secrets", "projectId", pid, "environment", "staging", "secretPath", "/nowhere"), adm, nil), 404, "SecretPathNotFound")
	want(t, e.do("GET", q("/api/v4/secrets", "projectId", pid, "environment", "staging", "recursive", "1"), adm, nil), 422, nameValidation)

	r = e.do("PATCH", "/api/v4/secrets/GH_HANDOFF_TOKEN", adm, map[string]any{"projectId": pid, "environment": "staging", "secretPath": sp, "secretValue": "ghs_y"})
	want(t, r, 200)
	if r.get("secret", "version").(float64) != 2 || r.str("secret", "secretValue") != "ghs_y" {
		t.Fatalf("update: %s", r.raw)
	}
	want(t, e.do("PATCH", "/api/v4/secrets/NOPE", adm, map[string]any{"projectId": pid, "environment": "staging", "secretPath": sp, "secretValue": "x"}), 404, nameNotFound)
	want(t, e.do("PATCH", "/api/v4/secrets/NOPE", adm, map[string]any{"projectId": pid}), 422, nameValidation)

	r = e.do("GET", q("/api/v4/secrets/GH_HANDOFF_TOKEN", "projectId", pid, "environment", "staging", "secretPath", sp), adm, nil)
	want(t, r, 200)
	if r.str("secret", "secretValue") != "ghs_y" || r.str("secret", "secretPath") != sp {
		t.Fatalf("get: %s", r.raw)
	}
	r = e.do("GET", q("/api/v4/secrets/GH_HANDOFF_TOKEN", "projectId", pid, "environment", "staging", "secretPath", sp, "version", "1"), adm, nil)
	want(t, r, 200)
	if r.str("secret", "secretValue") != "ghs_x" {
		t.Fatalf("get version 1: %s", r.raw)
	}
	want(t, e.do("GET", q("/api/v4/secrets/GH_HANDOFF_TOKEN", "projectId", pid, "secretPath", sp), adm, nil), 400, nameBadRequest, "Missing environment")
	want(t, e.do("GET", q("/api/v4/secrets/NOPE", "projectId", pid, "environment", "staging", "secretPath", sp), adm, nil), 404, nameNotFound)
	want(t, e.do("GET", q("/api/v4/secrets/NOPE", "environment", "staging"), adm, nil), 422, nameValidation)

	// --- Secrets v3 (deprecated, still called by the Go SDK).
	want(t, e.do("POST", "/api/v3/secrets/raw/LEGACY", adm, map[string]any{"workspaceId": pid, "environment": "staging", "secretPath": sp, "secretValue": "old"}), 200)
	want(t, e.do("POST", "/api/v3/secrets/raw/LEGACY", adm, map[string]any{"workspaceId": pid, "environment": "staging", "secretPath": sp, "secretValue": "old"}), 400, nameBadRequest)
	want(t, e.do("POST", "/api/v3/secrets/raw/LEGACY", adm, map[string]any{"environment": "staging", "secretValue": "old"}), 422, nameValidation)
	r = e.do("GET", q("/api/v3/secrets/raw", "workspaceId", pid, "environment", "staging", "secretPath", sp), adm, nil)
	want(t, r, 200)
	if len(r.list("secrets")) != 2 {
		t.Fatalf("v3 list: %s", r.raw)
	}
	want(t, e.do("GET", q("/api/v3/secrets/raw", "workspaceSlug", DefaultProjectSlug, "environment", "staging", "secretPath", sp), adm, nil), 200)
	want(t, e.do("GET", q("/api/v3/secrets/raw", "environment", "staging"), adm, nil), 400, nameBadRequest)
	want(t, e.do("GET", q("/api/v3/secrets/raw/LEGACY", "workspaceId", pid, "environment", "staging", "secretPath", sp), adm, nil), 200)
	want(t, e.do("GET", q("/api/v3/secrets/raw/NOPE", "workspaceId", pid, "environment", "staging", "secretPath", sp), adm, nil), 404, nameNotFound)
	want(t, e.do("PATCH", "/api/v3/secrets/raw/LEGACY", adm, map[string]any{"workspaceId": pid, "environment": "staging", "secretPath": sp, "secretValue": "new"}), 200)
	want(t, e.do("PATCH", "/api/v3/secrets/raw/NOPE", adm, map[string]any{"workspaceId": pid, "environment": "staging", "secretPath": sp, "secretValue": "new"}), 404, nameNotFound)
	want(t, e.do("DELETE", "/api/v3/secrets/raw/LEGACY", adm, map[string]any{"workspaceId": pid, "environment": "staging", "secretPath": sp}), 200)
	want(t, e.do("DELETE", "/api/v3/secrets/raw/LEGACY", adm, map[string]any{"workspaceId": pid, "environment": "staging", "secretPath": sp}), 404, nameNotFound)
	want(t, e.do("DELETE", "/api/v3/secrets/raw/LEGACY", adm, map[string]any{"environment": "staging"}), 422, nameValidation)

	// --- Batch secrets v4, then the deprecated v3.
	batch := func(keys ...string) []map[string]any {
		var out []map[string]any
		for _, k := range keys {
			out = append(out, map[string]any{"secretKey": k, "secretValue": "v-" + k})
		}
		return out
	}
	r = e.do("POST", "/api/v4/secrets/batch", adm, map[string]any{"projectId": pid, "environment": "staging", "secretPath": sp, "secrets": batch("B1", "B2")})
	want(t, r, 200)
	if len(r.list("secrets")) != 2 {
		t.Fatalf("batch create: %s", r.raw)
	}
	want(t, e.do("POST", "/api/v4/secrets/batch", adm, map[string]any{"projectId": pid, "environment": "staging", "secretPath": sp, "secrets": batch("B3", "B1")}), 400, nameBadRequest, "Secret already exists: B1")
	want(t, e.do("POST", "/api/v4/secrets/batch", adm, map[string]any{"projectId": pid, "environment": "staging", "secretPath": "/x/y", "secrets": batch("B3")}), 404, "CreateManySecret")
	want(t, e.do("POST", "/api/v4/secrets/batch", adm, map[string]any{"projectId": pid, "environment": "staging", "secrets": []any{}}), 422, nameValidation)
	r = e.do("PATCH", "/api/v4/secrets/batch", adm, map[string]any{"projectId": pid, "environment": "staging", "secretPath": sp, "mode": "upsert", "secrets": batch("B2", "B3")})
	want(t, r, 200)
	if len(r.list("secrets")) != 2 {
		t.Fatalf("batch upsert: %s", r.raw)
	}
	want(t, e.do("PATCH", "/api/v4/secrets/batch", adm, map[string]any{"projectId": pid, "environment": "staging", "secretPath": sp, "secrets": batch("B1", "B9")}), 404, nameNotFound, "Secret does not exist: B9 in path "+sp)
	want(t, e.do("PATCH", "/api/v4/secrets/batch", adm, map[string]any{"workspaceId": pid, "environment": "staging", "secrets": batch("B1")}), 422, nameValidation)
	r = e.do("DELETE", "/api/v4/secrets/batch", adm, map[string]any{"projectId": pid, "environment": "staging", "secretPath": sp, "secrets": []map[string]string{{"secretKey": "B2"}, {"secretKey": "B3"}}})
	want(t, r, 200)
	if len(r.list("secrets")) != 2 {
		t.Fatalf("batch delete: %s", r.raw)
	}
	want(t, e.do("DELETE", "/api/v4/secrets/batch", adm, map[string]any{"projectId": pid, "environment": "staging", "secretPath": sp, "secrets": []map[string]string{{"secretKey": "B1"}, {"secretKey": "B2"}}}), 404, nameNotFound, "One or more secrets does not exist: B1")
	want(t, e.do("DELETE", "/api/v4/secrets/batch", adm, map[string]any{"projectId": pid, "environment": "staging", "secretPath": sp}), 422, nameValidation)
	r = e.do("POST", "/api/v3/secrets/batch/raw", adm, map[string]any{"workspaceId": pid, "environment": "staging", "secretPath": sp, "secrets": batch("R1", "R2")})
	want(t, r, 200)
	want(t, e.do("POST", "/api/v3/secrets/batch/raw", adm, map[string]any{"projectId": pid, "environment": "staging", "secretPath": sp, "secrets": batch("R3")}), 400, nameBadRequest, "Must provide either project slug or projectId")
	want(t, e.do("PATCH", "/api/v3/secrets/batch/raw", adm, map[string]any{"projectSlug": DefaultProjectSlug, "environment": "staging", "secretPath": sp, "mode": "ignore", "secrets": batch("R1", "R9")}), 200)
	want(t, e.do("PATCH", "/api/v3/secrets/batch/raw", adm, map[string]any{"workspaceId": pid, "environment": "staging", "secretPath": sp, "secrets": batch("R9")}), 404, nameNotFound)
	want(t, e.do("DELETE", "/api/v3/secrets/batch/raw", adm, map[string]any{"workspaceId": pid, "environment": "staging", "secretPath": sp, "secrets": []map[string]string{{"secretKey": "R1"}, {"secretKey": "R2"}}}), 200)
	want(t, e.do("DELETE", "/api/v3/secrets/batch/raw", adm, map[string]any{"workspaceId": pid, "environment": "staging", "secretPath": "/x/y", "secrets": []map[string]string{{"secretKey": "R1"}}}), 404, "DeleteManySecret")

	// --- Additional privileges v2.
	perm := []map[string]any{{"subject": "secrets", "action": []string{"read"},
		"conditions": map[string]any{"environment": "staging", "secretPath": map[string]any{"$glob": sp + "/**"}}}}
	want(t, e.do("POST", "/api/v2/identity-project-additional-privilege", adm, map[string]any{"identityId": idA, "projectId": pid, "slug": "tour-read",
		"permissions": []map[string]any{{"subject": "secrets", "action": []string{"peek"}}}, "type": map[string]any{"isTemporary": false}}), 422, nameValidation)
	want(t, e.do("POST", "/api/v2/identity-project-additional-privilege", adm, map[string]any{"identityId": idA, "projectId": pid, "slug": "tour-read",
		"permissions": []map[string]any{{"subject": "secrets", "action": []string{"read", "readValue"}}}, "type": map[string]any{"isTemporary": false}}), 400, nameBadRequest, "legacy action")
	want(t, e.do("POST", "/api/v2/identity-project-additional-privilege", adm, map[string]any{"identityId": e.srv.ProvisionerIdentityID() + "x", "projectId": pid,
		"permissions": perm, "type": map[string]any{"isTemporary": false}}), 404, nameNotFound)
	r = e.do("POST", "/api/v2/identity-project-additional-privilege", adm, map[string]any{"identityId": idA, "projectId": pid, "slug": "tour-read",
		"permissions": perm, "type": map[string]any{"isTemporary": true, "temporaryMode": "relative", "temporaryRange": "2h", "temporaryAccessStartTime": start}})
	want(t, r, 200)
	privA := r.str("privilege", "id")
	if r.str("privilege", "temporaryAccessEndTime") != t0.Add(2*time.Hour).Format(time.RFC3339) {
		t.Fatalf("privilege end: %s", r.raw)
	}
	want(t, e.do("POST", "/api/v2/identity-project-additional-privilege", adm, map[string]any{"identityId": idA, "projectId": pid, "slug": "tour-read",
		"permissions": perm, "type": map[string]any{"isTemporary": false}}), 400, nameBadRequest, "slug exist")
	r = e.do("GET", q("/api/v2/identity-project-additional-privilege", "identityId", idA, "projectId", pid), adm, nil)
	want(t, r, 200)
	if len(r.list("privileges")) != 1 {
		t.Fatalf("privileges: %s", r.raw)
	}
	want(t, e.do("GET", q("/api/v2/identity-project-additional-privilege", "identityId", idA), adm, nil), 422, nameValidation)
	want(t, e.do("GET", "/api/v2/identity-project-additional-privilege/"+privA, adm, nil), 200)
	want(t, e.do("GET", "/api/v2/identity-project-additional-privilege/unknown", adm, nil), 404, nameNotFound)
	want(t, e.do("PATCH", "/api/v2/identity-project-additional-privilege/"+privA, adm, map[string]any{"slug": "tour-read-2", "permissions": perm,
		"type": map[string]any{"isTemporary": false}}), 200)
	want(t, e.do("PATCH", "/api/v2/identity-project-additional-privilege/"+privA, adm, map[string]any{"type": map[string]any{"isTemporary": "yes"}}), 422, nameValidation)
	want(t, e.do("PATCH", "/api/v2/identity-project-additional-privilege/unknown", adm, map[string]any{"slug": "x", "permissions": perm,
		"type": map[string]any{"isTemporary": false}}), 404, nameNotFound, "Privilege with id unknown not found")
	// The privilege grants reads of the folder and below to tokA.
	want(t, e.do("GET", q("/api/v4/secrets/GH_HANDOFF_TOKEN", "projectId", pid, "environment", "staging", "secretPath", sp), tokA, nil), 200)
	want(t, e.do("DELETE", "/api/v2/identity-project-additional-privilege/"+privA, adm, nil), 200)
	want(t, e.do("DELETE", "/api/v2/identity-project-additional-privilege/"+privA, adm, nil), 404, nameNotFound)

	// --- Additional privileges v1.
	r = e.do("POST", "/api/v1/additional-privilege/identity/permanent", adm, map[string]any{"identityId": idA, "projectSlug": DefaultProjectSlug, "slug": "v1-perm",
		"permissions": []map[string]any{{"action": "read", "subject": "secrets", "conditions": map[string]any{"environment": "staging", "secretPath": map[string]any{"$glob": sp + "/**"}}}}})
	want(t, r, 200)
	want(t, e.do("POST", "/api/v1/additional-privilege/identity/permanent", adm, map[string]any{"identityId": idA, "projectSlug": DefaultProjectSlug}), 422, nameValidation)
	want(t, e.do("POST", "/api/v1/additional-privilege/identity/permanent", adm, map[string]any{"identityId": idA, "projectSlug": "nope",
		"privilegePermission": map[string]any{"actions": []string{"read"}, "subject": "secrets"}}), 404, nameNotFound)
	r = e.do("POST", "/api/v1/additional-privilege/identity/temporary", adm, map[string]any{"identityId": idA, "projectSlug": DefaultProjectSlug, "slug": "v1-temp",
		"privilegePermission": map[string]any{"actions": []string{"read"}, "subject": "secrets", "conditions": map[string]any{"environment": "dev"}},
		"temporaryMode":       "relative", "temporaryRange": "30m", "temporaryAccessStartTime": start})
	want(t, r, 200)
	if r.get("privilege", "isTemporary") != true {
		t.Fatalf("v1 temporary: %s", r.raw)
	}
	want(t, e.do("POST", "/api/v1/additional-privilege/identity/temporary", adm, map[string]any{"identityId": idA, "projectSlug": DefaultProjectSlug,
		"privilegePermission": map[string]any{"actions": []string{"read"}, "subject": "secrets"}}), 422, nameValidation)
	r = e.do("GET", q("/api/v1/additional-privilege/identity", "identityId", idA, "projectSlug", DefaultProjectSlug), adm, nil)
	want(t, r, 200)
	if len(r.list("privileges")) != 2 {
		t.Fatalf("v1 list: %s", r.raw)
	}
	want(t, e.do("GET", q("/api/v1/additional-privilege/identity", "identityId", idA, "projectSlug", "nope"), adm, nil), 404, nameNotFound)
	want(t, e.do("DELETE", "/api/v1/additional-privilege/identity", adm, map[string]any{"privilegeSlug": "v1-temp", "identityId": idA, "projectSlug": DefaultProjectSlug}), 200)
	want(t, e.do("DELETE", "/api/v1/additional-privilege/identity", adm, map[string]any{"privilegeSlug": "v1-temp", "identityId": idA, "projectSlug": DefaultProjectSlug}), 404, nameNotFound)
	want(t, e.do("DELETE", "/api/v1/additional-privilege/identity", adm, map[string]any{"identityId": idA}), 422, nameValidation)

	// --- Writes the identity may not do, and the delete of what remains.
	want(t, e.do("POST", "/api/v4/secrets/NEW", tokA, map[string]any{"projectId": pid, "environment": "staging", "secretPath": sp, "secretValue": "x"}), 403, namePermission, "create on secrets")
	want(t, e.do("PATCH", "/api/v4/secrets/GH_HANDOFF_TOKEN", tokA, map[string]any{"projectId": pid, "environment": "staging", "secretPath": sp, "secretValue": "x"}), 403, namePermission, "edit on secrets")
	want(t, e.do("DELETE", "/api/v4/secrets/GH_HANDOFF_TOKEN", tokA, map[string]any{"projectId": pid, "environment": "staging", "secretPath": sp}), 403, namePermission, "delete on secrets")
	want(t, e.do("POST", "/api/v2/folders", tokA, map[string]any{"projectId": pid, "environment": "staging", "name": "x", "path": sp}), 403, namePermission, "create on secret-folders")
	want(t, e.do("DELETE", "/api/v4/secrets/GH_HANDOFF_TOKEN", adm, map[string]any{"projectId": pid, "environment": "staging", "secretPath": sp}), 200)
	want(t, e.do("DELETE", "/api/v4/secrets/GH_HANDOFF_TOKEN", adm, map[string]any{"projectId": pid, "environment": "staging", "secretPath": sp}), 404, nameNotFound)
	want(t, e.do("DELETE", "/api/v4/secrets/GH_HANDOFF_TOKEN", adm, map[string]any{"projectId": pid}), 422, nameValidation)

	want(t, e.do("POST", "/api/v4/secrets/KEEP", adm, map[string]any{"projectId": pid, "environment": "staging", "secretPath": sp, "secretValue": "v"}), 200)
	want(t, e.do("DELETE", "/api/v2/folders/tour2", adm, map[string]any{"projectId": pid, "environment": "staging", "path": DefaultHandoffRoot}), 400, "deleteFolder", "contains resources")
	want(t, e.do("DELETE", "/api/v2/folders/"+folderID, adm, map[string]any{"projectId": pid, "environment": "staging", "path": DefaultHandoffRoot, "forceDelete": true}), 200)
	want(t, e.do("DELETE", "/api/v2/folders/"+folderID, adm, map[string]any{"projectId": pid, "environment": "staging", "path": DefaultHandoffRoot, "forceDelete": true}), 404, nameNotFound)
	want(t, e.do("DELETE", "/api/v2/folders/x", adm, map[string]any{"projectId": pid}), 422, nameValidation)
	want(t, e.do("DELETE", "/api/v1/folders/legacy", adm, map[string]any{"workspaceId": pid, "environment": "dev", "directory": "/"}), 200)
	want(t, e.do("DELETE", "/api/v1/folders/legacy", adm, map[string]any{"workspaceId": pid, "environment": "dev", "directory": "/"}), 404, nameNotFound)

	// --- Client secret revocation, universal auth removal, identity deletion.
	want(t, e.do("POST", ua+idA+"/client-secrets/"+csA+"/revoke", adm, nil), 200)
	want(t, e.do("POST", ua+idA+"/client-secrets/unknown/revoke", adm, nil), 404, nameNotFound)
	want(t, e.do("POST", "/api/v1/auth/universal-auth/login", "", map[string]any{"clientId": clientA, "clientSecret": secretA}), 401, nameUnauthorized)
	want(t, e.do("DELETE", ua+idA, adm, nil), 200)
	want(t, e.do("DELETE", ua+idA, adm, nil), 400, nameBadRequest, "does not have universal auth")
	want(t, e.do("GET", ua+idA+"/client-secrets", adm, nil), 400, nameBadRequest)
	want(t, e.do("DELETE", "/api/v1/identities/"+idA, adm, nil), 200)
	want(t, e.do("DELETE", "/api/v1/identities/"+idA, adm, nil), 404, nameNotFound)
	// Its token died with it.
	want(t, e.do("GET", q("/api/v4/secrets", "projectId", pid, "environment", "staging"), tokA, nil), 401, nameUnauthorized)

	// --- Audit log.
	r = e.do("GET", q("/api/v1/organization/audit-logs", "eventType", "create-secret,delete-secret", "limit", "50"), adm, nil)
	want(t, r, 200)
	if n := len(r.list("auditLogs")); n != 5 { // 3 creates, 2 deletes
		t.Fatalf("audit logs: %d %s", n, r.raw)
	}
	r = e.do("GET", q("/api/v1/organization/audit-logs", "secretKey", "GH_HANDOFF_TOKEN", "actorType", "identity", "offset", "1", "limit", "1"), adm, nil)
	want(t, r, 200)
	if n := len(r.list("auditLogs")); n != 1 {
		t.Fatalf("audit page: %s", r.raw)
	}
	want(t, e.do("GET", q("/api/v1/organization/audit-logs", "limit", "5000"), adm, nil), 422, nameValidation)
	want(t, e.do("GET", q("/api/v1/organization/audit-logs", "startDate", "2026-06-22T00:00:00Z", "endDate", "2026-06-21T00:00:00Z"), adm, nil), 422, nameValidation)

	// --- Token errors on an authenticated route; rate limiting.
	want(t, e.do("GET", "/api/v1/organization/audit-logs", "", nil), 401, nameUnauthorized, "Token missing")
	want(t, e.do("GET", "/api/v1/organization/audit-logs", "not-a-jwt", nil), 403, nameToken, "malformed")
	if err := e.srv.SetRateLimits(RateLimits{Classes: map[string]int{"readLimit": 1}}); err != nil {
		t.Fatal(err)
	}
	want(t, e.do("GET", "/api/v1/organization/audit-logs", adm, nil), 200)
	r = e.do("GET", "/api/v1/organization/audit-logs", adm, nil)
	want(t, r, 429, nameRateLimit, "Rate limit exceeded. Please try again in 60 seconds")
	if r.header.Get("Retry-After") != "60" {
		t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
	}
	if err := e.srv.SetRateLimits(RateLimits{}); err != nil {
		t.Fatal(err)
	}

	if u := e.v.Uncovered(); len(u) > 0 {
		t.Errorf("operations never exercised:\n  %s", strings.Join(u, "\n  "))
	}
	for _, op := range e.v.Operations() {
		if st := e.v.Statuses(op); len(st) < 2 {
			t.Errorf("%s: only statuses %v exercised; want a success and an error", op, st)
		}
	}
}
