package infisicalsrv

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// apiError is an error answer in Infisical's shape. Handlers return it; the
// route wrapper writes it with the request id.
type apiError struct {
	status  int
	name    string // the "error" field
	message any    // a string, or []zodIssue for 422
	details any    // written only when non-nil
	headers map[string]string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %v", e.status, e.name, e.message) }

// errorBody is the JSON Infisical's error handler sends
// (backend/src/server/plugins/error-handler.ts), fields in its order.
type errorBody struct {
	ReqID      string `json:"reqId"`
	StatusCode int    `json:"statusCode"`
	Message    any    `json:"message"`
	Error      string `json:"error"`
	Details    any    `json:"details,omitempty"`
}

// The wire names of Infisical's error classes (lib/errors): the class name is
// not always what goes on the wire.
const (
	nameBadRequest   = "BadRequest"
	nameNotFound     = "NotFound"
	nameUnauthorized = "UnauthorizedError"
	nameForbidden    = "ForbiddenError"
	namePermission   = "PermissionDenied"
	nameBoundary     = "PermissionBoundaryError"
	nameToken        = "TokenError"
	nameValidation   = "ValidationFailure"
	nameRateLimit    = "RateLimitExceeded"
	nameInternal     = "InternalServerError"
)

func errBadRequest(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, name: nameBadRequest, message: msg}
}

// errNotFound is a NotFoundError; name overrides the default "NotFound" as
// services do (e.g. "CreateSecret", "SecretPathNotFound").
func errNotFound(msg string, name ...string) *apiError {
	n := nameNotFound
	if len(name) > 0 {
		n = name[0]
	}
	return &apiError{status: http.StatusNotFound, name: n, message: msg}
}

func errUnauthorized(msg string) *apiError {
	return &apiError{status: http.StatusUnauthorized, name: nameUnauthorized, message: msg}
}

// errForbiddenRequest is a ForbiddenRequestError (403 with its own name).
func errForbiddenRequest(name, msg string, details any) *apiError {
	if name == "" {
		name = nameForbidden
	}
	return &apiError{status: http.StatusForbidden, name: name, message: msg, details: details}
}

// errToken is how jsonwebtoken failures surface: 403 TokenError.
func errToken(msg string) *apiError {
	return &apiError{status: http.StatusForbidden, name: nameToken, message: msg}
}

// errPermission is CASL's ForbiddenError: the message names the action and
// subject, details lists the rules that were considered.
func errPermission(action, subject string, details []ruleDetail) *apiError {
	if details == nil {
		details = []ruleDetail{}
	}
	return &apiError{
		status:  http.StatusForbidden,
		name:    namePermission,
		message: "You are not allowed to " + action + " on " + subject,
		details: details,
	}
}

// errBoundary is a PermissionBoundaryError under the "new privilege system".
func errBoundary(base, action, subject string) *apiError {
	return &apiError{
		status:  http.StatusForbidden,
		name:    nameBoundary,
		message: base + ". Missing permission " + action + " on " + subject,
		details: map[string]any{"missingPermissions": []map[string]string{{"action": action, "subject": subject}}},
	}
}

func errValidation(issues []zodIssue) *apiError {
	return &apiError{status: http.StatusUnprocessableEntity, name: nameValidation, message: issues}
}

// errInternal is the catch-all of the error handler; Fastify's own errors
// (invalid JSON, body too large, unsupported media type) end up here too.
func errInternal() *apiError {
	return &apiError{status: http.StatusInternalServerError, name: nameInternal, message: "Something went wrong"}
}

// errRateLimit is the limiter's 429: RateLimitError's body and the
// plugin's headers (x-ratelimit-reset and retry-after both in seconds to the
// end of the window). withHeaders false leaves the x-ratelimit-* headers out.
func errRateLimit(retryAfter int, limit int, withHeaders bool) *apiError {
	if retryAfter < 1 {
		retryAfter = 1
	}
	e := &apiError{
		status:  http.StatusTooManyRequests,
		name:    nameRateLimit,
		message: "Rate limit exceeded. Please try again in " + strconv.Itoa(retryAfter) + " seconds",
		headers: map[string]string{"Retry-After": strconv.Itoa(retryAfter)},
	}
	if withHeaders {
		e.headers["X-RateLimit-Limit"] = strconv.Itoa(limit)
		e.headers["X-RateLimit-Remaining"] = "0"
		e.headers["X-RateLimit-Reset"] = strconv.Itoa(retryAfter)
	}
	return e
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"statusCode":500,"message":"Something went wrong","error":"InternalServerError"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeAPIError(w http.ResponseWriter, reqID string, e *apiError) {
	for k, v := range e.headers {
		w.Header().Set(k, v)
	}
	writeJSON(w, e.status, errorBody{ReqID: reqID, StatusCode: e.status, Message: e.message, Error: e.name, Details: e.details})
}

// fail writes the answer of an injected fault: the body Infisical (or the
// proxy in front of it, for 502/503) would send for that status.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int) {
	reqID := newReqID()
	var e *apiError
	switch status {
	case http.StatusBadRequest:
		e = errBadRequest("The request is invalid")
	case http.StatusUnauthorized:
		e = errUnauthorized("You are not allowed to access this resource")
	case http.StatusForbidden:
		e = errForbiddenRequest("", "You are not allowed to access this resource", nil)
	case http.StatusNotFound:
		e = errNotFound("The requested entity is not found")
	case http.StatusUnprocessableEntity:
		e = errValidation([]zodIssue{})
	case http.StatusTooManyRequests:
		retry := 60
		if ra, err := strconv.Atoi(w.Header().Get("Retry-After")); err == nil && ra > 0 {
			retry = ra
		}
		limit, limited := s.limitForRequest(r)
		e = errRateLimit(retry, limit, limited)
	case http.StatusInternalServerError:
		e = errInternal()
	case http.StatusGatewayTimeout:
		e = &apiError{status: status, name: "GatewayTimeoutError", message: "Timeout error"}
	default:
		text := http.StatusText(status)
		if text == "" {
			text = "Error"
		}
		e = &apiError{status: status, name: strings.ReplaceAll(text, " ", ""), message: text}
	}
	writeAPIError(w, reqID, e)
}

// notFound is Fastify's default 404 for a route that does not exist.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusNotFound, struct {
		Message    string `json:"message"`
		Error      string `json:"error"`
		StatusCode int    `json:"statusCode"`
	}{"Route " + r.Method + ":" + r.URL.RequestURI() + " not found", "Not Found", http.StatusNotFound})
}
