package githubsrv

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// GitHub's generic documentation links, used where GitHub itself answers
// with them rather than with the endpoint's page.
const (
	docREST            = "https://docs.github.com/rest"
	docRateLimit       = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
	docSecondaryLimits = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"
	docIssuesDisabled  = "https://docs.github.com/v3/issues/"
)

// GitHub's own messages.
const (
	msgNotFound          = "Not Found"
	msgBadCredentials    = "Bad credentials"
	msgRequiresAuth      = "Requires authentication"
	msgNotAccessible     = "Resource not accessible by integration"
	msgJWTUndecodable    = "A JSON web token could not be decoded"
	msgJWTExp            = "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires"
	msgJWTExpTooFar      = "'Expiration time' claim ('exp') is too far in the future"
	msgJWTIat            = "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"
	msgJWTIssMissing     = "Missing 'issuer' claim ('iss') in assertion"
	msgJWTIssNotInteger  = "'Issuer' claim ('iss') must be an Integer"
	msgIntegrationAbsent = "Integration not found"
	msgParseJSON         = "Problems parsing JSON"
	msgValidationFailed  = "Validation Failed"
	msgPermsNotGranted   = "The permissions requested are not granted to this installation."
	msgReposNotInInstall = "There is at least one repository that does not exist or is not accessible to the parent installation."
	msgSuspended         = "This installation has been suspended"
	msgIssuesDisabled    = "Issues are disabled for this repo"
	msgArchived          = "Repository was archived so is read-only."
	msgSecondaryLimit    = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID %s."
)

// apiError is an answer in GitHub's error shape:
//
//	{"message": "...", "errors": [...], "documentation_url": "...", "status": "422"}
type apiError struct {
	status  int
	message string
	doc     string // empty: the endpoint's own documentation_url
	errors  []fieldError
	header  map[string]string
}

// fieldError is one entry of a 422's `errors`.
type fieldError struct {
	Resource string `json:"resource,omitempty"`
	Field    string `json:"field,omitempty"`
	Code     string `json:"code"`
	Message  string `json:"message,omitempty"`
}

type errorBody struct {
	Message string       `json:"message"`
	Errors  []fieldError `json:"errors,omitempty"`
	DocURL  string       `json:"documentation_url"`
	Status  string       `json:"status"`
}

func newError(status int, message string) *apiError {
	return &apiError{status: status, message: message}
}

func errNotFound() *apiError { return newError(http.StatusNotFound, msgNotFound) }

func errBadCredentials() *apiError {
	return &apiError{status: http.StatusUnauthorized, message: msgBadCredentials, doc: docREST}
}

func errJWT(message string) *apiError {
	return &apiError{status: http.StatusUnauthorized, message: message, doc: docREST}
}

// errForbidden is GitHub's answer to an installation token that lacks a
// permission; accepted lists the permission sets that would have sufficed.
func errForbidden(accepted ...string) *apiError {
	e := newError(http.StatusForbidden, msgNotAccessible)
	if len(accepted) > 0 {
		e.header = map[string]string{"X-Accepted-GitHub-Permissions": acceptedPermissions(accepted...)}
	}
	return e
}

func errParseJSON() *apiError { return newError(http.StatusBadRequest, msgParseJSON) }

// errInvalid is GitHub's JSON-schema rejection of a request body, e.g.
// "Invalid request.\n\nFor 'properties/body', 5 is not a string.".
func errInvalid(detail string) *apiError {
	return newError(http.StatusUnprocessableEntity, "Invalid request.\n\n"+detail)
}

func errValidation(errs ...fieldError) *apiError {
	return &apiError{status: http.StatusUnprocessableEntity, message: msgValidationFailed, errors: errs}
}

// writeError writes e with the headers every answer carries already set.
func writeError(w http.ResponseWriter, e *apiError, doc string) {
	if e.doc != "" {
		doc = e.doc
	}
	if doc == "" {
		doc = docREST
	}
	for k, v := range e.header {
		w.Header().Set(k, v)
	}
	body, _ := json.Marshal(errorBody{Message: e.message, Errors: e.errors, DocURL: doc, Status: strconv.Itoa(e.status)})
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.status)
	_, _ = w.Write(body)
}

// injectedMessage is what GitHub says with a status the fault injector
// forces, so that an injected failure reads like a real one.
func injectedMessage(status int, requestID string) string {
	switch status {
	case http.StatusBadRequest:
		return msgParseJSON
	case http.StatusUnauthorized:
		return msgBadCredentials
	case http.StatusForbidden, http.StatusTooManyRequests:
		return fmt.Sprintf(msgSecondaryLimit, requestID)
	case http.StatusNotFound:
		return msgNotFound
	case http.StatusGone:
		return msgIssuesDisabled
	case http.StatusUnprocessableEntity:
		return msgValidationFailed
	case http.StatusInternalServerError, http.StatusBadGateway:
		return "Server Error"
	case http.StatusServiceUnavailable:
		return "Service Unavailable"
	case http.StatusGatewayTimeout:
		return "We couldn't respond to your request in time. Sorry about that. Please try resubmitting your request and contact us if the problem persists."
	}
	if t := http.StatusText(status); t != "" {
		return t
	}
	return "Server Error"
}
