package github

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	gh "github.com/google/go-github/v62/github"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/provider/httpx"
)

// DefaultAPIURL is GitHub.com's REST base.
const DefaultAPIURL = "https://api.github.com"

// DefaultTimeout bounds every API request (each page of a listing is one).
const DefaultTimeout = 30 * time.Second

// JWT timing, as GitHub asks: iat backdated to absorb clock skew, a life of
// at most ten minutes counted from iat, and reuse until shortly before expiry.
const (
	jwtBackdate = 60 * time.Second
	jwtLife     = 9 * time.Minute
	jwtRefresh  = time.Minute // re-sign when less than this is left
)

// Config configures a Client. It holds the App's private key: it prints as
// redacted with every fmt verb, never marshal it.
type Config struct {
	// APIURL is the REST base: "https://api.github.com" (the default), or a
	// GitHub Enterprise Server's "https://HOST/api/v3". It is used exactly as
	// given. Plain http is refused except on a loopback host (the local dev
	// server), so that the JWT and tokens never cross a network in clear.
	APIURL string
	// AppID is the GitHub App's numeric id, the `iss` of its JWTs.
	AppID int64
	// AppIDFrom says where AppID was set, for the messages that ask to
	// check it: "app_id in the github block of handoff.hcl" (the default)
	// or "HANDOFF_GITHUB_APP_ID".
	AppIDFrom string
	// PrivateKeyPEM is the App's RSA private key (LoadPrivateKey reads it
	// from the environment). New parses it and keeps only the parsed key.
	PrivateKeyPEM []byte
	// HTTP tunes retries, the transport and the pacer (give every client
	// the same one).
	HTTP httpx.Config
	// RateLimits chooses the model of GitHub's rate limits the client paces
	// itself to (default: GitHub.com's for api.github.com, the headers only
	// elsewhere).
	RateLimits RateLimits
	// Now is the clock the JWT is signed with (default time.Now).
	Now func() time.Time
	// Timeout bounds the network time of each API request, retries
	// included (default 30 s). Waits for rate limits are not counted: the
	// caller's context deadline and the pacer's bound those.
	Timeout time.Duration
}

// String describes the configuration without the key.
func (c Config) String() string {
	key := "none"
	if len(c.PrivateKeyPEM) > 0 {
		key = "[redacted]"
	}
	return fmt.Sprintf("github.Config{APIURL: %q, AppID: %d, PrivateKeyPEM: %s}", c.APIURL, c.AppID, key)
}

// GoString is String: %#v must not dump the key either.
func (c Config) GoString() string { return c.String() }

// Format prints String for every verb.
func (c Config) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }

// LogValue keeps the key out of structured logs.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// Client talks to GitHub as the App (with a JWT) or with a given installation
// or Actions token. It is safe for concurrent use.
type Client struct {
	appID     int64
	appIDFrom string
	key       *rsa.PrivateKey
	now       func() time.Time
	timeout   time.Duration
	baseURL   *url.URL
	ua        string
	http      *httpx.Client
	app       *gh.Client // authenticates with the App JWT

	jwtMu  sync.Mutex
	jwt    string
	jwtExp time.Time

	rateMu sync.Mutex
	rate   RateLimit
}

// New checks cfg, parses the App's private key and returns a client. It makes
// no request.
func New(cfg Config) (*Client, error) {
	if cfg.AppID <= 0 {
		return nil, errors.New("github: app_id is missing: set it in the github block of handoff.hcl or in HANDOFF_GITHUB_APP_ID")
	}
	key, err := parsePrivateKey(cfg.PrivateKeyPEM)
	if err != nil {
		return nil, err
	}
	base, err := parseAPIURL(cfg.APIURL)
	if err != nil {
		return nil, err
	}
	hc := httpx.New(cfg.HTTP)
	if err := hc.Pacer().Register(base.String(), cfg.RateLimits.Model(base.String())); err != nil {
		return nil, fmt.Errorf("github: %w", err)
	}
	if cfg.AppIDFrom == "" {
		cfg.AppIDFrom = "app_id in the github block of handoff.hcl"
	}
	c := &Client{
		appID:     cfg.AppID,
		appIDFrom: cfg.AppIDFrom,
		key:       key,
		now:       cfg.Now,
		timeout:   cfg.Timeout,
		baseURL:   base,
		ua:        cfg.HTTP.UserAgent,
		http:      hc,
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.ua == "" {
		c.ua = "handoff"
	}
	c.app = c.newGitHub(&appTransport{c: c, base: c.http.Standard().Transport})
	return c, nil
}

func parseAPIURL(s string) (*url.URL, error) {
	if s == "" {
		s = DefaultAPIURL
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("github: api_url %q is not an http(s) URL such as %s or https://HOST/api/v3", s, DefaultAPIURL)
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return nil, fmt.Errorf("github: api_url %q uses plain http: use https (http is allowed only on a loopback address)", s)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("github: api_url %q must not carry a query, fragment or credentials", s)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	return u, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// newGitHub returns a go-github client over rt at the configured base URL.
// Each credential gets its own go-github client: go-github remembers rate
// limits per client and would otherwise block one credential for another's
// exhausted bucket.
func (c *Client) newGitHub(rt http.RoundTripper) *gh.Client {
	g := gh.NewClient(&http.Client{Transport: rt})
	base := *c.baseURL
	upload := *c.baseURL
	g.BaseURL, g.UploadURL = &base, &upload
	g.UserAgent = c.ua
	return g
}

// withToken returns a session authenticated with an installation (or
// Actions) token.
func (c *Client) withToken(token string) (*session, error) {
	if strings.TrimSpace(token) == "" {
		return nil, errors.New("github: no token given")
	}
	if strings.ContainsAny(token, " \t\r\n") {
		return nil, errors.New("github: the token contains whitespace: it was read or pasted wrongly")
	}
	cred := "token " + manifest.Fingerprint(token)
	return &session{
		gh:   c.newGitHub(&bearerTransport{token: token, account: cred, base: c.http.Standard().Transport}),
		cred: cred,
	}, nil
}

func (c *Client) appSession() *session { return &session{gh: c.app, cred: "app", app: true} }

// session is one credential's go-github client.
type session struct {
	gh   *gh.Client
	cred string // for diagnostics: "app" or "token sha256:…"
	app  bool   // authenticated with the App JWT
}

// String describes the client without any secret.
func (c *Client) String() string {
	return fmt.Sprintf("github.Client{API: %s, AppID: %d}", c.baseURL, c.appID)
}

// GoString is String.
func (c *Client) GoString() string { return c.String() }

// Format prints String for every verb, so that %+v cannot dump the key or a
// cached JWT.
func (c *Client) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }

// LogValue keeps secrets out of structured logs.
func (c *Client) LogValue() slog.Value { return slog.StringValue(c.String()) }

// HTTP returns the underlying HTTP client, for its attempt and retry
// counters and its pacer (HTTP().Pacer().Stats()).
func (c *Client) HTTP() *httpx.Client { return c.http }

// AppID is the App's id.
func (c *Client) AppID() int64 { return c.appID }

// APIURL is the REST base the client talks to, with a trailing slash.
func (c *Client) APIURL() string { return c.baseURL.String() }

// appJWT returns a JWT for the App, signing a new one when none is cached or
// the cached one has less than a minute left.
func (c *Client) appJWT() (string, error) {
	c.jwtMu.Lock()
	defer c.jwtMu.Unlock()
	now := c.now()
	if c.jwt != "" && now.Before(c.jwtExp.Add(-jwtRefresh)) && !now.Before(c.jwtExp.Add(-jwtLife)) {
		return c.jwt, nil
	}
	exp := now.Add(jwtLife)
	claims := jwt.RegisteredClaims{
		Issuer:    strconv.FormatInt(c.appID, 10),
		IssuedAt:  jwt.NewNumericDate(now.Add(-jwtBackdate)),
		ExpiresAt: jwt.NewNumericDate(exp),
	}
	signed, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(c.key)
	if err != nil {
		// Signing errors come from crypto/rsa and name no key material.
		return "", fmt.Errorf("github: sign the App JWT: %v", err)
	}
	c.jwt, c.jwtExp = signed, exp.Truncate(time.Second)
	return signed, nil
}

// forgetJWT drops the cached JWT after GitHub rejected it.
func (c *Client) forgetJWT() {
	c.jwtMu.Lock()
	c.jwt, c.jwtExp = "", time.Time{}
	c.jwtMu.Unlock()
}

type appTransport struct {
	c    *Client
	base http.RoundTripper
}

func (t *appTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if _, err := t.c.appJWT(); err != nil {
		return nil, err
	}
	req = withAccount(req, "app")
	// Signed (or taken from the cache) when the request goes out: a wait
	// for a rate limit may outlast a JWT signed before it.
	req = req.WithContext(httpx.BeforeSend(req.Context(), func(r *http.Request) error {
		tok, err := t.c.appJWT()
		if err != nil {
			return err
		}
		r.Header.Set("Authorization", "Bearer "+tok)
		return nil
	}))
	resp, err := t.base.RoundTrip(req)
	shieldRate(resp)
	return resp, err
}

type bearerTransport struct {
	token   string
	account string // the token's fingerprint: its own limits
	base    http.RoundTripper
}

func (t *bearerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = withAccount(req, t.account)
	req.Header.Set("Authorization", "Bearer "+t.token)
	resp, err := t.base.RoundTrip(req)
	shieldRate(resp)
	return resp, err
}

// RateLimit is the primary rate limit GitHub reported on the last response
// that carried one, for diagnostics ("312 requests left until 14:05").
type RateLimit struct {
	// Credential is "app" for the App JWT or "token sha256:…" for a token.
	Credential string
	Resource   string // "core", "integration_manifest", …
	Limit      int
	Remaining  int
	Used       int
	Reset      time.Time
	// Seen is when the response arrived (by the client's clock).
	Seen time.Time
}

// RateLimit returns the last rate limit GitHub reported, and false before any
// response carried one.
func (c *Client) RateLimit() (RateLimit, bool) {
	c.rateMu.Lock()
	defer c.rateMu.Unlock()
	return c.rate, !c.rate.Seen.IsZero()
}

func (c *Client) noteRate(s *session, resp *gh.Response) {
	if resp == nil || resp.Response == nil || resp.Rate.Limit == 0 {
		return
	}
	r := RateLimit{
		Credential: s.cred,
		Resource:   resp.Header.Get("X-RateLimit-Resource"),
		Limit:      resp.Rate.Limit,
		Remaining:  resp.Rate.Remaining,
		Reset:      resp.Rate.Reset.Time,
		Seen:       c.now(),
	}
	if r.Reset.IsZero() {
		if n, err := strconv.ParseInt(resp.Header.Get(hiddenReset), 10, 64); err == nil {
			r.Reset = time.Unix(n, 0)
		}
	}
	r.Used, _ = strconv.Atoi(resp.Header.Get("X-RateLimit-Used"))
	c.rateMu.Lock()
	c.rate = r
	c.rateMu.Unlock()
}

// call runs one API request within the client's timeout, records the rate
// limit and translates a failure into an *httpx.APIError. remedy, when not
// nil, may set the error's Remedy for the operation's known failures before
// the generic remedies apply.
func (c *Client) call(ctx context.Context, s *session, op string, remedy func(*httpx.APIError), fn func(ctx context.Context, g *gh.Client) (*gh.Response, error)) error {
	ctx = httpx.WithCallTimeout(ctx, c.timeout)
	resp, err := fn(ctx, s.gh)
	c.noteRate(s, resp)
	if err == nil {
		return nil
	}
	return c.translate(ctx, s, op, resp, err, remedy)
}

// maxPages stops a listing that never ends (a server bug), at 100,000 items.
const maxPages = 1000

// paginate collects every page of a listing, 100 items a page.
func paginate[T any](ctx context.Context, c *Client, s *session, op string, remedy func(*httpx.APIError),
	fetch func(ctx context.Context, g *gh.Client, opts gh.ListOptions) ([]T, *gh.Response, error)) ([]T, error) {
	var all []T
	page := 1
	for n := 0; ; n++ {
		if n == maxPages {
			return nil, fmt.Errorf("github: %s: more than %d pages: stopping", op, maxPages)
		}
		var items []T
		var next int
		err := c.call(ctx, s, op, remedy, func(ctx context.Context, g *gh.Client) (*gh.Response, error) {
			var resp *gh.Response
			var err error
			items, resp, err = fetch(ctx, g, gh.ListOptions{PerPage: 100, Page: page})
			if resp != nil {
				next = resp.NextPage
			}
			return resp, err
		})
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if next <= page {
			return all, nil
		}
		page = next
	}
}

// getJSON GETs path (relative to the base URL) into v.
func getJSON(ctx context.Context, g *gh.Client, path string, v any) (*gh.Response, error) {
	req, err := g.NewRequest(http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	return g.Do(ctx, req, v)
}

// sendJSON sends body with method to path and decodes the answer into v (nil
// for none).
func sendJSON(ctx context.Context, g *gh.Client, method, path string, body, v any) (*gh.Response, error) {
	req, err := g.NewRequest(method, path, body)
	if err != nil {
		return nil, err
	}
	return g.Do(ctx, req, v)
}
