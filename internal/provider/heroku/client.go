package heroku

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/raxx-app/handoff/internal/provider/httpx"
)

// Surface is the name errors of this package carry in httpx.APIError.Surface.
const Surface = "heroku"

// DefaultBaseURL is Heroku's Platform API.
const DefaultBaseURL = "https://api.heroku.com"

// DefaultTimeout bounds every call (each page of a listing is one).
const DefaultTimeout = 30 * time.Second

// EnvAPIKey is the environment variable Heroku's tools read the API key
// from; handoff's provisioner key comes from it too.
const EnvAPIKey = "HEROKU_API_KEY"

// acceptV3 selects version 3 of the Platform API; Heroku refuses requests
// without it (400 missing_version).
const acceptV3 = "application/vnd.heroku+json; version=3"

// Config configures a Client. It holds the API key: it prints redacted
// with every fmt verb; do not marshal it.
type Config struct {
	// BaseURL is the API's base (default https://api.heroku.com). Plain
	// http is refused except on a loopback host (the local dev server).
	BaseURL string
	// APIKey is the credential the client acts with: the provisioner
	// account's API key, or an OAuth access token.
	APIKey string
	// HTTP tunes retries and the transport.
	HTTP httpx.Config
	// Timeout bounds each call, retries included (default 30 s).
	Timeout time.Duration
	// Now is the clock Authorization.ExpiresAt is computed with (default
	// time.Now).
	Now func() time.Time
}

// String describes the configuration without the key.
func (c Config) String() string {
	key := "none"
	if c.APIKey != "" {
		key = "[redacted]"
	}
	return fmt.Sprintf("heroku.Config{BaseURL: %q, APIKey: %s}", c.BaseURL, key)
}

// GoString is String.
func (c Config) GoString() string { return c.String() }

// Format prints String for every verb.
func (c Config) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }

// LogValue keeps the key out of structured logs.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// Client calls the Heroku Platform API with one credential. It is safe for
// concurrent use. Its String, GoString and Format never print the
// credential.
type Client struct {
	base    *url.URL
	key     Secret
	token   bool // the credential is an OAuth token, not the API key
	http    *httpx.Client
	timeout time.Duration
	now     func() time.Time

	rate *rateState // the last RateLimit-Remaining of this credential
}

type rateState struct {
	mu        sync.Mutex
	remaining int
	seen      bool
}

// New checks cfg and returns a client. It makes no request. It registers
// Heroku's rate limit (RateLimitModel) on the pacer of cfg.HTTP, so that
// every client sharing that pacer stays inside the account's 4,500
// requests an hour.
func New(cfg Config) (*Client, error) {
	if strings.TrimSpace(cfg.APIKey) == "" {
		return nil, fmt.Errorf("heroku: no API key: export %s with the API key of the dedicated handoff account", EnvAPIKey)
	}
	if strings.ContainsAny(cfg.APIKey, " \t\r\n") {
		return nil, errors.New("heroku: the API key contains whitespace: it was read or pasted wrongly")
	}
	base, err := parseBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	hc := httpx.New(cfg.HTTP)
	if err := hc.Pacer().Register(base.String(), RateLimitModel()); err != nil {
		return nil, fmt.Errorf("heroku: %w", err)
	}
	c := &Client{base: base, key: NewSecret(cfg.APIKey), http: hc, timeout: cfg.Timeout, now: cfg.Now, rate: &rateState{}}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// WithToken returns a client that shares c's server, transport and
// settings but acts with an OAuth access token (a handoff's own), for the
// probes that prove a token is refused outside its scope.
func (c *Client) WithToken(token Secret) (*Client, error) {
	if token.IsZero() || strings.ContainsAny(token.Reveal(), " \t\r\n") {
		return nil, errors.New("heroku: empty or malformed token")
	}
	o := *c
	o.key, o.token, o.rate = token, true, &rateState{}
	return &o, nil
}

func parseBaseURL(s string) (*url.URL, error) {
	if s == "" {
		s = DefaultBaseURL
	}
	u, err := url.Parse(strings.TrimRight(s, "/"))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("heroku: base URL %q is not an http(s) URL such as %s", redactURL(s), DefaultBaseURL)
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return nil, fmt.Errorf("heroku: base URL %q uses plain http: use https (http is allowed only on a loopback address)", redactURL(s))
	}
	return u, nil
}

func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		u.User = url.User("redacted")
		return u.String()
	}
	return s
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// String describes the client without its credential.
func (c *Client) String() string {
	who := "API key"
	if c.token {
		who = "OAuth token " + c.key.Fingerprint()
	}
	return fmt.Sprintf("heroku.Client{%s at %s}", who, c.base)
}

// GoString is String.
func (c *Client) GoString() string { return c.String() }

// Format prints String for every verb.
func (c *Client) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }

// HTTP returns the underlying HTTP client, for its attempt and retry
// counters.
func (c *Client) HTTP() *httpx.Client { return c.http }

// RateLimitRemaining is the last RateLimit-Remaining Heroku sent this
// client's credential (its account's pool of request tokens); false before
// the first answer.
func (c *Client) RateLimitRemaining() (int, bool) {
	c.rate.mu.Lock()
	defer c.rate.mu.Unlock()
	return c.rate.remaining, c.rate.seen
}

func (c *Client) noteRate(h http.Header) {
	n, err := strconv.Atoi(h.Get("RateLimit-Remaining"))
	if err != nil {
		return
	}
	c.rate.mu.Lock()
	c.rate.remaining, c.rate.seen = n, true
	c.rate.mu.Unlock()
}

// call is one API request and what is needed to explain its failure.
type call struct {
	op     string // "create OAuth authorization"
	method string
	path   string // escaped
	body   any
	rng    string // Range header
	app    string // the app it acts on, for remedies
}

// do sends cl and decodes a 2xx answer into out (when not nil). It returns
// the answer's headers.
func (c *Client) do(ctx context.Context, cl *call, out any) (http.Header, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var payload []byte
	if cl.body != nil {
		b, err := json.Marshal(cl.body)
		if err != nil {
			return nil, fmt.Errorf("heroku: %s: encode request: %w", cl.op, err)
		}
		payload = b
	}
	u := *c.base
	u.Path = strings.TrimRight(c.base.Path, "/") + cl.path
	u.RawPath = ""
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("heroku: %s: %s", cl.op, c.scrub(err.Error()))
	}
	if payload != nil {
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(payload)), nil }
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", acceptV3)
	req.Header.Set("Authorization", "Bearer "+c.key.Reveal())
	if cl.rng != "" {
		req.Header.Set("Range", cl.rng)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.transportError(cl, err)
	}
	c.noteRate(resp.Header)
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		defer resp.Body.Close()
		if out == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
			return resp.Header, nil
		}
		if err := json.NewDecoder(io.LimitReader(resp.Body, 32<<20)).Decode(out); err != nil {
			return nil, fmt.Errorf("heroku: %s: %s %s: decode answer: %s", cl.op, cl.method, cl.path, c.scrub(err.Error()))
		}
		return resp.Header, nil
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	var eb struct {
		ID      string `json:"id"`
		Message string `json:"message"`
		Error   string `json:"error"`
	}
	_ = json.Unmarshal(raw, &eb)
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	e := httpx.NewAPIError(Surface, cl.op, resp)
	if e.Method == "" {
		e.Method, e.Path = cl.method, cl.path
	}
	if e.RequestID == "" {
		e.RequestID = resp.Header.Get("Request-Id")
	}
	msg := eb.Message
	if msg == "" {
		msg = eb.Error
	}
	msg = strings.TrimSpace(strings.ReplaceAll(msg, "\n", " "))
	if eb.ID != "" {
		msg = eb.ID + ": " + msg
	}
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	e.Message = c.scrub(msg)
	e.Remedy = c.remedy(cl, resp.StatusCode, eb.ID, eb.Message)
	return nil, e
}

func (c *Client) transportError(cl *call, err error) error {
	msg := c.scrub(err.Error())
	if errors.Is(err, context.DeadlineExceeded) {
		msg += fmt.Sprintf(" (each call may take %s; is %s reachable?)", c.timeout, c.base)
	}
	if msg == err.Error() {
		return fmt.Errorf("heroku: %s: %w", cl.op, err)
	}
	e := &transportErr{msg: "heroku: " + cl.op + ": " + msg}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		e.cause = context.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		e.cause = context.Canceled
	}
	return e
}

// transportErr is a failure before any answer whose text had to be
// scrubbed; it unwraps to the context error when that was the cause.
type transportErr struct {
	msg   string
	cause error
}

func (e *transportErr) Error() string { return e.msg }
func (e *transportErr) Unwrap() error { return e.cause }

// scrub replaces the credential in s.
func (c *Client) scrub(s string) string {
	if k := c.key.Reveal(); len(k) >= 4 {
		s = strings.ReplaceAll(s, k, "[redacted]")
	}
	return s
}

// remedy says what the operator can do about a failed call.
func (c *Client) remedy(cl *call, status int, id, msg string) string {
	who := "the handoff account's API key (" + EnvAPIKey + ")"
	if c.token {
		who = "this handoff's OAuth token"
	}
	switch {
	case status == http.StatusUnauthorized && c.token:
		return "the handoff's OAuth token was revoked or has expired: run handoff apply to mint a new one"
	case status == http.StatusUnauthorized:
		return fmt.Sprintf("%s is wrong or was regenerated: export the current API key of the dedicated handoff account", EnvAPIKey)
	case status == http.StatusForbidden && strings.Contains(strings.ToLower(msg), "scope"):
		return who + " lacks the OAuth scope this call needs"
	case status == http.StatusForbidden && cl.app != "":
		return fmt.Sprintf("%s may not do this on app %s: give the handoff account the deploy permission on it (team app permissions), and nothing on apps handoff must not reach", who, cl.app)
	case status == http.StatusForbidden:
		return who + " is refused this operation"
	case status == http.StatusNotFound && cl.app != "":
		return fmt.Sprintf("no app %s: check the app name in the spec", cl.app)
	case status == http.StatusTooManyRequests:
		return "the account's Heroku API rate limit (4,500 requests an hour, refilled at 75 a minute) is spent: rerun in a minute"
	case status == http.StatusBadRequest && id == "missing_version":
		return "the request lacked the version 3 Accept header: report this as a handoff bug"
	case status == http.StatusUnprocessableEntity:
		return "Heroku rejected the request's parameters: report it with the request id"
	case status >= 500:
		return "Heroku failed: rerun; a write is not repeated automatically, the next apply converges"
	}
	return ""
}

// APIError returns err as an *httpx.APIError of this package, if it is one.
func APIError(err error) (*httpx.APIError, bool) {
	var e *httpx.APIError
	if errors.As(err, &e) && e.Surface == Surface {
		return e, true
	}
	return nil, false
}

// IsNotFound reports whether err is Heroku's 404 not_found.
func IsNotFound(err error) bool { return hasStatus(err, http.StatusNotFound) }

// IsForbidden reports whether err is a 403: the credential's scope or the
// account's app permissions do not allow the call.
func IsForbidden(err error) bool { return hasStatus(err, http.StatusForbidden) }

// IsUnauthorized reports whether err is a 401: a wrong, revoked or expired
// credential.
func IsUnauthorized(err error) bool { return hasStatus(err, http.StatusUnauthorized) }

// IsRateLimited reports whether err is Heroku's 429 rate_limit.
func IsRateLimited(err error) bool { return hasStatus(err, http.StatusTooManyRequests) }

func hasStatus(err error, status int) bool {
	e, ok := APIError(err)
	return ok && e.Status == status
}
