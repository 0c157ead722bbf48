// Package herokucontract checks HTTP traffic against Heroku's own API
// description, the JSON hyper-schema of the Platform API cut to the links
// handoff uses (a copy of shared/contracts/heroku.schema.json, embedded so
// tests do not depend on where the repository is checked out; a test fails
// when the copy drifts from the original).
//
// contracttest does the same for the OpenAPI documents of other vendors;
// Heroku's format is not OpenAPI, so this package reads the hyper-schema
// itself: each link's href template (whose variables are URL-encoded JSON
// pointers, e.g. {(%23%2Fdefinitions%2Fapp%2Fdefinitions%2Fidentity)}) is
// turned into a path pattern, request bodies are validated against the
// link's "schema" and answers against its "targetSchema", compiled as
// draft-04 with santhosh-tekuri/jsonschema. Two Heroku conventions are
// checked on top of JSON Schema: an object schema marked strictProperties
// (the interagent/prmd extension) must be answered with exactly its listed
// properties, and errors must be Heroku's {"id", "message"} object.
package herokucontract

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/raxx-app/handoff/internal/devserver/contracttest"
)

//go:embed heroku.schema.json
var document []byte

// Document returns the embedded hyper-schema.
func Document() []byte { return append([]byte(nil), document...) }

// Link is one operation of the hyper-schema.
type Link struct {
	// Resource is the definition the link belongs to ("app").
	Resource string
	// Title is the link's title ("Info").
	Title  string
	Method string
	// Href is the template with readable variables: "/apps/{app_identity}".
	Href string
	// Ranges are the fields a list link may be ranged on.
	Ranges []string

	re       *regexp.Regexp
	schema   *jsonschema.Schema // request body; nil when the link takes none
	target   *jsonschema.Schema
	targetJS any // the raw targetSchema, for strictProperties
}

// Name is "METHOD href", e.g. "GET /apps/{app_identity}/config-vars".
func (l *Link) Name() string { return l.Method + " " + l.Href }

// Validator validates exchanges against the hyper-schema.
type Validator struct {
	links []*Link
	root  map[string]any

	mu      sync.Mutex
	covered map[string]map[int]bool
	skipped []string
}

var hrefVar = regexp.MustCompile(`\{\(([^)]*)\)\}`)

// New loads the embedded hyper-schema and compiles every link's schemas.
func New() (*Validator, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(document))
	if err != nil {
		return nil, fmt.Errorf("herokucontract: %w", err)
	}
	root, ok := doc.(map[string]any)
	if !ok {
		return nil, errors.New("herokucontract: the document is not an object")
	}
	// The interagent and draft-04 hyper-schema metaschemas are not loadable
	// offline, and the top-level id would rebase every reference.
	stripKeys(root, "$schema")
	delete(root, "id")
	v := &Validator{root: root, covered: map[string]map[int]bool{}}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft4)
	c.AssertFormat()
	c.UseRegexpEngine(v.regexpEngine)
	const loc = "heroku.schema.json"
	if err := c.AddResource(loc, root); err != nil {
		return nil, fmt.Errorf("herokucontract: %w", err)
	}
	defs, _ := root["definitions"].(map[string]any)
	names := make([]string, 0, len(defs))
	for name := range defs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		def, _ := defs[name].(map[string]any)
		links, _ := def["links"].([]any)
		for i, raw := range links {
			lm, _ := raw.(map[string]any)
			l := &Link{Resource: name, Title: str(lm["title"]), Method: str(lm["method"])}
			href := str(lm["href"])
			pattern := "^" + regexp.QuoteMeta(href) + "$"
			l.Href = href
			for _, m := range hrefVar.FindAllStringSubmatch(href, -1) {
				ptr, err := url.PathUnescape(m[1])
				if err != nil {
					return nil, fmt.Errorf("herokucontract: href %s: %w", href, err)
				}
				readable := "{" + strings.ReplaceAll(strings.TrimPrefix(ptr, "#/definitions/"), "/definitions/", "_") + "}"
				l.Href = strings.Replace(l.Href, m[0], readable, 1)
				pattern = strings.Replace(pattern, regexp.QuoteMeta(m[0]), `[^/]+`, 1)
			}
			l.re = regexp.MustCompile(pattern)
			for _, r := range asSlice(lm["ranges"]) {
				l.Ranges = append(l.Ranges, str(r))
			}
			base := fmt.Sprintf("%s#/definitions/%s/links/%d", loc, name, i)
			if _, ok := lm["schema"]; ok {
				if l.schema, err = c.Compile(base + "/schema"); err != nil {
					return nil, fmt.Errorf("herokucontract: %s schema: %w", l.Name(), err)
				}
			}
			if ts, ok := lm["targetSchema"]; ok {
				if l.target, err = c.Compile(base + "/targetSchema"); err != nil {
					return nil, fmt.Errorf("herokucontract: %s targetSchema: %w", l.Name(), err)
				}
				l.targetJS = ts
			}
			v.links = append(v.links, l)
		}
	}
	return v, nil
}

// MustNew is New for tests.
func MustNew(t testing.TB) *Validator {
	t.Helper()
	v, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// regexpEngine compiles with Go's regexp. The one ECMAScript-only pattern
// of the document (a space name's "(?!-)") is recorded in Skipped and
// matches everything: handoff's apps have no space.
func (v *Validator) regexpEngine(s string) (jsonschema.Regexp, error) {
	re, err := regexp.Compile(s)
	if err == nil {
		return re, nil
	}
	v.mu.Lock()
	if !slices.Contains(v.skipped, s) {
		v.skipped = append(v.skipped, s)
	}
	v.mu.Unlock()
	return anything(s), nil
}

type anything string

func (a anything) String() string          { return string(a) }
func (a anything) MatchString(string) bool { return true }

// Skipped lists the patterns Go's regexp could not compile.
func (v *Validator) Skipped() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]string(nil), v.skipped...)
}

// Links lists every link's Name, sorted.
func (v *Validator) Links() []string {
	var out []string
	for _, l := range v.links {
		out = append(out, l.Name())
	}
	sort.Strings(out)
	return out
}

// Match finds the link serving method and path.
func (v *Validator) Match(method, path string) (*Link, bool) {
	for _, l := range v.links {
		if l.Method == method && l.re.MatchString(path) {
			return l, true
		}
	}
	return nil, false
}

// MatchPattern finds the link a net/http route pattern ("GET
// /apps/{app}/config-vars") serves: its wildcards are filled with a sample
// value and matched as a request path.
func (v *Validator) MatchPattern(pattern string) (*Link, bool) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		return nil, false
	}
	path = regexp.MustCompile(`\{[^}]*\}`).ReplaceAllString(path, "x0")
	return v.Match(method, path)
}

// Check validates one exchange; reqBody and respBody are the bodies as sent
// and received.
func (v *Validator) Check(req *http.Request, reqBody []byte, resp *http.Response, respBody []byte) error {
	l, ok := v.Match(req.Method, req.URL.Path)
	if !ok {
		return fmt.Errorf("%s %s: no link of the Heroku contract matches", req.Method, req.URL.Path)
	}
	var problems []string
	status := resp.StatusCode
	if resp.Header.Get("Request-Id") == "" {
		problems = append(problems, "no Request-Id header")
	}
	if _, err := strconv.Atoi(resp.Header.Get("RateLimit-Remaining")); err != nil {
		problems = append(problems, "no integer RateLimit-Remaining header")
	}
	switch {
	case status >= 400:
		if err := checkError(respBody); err != nil {
			problems = append(problems, fmt.Sprintf("error answer %d: %v", status, err))
		}
	case status == http.StatusNoContent || status == http.StatusNotModified:
		if len(respBody) != 0 {
			problems = append(problems, fmt.Sprintf("%d with a body", status))
		}
	case status >= 200 && status < 300:
		if l.schema != nil && len(bytes.TrimSpace(reqBody)) > 0 {
			if err := validate(l.schema, reqBody); err != nil {
				problems = append(problems, "request body: "+err.Error())
			}
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			problems = append(problems, "Content-Type "+strconv.Quote(ct))
		}
		if l.target != nil {
			if err := validate(l.target, respBody); err != nil {
				problems = append(problems, "response body: "+err.Error())
			} else if err := v.checkStrict(respBody, l.targetJS); err != nil {
				problems = append(problems, "response body: "+err.Error())
			}
		}
		if l.Title == "List" {
			if resp.Header.Get("Content-Range") == "" {
				problems = append(problems, "a list answer without Content-Range")
			}
			if (status == http.StatusPartialContent) != (resp.Header.Get("Next-Range") != "") {
				problems = append(problems, "Next-Range must be set exactly on 206 answers")
			}
		}
	default:
		problems = append(problems, fmt.Sprintf("unexpected status %d", status))
	}
	v.mu.Lock()
	if v.covered[l.Name()] == nil {
		v.covered[l.Name()] = map[int]bool{}
	}
	v.covered[l.Name()][status] = true
	v.mu.Unlock()
	if len(problems) > 0 {
		return fmt.Errorf("%s %s (%s) violates the Heroku contract:\n  %s\n  response body: %s", req.Method, req.URL.RequestURI(), l.Name(), strings.Join(problems, "\n  "), truncate(respBody, 600))
	}
	return nil
}

// checkError requires Heroku's error object: a string id and a string
// message ("error" instead of "message" in the missing_version answer).
func checkError(body []byte) error {
	var e map[string]any
	if err := json.Unmarshal(body, &e); err != nil {
		return fmt.Errorf("not a JSON object: %w", err)
	}
	id, ok := e["id"].(string)
	if !ok || id == "" {
		return errors.New(`no string "id"`)
	}
	msgKey := "message"
	if id == "missing_version" {
		msgKey = "error"
	}
	if m, ok := e[msgKey].(string); !ok || m == "" {
		return fmt.Errorf("no string %q", msgKey)
	}
	return nil
}

func validate(s *jsonschema.Schema, body []byte) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return s.Validate(v)
}

// checkStrict walks value beside schema: every object whose schema says
// strictProperties must hold exactly the schema's properties.
func (v *Validator) checkStrict(body []byte, schema any) error {
	var value any
	if err := json.Unmarshal(body, &value); err != nil {
		return err
	}
	return v.strict(value, schema, "", 0)
}

func (v *Validator) strict(value, schema any, at string, depth int) error {
	if depth > 32 {
		return nil
	}
	sm, ok := schema.(map[string]any)
	if !ok {
		return nil
	}
	if ref, ok := sm["$ref"].(string); ok {
		return v.strict(value, v.resolve(ref), at, depth+1)
	}
	switch val := value.(type) {
	case map[string]any:
		props, _ := sm["properties"].(map[string]any)
		if sm["strictProperties"] == true && props != nil {
			var missing, extra []string
			for k := range props {
				if _, ok := val[k]; !ok {
					missing = append(missing, k)
				}
			}
			for k := range val {
				if _, ok := props[k]; !ok {
					extra = append(extra, k)
				}
			}
			sort.Strings(missing)
			sort.Strings(extra)
			if len(missing)+len(extra) > 0 {
				return fmt.Errorf("%s: strictProperties: missing %v, extra %v", orRoot(at), missing, extra)
			}
		}
		for k, pv := range val {
			if ps, ok := props[k]; ok {
				if err := v.strict(pv, ps, at+"/"+k, depth+1); err != nil {
					return err
				}
			}
		}
	case []any:
		for i, item := range val {
			if err := v.strict(item, sm["items"], at+"/"+strconv.Itoa(i), depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// resolve follows a local JSON pointer ("#/definitions/app").
func (v *Validator) resolve(ref string) any {
	var cur any = v.root
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")]
	}
	return cur
}

// Uncovered lists the links no checked exchange has used.
func (v *Validator) Uncovered() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []string
	for _, name := range v.Links() {
		if len(v.covered[name]) == 0 {
			out = append(out, name)
		}
	}
	return out
}

// Statuses returns the statuses seen for a link, sorted.
func (v *Validator) Statuses(link string) []int {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []int
	for s := range v.covered[link] {
		out = append(out, s)
	}
	sort.Ints(out)
	return out
}

// Transport returns a RoundTripper that sends through base
// (http.DefaultTransport when nil) and reports every violation with
// t.Errorf. Requests whose path starts with one of skip (e.g. "/_dev/") are
// not checked.
func (v *Validator) Transport(t testing.TB, base http.RoundTripper, skip ...string) http.RoundTripper {
	return contracttest.CheckingTransport(t, v, base, skip...)
}

func stripKeys(v any, key string) {
	switch x := v.(type) {
	case map[string]any:
		delete(x, key)
		for _, c := range x {
			stripKeys(c, key)
		}
	case []any:
		for _, c := range x {
			stripKeys(c, key)
		}
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func orRoot(at string) string {
	if at == "" {
		return "(root)"
	}
	return at
}

func truncate(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "…"
}
