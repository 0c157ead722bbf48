package infisicalsrv

import (
	"strings"
	"testing"
	"time"
)

// newIdentity makes an org no-access identity with universal auth (body
// of the attach call) and one client secret (body of its create call),
// member of the project as viewer.
func (e *testEnv) newIdentity(adm, name string, uaBody, csBody map[string]any) (id, clientID, secret string) {
	e.t.Helper()
	r := e.do("POST", "/api/v1/identities", adm, map[string]any{"name": name, "organizationId": DefaultOrganizationID})
	want(e.t, r, 200)
	id = r.str("identity", "id")
	r = e.do("POST", "/api/v1/auth/universal-auth/identities/"+id, adm, uaBody)
	want(e.t, r, 200)
	clientID = r.str("identityUniversalAuth", "clientId")
	r = e.do("POST", "/api/v1/auth/universal-auth/identities/"+id+"/client-secrets", adm, csBody)
	want(e.t, r, 200)
	secret = r.str("clientSecret")
	want(e.t, e.do("POST", "/api/v1/projects/"+DefaultProjectID+"/memberships/identities/"+id, adm, map[string]any{"role": "viewer"}), 200)
	return id, clientID, secret
}

var readKeyID = q("/api/v4/secrets/APPLE_IAP_KEY_ID", "projectId", DefaultProjectID, "environment", "staging", "secretPath", DefaultQueuePath)

func TestAccessTokenTTLAndRenew(t *testing.T) {
	e := newTestEnv(t)
	adm := e.admin()
	_, cid, secret := e.newIdentity(adm, "ttl", map[string]any{"accessTokenTTL": 900, "accessTokenMaxTTL": 2000}, map[string]any{})
	r := e.do("POST", "/api/v1/auth/universal-auth/login", "", map[string]any{"clientId": cid, "clientSecret": secret})
	want(t, r, 200)
	if r.get("expiresIn").(float64) != 900 || r.get("accessTokenMaxTTL").(float64) != 2000 {
		t.Fatalf("login: %s", r.raw)
	}
	tok := r.str("accessToken")
	if len(e.srv.LiveAccessTokens()) != 2 { // the provisioner's and this one
		t.Fatalf("live tokens: %+v", e.srv.LiveAccessTokens())
	}
	e.kit.Clock.Advance(899 * time.Second)
	want(t, e.do("GET", readKeyID, tok, nil), 200)
	// Renewing extends by the TTL, within the max TTL.
	r = e.do("POST", "/api/v1/auth/token/renew", "", map[string]any{"accessToken": tok})
	want(t, r, 200)
	renewed := r.str("accessToken")
	e.kit.Clock.Advance(2 * time.Second)
	want(t, e.do("GET", readKeyID, tok, nil), 403, nameToken, msgTokenExpired)
	want(t, e.do("GET", readKeyID, renewed, nil), 200)
	// 1200 s in, a renewal would end at 2100, past the 2000 s max TTL.
	e.kit.Clock.Advance(299 * time.Second)
	want(t, e.do("GET", readKeyID, renewed, nil), 200)
	want(t, e.do("POST", "/api/v1/auth/token/renew", "", map[string]any{"accessToken": renewed}), 401, nameUnauthorized, "past its Max TTL")
	want(t, e.do("GET", readKeyID, renewed, nil), 401, nameUnauthorized, msgNoToken)
	// Expired tokens cannot be renewed either.
	want(t, e.do("POST", "/api/v1/auth/token/renew", "", map[string]any{"accessToken": tok}), 403, nameToken, msgTokenExpired)
	if n := len(e.srv.LiveAccessTokens()); n != 1 {
		t.Fatalf("live tokens after expiry: %d", n)
	}
}

func TestAccessTokenUseLimitAndRevocation(t *testing.T) {
	e := newTestEnv(t)
	adm := e.admin()
	id, cid, secret := e.newIdentity(adm, "uses", map[string]any{"accessTokenNumUsesLimit": 2}, map[string]any{})
	tok := e.login(cid, secret)
	want(t, e.do("GET", readKeyID, tok, nil), 200)
	want(t, e.do("GET", readKeyID, tok, nil), 200)
	want(t, e.do("GET", readKeyID, tok, nil), 401, nameUnauthorized, "number of uses limit reached")
	want(t, e.do("GET", readKeyID, tok, nil), 401, nameUnauthorized, msgNoToken)

	tok = e.login(cid, secret)
	want(t, e.do("POST", "/api/v1/auth/token/revoke", "", map[string]any{"accessToken": tok}), 200)
	want(t, e.do("GET", readKeyID, tok, nil), 401, nameUnauthorized, msgNoToken)

	// A deleted identity's tokens stop at once.
	tok = e.login(cid, secret)
	want(t, e.do("DELETE", "/api/v1/identities/"+id, adm, nil), 200)
	want(t, e.do("GET", readKeyID, tok, nil), 401, nameUnauthorized)

	// Garbage, a foreign signature, alg none.
	want(t, e.do("GET", readKeyID, "x.y", nil), 403, nameToken, "malformed")
	want(t, e.do("GET", readKeyID, "e30.e30.c2ln", nil), 403, nameToken)
	forged := tok[:strings.LastIndex(tok, ".")+1] + "AAAA"
	want(t, e.do("GET", readKeyID, forged, nil), 403, nameToken, "invalid signature")
	want(t, e.do("GET", readKeyID, "eyJhbGciOiJub25lIn0.e30.", nil), 403, nameToken, "invalid algorithm")
	// authHeader.slice(7) of "Bearer" is empty: jsonwebtoken's complaint.
	want(t, e.doRaw("GET", readKeyID, "", nil, "Authorization", "Bearer"), 403, nameToken, "jwt must be provided")
}

func TestClientSecretTTLUsesAndLockout(t *testing.T) {
	e := newTestEnv(t)
	adm := e.admin()
	id, cid, secret := e.newIdentity(adm, "cs", map[string]any{}, map[string]any{"ttl": 40, "numUsesLimit": 2})
	login := func(s string) resp {
		return e.do("POST", "/api/v1/auth/universal-auth/login", "", map[string]any{"clientId": cid, "clientSecret": s})
	}
	want(t, login(secret), 200)
	want(t, login(secret), 200)
	want(t, login(secret), 401, nameUnauthorized, "usage limit reached")
	want(t, login(secret), 401, nameUnauthorized, msgInvalidCredentials) // it is now revoked
	if cs := e.srv.ClientSecrets(id); len(cs) != 1 || !cs[0].Revoked || cs[0].NumUses != 2 {
		t.Fatalf("client secret: %+v", cs)
	}

	r := e.do("POST", "/api/v1/auth/universal-auth/identities/"+id+"/client-secrets", adm, map[string]any{"ttl": 40})
	secret2 := r.str("clientSecret")
	tok := e.login(cid, secret2)
	e.kit.Clock.Advance(41 * time.Second)
	want(t, login(secret2), 401, nameUnauthorized, "expired client secret")
	// Tokens issued before keep their own TTL.
	want(t, e.do("GET", readKeyID, tok, nil), 200)

	// Lockout: 3 failures lock the client id for 300 s, the right secret
	// included.
	secret3 := e.do("POST", "/api/v1/auth/universal-auth/identities/"+id+"/client-secrets", adm, map[string]any{}).str("clientSecret")
	for i := 0; i < 3; i++ {
		want(t, login(secret3[:10]+"wrong"), 401, nameUnauthorized, msgInvalidCredentials)
	}
	want(t, login(secret3), 401, nameUnauthorized, "temporarily locked")
	r = e.do("GET", "/api/v1/identities/"+id, adm, nil)
	if l := r.list("identity", "identity", "activeLockoutAuthMethods"); len(l) != 1 {
		t.Fatalf("lockout not reported: %s", r.raw)
	}
	e.kit.Clock.Advance(300 * time.Second)
	want(t, login(secret3), 200)
	// Failures spaced beyond the counter reset never lock.
	for i := 0; i < 5; i++ {
		want(t, login("bad-"+secret3), 401, nameUnauthorized, msgInvalidCredentials)
		e.kit.Clock.Advance(31 * time.Second)
	}
	want(t, login(secret3), 200)
}

func TestTrustedIPs(t *testing.T) {
	e := newTestEnv(t)
	adm := e.admin()
	_, cid, secret := e.newIdentity(adm, "ips", map[string]any{
		"clientSecretTrustedIps": []map[string]string{{"ipAddress": "10.0.0.0/8"}},
		"accessTokenTrustedIps":  []map[string]string{{"ipAddress": "10.0.0.0/8"}, {"ipAddress": "127.0.0.1"}},
	}, map[string]any{})
	body := map[string]any{"clientId": cid, "clientSecret": secret}
	// Loopback is the client IP here, and it is not trusted for login.
	want(t, e.do("POST", "/api/v1/auth/universal-auth/login", "", body), 403, nameForbidden, msgIPNotAllowed)
	r := e.do("POST", "/api/v1/auth/universal-auth/login", "", body, "X-Forwarded-For", "10.1.2.3")
	want(t, r, 200)
	tok := r.str("accessToken")
	want(t, e.do("GET", readKeyID, tok, nil), 200)
	want(t, e.do("GET", readKeyID, tok, nil, "X-Forwarded-For", "192.0.2.1"), 403, nameForbidden, msgIPNotAllowed)

	// An unlicensed instance refuses ranges other than anywhere.
	fx := DefaultFixture()
	fx.Settings.NoIPAllowlisting = true
	e2 := newTestEnv(t, fx)
	adm2 := e2.admin()
	r = e2.do("POST", "/api/v1/identities", adm2, map[string]any{"name": "x", "organizationId": DefaultOrganizationID})
	want(t, e2.do("POST", "/api/v1/auth/universal-auth/identities/"+r.str("identity", "id"), adm2, map[string]any{
		"clientSecretTrustedIps": []map[string]string{{"ipAddress": "10.0.0.0/8"}}}), 400, nameBadRequest, "plan restriction")
}
