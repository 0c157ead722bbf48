package cloudflaresrv

import (
	"fmt"
	"net/http"
	"time"
)

// cfMessage is one entry of the envelope's errors or messages arrays.
type cfMessage struct {
	Code       int         `json:"code"`
	Message    string      `json:"message"`
	ErrorChain []cfMessage `json:"error_chain,omitempty"`
}

// apiError is a failure answer: an HTTP status and Cloudflare's error list.
type apiError struct {
	status int
	errs   []cfMessage
}

func newError(status, code int, msg string) *apiError {
	return &apiError{status: status, errs: []cfMessage{{Code: code, Message: msg}}}
}

// Cloudflare's error codes. Those marked "observed" appear in answers of the
// real API quoted in public issue threads; the others are Chosen: no public
// source gave the code, so one was picked in the range Cloudflare uses for
// the same service.
const (
	// Observed: GET /user/tokens/verify with a token that does not work
	// (unknown, expired, disabled, outside its IP allowlist): 401.
	codeInvalidAPIToken = 1000
	// Observed: token-service validation failures ("Reusing existing
	// policies is not supported by token creation"): 400.
	codeTokenValidation = 1001
	// Chosen: a token id that names no token of the user: 404.
	codeTokenNotFound = 1003
	// Observed: 400 "Invalid request headers" with an error_chain entry
	// 6111 "Invalid format for Authorization header".
	codeInvalidHeaders   = 6003
	codeInvalidAuthValue = 6111
	// Observed: 400 "Malformed JSON in request body".
	codeMalformedJSON = 6007
	// Observed: 400 "No route for that URI"; 7003 "Could not route to …,
	// perhaps your object identifier is invalid?"; 405 7001.
	codeNoRoute        = 7000
	codeMethodNotAllow = 7001
	codeBadIdentifier  = 7003
	// Observed: 400 "Missing X-Auth-Key, X-Auth-Email or Authorization
	// headers".
	codeMissingAuth = 9106
	// Observed: 403 "Unknown X-Auth-Key or X-Auth-Email" (this server holds
	// no Global API Keys, so every key is unknown).
	codeUnknownAPIKey = 9103
	// Observed: 403 with "Invalid access token", "Unauthorized to access
	// requested resource" (a token without API Tokens Write on POST
	// /user/tokens) and "Cannot use the access token from location: IP".
	codeAccessToken = 9109
	// Observed: 403 "Authentication error" for a token that lacks a
	// permission on a zone.
	codeAuthError = 10000
	// Observed: 429 "More than 1200 requests per 300 seconds reached.
	// Please wait and consider throttling your request speed" (code 10100;
	// newer answers of some services use 971 with the second sentence only).
	codeRateLimited = 10100
	// DNS record validation. Observed: 9005 (A content), 81053 and 81058
	// (conflicting and identical records). Chosen: 9000, 9004, 9006, 9007,
	// 9021.
	codeDNSName      = 9000
	codeDNSType      = 9004
	codeDNSContentA  = 9005
	codeDNSContent6  = 9006
	codeDNSContent   = 9007
	codeDNSTTL       = 9021
	codeDNSConflict  = 81053
	codeDNSIdentical = 81058
)

// The success message of GET /user/tokens/verify (observed, code 10000).
const (
	codeTokenValid = 10000
	msgTokenValid  = "This API Token is valid and active"
)

func errMissingAuth() *apiError {
	return newError(http.StatusBadRequest, codeMissingAuth, "Missing X-Auth-Key, X-Auth-Email or Authorization headers")
}

func errBadAuthHeader() *apiError {
	return &apiError{status: http.StatusBadRequest, errs: []cfMessage{{
		Code: codeInvalidHeaders, Message: "Invalid request headers",
		ErrorChain: []cfMessage{{Code: codeInvalidAuthValue, Message: "Invalid format for Authorization header"}},
	}}}
}

func errUnknownAPIKey() *apiError {
	return newError(http.StatusForbidden, codeUnknownAPIKey, "Unknown X-Auth-Key or X-Auth-Email")
}

// errInvalidToken is the refusal of a token that does not work, on every
// route but verify.
func errInvalidToken() *apiError {
	return newError(http.StatusForbidden, codeAccessToken, "Invalid access token")
}

// errVerifyInvalid is verify's refusal of a token that does not work.
func errVerifyInvalid() *apiError {
	return newError(http.StatusUnauthorized, codeInvalidAPIToken, "Invalid API Token")
}

func errLocation(ip string) *apiError {
	return newError(http.StatusForbidden, codeAccessToken, "Cannot use the access token from location: "+ip)
}

// errUnauthorizedTokens refuses a token operation to a token without the
// API Tokens permission it needs.
func errUnauthorizedTokens() *apiError {
	return newError(http.StatusForbidden, codeAccessToken, "Unauthorized to access requested resource")
}

// errAuthentication refuses a zone or DNS operation to a token without the
// permission on that zone.
func errAuthentication() *apiError {
	return newError(http.StatusForbidden, codeAuthError, "Authentication error")
}

func errTokenNotFound() *apiError {
	return newError(http.StatusNotFound, codeTokenNotFound, "Token not found")
}

func errMalformedJSON() *apiError {
	return newError(http.StatusBadRequest, codeMalformedJSON, "Malformed JSON in request body")
}

func errValidation(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, codeTokenValidation, fmt.Sprintf(format, args...))
}

func errNoRoute() *apiError {
	return newError(http.StatusBadRequest, codeNoRoute, "No route for that URI")
}

func errMethodNotAllowed(method string) *apiError {
	return newError(http.StatusMethodNotAllowed, codeMethodNotAllow, "Method "+method+" not available for that URI.")
}

// errBadIdentifier answers a path whose object identifier is malformed.
func errBadIdentifier(path string) *apiError {
	return &apiError{status: http.StatusBadRequest, errs: []cfMessage{
		{Code: codeBadIdentifier, Message: "Could not route to " + path + ", perhaps your object identifier is invalid?"},
		{Code: codeNoRoute, Message: "No route for that URI"},
	}}
}

func errRateLimited(limit int, window time.Duration) *apiError {
	return newError(http.StatusTooManyRequests, codeRateLimited, fmt.Sprintf(
		"More than %d requests per %d seconds reached. Please wait and consider throttling your request speed", limit, ceilSeconds(window)))
}

// errInjected is the answer to a fault injected with a status. Chosen:
// Cloudflare's API gateway answers its own failures in the same envelope;
// the code is the status times ten, which no real error uses.
func errInjected(status int) *apiError {
	msg := http.StatusText(status)
	if msg == "" {
		msg = "Error"
	}
	if status == http.StatusTooManyRequests {
		return errRateLimited(DefaultRateLimit, DefaultRateLimitWindow)
	}
	return newError(status, status*10, msg)
}
