package infisical

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/raxx-app/handoff/internal/provider/httpx"
	"github.com/raxx-app/handoff/internal/provider/pace"
)

// Surface is the name errors of this package carry in httpx.APIError.Surface.
const Surface = "infisical"

// tokenMargin is how long before its expiry a cached access token stops
// being used (capped at half the token's life for very short TTLs).
const tokenMargin = 60 * time.Second

// Client calls the Infisical API as one identity. It is safe for concurrent
// use: calls share one cached access token, and when it must be renewed only
// one login is made. Its String, GoString and Format never print the client
// secret or the token.
type Client struct {
	cfg     Config
	base    string
	http    *httpx.Client
	timeout time.Duration
	// handoff is true for a client made by AsIdentity: remedies then speak of
	// the handoff's identity rather than the provisioner.
	handoff bool
	now     func() time.Time

	mu  sync.Mutex
	tok accessToken
	// replaced are tokens this client logged in for and replaced before
	// they expired (a forced Login): Logout revokes them with the current
	// one, so that no token of this client outlives it.
	replaced []accessToken
	// loginSem admits one login at a time; waiting for it honours the
	// caller's context, unlike a mutex.
	loginSem chan struct{}

	// model is the client's model of the server's rate limits, built on
	// first use by RouteLimit.
	modelOnce sync.Once
	model     pace.Model
}

// accessToken is a bearer token and when it stops being used. Its String,
// GoString and Format never print it.
type accessToken struct {
	value    string
	renewBy  time.Time // reuse until then
	expireAt time.Time // as the server said
}

func (t accessToken) usable(now time.Time) bool { return t.value != "" && now.Before(t.renewBy) }

func (t accessToken) String() string {
	if t.value == "" {
		return "accessToken{none}"
	}
	return "accessToken{[redacted], expires " + t.expireAt.UTC().Format(time.RFC3339) + "}"
}
func (t accessToken) GoString() string           { return t.String() }
func (t accessToken) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(t.String())) }

// New returns a client for cfg. It does not contact the server: the first
// call (or Login) logs in.
func New(cfg Config) (*Client, error) {
	base, err := cfg.baseURL()
	if err != nil {
		return nil, err
	}
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		return nil, fmt.Errorf("infisical: no universal-auth credentials: set %s and %s", EnvClientID, EnvClientSecret)
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	hc := httpx.New(cfg.HTTP)
	if err := hc.Pacer().Register(base, cfg.RateLimits.Model(base)); err != nil {
		return nil, fmt.Errorf("infisical: %w", err)
	}
	return &Client{
		cfg:      cfg,
		base:     base,
		http:     hc,
		timeout:  timeout,
		now:      time.Now,
		loginSem: make(chan struct{}, 1),
	}, nil
}

// AsIdentity returns a client that shares c's server, transport and
// settings but acts as another identity (a handoff's own), and logs it in
// at once so that bad, expired or revoked credentials fail here. It is what
// `handoff env -reveal` and the least-privilege probes use.
func (c *Client) AsIdentity(ctx context.Context, clientID, clientSecret string) (*Client, error) {
	if clientID == "" || clientSecret == "" {
		return nil, errors.New("infisical: log in as identity: empty client id or client secret")
	}
	cfg := c.cfg
	cfg.ClientID, cfg.ClientSecret = clientID, clientSecret
	o := &Client{
		cfg:      cfg,
		base:     c.base,
		http:     c.http,
		timeout:  c.timeout,
		handoff:  true,
		now:      c.now,
		loginSem: make(chan struct{}, 1),
	}
	if err := o.Login(ctx); err != nil {
		return nil, err
	}
	return o, nil
}

// Config returns the client's configuration (print it freely: its String
// hides the secret).
func (c *Client) Config() Config { return c.cfg }

// HTTP returns the underlying HTTP client, for its attempt and retry
// counters and its pacer (HTTP().Pacer().Stats()).
func (c *Client) HTTP() *httpx.Client { return c.http }

// String describes the client without its secrets.
func (c *Client) String() string {
	who := "provisioner"
	if c.handoff {
		who = "handoff identity"
	}
	return fmt.Sprintf("infisical.Client{%s %q at %s}", who, c.cfg.ClientID, c.base)
}

// GoString is String.
func (c *Client) GoString() string { return c.String() }

// Format prints String for every verb.
func (c *Client) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }

// Login logs in with universal auth now, replacing any cached token. Calls
// log in by themselves when needed; use Login to check credentials early.
func (c *Client) Login(ctx context.Context) error {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	c.mu.Lock()
	old := c.tok
	c.mu.Unlock()
	_, err := c.renew(ctx, old.value, true)
	return err
}

// TokenExpiry reports when the cached access token expires (zero when there
// is none).
func (c *Client) TokenExpiry() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tok.expireAt
}

// Logout revokes, on the server, every access token this client logged in
// for that has not expired (the cached one, and any a forced Login replaced),
// so that none can be replayed once the command is over, and forgets them.
// Without a token it does nothing. A token the server no longer knows (401:
// revoked already, or its identity deleted) counts as revoked. The next call
// logs in again.
func (c *Client) Logout(ctx context.Context) error {
	c.mu.Lock()
	toks := append(c.replaced, c.tok)
	c.replaced, c.tok = nil, accessToken{}
	c.mu.Unlock()
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	now := c.now()
	var errs []error
	for _, tok := range toks {
		if tok.value == "" || !now.Before(tok.expireAt) {
			continue
		}
		err := c.do(ctx, &call{
			op: "revoke access token", method: http.MethodPost, path: "/api/v1/auth/token/revoke",
			body: map[string]string{"accessToken": tok.value}, noAuth: true, idempotent: true,
			scrub: []string{tok.value},
		}, nil)
		if IsUnauthorized(err) {
			err = nil // gone already
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// token returns a usable access token, logging in when there is none.
func (c *Client) token(ctx context.Context) (string, error) {
	c.mu.Lock()
	tok := c.tok
	c.mu.Unlock()
	if tok.usable(c.now()) {
		return tok.value, nil
	}
	return c.renew(ctx, tok.value, false)
}

// renew logs in unless another goroutine already replaced stale (the token
// the caller found unusable) while this one waited; force logs in anyway
// when no one did.
func (c *Client) renew(ctx context.Context, stale string, force bool) (string, error) {
	select {
	case c.loginSem <- struct{}{}:
	case <-ctx.Done():
		return "", fmt.Errorf("infisical: log in: %w", ctx.Err())
	}
	defer func() { <-c.loginSem }()
	c.mu.Lock()
	cur := c.tok
	c.mu.Unlock()
	if cur.value != stale && cur.usable(c.now()) {
		return cur.value, nil // someone logged in meanwhile
	}
	if !force && cur.usable(c.now()) {
		return cur.value, nil
	}
	var out struct {
		AccessToken string `json:"accessToken"`
		ExpiresIn   int64  `json:"expiresIn"`
	}
	err := c.do(ctx, &call{
		op: "log in (universal auth)", method: http.MethodPost, path: "/api/v1/auth/universal-auth/login",
		body:   map[string]string{"clientId": c.cfg.ClientID, "clientSecret": c.cfg.ClientSecret},
		noAuth: true, idempotent: true, login: true,
	}, &out)
	if err != nil {
		return "", err
	}
	if out.AccessToken == "" {
		return "", errors.New("infisical: log in (universal auth): the server answered without an access token")
	}
	now := c.now()
	life := time.Duration(out.ExpiresIn) * time.Second
	margin := min(tokenMargin, life/2)
	t := accessToken{value: out.AccessToken, renewBy: now.Add(life - margin), expireAt: now.Add(life)}
	c.mu.Lock()
	if old := c.tok; old.value != "" && now.Before(old.expireAt) {
		c.replaced = append(c.replaced, old)
	}
	c.tok = t
	c.mu.Unlock()
	return t.value, nil
}

// invalidate forgets the cached token if it is still bad (another goroutine
// may have replaced it already).
func (c *Client) invalidate(bad string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok.value == bad {
		c.tok = accessToken{}
	}
}

// call is one API request and what is needed to explain its failure.
type call struct {
	op     string // "create secret"
	method string
	path   string // escaped URL path
	query  url.Values
	body   any
	// idempotent marks a POST or PATCH as safe to repeat on a server error.
	idempotent bool
	// noAuth sends no bearer token (login, token revoke).
	noAuth bool
	login  bool
	// where the call acts, for remedies
	env, folder, key, identityID string
	// batch are the names of a batch write's secrets.
	batch []string
	// scrub are extra strings (secret values) that must not appear in an
	// error, besides the client secret and the access token.
	scrub []string
}

// errorBody is Infisical's error answer.
type errorBody struct {
	Error   string          `json:"error"`
	Message json.RawMessage `json:"message"`
}

// do sends cl (logging in first unless noAuth) and decodes a 2xx answer into
// out (ignored when nil). A 401, or a 403 TokenError, on an authenticated
// call logs in again once and repeats the call.
func (c *Client) do(ctx context.Context, cl *call, out any) error {
	var payload []byte
	if cl.body != nil {
		var err error
		if payload, err = json.Marshal(cl.body); err != nil {
			return fmt.Errorf("infisical: %s: encode request: %w", cl.op, err)
		}
	}
	if cl.idempotent {
		ctx = httpx.Idempotent(ctx)
	}
	u := c.base + cl.path
	if len(cl.query) > 0 {
		u += "?" + cl.query.Encode()
	}
	for attempt := 0; ; attempt++ {
		var tok string
		if !cl.noAuth {
			var err error
			if tok, err = c.token(ctx); err != nil {
				return err
			}
		}
		var body io.Reader
		if payload != nil {
			body = bytes.NewReader(payload)
		}
		req, err := http.NewRequestWithContext(ctx, cl.method, u, body)
		if err != nil {
			return fmt.Errorf("infisical: %s: %w", cl.op, err)
		}
		req.Header.Set("Accept", "application/json")
		if payload != nil {
			// Only with a body: Fastify rejects an empty body declared as JSON.
			req.Header.Set("Content-Type", "application/json")
		}
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := c.http.Do(req)
		if err != nil {
			return c.transportError(cl, err, tok)
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			defer resp.Body.Close()
			if out == nil {
				_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
				return nil
			}
			if err := decodeAnswer(resp, out); err != nil {
				return fmt.Errorf("infisical: %s: %s %s: decode answer: %s", cl.op, cl.method, cl.path, c.scrubText(err.Error(), tok, cl.scrub))
			}
			return nil
		}
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
		var eb errorBody
		_ = json.Unmarshal(raw, &eb)
		if !cl.noAuth && attempt == 0 && (resp.StatusCode == http.StatusUnauthorized ||
			(resp.StatusCode == http.StatusForbidden && eb.Error == "TokenError")) {
			c.invalidate(tok)
			continue
		}
		resp.Body = io.NopCloser(bytes.NewReader(raw))
		e := httpx.NewAPIError(Surface, cl.op, resp)
		if e.Method == "" {
			e.Method, e.Path = cl.method, strings.SplitN(cl.path, "?", 2)[0]
		}
		e.Message = c.scrubText(e.Message, tok, cl.scrub)
		e.Remedy = c.remedy(cl, resp.StatusCode, eb.Error, e.Message)
		if resp.StatusCode == http.StatusUnprocessableEntity {
			e.Remedy = invalidRemedy(issueFields(eb.Message))
		}
		return e
	}
}

func (c *Client) transportError(cl *call, err error, tok string) error {
	var de *pace.DeadlineError
	if errors.As(err, &de) {
		// A wait for a rate limit past the deadline: nothing was sent.
		return fmt.Errorf("infisical: %s: %w", cl.op, de)
	}
	msg := c.scrubText(err.Error(), tok, cl.scrub)
	if errors.Is(err, context.DeadlineExceeded) {
		msg += fmt.Sprintf(" (each call may take %s; is %s reachable?)", c.timeout, c.base)
	}
	if msg == err.Error() {
		return fmt.Errorf("infisical: %s: %w", cl.op, err)
	}
	// The text held a credential: keep the scrubbed text, and of the chain
	// only the context error a caller may test for.
	e := &transportErr{msg: fmt.Sprintf("infisical: %s: %s", cl.op, msg)}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		e.cause = context.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		e.cause = context.Canceled
	}
	return e
}

// transportErr is a failure before any answer whose original text had to
// be scrubbed; it unwraps to the context error when that was the cause.
type transportErr struct {
	msg   string
	cause error
}

func (e *transportErr) Error() string { return e.msg }
func (e *transportErr) Unwrap() error { return e.cause }

// scrubText replaces every credential and extra secret in s.
func (c *Client) scrubText(s, tok string, extra []string) string {
	for _, secret := range append([]string{c.cfg.ClientSecret, tok, c.cfg.HTTP.Headers[HeaderCFAccessSecret]}, extra...) {
		if len(secret) >= 4 {
			s = strings.ReplaceAll(s, secret, "[redacted]")
		}
	}
	return s
}

// remedy says what the operator can do about a failed call.
func (c *Client) remedy(cl *call, status int, errName, msg string) string {
	lower := strings.ToLower(msg)
	who := "the provisioner identity (" + EnvClientID + ")"
	if c.handoff {
		who = "this handoff's identity"
	}
	switch {
	case cl.login && status == http.StatusUnauthorized:
		if c.handoff {
			return "the handoff's client secret is wrong, expired or revoked: run handoff apply to mint a new one"
		}
		return fmt.Sprintf("check %s and %s: the client id must be the provisioner's universal-auth client id, and the client secret may have expired or been revoked (create a new one in Infisical)", EnvClientID, EnvClientSecret)
	case status == http.StatusUnauthorized:
		return "the access token was revoked or its identity deleted: rerun; if it persists check the identity still exists"
	case status == http.StatusForbidden && errName == "TokenError":
		return "the access token expired or is invalid: re-login is automatic; if this persists, check this machine's clock against the server's"
	case status == http.StatusForbidden && (errName == "PermissionDenied" || strings.Contains(lower, "not allowed")):
		action, subject := deniedAction(msg)
		if c.handoff {
			return fmt.Sprintf("%s may not %s on %s: outside its grant, or its privilege has expired", who, action, subject)
		}
		return fmt.Sprintf("%s lacks %s on %s: give it the project admin role in the project and an organization role allowed to create identities", who, action, subject)
	case status == http.StatusForbidden:
		return fmt.Sprintf("%s is refused this operation: check its organization and project roles", who)
	case cl.batch != nil && status == http.StatusBadRequest && strings.Contains(lower, "already exist"):
		return fmt.Sprintf("nothing in the batch was written (the server takes all or none): a name in it already exists in %s (%s); create only new names, or update with Upsert", cl.folder, envName(cl.env))
	case cl.batch != nil && status == http.StatusNotFound && !strings.Contains(lower, "folder with path"):
		return fmt.Sprintf("nothing in the batch was written (the server takes all or none): a name in it does not exist in %s (%s); name only existing secrets, or update with Upsert or IgnoreMissing", cl.folder, envName(cl.env))
	case status == http.StatusNotFound && cl.folder != "" && (strings.Contains(lower, "folder") || strings.Contains(lower, "path")):
		return fmt.Sprintf("the folder %s does not exist in %s: apply creates it; check handoff_root in handoff.hcl and the environment", cl.folder, envName(cl.env))
	case status == http.StatusNotFound && cl.key != "":
		return fmt.Sprintf("no secret %s in %s (%s)", cl.key, cl.folder, envName(cl.env))
	case status == http.StatusNotFound && strings.Contains(lower, "environment"):
		return fmt.Sprintf("the environment %q does not exist in project %s: check environment in handoff.hcl or the spec", cl.env, c.cfg.ProjectID)
	case status == http.StatusNotFound && strings.Contains(lower, "project"):
		return fmt.Sprintf("project %s not found: check project_id in handoff.hcl or %s", c.cfg.ProjectID, EnvProjectID)
	case status == http.StatusNotFound && cl.identityID != "":
		return fmt.Sprintf("identity %s no longer exists (deleted out of band?): apply recreates it", cl.identityID)
	case status == http.StatusBadRequest && cl.key != "" && strings.Contains(lower, "already exists"):
		return fmt.Sprintf("a secret named %s already exists in %s (%s): a name collision with a secret handoff did not create; rename or delete it, or let apply update it", cl.key, cl.folder, envName(cl.env))
	case status == http.StatusTooManyRequests:
		return "Infisical's rate limit was hit and did not clear in time: rerun in a minute"
	case status >= 500:
		return "Infisical failed: rerun; a write is not repeated automatically, the next apply converges"
	}
	return ""
}

// issueFields are the fields a 422's zod issues name ("slug",
// "type.temporaryMode"), in order, each once.
func issueFields(raw json.RawMessage) []string {
	var issues []struct {
		Path []any `json:"path"`
	}
	if json.Unmarshal(raw, &issues) != nil {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, is := range issues {
		parts := make([]string, 0, len(is.Path))
		for _, p := range is.Path {
			parts = append(parts, fmt.Sprint(p))
		}
		if f := strings.Join(parts, "."); f != "" && !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}

// invalidRemedy explains a 422: the request's shape, which a rerun sends
// unchanged.
func invalidRemedy(fields []string) string {
	what := "the server rejected the request's shape"
	if len(fields) > 0 {
		what = "the server rejected the request's fields " + strings.Join(fields, ", ")
	}
	return what + ": retrying cannot help (the same request is refused the same way); this server's API differs from what this handoff version sends: upgrade handoff, or report it with the request id"
}

// deniedAction reads "You are not allowed to <action> on <subject>".
func deniedAction(msg string) (action, subject string) {
	_, rest, ok := strings.Cut(msg, "not allowed to ")
	if ok {
		if a, s, ok := strings.Cut(rest, " on "); ok {
			return strings.TrimSpace(a), strings.TrimRight(strings.TrimSpace(s), ".")
		}
	}
	return "this action", "this resource"
}

func envName(env string) string { return "environment " + env }

// APIError returns err as an *httpx.APIError of this package, if it is one.
func APIError(err error) (*httpx.APIError, bool) {
	var e *httpx.APIError
	if errors.As(err, &e) && e.Surface == Surface {
		return e, true
	}
	return nil, false
}

// IsNotFound reports whether err is Infisical's 404.
func IsNotFound(err error) bool { return hasStatus(err, http.StatusNotFound) }

// IsForbidden reports whether err is a 403 (permission denied or a token
// that re-login could not fix).
func IsForbidden(err error) bool { return hasStatus(err, http.StatusForbidden) }

// IsUnauthorized reports whether err is a 401 (bad or revoked credentials).
func IsUnauthorized(err error) bool { return hasStatus(err, http.StatusUnauthorized) }

// IsAlreadyExists reports whether err is the 400 Infisical answers when
// creating something that exists.
func IsAlreadyExists(err error) bool {
	e, ok := APIError(err)
	return ok && e.Status == http.StatusBadRequest && strings.Contains(strings.ToLower(e.Message), "already exist")
}

func hasStatus(err error, status int) bool {
	e, ok := APIError(err)
	return ok && e.Status == status
}

// needProject fails a call that needs a project id when none is set.
func (c *Client) needProject(op string) error {
	if c.cfg.ProjectID == "" {
		return fmt.Errorf("infisical: %s: no project id: set project_id in handoff.hcl or %s", op, EnvProjectID)
	}
	return nil
}

// needOrg fails a call that needs an organization id when none is set.
func (c *Client) needOrg(op string) error {
	if c.cfg.OrganizationID == "" {
		return fmt.Errorf("infisical: %s: no organization id: set organization_id in the infisical block of handoff.hcl", op)
	}
	return nil
}

// withTimeout bounds the network time of one public call (waits for rate
// limits are not counted; see httpx.WithCallTimeout).
func (c *Client) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return httpx.WithCallTimeout(ctx, c.timeout), func() {}
}
