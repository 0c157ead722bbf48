// Package contracttest checks HTTP traffic against the vendors' own OpenAPI
// documents (GitHub's and Infisical's, cut to the operations handoff uses).
//
// The documents are copies of ../shared/contracts, embedded by the package
// contracts so that tests do not depend on where the repository is checked
// out; a test in this package fails when the copies drift from the
// originals.
//
// Wrap any http.Client's transport with Validator.Transport and every request
// that crosses it, and the answer to it, is validated with kin-openapi: a
// request our client sends that the vendor would not accept, or an answer the
// local server gives that the vendor never would, fails the test.
package contracttest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/raxx-app/handoff/internal/devserver/contracttest/contracts"
)

// Vendor names a contract: "github" or "infisical".
type Vendor string

// The contracts this package holds.
const (
	GitHub    Vendor = "github"
	Infisical Vendor = "infisical"
)

// Document returns the raw OpenAPI document of a vendor.
func Document(v Vendor) ([]byte, error) {
	return contracts.Read(string(v) + ".openapi.json")
}

// Validator validates requests and responses against one vendor document
// served at one or more base URLs.
type Validator struct {
	vendor Vendor
	doc    *openapi3.T
	router routers.Router

	mu      sync.Mutex
	covered map[string]map[int]bool // operation "METHOD /template" -> statuses seen
}

// New loads the vendor's document and routes it at the given base URLs (for
// GitHub, e.g. both srv.URL and srv.URL+"/api/v3").
func New(v Vendor, baseURLs ...string) (*Validator, error) {
	raw, err := Document(v)
	if err != nil {
		return nil, err
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(raw)
	if err != nil {
		return nil, fmt.Errorf("contracttest: load %s: %w", v, err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("contracttest: %s document is invalid: %w", v, err)
	}
	doc.Servers = nil
	for _, u := range baseURLs {
		doc.Servers = append(doc.Servers, &openapi3.Server{URL: strings.TrimSuffix(u, "/")})
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("contracttest: route %s: %w", v, err)
	}
	return &Validator{vendor: v, doc: doc, router: router, covered: map[string]map[int]bool{}}, nil
}

// MustNew is New for tests: it fails t on error.
func MustNew(t testing.TB, v Vendor, baseURLs ...string) *Validator {
	t.Helper()
	val, err := New(v, baseURLs...)
	if err != nil {
		t.Fatal(err)
	}
	return val
}

// ErrNoOperation is returned by Check for a request that matches no operation
// of the document.
var ErrNoOperation = fmt.Errorf("no operation of the contract matches")

// Check validates one exchange. reqBody and respBody are the bodies as sent
// and received (req.Body and resp.Body are not read).
func (v *Validator) Check(req *http.Request, reqBody []byte, resp *http.Response, respBody []byte) error {
	r := req.Clone(req.Context())
	r.Body = io.NopCloser(bytes.NewReader(reqBody))
	route, params, err := v.router.FindRoute(r)
	if err != nil {
		return fmt.Errorf("%s %s: %w (%v)", req.Method, req.URL.Path, ErrNoOperation, err)
	}
	in := &openapi3filter.RequestValidationInput{
		Request:    r,
		PathParams: params,
		Route:      route,
		Options: &openapi3filter.Options{
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
			MultiError:         true,
		},
	}
	op := req.Method + " " + route.Path
	var problems []string
	// A request the server rejected (4xx) may be invalid on purpose: the tour
	// sends bad input to see the vendor's error. Only requests the server
	// accepted must satisfy the request schema.
	if resp.StatusCode < 400 {
		if err := openapi3filter.ValidateRequest(req.Context(), in); err != nil {
			problems = append(problems, "request: "+err.Error())
		}
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(respBody)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(req.Context(), out); err != nil {
		if undocumentedErrorStatus(err, resp.StatusCode) {
			// The vendors' documents list only some of the error statuses
			// their services really send (GitHub documents no 401 on GET
			// /app, no 429 or 5xx almost anywhere). Such an answer must still
			// have the vendor's generic error shape.
			if verr := v.validateGenericError(respBody); verr != nil {
				problems = append(problems, fmt.Sprintf("response %d (undocumented status, checked against the generic error schema): %v", resp.StatusCode, verr))
			}
		} else {
			problems = append(problems, fmt.Sprintf("response %d: %v", resp.StatusCode, err))
		}
	}
	v.mu.Lock()
	if v.covered[op] == nil {
		v.covered[op] = map[int]bool{}
	}
	v.covered[op][resp.StatusCode] = true
	v.mu.Unlock()
	if len(problems) > 0 {
		return fmt.Errorf("%s %s violates the %s contract:\n  %s\n  response body: %s", req.Method, req.URL.RequestURI(), v.vendor, strings.Join(problems, "\n  "), truncate(respBody, 600))
	}
	return nil
}

func undocumentedErrorStatus(err error, status int) bool {
	var re *openapi3filter.ResponseError
	return status >= 400 && errors.As(err, &re) && re.Reason == "status is not supported"
}

// genericErrorSchema names the component each vendor uses for any error.
var genericErrorSchema = map[Vendor]string{GitHub: "basic-error", Infisical: "Error"}

func (v *Validator) validateGenericError(body []byte) error {
	ref, ok := v.doc.Components.Schemas[genericErrorSchema[v.vendor]]
	if !ok || ref.Value == nil {
		return fmt.Errorf("no generic error schema %q in the %s document", genericErrorSchema[v.vendor], v.vendor)
	}
	var value any
	if err := json.Unmarshal(body, &value); err != nil {
		return fmt.Errorf("error body is not JSON: %w", err)
	}
	if _, isObject := value.(map[string]any); !isObject {
		return fmt.Errorf("error body is not a JSON object")
	}
	return ref.Value.VisitJSON(value)
}

// Operations lists every operation of the document as "METHOD /template".
func (v *Validator) Operations() []string {
	var ops []string
	for path, item := range v.doc.Paths.Map() {
		for method := range item.Operations() {
			ops = append(ops, method+" "+path)
		}
	}
	sort.Strings(ops)
	return ops
}

// Uncovered lists the operations no validated exchange has exercised yet.
func (v *Validator) Uncovered() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []string
	for _, op := range v.Operations() {
		if len(v.covered[op]) == 0 {
			out = append(out, op)
		}
	}
	return out
}

// Statuses returns the statuses seen for an operation, sorted.
func (v *Validator) Statuses(op string) []int {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []int
	for s := range v.covered[op] {
		out = append(out, s)
	}
	sort.Ints(out)
	return out
}

// Transport returns a RoundTripper that sends through base (http.DefaultTransport
// when nil) and reports every contract violation with t.Errorf. Requests
// whose path starts with one of skipPrefixes (e.g. "/_dev/") are not checked;
// any other request that matches no operation is itself a failure, so a test
// cannot quietly wander outside the contract.
func (v *Validator) Transport(t testing.TB, base http.RoundTripper, skipPrefixes ...string) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &checkingTransport{t: t, v: v, base: base, skip: skipPrefixes}
}

type checkingTransport struct {
	t    testing.TB
	v    *Validator
	base http.RoundTripper
	skip []string
}

func (c *checkingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	for _, p := range c.skip {
		if strings.HasPrefix(req.URL.Path, p) {
			return c.base.RoundTrip(req)
		}
	}
	var reqBody []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		_ = req.Body.Close()
		reqBody = b
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(b))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
	resp, err := c.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	respBody, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	if err := c.v.Check(req, reqBody, resp, respBody); err != nil {
		c.t.Errorf("%v", err)
	}
	return resp, nil
}

func truncate(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "…"
}

// BaseURL returns u without a trailing slash; handy for building validators
// from an httptest server and a prefix.
func BaseURL(u string, prefix string) string {
	parsed, err := url.Parse(u)
	if err != nil {
		return u + prefix
	}
	parsed.Path = strings.TrimSuffix(parsed.Path, "/") + prefix
	return parsed.String()
}
