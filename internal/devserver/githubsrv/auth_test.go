package githubsrv

import (
	"crypto/rand"
	"crypto/rsa"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestAppJWT checks the App's JWT as GitHub does, claim by claim.
func TestAppJWT(t *testing.T) {
	e := newEnv(t, nil)
	now := testNow.Unix()
	id := DefaultAppID
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	signWith := func(method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(method, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	cases := []struct {
		name   string
		token  string
		status int
		msg    string
	}{
		{"iss as number", e.sign(jwt.MapClaims{"iat": now - 60, "exp": now + 540, "iss": id}), 200, ""},
		{"iss as string", e.sign(jwt.MapClaims{"iat": now - 60, "exp": now + 540, "iss": strconv.FormatInt(id, 10)}), 200, ""},
		{"iss as client id", e.sign(jwt.MapClaims{"iat": now - 60, "exp": now + 540, "iss": DefaultAppClientID}), 200, ""},
		{"exactly ten minutes", e.sign(jwt.MapClaims{"iat": now, "exp": now + 600, "iss": id}), 200, ""},
		{"iat within skew", e.sign(jwt.MapClaims{"iat": now + 60, "exp": now + 120, "iss": id}), 200, ""},
		{"not a JWT", "Bearer garbage", 401, msgJWTUndecodable},
		{"HS256", signWith(jwt.SigningMethodHS256, []byte("secret"), jwt.MapClaims{"iat": now - 60, "exp": now + 540, "iss": id}), 401, msgJWTUndecodable},
		{"alg none", signWith(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, jwt.MapClaims{"iat": now - 60, "exp": now + 540, "iss": id}), 401, msgJWTUndecodable},
		{"another key", signWith(jwt.SigningMethodRS256, other, jwt.MapClaims{"iat": now - 60, "exp": now + 540, "iss": id}), 401, msgJWTUndecodable},
		{"no iss", e.sign(jwt.MapClaims{"iat": now - 60, "exp": now + 540}), 401, msgJWTIssMissing},
		{"iss not an integer", e.sign(jwt.MapClaims{"iat": now - 60, "exp": now + 540, "iss": "handoff"}), 401, msgJWTIssNotInteger},
		{"another app", e.sign(jwt.MapClaims{"iat": now - 60, "exp": now + 540, "iss": 7}), 404, msgIntegrationAbsent},
		{"no exp", e.sign(jwt.MapClaims{"iat": now - 60, "iss": id}), 401, msgJWTExp},
		{"exp past", e.sign(jwt.MapClaims{"iat": now - 600, "exp": now - 1, "iss": id}), 401, msgJWTExp},
		{"exp a string", e.sign(jwt.MapClaims{"iat": now - 60, "exp": "soon", "iss": id}), 401, msgJWTExp},
		{"no iat", e.sign(jwt.MapClaims{"exp": now + 540, "iss": id}), 401, msgJWTIat},
		{"iat fractional", e.sign(jwt.MapClaims{"iat": float64(now) - 0.5, "exp": now + 540, "iss": id}), 401, msgJWTIat},
		{"iat in the future", e.sign(jwt.MapClaims{"iat": now + 61, "exp": now + 300, "iss": id}), 401, msgJWTIat},
		{"life over ten minutes", e.sign(jwt.MapClaims{"iat": now - 60, "exp": now + 600, "iss": id}), 401, msgJWTExpTooFar},
		{"exp too far from now", e.sign(jwt.MapClaims{"iat": now + 30, "exp": now + 601, "iss": id}), 401, msgJWTExpTooFar},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			auth := tc.token
			if !strings.HasPrefix(auth, "Bearer ") {
				auth = "Bearer " + auth
			}
			r := e.do("GET", "/app", auth, nil)
			expect(t, r, tc.status, tc.msg)
			if tc.status == 401 && r.header.Get("X-Ratelimit-Limit") != strconv.Itoa(DefaultUnauthenticatedPerHour) {
				t.Errorf("a failed JWT is counted per address: X-RateLimit-Limit %q", r.header.Get("X-Ratelimit-Limit"))
			}
		})
	}

	t.Run("no credential", func(t *testing.T) {
		expect(t, e.do("GET", "/app", "", nil), 401, msgJWTUndecodable)
	})
	t.Run("an installation token is not a JWT", func(t *testing.T) {
		tok := e.mint(DefaultInstallationID, nil)
		expect(t, e.do("GET", "/app", "Bearer "+tok, nil), 401, msgJWTUndecodable)
		expect(t, e.do("GET", "/app/installations", "token "+tok, nil), 401, msgJWTUndecodable)
	})
	t.Run("a JWT expires with the clock", func(t *testing.T) {
		tok := e.jwt()
		expect(t, e.do("GET", "/app", "Bearer "+tok, nil), 200, "")
		e.kit.Clock.Advance(9 * time.Minute)
		expect(t, e.do("GET", "/app", "Bearer "+tok, nil), 401, msgJWTExp)
		e.kit.Clock.Set(testNow)
	})
}

// TestTokenSchemes accepts an installation token as "token" and as
// "Bearer", and refuses what is not a live token.
func TestTokenSchemes(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.mint(DefaultInstallationID, nil)
	for _, auth := range []string{"token " + tok, "Bearer " + tok, "bearer " + tok, "TOKEN " + tok} {
		expect(t, e.do("GET", "/installation/repositories", auth, nil), 200, "")
	}
	for _, tc := range []struct {
		auth, msg string
		status    int
	}{
		{"", msgRequiresAuth, 401},
		{"token ghs_unknownunknownunknownunknownunknown", msgBadCredentials, 401},
		{"Basic dXNlcjpwYXNz", msgBadCredentials, 401},
		{"token", msgBadCredentials, 401},
		{"Bearer " + e.jwt(), msgListReposNeedsToken, 403},
	} {
		expect(t, e.do("GET", "/installation/repositories", tc.auth, nil), tc.status, tc.msg)
	}
	// A bad credential is refused even where no credential is needed.
	expect(t, e.do("GET", "/meta", "token nope", nil), 401, msgBadCredentials)
	expect(t, e.do("GET", "/meta", "", nil), 200, "")
}

// TestTokenExpiry: an installation token lives one hour, and one revoked
// with DELETE /installation/token is dead at once.
func TestTokenExpiry(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.mint(DefaultInstallationID, nil)
	r := e.do("GET", "/repos/raxx-app/TradeMasterAPI", "token "+tok, nil)
	expect(t, r, 200, "")
	if got, want := r.header.Get("Github-Authentication-Token-Expiration"), "2026-11-23 13:00:00 UTC"; got != want {
		t.Errorf("GitHub-Authentication-Token-Expiration %q, want %q", got, want)
	}
	if live := e.srv.LiveTokens(); len(live) != 1 || live[0].Fingerprint != Fingerprint(tok) || live[0].Last4 != tok[len(tok)-4:] {
		t.Fatalf("LiveTokens %+v", live)
	}

	e.kit.Clock.Advance(59*time.Minute + 59*time.Second)
	expect(t, e.do("GET", "/repos/raxx-app/TradeMasterAPI", "token "+tok, nil), 200, "")
	e.kit.Clock.Advance(time.Second)
	expect(t, e.do("GET", "/repos/raxx-app/TradeMasterAPI", "token "+tok, nil), 401, msgBadCredentials)
	if live := e.srv.LiveTokens(); len(live) != 0 {
		t.Errorf("an expired token is still live: %+v", live)
	}
	if all := e.srv.Tokens(); len(all) != 1 || !all[0].Expired || all[0].Revoked {
		t.Errorf("Tokens %+v", all)
	}
	// An expired token cannot be revoked (nor needs to be).
	expect(t, e.do("DELETE", "/installation/token", "token "+tok, nil), 401, msgBadCredentials)

	fresh := e.mint(DefaultInstallationID, nil)
	expect(t, e.do("DELETE", "/installation/token", "Bearer "+fresh, nil), 204, "")
	expect(t, e.do("GET", "/installation/repositories", "token "+fresh, nil), 401, msgBadCredentials)
	expect(t, e.do("DELETE", "/installation/token", "Bearer "+fresh, nil), 401, msgBadCredentials)
	all := e.srv.Tokens()
	if !all[1].Revoked || all[1].RevokedAt == nil {
		t.Errorf("revoked token: %+v", all[1])
	}

	// Tokens have GitHub's shape and are never equal.
	a, b := e.mint(DefaultInstallationID, nil), e.mint(DefaultInstallationID, nil)
	for _, tok := range []string{a, b} {
		if !strings.HasPrefix(tok, "ghs_") || len(tok) != 40 || strings.Trim(tok[4:], base62) != "" {
			t.Errorf("token %q…: want ghs_ and 36 base62 characters", tok[:6])
		}
	}
	if a == b {
		t.Error("two mints gave the same token")
	}
}

// TestActionsToken: a GITHUB_TOKEN-like token comments as github-actions[bot]
// on its own repository only.
func TestActionsToken(t *testing.T) {
	e := newEnv(t, nil)
	tok, ok := e.srv.ActionsToken("raxx-app/TradeMasterAPI")
	if !ok || !strings.HasPrefix(tok, "ghs_") {
		t.Fatalf("ActionsToken: %v", ok)
	}
	r := e.do("POST", "/repos/raxx-app/TradeMasterAPI/issues/42/comments", "token "+tok, map[string]string{"body": "plan: 1 to add"})
	expect(t, r, 201, "")
	var cm struct {
		User struct{ Login string } `json:"user"`
		App  struct{ Slug string }  `json:"performed_via_github_app"`
	}
	r.json(t, &cm)
	if cm.User.Login != "github-actions[bot]" || cm.App.Slug != "github-actions" {
		t.Errorf("comment by %q via %q", cm.User.Login, cm.App.Slug)
	}
	expect(t, e.do("GET", "/repos/raxx-app/MooseQuest", "token "+tok, nil), 404, "Not Found")
	expect(t, e.do("GET", "/orgs/raxx-app/personal-access-tokens", "token "+tok, nil), 403, msgNotAccessible)
	var repos struct {
		TotalCount int `json:"total_count"`
	}
	e.do("GET", "/installation/repositories", "token "+tok, nil).json(t, &repos)
	if repos.TotalCount != 1 {
		t.Errorf("Actions token sees %d repositories, want 1", repos.TotalCount)
	}
	if got := e.srv.Comments("raxx-app", "TradeMasterAPI", 42); len(got) != 2 || got[1].User != "github-actions[bot]" || got[1].ViaApp != "github-actions" {
		t.Errorf("Comments: %+v", got)
	}
}
