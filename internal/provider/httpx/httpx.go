// Package httpx is the HTTP layer every provider shares: retries with
// exponential backoff and jitter on 429, 5xx, timeouts and dropped
// connections, honouring Retry-After and GitHub's rate-limit headers; a
// per-attempt timeout; extra headers (Cloudflare Access); and the APIError
// that names the surface, the operation, the status and the remedy.
//
// A request whose effect is not idempotent (POST, PATCH) is retried only when
// the server certainly did not act on it (429, or a 503 with Retry-After); a
// caller that knows its POST is safe to repeat (a login, a lookup) marks the
// context with Idempotent. Everything else surfaces as an error, and the
// reconciler converges on the next run instead of guessing here.
package httpx

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// Config tunes a client. The zero value is usable.
type Config struct {
	// AttemptTimeout bounds one attempt (default 30s). Callers also put a
	// deadline on the whole call through the context.
	AttemptTimeout time.Duration
	// MaxRetries is how many times a failed attempt is repeated (default 4).
	MaxRetries int
	// MinWait and MaxWait bound the backoff between attempts (defaults 250ms
	// and 10s). A Retry-After or rate-limit reset beyond MaxWait is not
	// waited for: the error is returned so the caller can say when to rerun.
	MinWait, MaxWait time.Duration
	// Transport is the underlying round tripper (default: a pooled transport).
	Transport http.RoundTripper
	// Headers are added to every request (e.g. CF-Access-Client-Id).
	Headers map[string]string
	// UserAgent is sent on every request (default "handoff").
	UserAgent string
}

// Client is a retrying HTTP client. Use Standard for libraries that want an
// *http.Client (go-github).
type Client struct {
	std      *http.Client
	attempts atomic.Int64
	retries  atomic.Int64
}

type idempotentKey struct{}

// Idempotent marks ctx so that a POST or PATCH made with it is retried like
// a GET: use it only for requests whose repetition cannot create anything.
func Idempotent(ctx context.Context) context.Context {
	return context.WithValue(ctx, idempotentKey{}, true)
}

func isIdempotent(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		return true
	}
	v, _ := req.Context().Value(idempotentKey{}).(bool)
	return v
}

// New returns a client configured by cfg.
func New(cfg Config) *Client {
	if cfg.AttemptTimeout == 0 {
		cfg.AttemptTimeout = 30 * time.Second
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = 4
	}
	if cfg.MinWait == 0 {
		cfg.MinWait = 250 * time.Millisecond
	}
	if cfg.MaxWait == 0 {
		cfg.MaxWait = 10 * time.Second
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "handoff"
	}
	base := cfg.Transport
	if base == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 64
		base = t
	}
	c := &Client{}
	rc := retryablehttp.NewClient()
	rc.Logger = nil // it would print URLs and retry chatter on stderr
	rc.HTTPClient = &http.Client{
		Transport: &headerTransport{base: base, headers: cfg.Headers, userAgent: cfg.UserAgent, attempts: &c.attempts},
		Timeout:   cfg.AttemptTimeout,
	}
	rc.RetryMax = cfg.MaxRetries
	rc.RetryWaitMin = cfg.MinWait
	rc.RetryWaitMax = cfg.MaxWait
	rc.ErrorHandler = retryablehttp.PassthroughErrorHandler
	rc.CheckRetry = func(ctx context.Context, resp *http.Response, err error) (bool, error) {
		retry, cerr := checkRetry(ctx, resp, err, cfg.MaxWait)
		if retry {
			c.retries.Add(1)
		}
		return retry, cerr
	}
	rc.Backoff = backoff
	c.std = &http.Client{Transport: &retryablehttp.RoundTripper{Client: rc}}
	return c
}

// Standard returns the client as an *http.Client.
func (c *Client) Standard() *http.Client { return c.std }

// Do sends req with retries.
func (c *Client) Do(req *http.Request) (*http.Response, error) { return c.std.Do(req) }

// Attempts is the number of HTTP attempts made, retries included.
func (c *Client) Attempts() int64 { return c.attempts.Load() }

// Retries is the number of attempts that were repeats of a failed one.
func (c *Client) Retries() int64 { return c.retries.Load() }

// checkRetry decides whether an attempt is repeated. The request rides on the
// response (or, for transport errors, is not available: those are retried
// only for idempotent requests, which retryablehttp cannot tell us, so the
// headerTransport marks them).
func checkRetry(ctx context.Context, resp *http.Response, err error, maxWait time.Duration) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		var ne *nonIdempotentError
		if errors.As(err, &ne) {
			return false, nil
		}
		return true, nil
	}
	req := resp.Request
	idem := req == nil || isIdempotent(req)
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		return waitFor(resp) <= maxWait, nil
	case resp.StatusCode == http.StatusForbidden && resp.Header.Get("X-RateLimit-Remaining") == "0":
		return waitFor(resp) <= maxWait, nil
	case resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "":
		return waitFor(resp) <= maxWait, nil
	case resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented:
		return idem, nil
	}
	return false, nil
}

// waitFor is how long the server asked us to wait, zero when it did not say.
func waitFor(resp *http.Response) time.Duration {
	if s := resp.Header.Get("Retry-After"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n >= 0 {
			return time.Duration(n) * time.Second
		}
		if t, err := http.ParseTime(s); err == nil {
			return time.Until(t)
		}
	}
	if resp.Header.Get("X-RateLimit-Remaining") == "0" {
		if s := resp.Header.Get("X-RateLimit-Reset"); s != "" {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				return time.Until(time.Unix(n, 0))
			}
		}
	}
	return 0
}

// backoff waits what the server asked for, else exponential backoff with full
// jitter between min and max.
func backoff(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil {
		if d := waitFor(resp); d > 0 {
			return min(d, maxWait)
		}
	}
	ceiling := minWait << min(attempt, 16)
	if ceiling <= 0 || ceiling > maxWait {
		ceiling = maxWait
	}
	return minWait + rand.N(ceiling-minWait+1)
}

type nonIdempotentError struct{ err error }

func (e *nonIdempotentError) Error() string { return e.err.Error() }
func (e *nonIdempotentError) Unwrap() error { return e.err }

// neverSent reports whether err happened before the request could reach the
// server (the dial failed), so that even a write is safe to repeat.
func neverSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

type headerTransport struct {
	base      http.RoundTripper
	headers   map[string]string
	userAgent string
	attempts  *atomic.Int64
}

func (t *headerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.attempts.Add(1)
	req = req.Clone(req.Context())
	for k, v := range t.headers {
		req.Header.Set(k, v)
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", t.userAgent)
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil && !isIdempotent(req) && !neverSent(err) {
		// The server may have acted before the connection failed: do not
		// repeat a write whose outcome is unknown.
		return nil, &nonIdempotentError{err: err}
	}
	return resp, err
}
