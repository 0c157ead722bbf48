package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	gh "github.com/google/go-github/v62/github"

	"github.com/raxx-app/handoff/internal/provider/httpx"
	"github.com/raxx-app/handoff/internal/provider/pace"
)

// Surface is the name errors of this package carry in httpx.APIError.Surface.
const Surface = "github"

// Sentinel errors, matched with errors.Is. An error that matches one of them
// is also an *httpx.APIError (errors.As) with the operation and status.
var (
	// ErrNotFound: GitHub answered 404. For a read made with a narrowed
	// token this is the expected refusal outside its scope, not a failure.
	ErrNotFound = errors.New("github: not found")
	// ErrTokenGone: the token to revoke is already expired or revoked
	// (GitHub answers 401). The revocation's goal holds: treat it as success.
	ErrTokenGone = errors.New("github: token already expired or revoked")
	// ErrCommentTooLong: a comment body is over GitHub's 65,536 characters.
	ErrCommentTooLong = errors.New("github: comment too long")
)

// statusError is an APIError that also matches a sentinel.
type statusError struct {
	*httpx.APIError
	sentinel error
}

func (e *statusError) Unwrap() []error { return []error{e.APIError, e.sentinel} }

// translate turns what go-github returned into an error for a person: an
// *httpx.APIError with Surface "github", the operation, the status, GitHub's
// own message and a remedy. Transport failures and deadlines are wrapped
// with the operation. No header, token or JWT is ever copied into it.
func (c *Client) translate(ctx context.Context, s *session, op string, resp *gh.Response, err error, remedy func(*httpx.APIError)) error {
	var de *pace.DeadlineError
	if errors.As(err, &de) {
		// A wait for a rate limit past the deadline: nothing was sent.
		return fmt.Errorf("github: %s: %w", op, de)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("github: %s: no answer in time (%w): GitHub is slow or unreachable; rerun, or raise the timeout", op, err)
	}
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return fmt.Errorf("github: %s: %w", op, err)
	}
	ae := &httpx.APIError{Surface: Surface, Op: op}
	var httpResp *http.Response
	var (
		rl  *gh.RateLimitError
		ab  *gh.AbuseRateLimitError
		er  *gh.ErrorResponse
		acc *gh.AcceptedError
	)
	switch {
	case errors.As(err, &rl):
		httpResp, ae.Message = rl.Response, rl.Message
		reset := rl.Rate.Reset.Time
		if n, err := strconv.ParseInt(rl.Response.Header.Get(hiddenReset), 10, 64); err == nil && reset.IsZero() {
			reset = time.Unix(n, 0)
		}
		ae.Remedy = c.rateRemedy(s, reset)
	case errors.As(err, &ab):
		httpResp, ae.Message = ab.Response, ab.Message
		var wait time.Duration
		if ab.RetryAfter != nil {
			wait = *ab.RetryAfter
		} else if secs, err := strconv.Atoi(ab.Response.Header.Get(hiddenRetryAfter)); err == nil {
			wait = time.Duration(secs) * time.Second
		}
		ae.Remedy = secondaryRemedy(wait)
	case errors.As(err, &er):
		httpResp, ae.Message = er.Response, errorMessage(er)
	case errors.As(err, &acc):
		ae.Status = http.StatusAccepted
		if resp != nil {
			httpResp = resp.Response
		}
		ae.Message = "GitHub accepted the request for later processing"
	default:
		// A transport error (connection refused, TLS, a dropped connection
		// on a write) or a body GitHub should never send. go-github already
		// sanitised the URL; there is no secret in it.
		return fmt.Errorf("github: %s: %w", op, err)
	}
	if httpResp != nil {
		ae.Status = httpResp.StatusCode
		if httpResp.Request != nil {
			ae.Method = httpResp.Request.Method
			ae.Path = httpResp.Request.URL.Path
		}
		ae.RequestID = httpResp.Header.Get("X-GitHub-Request-Id")
	}
	if len(ae.Message) > 300 {
		ae.Message = ae.Message[:300] + "…"
	}
	if ae.Remedy == "" && s.app && ae.Status == http.StatusNotFound && strings.Contains(ae.Message, "Integration not found") {
		// GitHub knows no App with the JWT's iss.
		ae.Remedy = fmt.Sprintf("GitHub knows no App with id %d: check %s against the App's settings page", c.appID, c.appIDFrom)
	}
	if ae.Remedy == "" && remedy != nil {
		remedy(ae)
	}
	if ae.Remedy == "" {
		ae.Remedy = c.genericRemedy(s, ae, httpResp)
	}
	if ae.Status == http.StatusUnauthorized && s.app {
		c.forgetJWT()
	}
	if ae.Status == http.StatusNotFound {
		return &statusError{APIError: ae, sentinel: ErrNotFound}
	}
	return ae
}

// errorMessage is GitHub's message plus the field errors of a 422, if any.
func errorMessage(er *gh.ErrorResponse) string {
	msg := strings.TrimSpace(er.Message)
	var details []string
	for _, e := range er.Errors {
		d := e.Message
		if d == "" {
			d = strings.TrimSpace(strings.Join(nonEmpty(e.Resource, e.Field, e.Code), " "))
		}
		if d != "" && !strings.Contains(msg, d) {
			details = append(details, d)
		}
	}
	if len(details) > 0 {
		msg += " (" + strings.Join(details, "; ") + ")"
	}
	return msg
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// genericRemedy covers failures any operation can meet.
func (c *Client) genericRemedy(s *session, ae *httpx.APIError, resp *http.Response) string {
	switch {
	case ae.Status == http.StatusUnauthorized && s.app:
		return fmt.Sprintf("GitHub rejected the App's JWT: check that app_id %d is the App's id and that %s is its current private key, and that this machine's clock is right (a JWT is valid from 60 s before signing to 9 min after)", c.appID, EnvPrivateKey)
	case ae.Status == http.StatusUnauthorized:
		return "the token is expired, revoked or invalid: mint a new one (in GitHub Actions, pass the workflow's GITHUB_TOKEN)"
	case ae.Status == http.StatusTooManyRequests || (ae.Status == http.StatusForbidden && strings.Contains(strings.ToLower(ae.Message), "rate limit")):
		if resp != nil {
			if secs, err := strconv.Atoi(headerValue(resp.Header, "Retry-After")); err == nil {
				return secondaryRemedy(time.Duration(secs) * time.Second)
			}
			if reset, err := strconv.ParseInt(headerValue(resp.Header, "X-RateLimit-Reset"), 10, 64); err == nil && resp.Header.Get("X-RateLimit-Remaining") == "0" {
				return c.rateRemedy(s, time.Unix(reset, 0))
			}
		}
		return "GitHub's rate limit is exhausted: wait a few minutes and rerun"
	case ae.Status == http.StatusForbidden && resp != nil && resp.Header.Get("X-Accepted-GitHub-Permissions") != "":
		return fmt.Sprintf("the credential lacks a permission: GitHub accepts %s", resp.Header.Get("X-Accepted-GitHub-Permissions"))
	case ae.Status >= 500:
		return "GitHub is failing (https://www.githubstatus.com): rerun later; apply converges from where it stopped"
	}
	return ""
}

// rateRemedy says when the primary rate limit resets.
func (c *Client) rateRemedy(s *session, reset time.Time) string {
	who := "this token's installation"
	if s.app {
		who = "the App"
	}
	if reset.IsZero() {
		return fmt.Sprintf("the rate limit of %s is exhausted: wait until it resets and rerun", who)
	}
	in := reset.Sub(c.now()).Round(time.Second)
	if in < 0 {
		in = 0
	}
	return fmt.Sprintf("the rate limit of %s is exhausted; it resets at %s (in %s): rerun after that", who, reset.UTC().Format(time.RFC3339), in)
}

func secondaryRemedy(wait time.Duration) string {
	if wait > 0 {
		return fmt.Sprintf("GitHub's secondary rate limit was hit (too many writes too fast): wait %s and rerun", wait)
	}
	return "GitHub's secondary rate limit was hit (too many writes too fast): wait a minute and rerun"
}
