package github

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/raxx-app/handoff/internal/manifest"
)

var (
	testKeyOnce sync.Once
	testKey     *rsa.PrivateKey
)

func rsaKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	testKeyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		testKey = k
	})
	return testKey
}

func pkcs1PEM(t *testing.T) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey(t))})
}

func pkcs8PEM(t *testing.T) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(rsaKey(t))
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// keyBody is the base64 part of a PEM: what must never appear in an error.
func keyBody(p []byte) string {
	lines := strings.Split(strings.TrimSpace(string(p)), "\n")
	return lines[1]
}

func TestParsePrivateKey(t *testing.T) {
	good := map[string][]byte{
		"pkcs1":           pkcs1PEM(t),
		"pkcs8":           pkcs8PEM(t),
		"escaped newline": []byte(strings.ReplaceAll(string(pkcs1PEM(t)), "\n", `\n`)),
		"base64":          []byte(base64.StdEncoding.EncodeToString(pkcs1PEM(t))),
		"surrounded":      append(append([]byte("  \n"), pkcs1PEM(t)...), "\n\n"...),
	}
	for name, in := range good {
		if _, err := parsePrivateKey(in); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}

	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ec)
	corrupt := pkcs1PEM(t)
	lines := strings.Split(string(corrupt), "\n")
	lines[3] = strings.Repeat("A", len(lines[3]))
	bad := map[string][]byte{
		"empty":        nil,
		"not pem":      []byte("hello world, this is not a key"),
		"public key":   pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1, 2, 3}}),
		"ec key":       pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}),
		"encrypted":    pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}}),
		"corrupt der":  []byte(strings.Join(lines, "\n")),
		"broken armor": []byte("-----BEGIN RSA PRIVATE KEY-----\n" + keyBody(pkcs1PEM(t)) + "\n"),
	}
	for name, in := range bad {
		_, err := parsePrivateKey(in)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "github: ") {
			t.Errorf("%s: error %q lacks the surface", name, msg)
		}
		for _, l := range strings.Split(string(in), "\n") {
			if len(l) > 16 && !strings.HasPrefix(l, "-----") && strings.Contains(msg, l) {
				t.Errorf("%s: error echoes key material: %q", name, msg)
			}
		}
	}
	// New reports the same error, with no key bytes either.
	_, err := New(Config{AppID: 1, PrivateKeyPEM: []byte(strings.Join(lines, "\n"))})
	if err == nil || strings.Contains(err.Error(), lines[2]) {
		t.Errorf("New with a corrupt key: %v", err)
	}
}

func TestLoadPrivateKey(t *testing.T) {
	p := pkcs1PEM(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "app.pem")
	if err := os.WriteFile(file, p, 0o600); err != nil {
		t.Fatal(err)
	}
	junk := filepath.Join(dir, "junk.pem")
	if err := os.WriteFile(junk, []byte("secret-looking-garbage-value-0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	envOf := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

	for name, env := range map[string]map[string]string{
		"direct":  {EnvPrivateKey: string(p)},
		"escaped": {EnvPrivateKey: strings.ReplaceAll(string(p), "\n", `\n`)},
		"file":    {EnvPrivateKeyFile: file},
	} {
		got, err := LoadPrivateKey(envOf(env))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(p)) {
			t.Errorf("%s: key differs", name)
		}
	}

	cases := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"neither", map[string]string{}, "GITHUB_APP_PRIVATE_KEY_FILE"},
		{"both", map[string]string{EnvPrivateKey: string(p), EnvPrivateKeyFile: file}, "keep only one"},
		{"path in the PEM variable", map[string]string{EnvPrivateKey: "/etc/keys/app.pem"}, "set GITHUB_APP_PRIVATE_KEY_FILE"},
		{"garbage", map[string]string{EnvPrivateKey: "secret-looking-garbage-value-0123456789"}, "does not hold a PEM"},
		{"missing file", map[string]string{EnvPrivateKeyFile: filepath.Join(dir, "nope.pem")}, "cannot read"},
		{"garbage file", map[string]string{EnvPrivateKeyFile: junk}, "does not hold a PEM"},
	}
	for _, c := range cases {
		_, err := LoadPrivateKey(envOf(c.env))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to mention %q", c.name, err, c.want)
			continue
		}
		if strings.Contains(err.Error(), "secret-looking") || strings.Contains(err.Error(), keyBody(p)) {
			t.Errorf("%s: error echoes the value: %v", c.name, err)
		}
	}
}

func newTestClient(t *testing.T, now func() time.Time) *Client {
	t.Helper()
	c, err := New(Config{AppID: 424242, PrivateKeyPEM: pkcs1PEM(t), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestAppJWT(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 6, 21, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	c := newTestClient(t, clock)

	first, err := c.appJWT()
	if err != nil {
		t.Fatal(err)
	}
	var claims jwt.RegisteredClaims
	tok, err := jwt.ParseWithClaims(first, &claims, func(tk *jwt.Token) (any, error) { return &rsaKey(t).PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(clock))
	if err != nil || !tok.Valid {
		t.Fatalf("JWT does not verify: %v", err)
	}
	if claims.Issuer != "424242" {
		t.Errorf("iss = %q", claims.Issuer)
	}
	if got := claims.IssuedAt.Time; !got.Equal(now.Add(-60 * time.Second)) {
		t.Errorf("iat = %v, want now-60s", got)
	}
	if got := claims.ExpiresAt.Time; !got.Equal(now.Add(9 * time.Minute)) {
		t.Errorf("exp = %v, want now+9m", got)
	}
	if life := claims.ExpiresAt.Sub(claims.IssuedAt.Time); life > 10*time.Minute {
		t.Errorf("life %v exceeds GitHub's 10 minutes", life)
	}

	advance(7*time.Minute + 59*time.Second)
	if again, _ := c.appJWT(); again != first {
		t.Error("JWT not reused with more than a minute left")
	}
	advance(time.Second) // exactly one minute left: re-sign
	second, _ := c.appJWT()
	if second == first {
		t.Error("JWT reused with a minute left")
	}
	// A clock moved back before the JWT was signed re-signs too.
	advance(-time.Hour)
	if third, _ := c.appJWT(); third == second {
		t.Error("JWT reused after the clock went back")
	}
	c.forgetJWT()
	if c.jwt != "" {
		t.Error("forgetJWT kept the JWT")
	}

	// Concurrent use signs consistently (run with -race).
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.appJWT(); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
}

func TestCheckGrant(t *testing.T) {
	inst := Installation{ID: 1001, Account: "raxx-app", Permissions: map[string]string{
		"contents": "read", "issues": "write", "metadata": "read", "repository_projects": "admin",
	}}
	cases := []struct {
		perms map[string]string
		want  []string
	}{
		{nil, nil},
		{map[string]string{"contents": "read", "issues": "read", "metadata": "read"}, nil},
		{map[string]string{"issues": "write", "repository_projects": "admin"}, nil},
		{map[string]string{"contents": "write"}, []string{"contents: write > installation's read"}},
		{map[string]string{"administration": "write", "contents": "write", "issues": "write"},
			[]string{"administration: write > installation's none", "contents: write > installation's read"}},
		{map[string]string{"issues": "admin"}, []string{"issues: admin > installation's write"}},
		{map[string]string{"issues": "owner"}, []string{`issues: "owner" is not a permission level (want read, write or admin)`}},
	}
	for _, c := range cases {
		got := CheckGrant(inst, c.perms)
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("CheckGrant(%v) = %q, want %q", c.perms, got, c.want)
		}
	}
	inst.SuspendedAt = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	got := CheckGrant(inst, map[string]string{"contents": "read"})
	if len(got) != 1 || !strings.Contains(got[0], "suspended since 2026-06-01T00:00:00Z") {
		t.Errorf("suspended: %q", got)
	}
}

func TestSecretsNeverPrint(t *testing.T) {
	const value = "ghs_SuperSecretTokenValue1234567890abcd"
	tok := Token{Value: value, ExpiresAt: time.Date(2026, 6, 21, 13, 0, 0, 0, time.UTC),
		Permissions: map[string]string{"contents": "write"}, RepositoryNames: []string{"TradeMasterAPI"}}
	fp := manifest.Fingerprint(value)
	if tok.Fingerprint() != fp {
		t.Errorf("Fingerprint = %q, want %q", tok.Fingerprint(), fp)
	}
	type holder struct {
		T   Token
		Ptr *Token
	}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("minted", "token", tok)
	js, _ := json.Marshal(tok)
	outputs := []string{
		fmt.Sprint(tok), fmt.Sprintf("%v|%+v|%#v|%s|%q|%x|%d", tok, tok, tok, tok, tok, tok, tok),
		fmt.Sprintf("%+v %#v", &tok, holder{T: tok, Ptr: &tok}), fmt.Sprintf("%v", []Token{tok}),
		logged.String(), string(js), tok.String(), tok.GoString(),
	}
	for _, out := range outputs {
		if strings.Contains(out, value) || strings.Contains(out, "SuperSecret") {
			t.Errorf("token value printed: %s", out)
		}
	}
	if !strings.Contains(fmt.Sprint(tok), fp) {
		t.Errorf("String %q lacks the fingerprint", tok)
	}
	if (Token{}).String() != "github.Token{none, expires 0001-01-01T00:00:00Z}" {
		t.Errorf("zero token: %s", Token{})
	}

	// Config and Client hold the key (and a cached JWT).
	keyPEM := pkcs1PEM(t)
	cfg := Config{AppID: 424242, PrivateKeyPEM: keyPEM}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	jwtValue, _ := c.appJWT()
	logged.Reset()
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("cfg", "config", cfg, "client", c)
	for _, out := range []string{
		fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, cfg), fmt.Sprintf("%v %+v %#v %s", c, c, c, c),
		fmt.Sprintf("%+v", struct{ C *Client }{c}), logged.String(),
	} {
		if strings.Contains(out, keyBody(keyPEM)) || strings.Contains(out, string(keyPEM[40:80])) {
			t.Errorf("key printed: %s", out)
		}
		if strings.Contains(out, jwtValue) || strings.Contains(out, strings.Split(jwtValue, ".")[2][:20]) {
			t.Errorf("JWT printed: %s", out)
		}
		if strings.Contains(out, "N:") || strings.Contains(out, "Primes") {
			t.Errorf("key fields printed: %s", out)
		}
	}
}

func TestCommentLimit(t *testing.T) {
	c := newTestClient(t, nil)
	ctx := context.Background()
	// Characters, not bytes: 65,536 three-byte runes are allowed.
	if err := checkBody(strings.Repeat("€", MaxCommentChars)); err != nil {
		t.Errorf("65,536 characters refused: %v", err)
	}
	long := strings.Repeat("x", MaxCommentChars+1)
	_, err := c.CreateComment(ctx, "ghs_x", "raxx-app", "TradeMasterAPI", 42, long)
	if !errors.Is(err, ErrCommentTooLong) || !strings.Contains(err.Error(), "65537 characters") {
		t.Errorf("CreateComment too long: %v", err)
	}
	if err := c.UpdateComment(ctx, "ghs_x", "raxx-app", "TradeMasterAPI", 1, long); !errors.Is(err, ErrCommentTooLong) {
		t.Errorf("UpdateComment too long: %v", err)
	}
	if _, err := c.CreateComment(ctx, "ghs_x", "raxx-app", "TradeMasterAPI", 42, "  "); err == nil {
		t.Error("empty body accepted")
	}
}

func TestInputChecks(t *testing.T) {
	c := newTestClient(t, nil)
	ctx := context.Background()
	for _, bad := range [][2]string{{"raxx-app", "../../app"}, {"raxx app", "x"}, {"raxx-app", ".."}, {"", "x"}, {"o", "a?b"}} {
		if _, err := c.InstallationForRepo(ctx, bad[0], bad[1]); err == nil {
			t.Errorf("InstallationForRepo(%q, %q) accepted", bad[0], bad[1])
		}
		if _, err := c.RepoWithToken(ctx, "ghs_x", bad[0], bad[1]); err == nil {
			t.Errorf("RepoWithToken(%q, %q) accepted", bad[0], bad[1])
		}
	}
	mintCases := []struct {
		repos []string
		perms map[string]string
		want  string
	}{
		{nil, map[string]string{"contents": "read"}, "no repository"},
		{[]string{"raxx-app/TradeMasterAPI"}, map[string]string{"contents": "read"}, "without the owner"},
		{[]string{"TradeMasterAPI"}, nil, "no permissions"},
		{[]string{"TradeMasterAPI"}, map[string]string{"contents": "owner"}, "not read, write or admin"},
		{[]string{"TradeMasterAPI"}, map[string]string{"Contents!": "read"}, "not a permission name"},
	}
	for _, mc := range mintCases {
		if _, err := c.MintToken(ctx, 1001, mc.repos, mc.perms); err == nil || !strings.Contains(err.Error(), mc.want) {
			t.Errorf("MintToken(%v, %v) = %v, want %q", mc.repos, mc.perms, err, mc.want)
		}
	}
	for _, tok := range []string{"", "  ", "ghs_a b", "ghs_a\nX-Evil: 1"} {
		if err := c.RevokeToken(ctx, tok); err == nil {
			t.Errorf("RevokeToken(%q) accepted", tok)
		} else if strings.TrimSpace(tok) != "" && strings.Contains(err.Error(), strings.TrimSpace(tok)) {
			t.Errorf("RevokeToken error echoes the token: %v", err)
		}
	}
	if _, err := c.ListPATs(ctx, "raxx-app", PATFilter{Owners: make([]string, 11)}); err == nil {
		t.Error("11 owners accepted")
	}
	if err := c.RevokePAT(ctx, "raxx-app", 0); err == nil {
		t.Error("PAT id 0 accepted")
	}
}

func TestConfig(t *testing.T) {
	k := pkcs1PEM(t)
	for _, u := range []string{"", "https://api.github.com", "https://ghe.example/api/v3", "http://127.0.0.1:8080", "http://localhost:1/api/v3", "http://[::1]:9"} {
		c, err := New(Config{APIURL: u, AppID: 1, PrivateKeyPEM: k})
		if err != nil {
			t.Errorf("APIURL %q: %v", u, err)
			continue
		}
		if !strings.HasSuffix(c.APIURL(), "/") {
			t.Errorf("APIURL %q: base %q lacks the slash", u, c.APIURL())
		}
	}
	if c, _ := New(Config{AppID: 1, PrivateKeyPEM: k}); c.APIURL() != "https://api.github.com/" {
		t.Errorf("default API URL %q", c.APIURL())
	}
	for _, u := range []string{"http://ghe.example/api/v3", "ftp://x", "api.github.com", "https://u:p@ghe.example/api/v3", "https://ghe.example/api/v3?x=1"} {
		if _, err := New(Config{APIURL: u, AppID: 1, PrivateKeyPEM: k}); err == nil {
			t.Errorf("APIURL %q accepted", u)
		}
	}
	if _, err := New(Config{PrivateKeyPEM: k}); err == nil || !strings.Contains(err.Error(), "app_id") {
		t.Errorf("missing app id: %v", err)
	}
}

func TestPATFilterQuery(t *testing.T) {
	q, err := PATFilter{
		Owners: []string{"alice-raxx", "bob-raxx"}, Repository: "TradeMasterAPI", Permission: "contents_read",
		LastUsedAfter: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)), TokenIDs: []int64{98716},
	}.query()
	if err != nil {
		t.Fatal(err)
	}
	want := "last_used_after=2026-01-02T02%3A04%3A05Z&owner=alice-raxx&owner=bob-raxx&permission=contents_read&repository=TradeMasterAPI&token_id=98716"
	if q.Encode() != want {
		t.Errorf("query = %s\nwant    %s", q.Encode(), want)
	}
}
