package awssrv

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
)

// protocol is how a service talks: STS and IAM use the Query protocol (form
// body, XML answers), SSM uses JSON 1.1.
type protocol int

const (
	queryProtocol protocol = iota
	jsonProtocol
)

// apiError is an AWS error answer. code is the Query protocol's <Code>;
// jsonType the JSON protocol's __type when it differs (the JSON services
// name the same failures differently: InvalidClientTokenId is
// UnrecognizedClientException there).
type apiError struct {
	status   int
	code     string
	jsonType string
	// jsonStatus overrides status for the JSON protocol (its client errors
	// are all 400).
	jsonStatus int
	message    string
	// noMessage leaves the message out of a JSON answer (SSM's
	// ParameterNotFound carries none).
	noMessage bool
	headers   map[string]string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.status, e.code, e.message) }

// coral prefixes the errors of the shared AWS request layer (signature,
// keys, tokens) in JSON answers, as the services send them.
const coral = "com.amazon.coral.service#"

// Authentication failures, in the words AWS uses for each protocol.
func errMissingAuth() *apiError {
	return &apiError{status: http.StatusForbidden, code: "MissingAuthenticationToken", message: "Request is missing Authentication Token",
		jsonType: coral + "MissingAuthenticationTokenException", jsonStatus: http.StatusBadRequest}
}

func errIncompleteSignature(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "IncompleteSignature", message: msg,
		jsonType: coral + "IncompleteSignatureException"}
}

func errInvalidClientTokenID() *apiError {
	return &apiError{status: http.StatusForbidden, code: "InvalidClientTokenId", message: "The security token included in the request is invalid.",
		jsonType: coral + "UnrecognizedClientException", jsonStatus: http.StatusBadRequest}
}

func errExpiredToken() *apiError {
	return &apiError{status: http.StatusForbidden, code: "ExpiredToken", message: "The security token included in the request is expired",
		jsonType: coral + "ExpiredTokenException", jsonStatus: http.StatusBadRequest}
}

const signatureMismatch = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."

func errSignature(msg string) *apiError {
	return &apiError{status: http.StatusForbidden, code: "SignatureDoesNotMatch", message: msg,
		jsonType: coral + "InvalidSignatureException", jsonStatus: http.StatusBadRequest}
}

// errAccessDenied is an authorization failure: AccessDenied (403) in the
// Query services, AccessDeniedException (400) in SSM.
func errAccessDenied(msg string) *apiError {
	return &apiError{status: http.StatusForbidden, code: "AccessDenied", message: msg,
		jsonType: "AccessDeniedException", jsonStatus: http.StatusBadRequest}
}

// errThrottling is the per-account rate limit: Throttling "Rate exceeded"
// with 400 in STS and IAM, ThrottlingException in SSM.
func errThrottling() *apiError {
	return &apiError{status: http.StatusBadRequest, code: "Throttling", message: "Rate exceeded", jsonType: "ThrottlingException"}
}

// errValidation is the model-constraint failure (ValidationError in the
// Query services, ValidationException in JSON ones).
func errValidation(msgs ...string) *apiError {
	n := len(msgs)
	word := "error"
	if n > 1 {
		word = "errors"
	}
	return &apiError{status: http.StatusBadRequest, code: "ValidationError", jsonType: "ValidationException",
		message: fmt.Sprintf("%d validation %s detected: %s", n, word, strings.Join(msgs, "; "))}
}

// errValidationMsg is a ValidationError with a message of the service's own.
func errValidationMsg(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "ValidationError", jsonType: "ValidationException", message: msg}
}

func errInvalidAction(op, version string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "InvalidAction",
		message: fmt.Sprintf("Could not find operation %s for version %s", op, version)}
}

func errUnknownOperation() *apiError {
	return &apiError{status: http.StatusBadRequest, code: "UnknownOperationException", jsonType: coral + "UnknownOperationException"}
}

func errSerialization(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "SerializationException", jsonType: coral + "SerializationException", message: msg}
}

func errInternal() *apiError {
	return &apiError{status: http.StatusInternalServerError, code: "InternalFailure", jsonType: "InternalServerError",
		message: "We encountered an internal error. Please try again."}
}

func errServiceUnavailable() *apiError {
	return &apiError{status: http.StatusServiceUnavailable, code: "ServiceUnavailable", jsonType: "ServiceUnavailable",
		message: "Service is unable to handle request."}
}

// Modelled errors of STS and IAM (codes and statuses from the botocore
// models in shared/contracts).
func errMalformedPolicy(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "MalformedPolicyDocument", message: msg}
}

func errPackedPolicyTooLarge(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "PackedPolicyTooLarge", message: msg}
}

func errNoSuchEntity(msg string) *apiError {
	return &apiError{status: http.StatusNotFound, code: "NoSuchEntity", message: msg}
}

func errLimitExceeded(msg string) *apiError {
	return &apiError{status: http.StatusConflict, code: "LimitExceeded", message: msg}
}

func errEntityAlreadyExists(msg string) *apiError {
	return &apiError{status: http.StatusConflict, code: "EntityAlreadyExists", message: msg}
}

func errDeleteConflict(msg string) *apiError {
	return &apiError{status: http.StatusConflict, code: "DeleteConflict", message: msg}
}

func errInvalidInput(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "InvalidInput", message: msg}
}

func errInvalidParameterValue(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "InvalidParameterValue", message: msg}
}

// Modelled errors of SSM (JSON only).
func errParameterNotFound() *apiError {
	return &apiError{status: http.StatusBadRequest, code: "ParameterNotFound", noMessage: true}
}

func errParameterVersionNotFound(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "ParameterVersionNotFound", message: msg}
}

func errInvalidNextToken() *apiError {
	return &apiError{status: http.StatusBadRequest, code: "InvalidNextToken", message: "The nextToken is not valid"}
}

// capitalMessage lists the SSM error shapes whose message member the model
// spells "Message".
var capitalMessage = map[string]bool{"InvalidFilterValue": true, "InvalidNextToken": true, "InternalFailure": true}

// queryErrorBody is the Query protocol's error document.
type queryErrorBody struct {
	XMLName   xml.Name       `xml:"ErrorResponse"`
	Xmlns     string         `xml:"xmlns,attr"`
	Error     queryErrorInfo `xml:"Error"`
	RequestID string         `xml:"RequestId"`
}

type queryErrorInfo struct {
	Type    string `xml:"Type"`
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

// writeError writes e in the protocol's shape.
func writeError(w http.ResponseWriter, p protocol, xmlns, reqID string, e *apiError) {
	for k, v := range e.headers {
		w.Header().Set(k, v)
	}
	w.Header().Set("x-amzn-RequestId", reqID)
	if p == jsonProtocol {
		typ := e.jsonType
		if typ == "" {
			typ = e.code
		}
		status := e.status
		if e.jsonStatus != 0 {
			status = e.jsonStatus
		}
		body := map[string]string{"__type": typ}
		if !e.noMessage {
			key := "message"
			if capitalMessage[e.code] {
				key = "Message"
			}
			body[key] = e.message
		}
		b, _ := json.Marshal(body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(status)
		_, _ = w.Write(b)
		return
	}
	kind := "Sender"
	if e.status >= 500 {
		kind = "Receiver"
	}
	b, _ := xml.Marshal(queryErrorBody{Xmlns: xmlns, Error: queryErrorInfo{Type: kind, Code: e.code, Message: e.message}, RequestID: reqID})
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(e.status)
	_, _ = w.Write(append([]byte(xml.Header), b...))
}
