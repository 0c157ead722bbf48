package herokusrv

import (
	"errors"
	"fmt"
	"net/http"
)

// apiError is an error answer in Heroku's shape: {"id": ..., "message": ...}
// with the status Heroku pairs with that id.
type apiError struct {
	status  int
	id      string
	message string
	// legacyShape writes "error" instead of "message", as Heroku still does
	// for missing_version (observed answers quoted in the package doc).
	legacyShape bool
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.status, e.id, e.message) }

// errorf makes a fixture or state error.
func errorf(format string, args ...any) error {
	return errors.New("herokusrv: " + fmt.Sprintf(format, args...))
}

// Heroku's error ids and their statuses (Platform API reference, "Errors").
func errBadRequest(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, id: "bad_request", message: msg}
}

func errMissingVersion() *apiError {
	return &apiError{status: http.StatusBadRequest, id: "missing_version", legacyShape: true,
		message: "Please specify a version along with Heroku's API MIME type. For example, `Accept: application/vnd.heroku+json; version=3`.\n"}
}

func errNotAcceptable() *apiError {
	return &apiError{status: http.StatusNotAcceptable, id: "not_acceptable",
		message: "This API only serves version 3. Set `Accept: application/vnd.heroku+json; version=3` and try again."}
}

func errUnauthorized() *apiError {
	return &apiError{status: http.StatusUnauthorized, id: "unauthorized", message: "Invalid credentials provided."}
}

func errForbidden(msg string) *apiError {
	return &apiError{status: http.StatusForbidden, id: "forbidden", message: msg}
}

func errNoAppAccess(name string) *apiError {
	return errForbidden("You do not have access to the app " + name + ".")
}

func errNotFound(msg string) *apiError {
	return &apiError{status: http.StatusNotFound, id: "not_found", message: msg}
}

func errInvalidParams(msg string) *apiError {
	return &apiError{status: http.StatusUnprocessableEntity, id: "invalid_params", message: msg}
}

func errRangeNotSatisfiable(msg string) *apiError {
	return &apiError{status: http.StatusRequestedRangeNotSatisfiable, id: "requested_range_not_satisfiable", message: msg}
}

func errRateLimit() *apiError {
	return &apiError{status: http.StatusTooManyRequests, id: "rate_limit",
		message: "Your account reached the API rate limit\nPlease wait a few minutes before making new requests"}
}

func errInternal() *apiError {
	return &apiError{status: http.StatusInternalServerError, id: "internal_server_error",
		message: "Internal server error."}
}

// msgNoEndpoint is Heroku's answer to a path or method it does not serve.
const msgNoEndpoint = "The requested API endpoint was not found. Are you using the right HTTP verb (i.e. `GET` vs. `POST`), and did you specify your intended version with the `Accept` header?"

// errorFor is the answer to an injected fault with status: the body Heroku
// (or its router, for 502-504) sends with that status.
func errorFor(status int) *apiError {
	switch status {
	case http.StatusBadRequest:
		return errBadRequest("Request invalid, validate usage and try again.")
	case http.StatusUnauthorized:
		return errUnauthorized()
	case http.StatusPaymentRequired:
		return &apiError{status: status, id: "delinquent", message: "This account is delinquent. Please update your payment method."}
	case http.StatusForbidden:
		return errForbidden("You do not have access to this resource.")
	case http.StatusNotFound:
		return errNotFound(msgNoEndpoint)
	case http.StatusConflict:
		return &apiError{status: status, id: "conflict", message: "The request conflicts with the current state of the resource."}
	case http.StatusUnprocessableEntity:
		return errInvalidParams("Request failed, validate parameters and try again.")
	case http.StatusTooManyRequests:
		return errRateLimit()
	case http.StatusInternalServerError:
		return errInternal()
	case http.StatusServiceUnavailable:
		return &apiError{status: status, id: "unavailable", message: "API is temporarily unavailable. Please try again later."}
	}
	text := http.StatusText(status)
	if text == "" {
		text = "Error"
	}
	return &apiError{status: status, id: "error", message: text + "."}
}
