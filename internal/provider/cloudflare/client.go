package cloudflare

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/raxx-app/handoff/internal/provider/httpx"
	"github.com/raxx-app/handoff/internal/provider/pace"
)

// Client calls Cloudflare's API v4 with one user API token. It is safe for
// concurrent use. Its String, GoString and Format never print the token.
type Client struct {
	base    string
	token   Secret
	http    *httpx.Client
	timeout time.Duration
	// scrub are configured header values (e.g. Cloudflare Access secrets)
	// that must not appear in an error either.
	scrub []string
}

// New checks cfg and returns a client. It makes no request.
func New(cfg Config) (*Client, error) {
	base, err := parseBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	if err := checkToken(cfg.Token); err != nil {
		return nil, err
	}
	hc := httpx.New(cfg.HTTP)
	if err := hc.Pacer().Register(base, cfg.RateLimits.Model()); err != nil {
		return nil, fmt.Errorf("cloudflare: %w", err)
	}
	c := &Client{base: base, token: cfg.Token, http: hc, timeout: cfg.Timeout}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	for _, v := range cfg.HTTP.Headers {
		if len(v) >= 4 {
			c.scrub = append(c.scrub, v)
		}
	}
	return c, nil
}

// WithToken returns a client that shares c's server, transport and settings
// but acts with another token (a handoff's own, for least-privilege probes).
func (c *Client) WithToken(tok Secret) (*Client, error) {
	if err := checkToken(tok); err != nil {
		return nil, err
	}
	o := *c
	o.token = tok
	return &o, nil
}

// HTTP returns the underlying HTTP client, for its attempt and retry
// counters.
func (c *Client) HTTP() *httpx.Client { return c.http }

// String describes the client without its token.
func (c *Client) String() string {
	return fmt.Sprintf("cloudflare.Client{token %s at %s}", c.token.Fingerprint(), c.base)
}

// GoString is String.
func (c *Client) GoString() string { return c.String() }

// Format prints String for every verb.
func (c *Client) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }

// LogValue keeps the token out of structured logs.
func (c *Client) LogValue() slog.Value { return slog.StringValue(c.String()) }

// call is one API request and what is needed to explain its failure.
type call struct {
	op     string // "create API token"
	method string
	path   string // below the base URL, escaped
	query  url.Values
	body   any
	// token overrides the client's (VerifyToken).
	token Secret
	// tokenID says what the call acts on, for remedies.
	tokenID string
}

// envelope is Cloudflare's answer.
type envelope struct {
	Success    bool            `json:"success"`
	Errors     []cfMessage     `json:"errors"`
	Messages   []cfMessage     `json:"messages"`
	Result     json.RawMessage `json:"result"`
	ResultInfo *resultInfo     `json:"result_info"`
}

type cfMessage struct {
	Code       int         `json:"code"`
	Message    string      `json:"message"`
	ErrorChain []cfMessage `json:"error_chain"`
}

type resultInfo struct {
	Page       int `json:"page"`
	PerPage    int `json:"per_page"`
	Count      int `json:"count"`
	TotalCount int `json:"total_count"`
	TotalPages int `json:"total_pages"`
}

// maxAnswer caps what is read of an answer.
const maxAnswer = 8 << 20

// do sends cl and decodes a successful answer's result into out (ignored
// when nil); it returns the result_info of list answers.
func (c *Client) do(ctx context.Context, cl *call, out any) (*resultInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	tok := c.token
	if cl.token != "" {
		tok = cl.token
	}
	var payload []byte
	if cl.body != nil {
		var err error
		if payload, err = json.Marshal(cl.body); err != nil {
			return nil, fmt.Errorf("cloudflare: %s: encode request: %w", cl.op, err)
		}
	}
	u := c.base + cl.path
	if len(cl.query) > 0 {
		u += "?" + cl.query.Encode()
	}
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, u, body)
	if err != nil {
		return nil, fmt.Errorf("cloudflare: %s: %s", cl.op, c.scrubText(err.Error(), tok))
	}
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+tok.Reveal())
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.transportError(ctx, cl, err, tok)
	}
	raw, rerr := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	_ = resp.Body.Close()
	if rerr != nil {
		return nil, c.transportError(ctx, cl, rerr, tok)
	}
	var env envelope
	jerr := json.Unmarshal(raw, &env)
	if resp.StatusCode >= 200 && resp.StatusCode < 300 && jerr == nil && env.Success {
		if out != nil && len(env.Result) > 0 {
			if err := json.Unmarshal(env.Result, out); err != nil {
				return nil, fmt.Errorf("cloudflare: %s: %s %s: decode answer: %s", cl.op, cl.method, c.pathOf(cl), c.scrubText(err.Error(), tok))
			}
		}
		return env.ResultInfo, nil
	}
	return nil, c.apiError(cl, resp, env, jerr == nil, tok)
}

func (c *Client) pathOf(cl *call) string {
	if u, err := url.Parse(c.base + cl.path); err == nil {
		return u.Path
	}
	return cl.path
}

// transportError describes a failure before any answer, without secrets.
func (c *Client) transportError(ctx context.Context, cl *call, err error, tok Secret) error {
	var de *pace.DeadlineError
	if errors.As(err, &de) {
		// A wait for a rate limit past the deadline: nothing was sent.
		return fmt.Errorf("cloudflare: %s: %w", cl.op, de)
	}
	msg := c.scrubText(err.Error(), tok)
	if ctxErr := ctx.Err(); ctxErr != nil {
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			return &transportErr{msg: fmt.Sprintf("cloudflare: %s: no answer in time: Cloudflare is slow or unreachable; rerun, or raise the timeout (%s)", cl.op, msg), cause: ctxErr}
		}
		return &transportErr{msg: fmt.Sprintf("cloudflare: %s: %s", cl.op, msg), cause: ctxErr}
	}
	return &transportErr{msg: fmt.Sprintf("cloudflare: %s: %s", cl.op, msg)}
}

// transportErr is a failure before any answer whose text had to be
// scrubbed; it unwraps to the context error when that was the cause.
type transportErr struct {
	msg   string
	cause error
}

func (e *transportErr) Error() string { return e.msg }
func (e *transportErr) Unwrap() error { return e.cause }

// scrubText replaces the token and configured header values in s.
func (c *Client) scrubText(s string, tok Secret) string {
	for _, secret := range append([]string{tok.Reveal(), c.token.Reveal()}, c.scrub...) {
		if len(secret) >= 4 {
			s = strings.ReplaceAll(s, secret, "[redacted]")
		}
	}
	return s
}
