package cloudflare

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/raxx-app/handoff/internal/provider/httpx"
)

// Sentinel errors, matched with errors.Is. An error that matches one of them
// is also an *httpx.APIError (errors.As) with the operation, the status and
// Cloudflare's codes.
var (
	// ErrNotFound: Cloudflare answered 404 (a token id that no longer
	// exists).
	ErrNotFound = errors.New("cloudflare: not found")
	// ErrInvalidToken: Cloudflare refused the token the call was made with:
	// unknown, deleted, disabled, expired, not yet valid or outside its IP
	// allowlist (verify says only "Invalid API Token").
	ErrInvalidToken = errors.New("cloudflare: token refused")
)

// IsNotFound reports whether err is Cloudflare's 404.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// IsInvalidToken reports whether Cloudflare refused the call's token itself
// (as opposed to a missing permission).
func IsInvalidToken(err error) bool { return errors.Is(err, ErrInvalidToken) }

// Codes returns Cloudflare's error codes carried by err (nil when err is not
// an answer of Cloudflare's).
func Codes(err error) []int {
	var e *apiError
	if errors.As(err, &e) {
		return append([]int(nil), e.codes...)
	}
	return nil
}

// apiError is an APIError with Cloudflare's codes and, for some, a sentinel.
type apiError struct {
	*httpx.APIError
	codes    []int
	sentinel error
}

func (e *apiError) Unwrap() []error {
	if e.sentinel == nil {
		return []error{e.APIError}
	}
	return []error{e.APIError, e.sentinel}
}

// Codes observed in Cloudflare's answers (see internal/devserver/cloudflaresrv).
const (
	codeInvalidAPIToken = 1000
	codeBadRequest      = 1001
	codeInvalidHeaders  = 6003
	codeMissingAuth     = 9106
	codeUnknownAPIKey   = 9103
	codeAccessToken     = 9109
	codeAuthError       = 10000
)

// apiError turns a failed answer into an error for a person.
func (c *Client) apiError(cl *call, resp *http.Response, env envelope, parsed bool, tok Secret) error {
	ae := &httpx.APIError{Surface: Surface, Op: cl.op, Method: cl.method, Path: c.pathOf(cl), Status: resp.StatusCode,
		RequestID: resp.Header.Get("Cf-Ray")}
	e := &apiError{APIError: ae}
	var parts []string
	var all []cfMessage
	for _, m := range env.Errors {
		all = append(all, m)
		all = append(all, m.ErrorChain...)
	}
	for _, m := range all {
		e.codes = append(e.codes, m.Code)
		parts = append(parts, fmt.Sprintf("%s (%d)", strings.TrimSpace(m.Message), m.Code))
	}
	switch {
	case len(parts) > 0:
		ae.Message = c.scrubText(strings.Join(parts, "; "), tok)
	case !parsed:
		ae.Message = "the answer is not Cloudflare's JSON envelope"
	case resp.StatusCode < 300:
		ae.Message = "Cloudflare answered success: false without errors"
	}
	if len(ae.Message) > 400 {
		ae.Message = ae.Message[:400] + "…"
	}
	msg := strings.ToLower(ae.Message)
	switch {
	case resp.StatusCode == http.StatusNotFound:
		e.sentinel = ErrNotFound
	case resp.StatusCode == http.StatusUnauthorized && e.has(codeInvalidAPIToken),
		resp.StatusCode == http.StatusForbidden && e.has(codeAccessToken) &&
			(strings.Contains(msg, "invalid access token") || strings.Contains(msg, "cannot use the access token")):
		e.sentinel = ErrInvalidToken
	}
	ae.Remedy = c.remedy(cl, resp, e, msg)
	return e
}

func (e *apiError) has(code int) bool {
	for _, c := range e.codes {
		if c == code {
			return true
		}
	}
	return false
}

// remedy says what the operator can do about a failed call.
func (c *Client) remedy(cl *call, resp *http.Response, e *apiError, msg string) string {
	status := resp.StatusCode
	switch {
	case e.has(codeMissingAuth) || e.has(codeInvalidHeaders) || e.has(codeUnknownAPIKey):
		return fmt.Sprintf("no usable API token was sent: set %s to a user API token (not the Global API Key)", EnvAPIToken)
	case strings.Contains(msg, "cannot use the access token from location"):
		return "the token's IP allowlist (condition.request.ip) excludes this machine's address: run from an allowed address or widen the allowlist"
	case e.sentinel == ErrInvalidToken && cl.token != "":
		return "the token does not work: it is unknown, deleted, disabled, expired, not yet valid or used outside its IP allowlist"
	case e.sentinel == ErrInvalidToken:
		return fmt.Sprintf("Cloudflare refuses the token in %s: it is unknown, deleted, disabled or expired; create a new one", EnvAPIToken)
	case status == http.StatusForbidden && e.has(codeAccessToken) && strings.HasPrefix(cl.path, "/user/tokens"):
		return "the token lacks the user permission group API Tokens Write (API Tokens Read for reads): give the provisioner token API Tokens Write on the user, all handoff needs"
	case status == http.StatusForbidden && e.has(codeAuthError):
		return "the token lacks a permission on this resource: check the permission groups and zones of its policies"
	case status == http.StatusNotFound && cl.tokenID != "":
		return fmt.Sprintf("token %s no longer exists (deleted out of band?)", cl.tokenID)
	case status == http.StatusTooManyRequests:
		wait := "a few minutes"
		if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs > 0 {
			wait = (time.Duration(secs) * time.Second).String()
		}
		return fmt.Sprintf("Cloudflare's limit of 1,200 requests per five minutes per user (all the user's tokens together) is exhausted: wait %s and rerun", wait)
	case status == http.StatusBadRequest && e.has(codeBadRequest) && cl.method == http.MethodPost && strings.HasPrefix(cl.path, "/user/tokens"):
		return "Cloudflare refused the token's definition: check the spec's zones, permission groups, expiry and IP allowlist"
	case status >= 500:
		return "Cloudflare is failing (https://www.cloudflarestatus.com): rerun later; apply converges from where it stopped"
	}
	return ""
}
