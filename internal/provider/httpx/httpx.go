// Package httpx is the HTTP layer every provider shares: it paces requests
// to the vendors' rate limits (internal/provider/pace), repeats what is safe
// to repeat with exponential backoff and jitter (5xx, timeouts, dropped
// connections), waits out what the server asks for (a 429, a rate-limit
// 403, a 503 with Retry-After) however long that is unless it would pass
// the caller's deadline, bounds each attempt and each call's time on the
// network, adds extra headers (Cloudflare Access), and defines the APIError
// that names the surface, the operation, the status and the remedy.
//
// A request whose effect is not idempotent (POST, PATCH) is repeated only
// when the server certainly did not act on it (a rate-limit refusal, a 503
// with Retry-After, a connection that was never made); a caller that knows
// its POST is safe to repeat (a login, a lookup) marks the context with
// Idempotent. Everything else surfaces as an error, and the reconciler
// converges on the next run instead of guessing here.
package httpx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/raxx-app/handoff/internal/provider/pace"
)

// Config tunes a client. The zero value is usable.
type Config struct {
	// AttemptTimeout bounds one attempt (default 30s). Waits for rate
	// limits are not part of it.
	AttemptTimeout time.Duration
	// MaxRetries is how many times a failed attempt (5xx, timeout, dropped
	// connection, 503 with Retry-After) is repeated (default 4).
	MaxRetries int
	// MaxLimitedRetries is how many rate-limit refusals in a row are
	// waited out and repeated (default 8). The wait itself has no cap but
	// the deadline.
	MaxLimitedRetries int
	// MinWait and MaxWait bound the backoff between failed attempts
	// (defaults 250ms and 10s). They do not bound waits the server or a
	// rate limit asks for.
	MinWait, MaxWait time.Duration
	// Transport is the underlying round tripper (default: a pooled transport).
	Transport http.RoundTripper
	// Headers are added to every request (e.g. CF-Access-Client-Id).
	Headers map[string]string
	// UserAgent is sent on every request (default "handoff").
	UserAgent string
	// Pacer paces the requests; give every client the same one so that they
	// share the vendors' limits (apply runs many handoffs at once). Nil: the
	// client makes its own on the real clock. Its clock also times the
	// backoff between attempts, and its deadline bounds every wait.
	Pacer *pace.Pacer
}

// Client is a pacing, retrying HTTP client. Use Standard for libraries that
// want an *http.Client (go-github).
type Client struct {
	cfg      Config
	pacer    *pace.Pacer
	base     http.RoundTripper
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
	if cfg.MaxLimitedRetries == 0 {
		cfg.MaxLimitedRetries = 8
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
	if cfg.Pacer == nil {
		cfg.Pacer = pace.New(pace.Config{})
	}
	base := cfg.Transport
	if base == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 64
		base = t
	}
	c := &Client{cfg: cfg, pacer: cfg.Pacer, base: base}
	c.std = &http.Client{Transport: (*transport)(c)}
	return c
}

// Standard returns the client as an *http.Client.
func (c *Client) Standard() *http.Client { return c.std }

// Do sends req, paced and with retries.
func (c *Client) Do(req *http.Request) (*http.Response, error) { return c.std.Do(req) }

// Pacer is the pacer the client's requests go through (register a vendor's
// model on it; read its counters).
func (c *Client) Pacer() *pace.Pacer { return c.pacer }

// Attempts is the number of HTTP attempts made, retries included.
func (c *Client) Attempts() int64 { return c.attempts.Load() }

// Retries is the number of attempts that were repeats of a failed one.
func (c *Client) Retries() int64 { return c.retries.Load() }

type beforeSendKey struct{}

// BeforeSend makes every attempt of the requests made with ctx call fn just
// before it goes out, after any wait for a rate limit: the place to sign a
// short-lived credential (GitHub's App JWT), which a long wait would
// otherwise let expire. An error from fn fails the request.
func BeforeSend(ctx context.Context, fn func(*http.Request) error) context.Context {
	return context.WithValue(ctx, beforeSendKey{}, fn)
}

type callBudgetKey struct{}

// callBudget is how long one call may spend on the network, waits for rate
// limits excluded.
type callBudget struct {
	limit time.Duration
	start time.Time
	paced atomic.Int64 // wall time spent waiting for limits
}

func (b *callBudget) left() time.Duration {
	return b.limit - (time.Since(b.start) - time.Duration(b.paced.Load()))
}

// WithCallTimeout bounds the time the calls made with ctx spend on the
// network, retries and backoff included, to d; waits for a rate limit are
// not counted (only the context's deadline and the pacer's bound those). A
// call past it fails with an error for which errors.Is(err,
// context.DeadlineExceeded) holds. Vendor clients use it for their
// per-call timeout.
func WithCallTimeout(ctx context.Context, d time.Duration) context.Context {
	return context.WithValue(ctx, callBudgetKey{}, &callBudget{limit: d, start: time.Now()})
}

// timeoutError is a call that ran out of its network time.
type timeoutError struct{ limit time.Duration }

func (e *timeoutError) Error() string {
	return fmt.Sprintf("no answer within %s: %v", e.limit, context.DeadlineExceeded)
}
func (e *timeoutError) Unwrap() error   { return context.DeadlineExceeded }
func (e *timeoutError) Timeout() bool   { return true }
func (e *timeoutError) Temporary() bool { return true }

type transport Client

// RoundTrip sends req through the pacer, repeating it as the package doc
// says.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	c := (*Client)(t)
	ctx := req.Context()
	budget, _ := ctx.Value(callBudgetKey{}).(*callBudget)
	failures, refusals := 0, 0
	for attempt := 0; ; attempt++ {
		r, err := c.prepare(req, attempt)
		if err != nil {
			return nil, err
		}
		waitStart := time.Now()
		tk, err := c.pacer.Acquire(ctx, r)
		if budget != nil {
			budget.paced.Add(int64(time.Since(waitStart)))
		}
		if err != nil {
			return nil, err
		}
		if fn, ok := ctx.Value(beforeSendKey{}).(func(*http.Request) error); ok {
			if err := fn(r); err != nil {
				tk.Done(nil, err)
				return nil, err
			}
		}
		timeout := c.cfg.AttemptTimeout
		if budget != nil {
			if left := budget.left(); left <= 0 {
				tk.Done(nil, context.DeadlineExceeded)
				return nil, &timeoutError{budget.limit}
			} else if left < timeout {
				timeout = left
			}
		}
		actx, cancel := context.WithTimeout(ctx, timeout)
		if attempt > 0 {
			c.retries.Add(1)
		}
		c.attempts.Add(1)
		resp, err := c.base.RoundTrip(r.WithContext(actx))
		verdict := tk.Done(resp, err)
		if err != nil {
			cancel()
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if actx.Err() != nil && budget != nil && budget.left() <= 0 {
				return nil, &timeoutError{budget.limit}
			}
			// A write whose outcome is unknown is not repeated.
			if (!isIdempotent(req) && !neverSent(err)) || failures >= c.cfg.MaxRetries {
				return nil, err
			}
			failures++
			if !c.backoff(ctx, failures, budget) {
				return nil, err
			}
			continue
		}
		resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
		retry, wait := false, false
		switch {
		case verdict.Limited:
			// The server did not act: repeat whatever the method. The
			// pacer makes the next attempt wait what the answer named.
			if refusals < c.cfg.MaxLimitedRetries {
				refusals++
				retry, wait = true, !verdict.Paused
			}
		case verdict.Unavailable:
			if failures < c.cfg.MaxRetries {
				failures++
				retry = true
			}
		case resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented:
			if isIdempotent(req) && failures < c.cfg.MaxRetries {
				failures++
				retry, wait = true, true
			}
		}
		if !retry {
			return resp, nil
		}
		if wait && !c.backoff(ctx, max(failures, refusals), budget) {
			return resp, nil
		}
		drain(resp)
	}
}

// prepare returns the request for an attempt, with its body rewound and
// the extra headers set.
func (c *Client) prepare(req *http.Request, attempt int) (*http.Request, error) {
	r := req.Clone(req.Context())
	if attempt > 0 && req.Body != nil && req.Body != http.NoBody {
		if req.GetBody == nil {
			return nil, errors.New("httpx: cannot repeat a request whose body cannot be read again")
		}
		b, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		r.Body = b
	}
	for k, v := range c.cfg.Headers {
		r.Header.Set(k, v)
	}
	if r.Header.Get("User-Agent") == "" {
		r.Header.Set("User-Agent", c.cfg.UserAgent)
	}
	return r, nil
}

// backoff sleeps before repeat n (exponential with full jitter between
// MinWait and MaxWait) on the pacer's clock. It returns false, without
// sleeping, when the sleep would pass a deadline or the call's time.
func (c *Client) backoff(ctx context.Context, n int, budget *callBudget) bool {
	ceiling := c.cfg.MinWait << min(n, 16)
	if ceiling <= 0 || ceiling > c.cfg.MaxWait {
		ceiling = c.cfg.MaxWait
	}
	d := c.cfg.MinWait
	if ceiling > c.cfg.MinWait {
		d += rand.N(ceiling - c.cfg.MinWait + 1)
	}
	if budget != nil && budget.left() < d {
		return false
	}
	slept, err := c.pacer.Sleep(ctx, d)
	return slept && err == nil
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
}

// cancelOnClose ends an attempt's context when its answer has been read.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// neverSent reports whether err happened before the request could reach the
// server (the dial failed), so that even a write is safe to repeat.
func neverSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
