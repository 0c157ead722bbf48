// Package contracttest checks HTTP traffic against the vendors' own OpenAPI
// documents (GitHub's, Infisical's and Cloudflare's, cut to the operations
// handoff uses).
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

// Vendor names a contract: "github", "infisical" or "cloudflare".
type Vendor string

// The contracts this package holds.
const (
	GitHub    Vendor = "github"
	Infisical Vendor = "infisical"
	// Cloudflare's document is served under /client/v4: give New the base
	// URL with that path (srv.URL + "/client/v4").
	Cloudflare Vendor = "cloudflare"
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
			AuthenticationFunc:         openapi3filter.NoopAuthenticationFunc,
			MultiError:                 true,
			ExcludeReadOnlyValidations: readOnlyInRequests[v.vendor],
		},
	}
	op := req.Method + " " + route.Path
	var problems []string
	// A request the server rejected (4xx) may be invalid on purpose: the tour
	// sends bad input to see the vendor's error. Only requests the server
	// accepted must satisfy the request schema.
	if resp.StatusCode < 400 {
		if err := dropUntypedPathParamErrors(openapi3filter.ValidateRequest(req.Context(), in), params); err != nil {
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
		switch {
		case undocumentedErrorStatus(err, resp.StatusCode):
			// The vendors' documents list only some of the error statuses
			// their services really send (GitHub documents no 401 on GET
			// /app, no 429 or 5xx almost anywhere). Such an answer must still
			// have the vendor's generic error shape.
			if verr := v.validateGenericError(respBody); verr != nil {
				problems = append(problems, fmt.Sprintf("response %d (undocumented status, checked against the generic error schema): %v", resp.StatusCode, verr))
			}
		case resp.StatusCode >= 400 && ContradictorySuccess(documentedSchema(route, resp.StatusCode)):
			// Cloudflare documents its token routes' 4XX answers as the
			// allOf of the success envelope (success: enum [true]) and the
			// failure envelope (success: enum [false]), which no answer can
			// satisfy. Such an answer is checked against the failure half,
			// the vendor's generic error schema.
			if verr := v.validateGenericError(respBody); verr != nil {
				problems = append(problems, fmt.Sprintf("response %d (documented schema is contradictory, checked against the generic error schema): %v", resp.StatusCode, verr))
			}
		default:
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

// readOnlyInRequests names the vendors whose documents mark as readOnly
// fields their API requires in requests: Cloudflare's marks the id of a
// policy's permission group readOnly, though token creation refuses a group
// without one ("id must be present"). For them readOnly properties in a
// request are not reported (the servers check what the vendor refuses).
var readOnlyInRequests = map[Vendor]bool{Cloudflare: true}

// dropUntypedPathParamErrors removes from a request validation error the
// "empty value" reports kin-openapi makes for a path parameter whose schema
// has no type (Cloudflare documents token_id as the schema {}, which
// kin-openapi cannot decode) when the path does carry a value. What remains
// is returned; nil when nothing does.
func dropUntypedPathParamErrors(err error, params map[string]string) error {
	if err == nil {
		return nil
	}
	untypedAndPresent := func(e error) bool {
		var re *openapi3filter.RequestError
		if !errors.As(e, &re) || re.Parameter == nil || !errors.Is(re.Err, openapi3filter.ErrInvalidEmptyValue) {
			return false
		}
		p := re.Parameter
		if p.In != openapi3.ParameterInPath || params[p.Name] == "" || p.Schema == nil || p.Schema.Value == nil {
			return false
		}
		s := p.Schema.Value
		return s.Type == nil && len(s.AllOf) == 0 && len(s.AnyOf) == 0 && len(s.OneOf) == 0
	}
	var me openapi3.MultiError
	if !errors.As(err, &me) {
		if untypedAndPresent(err) {
			return nil
		}
		return err
	}
	var kept openapi3.MultiError
	for _, e := range me {
		if !untypedAndPresent(e) {
			kept = append(kept, e)
		}
	}
	if len(kept) == 0 {
		return nil
	}
	return kept
}

func undocumentedErrorStatus(err error, status int) bool {
	var re *openapi3filter.ResponseError
	return status >= 400 && errors.As(err, &re) && re.Reason == "status is not supported"
}

// genericErrorSchema names the component each vendor uses for any error.
var genericErrorSchema = map[Vendor]string{GitHub: "basic-error", Infisical: "Error", Cloudflare: "iam_api-response-common-failure"}

// documentedSchema is the JSON schema a route documents for a status (the
// exact status or its range, e.g. "4XX"), nil when there is none.
func documentedSchema(route *routers.Route, status int) *openapi3.Schema {
	if route == nil || route.Operation == nil || route.Operation.Responses == nil {
		return nil
	}
	ref := route.Operation.Responses.Status(status)
	if ref == nil || ref.Value == nil {
		return nil
	}
	mt := ref.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil {
		return nil
	}
	return mt.Schema.Value
}

// ContradictorySuccess reports whether a schema requires the property
// "success" to take values from enums with nothing in common (through allOf),
// so that no document satisfies it.
func ContradictorySuccess(s *openapi3.Schema) bool {
	var enums [][]any
	var walk func(*openapi3.Schema, int)
	walk = func(s *openapi3.Schema, depth int) {
		if s == nil || depth > 16 {
			return
		}
		if p := s.Properties["success"]; p != nil && p.Value != nil && len(p.Value.Enum) > 0 {
			enums = append(enums, p.Value.Enum)
		}
		for _, sub := range s.AllOf {
			walk(sub.Value, depth+1)
		}
	}
	walk(s, 0)
	for i := range enums {
		for j := i + 1; j < len(enums); j++ {
			if !intersects(enums[i], enums[j]) {
				return true
			}
		}
	}
	return false
}

func intersects(a, b []any) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}

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
	return CheckingTransport(t, v, base, skipPrefixes...)
}

// Checker checks one exchange against a vendor's description (this
// package's Validator for OpenAPI, herokucontract's for a hyper-schema).
type Checker interface {
	Check(req *http.Request, reqBody []byte, resp *http.Response, respBody []byte) error
}

// CheckingTransport returns a RoundTripper that sends through base
// (http.DefaultTransport when nil) and reports every violation c finds with
// t.Errorf. Requests whose path starts with one of skipPrefixes are sent
// unchecked.
func CheckingTransport(t testing.TB, c Checker, base http.RoundTripper, skipPrefixes ...string) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &checkingTransport{t: t, c: c, base: base, skip: skipPrefixes}
}

type checkingTransport struct {
	t    testing.TB
	c    Checker
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
	if err := c.c.Check(req, reqBody, resp, respBody); err != nil {
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
