package githubsrv

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/raxx-app/handoff/internal/devserver/contracttest"
	"github.com/raxx-app/handoff/internal/devserver/devkit"
)

// testNow is where every test's frozen clock starts.
var testNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

var (
	keyOnce sync.Once
	keyPEM  string
)

// testKeyPEM is one RSA key for every test, so that tests do not each pay
// for a key generation.
func testKeyPEM(t testing.TB) string {
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		keyPEM = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
	})
	return keyPEM
}

// env is a server under test with its HTTP front and helpers.
type env struct {
	t      testing.TB
	srv    *Server
	kit    *devkit.Kit
	ts     *httptest.Server
	client *http.Client
	key    *rsa.PrivateKey
}

// newEnv starts the default fixture (changed by mutate) on a frozen clock.
// The client is plain; contract tests wrap it.
func newEnv(t testing.TB, mutate func(*Fixture)) *env {
	t.Helper()
	fx := DefaultFixture()
	fx.App.PrivateKeyPEM = testKeyPEM(t)
	if mutate != nil {
		mutate(&fx)
	}
	kit := &devkit.Kit{Clock: devkit.NewFrozenClock(testNow), Stats: &devkit.Stats{}, Faults: &devkit.Faults{}}
	srv, err := New(kit, fx)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	key, err := jwt.ParseRSAPrivateKeyFromPEM(srv.AppPrivateKeyPEM())
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, srv: srv, kit: kit, ts: ts, client: ts.Client(), key: key}
}

// contract wraps the env's client with the GitHub contract validator.
func (e *env) contract() *contracttest.Validator {
	v := contracttest.MustNew(e.t, contracttest.GitHub, e.ts.URL, e.ts.URL+GHESPrefix)
	e.client = &http.Client{Transport: v.Transport(e.t, nil, "/_dev/")}
	return v
}

// sign makes a JWT with the App's key (or key, when given) and claims.
func (e *env) sign(claims jwt.MapClaims) string {
	e.t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(e.key)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// jwt is a valid App JWT as octokit makes them: iat 60 s back, exp 9 min on.
func (e *env) jwt() string {
	now := e.kit.Clock.Now().Unix()
	return e.sign(jwt.MapClaims{"iat": now - 60, "exp": now + 540, "iss": e.srv.AppID()})
}

// resp is an answer with its decoded body.
type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %d %s: %v", r.status, r.body, err)
	}
}

// message returns the `message` of an error body.
func (r resp) message() string {
	var e struct {
		Message string `json:"message"`
	}
	_ = json.Unmarshal(r.body, &e)
	return e.Message
}

// do sends a request; auth is a full Authorization header value ("" for
// none); body is marshalled unless it is a string or []byte.
func (e *env) do(method, path, auth string, body any, headers ...string) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.ts.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: raw}
}

// expect fails unless r has the status (and, when msg is set, the message).
func expect(t testing.TB, r resp, status int, msg string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	if msg != "" && r.message() != msg {
		t.Fatalf("message %q, want %q", r.message(), msg)
	}
}

// mint creates an installation token with the given body (nil: the whole
// installation) and returns it.
func (e *env) mint(installationID int64, body any) string {
	e.t.Helper()
	r := e.do("POST", "/app/installations/"+strconv.FormatInt(installationID, 10)+"/access_tokens", "Bearer "+e.jwt(), body)
	expect(e.t, r, http.StatusCreated, "")
	var tok struct {
		Token string `json:"token"`
	}
	r.json(e.t, &tok)
	return tok.Token
}
