// Package botocore checks AWS traffic against botocore service models (the
// STS, IAM and SSM subsets in shared/contracts), the way contracttest does
// for OpenAPI vendors: every request a client sends must name an operation
// of the model and only members of its input shape, with values inside the
// shapes' constraints; every answer must carry the output shape (XML under
// the operation's resultWrapper for the Query protocol, JSON members for the
// JSON protocol) or an error the model lists for the operation or that AWS
// documents as common to every service.
//
// The models are copies of ../../../../shared/contracts/aws-*.json embedded
// so that tests do not depend on where the repository is checked out; a
// test fails when the copies drift from the originals.
package botocore

import (
	"bytes"
	"embed"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

//go:embed models/*.json
var models embed.FS

// Services whose models this package holds.
var Services = []string{"sts", "iam", "ssm"}

// Document returns the raw model of a service ("sts", "iam" or "ssm").
func Document(service string) ([]byte, error) {
	return models.ReadFile("models/aws-" + service + ".json")
}

// Model is a loaded botocore service model.
type Model struct {
	Service    string
	Protocol   string // "query" or "json"
	APIVersion string
	XMLNS      string
	Target     string // JSON target prefix ("AmazonSSM")
	Ops        map[string]*Operation
	Shapes     map[string]*Shape
	regexps    map[string]*regexp.Regexp
	regexpMu   sync.Mutex
}

// Operation is one operation of a model.
type Operation struct {
	Name   string
	Input  string // shape name
	Output string // shape name, "" when the operation returns nothing
	// ResultWrapper is the XML element around the output (Query protocol).
	ResultWrapper string
	// Errors are the operation's error shapes.
	Errors []string
}

// Shape is a botocore shape.
type Shape struct {
	Type      string            `json:"type"`
	Members   map[string]Member `json:"members"`
	Member    *Member           `json:"member"`
	Required  []string          `json:"required"`
	Min       *float64          `json:"min"`
	Max       *float64          `json:"max"`
	Pattern   string            `json:"pattern"`
	Enum      []string          `json:"enum"`
	Exception bool              `json:"exception"`
	Fault     bool              `json:"fault"`
	Error     *struct {
		Code           string `json:"code"`
		HTTPStatusCode int    `json:"httpStatusCode"`
	} `json:"error"`
}

// Member references a shape.
type Member struct {
	Shape        string `json:"shape"`
	LocationName string `json:"locationName"`
}

type rawModel struct {
	Metadata struct {
		APIVersion   string `json:"apiVersion"`
		Protocol     string `json:"protocol"`
		XMLNamespace string `json:"xmlNamespace"`
		TargetPrefix string `json:"targetPrefix"`
	} `json:"metadata"`
	Operations map[string]struct {
		Input  *Member `json:"input"`
		Output *struct {
			Shape         string `json:"shape"`
			ResultWrapper string `json:"resultWrapper"`
		} `json:"output"`
		Errors []Member `json:"errors"`
	} `json:"operations"`
	Shapes map[string]*Shape `json:"shapes"`
}

// Load reads the embedded model of a service.
func Load(service string) (*Model, error) {
	b, err := Document(service)
	if err != nil {
		return nil, err
	}
	var raw rawModel
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("botocore: %s: %w", service, err)
	}
	m := &Model{Service: service, Protocol: raw.Metadata.Protocol, APIVersion: raw.Metadata.APIVersion,
		XMLNS: raw.Metadata.XMLNamespace, Target: raw.Metadata.TargetPrefix, Ops: map[string]*Operation{},
		Shapes: raw.Shapes, regexps: map[string]*regexp.Regexp{}}
	for name, o := range raw.Operations {
		op := &Operation{Name: name}
		if o.Input != nil {
			op.Input = o.Input.Shape
		}
		if o.Output != nil {
			op.Output, op.ResultWrapper = o.Output.Shape, o.Output.ResultWrapper
		}
		for _, e := range o.Errors {
			op.Errors = append(op.Errors, e.Shape)
		}
		m.Ops[name] = op
	}
	for name, s := range m.Shapes {
		for mn, mem := range s.Members {
			if m.Shapes[mem.Shape] == nil {
				return nil, fmt.Errorf("botocore: %s: shape %s member %s names unknown shape %s", service, name, mn, mem.Shape)
			}
		}
	}
	return m, nil
}

// Operations lists the model's operations, sorted.
func (m *Model) Operations() []string {
	out := make([]string, 0, len(m.Ops))
	for n := range m.Ops {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// ErrorCodes are the wire codes an operation may answer with from its own
// model: the error shapes' error.code (Query) or shape name (JSON).
func (m *Model) ErrorCodes(op string) map[string]int {
	out := map[string]int{}
	o := m.Ops[op]
	if o == nil {
		return out
	}
	for _, name := range o.Errors {
		s := m.Shapes[name]
		code, status := name, 400
		if s != nil && s.Fault {
			status = 500
		}
		if s != nil && s.Error != nil {
			if m.Protocol == "query" && s.Error.Code != "" {
				code = s.Error.Code
			}
			if s.Error.HTTPStatusCode != 0 {
				status = s.Error.HTTPStatusCode
			}
		}
		out[code] = status
	}
	return out
}

// CommonQueryErrors are the errors every Query-protocol service (STS, IAM)
// may answer with besides its modelled ones: the common errors of the AWS
// API references ("Common Errors": AccessDeniedException,
// IncompleteSignature, InternalFailure, InvalidAction, InvalidClientTokenId,
// NotAuthorized, OptInRequired, RequestExpired, ServiceUnavailable,
// ThrottlingException, ValidationError, and the older list's
// InvalidParameterValue, MissingAction, MissingAuthenticationToken), plus
// the codes STS and IAM are observed to use for the same failures:
// AccessDenied (authorization), SignatureDoesNotMatch, ExpiredToken and
// Throttling ("Rate exceeded").
var CommonQueryErrors = map[string]bool{
	"AccessDeniedException": true, "AccessDenied": true, "IncompleteSignature": true, "InternalFailure": true,
	"InvalidAction": true, "InvalidClientTokenId": true, "NotAuthorized": true, "OptInRequired": true,
	"RequestExpired": true, "ServiceUnavailable": true, "ThrottlingException": true, "Throttling": true,
	"ValidationError": true, "InvalidParameterValue": true, "MissingAction": true, "MissingAuthenticationToken": true,
	"SignatureDoesNotMatch": true, "ExpiredToken": true,
}

// CommonJSONErrors are the errors of the JSON-protocol services' shared
// request layer (the __type after any "namespace#" prefix): authentication
// and signature failures, authorization, throttling, validation and
// serialization, unknown operations and service unavailability.
var CommonJSONErrors = map[string]bool{
	"AccessDeniedException": true, "IncompleteSignatureException": true, "InternalFailure": true,
	"InvalidSignatureException": true, "UnrecognizedClientException": true, "ExpiredTokenException": true,
	"MissingAuthenticationTokenException": true, "ThrottlingException": true, "ValidationException": true,
	"SerializationException": true, "UnknownOperationException": true, "ServiceUnavailable": true,
}

// Op returns the operation a request calls, from its Action parameter or
// X-Amz-Target header.
func (m *Model) Op(r *http.Request, body []byte) string {
	if m.Protocol == "json" {
		op, _ := strings.CutPrefix(r.Header.Get("X-Amz-Target"), m.Target+".")
		return op
	}
	form := queryForm(r, body)
	return form.Get("Action")
}

func queryForm(r *http.Request, body []byte) url.Values {
	if r.Method == http.MethodGet {
		return r.URL.Query()
	}
	v, _ := url.ParseQuery(string(body))
	return v
}

// CheckRequest checks a request against the model and returns its
// operation and the problems found.
func (m *Model) CheckRequest(r *http.Request, body []byte) (string, []string) {
	var probs []string
	op := m.Op(r, body)
	o := m.Ops[op]
	if o == nil {
		return op, []string{fmt.Sprintf("%s: operation %q is not in the model", m.Service, op)}
	}
	if r.Method != http.MethodPost && !(m.Protocol == "query" && r.Method == http.MethodGet) {
		probs = append(probs, fmt.Sprintf("%s %s: method %s", m.Service, op, r.Method))
	}
	if m.Protocol == "json" {
		if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
			probs = append(probs, fmt.Sprintf("%s %s: Content-Type %q", m.Service, op, ct))
		}
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			return op, append(probs, fmt.Sprintf("%s %s: body is not JSON", m.Service, op))
		}
		probs = append(probs, m.checkJSONValue(op+" input", o.Input, v, true)...)
		return op, probs
	}
	form := queryForm(r, body)
	if form.Get("Version") != m.APIVersion {
		probs = append(probs, fmt.Sprintf("%s %s: Version %q, want %s", m.Service, op, form.Get("Version"), m.APIVersion))
	}
	present := map[string]bool{}
	for key, vals := range form {
		if key == "Action" || key == "Version" {
			continue
		}
		top, _, _ := strings.Cut(key, ".")
		present[top] = true
		shape, err := m.queryMember(o.Input, strings.Split(key, "."))
		if err != nil {
			probs = append(probs, fmt.Sprintf("%s %s: parameter %s: %v", m.Service, op, key, err))
			continue
		}
		for _, v := range vals {
			probs = append(probs, m.checkScalar(op+" "+key, shape, v)...)
		}
	}
	for _, req := range m.Shapes[o.Input].Required {
		if !present[req] {
			probs = append(probs, fmt.Sprintf("%s %s: required parameter %s missing", m.Service, op, req))
		}
	}
	return op, probs
}

// InputMember reports whether name is a member of the operation's input
// shape (for checking which members a server reads).
func (m *Model) InputMember(op, name string) bool {
	o := m.Ops[op]
	if o == nil {
		return false
	}
	_, err := m.queryMember(o.Input, strings.Split(name, "."))
	if err == nil {
		return true
	}
	s := m.Shapes[o.Input]
	_, ok := s.Members[name]
	return ok
}

// queryMember walks a flattened Query key (Tags.member.1.Key) down the
// shapes and returns the scalar shape it ends on.
func (m *Model) queryMember(shapeName string, path []string) (string, error) {
	s := m.Shapes[shapeName]
	if s == nil {
		return "", fmt.Errorf("unknown shape %s", shapeName)
	}
	if len(path) == 0 {
		if s.Type == "structure" || s.Type == "list" || s.Type == "map" {
			// An empty list is sent as "Name=" alone.
			if s.Type == "list" {
				return "", nil
			}
			return "", fmt.Errorf("ends on %s shape %s", s.Type, shapeName)
		}
		return shapeName, nil
	}
	switch s.Type {
	case "structure":
		mem, ok := s.Members[path[0]]
		if !ok {
			return "", fmt.Errorf("%s is not a member of %s", path[0], shapeName)
		}
		return m.queryMember(mem.Shape, path[1:])
	case "list":
		if len(path) < 2 || path[0] != "member" {
			return "", fmt.Errorf("list %s must be sent as member.N", shapeName)
		}
		if n, err := strconv.Atoi(path[1]); err != nil || n < 1 {
			return "", fmt.Errorf("list index %q", path[1])
		}
		return m.queryMember(s.Member.Shape, path[2:])
	}
	return "", fmt.Errorf("%s shape %s has no members", s.Type, shapeName)
}

// pattern compiles a botocore pattern with full-match semantics (as AWS's
// service-side validation applies it). Patterns Go cannot compile are
// skipped.
func (m *Model) pattern(p string) *regexp.Regexp {
	m.regexpMu.Lock()
	defer m.regexpMu.Unlock()
	if re, ok := m.regexps[p]; ok {
		return re
	}
	conv := regexp.MustCompile(`\\u([0-9A-Fa-f]{4})`).ReplaceAllString(p, `\x{$1}`)
	re, err := regexp.Compile(`^(?:` + conv + `)$`)
	if err != nil {
		re = nil
	}
	m.regexps[p] = re
	return re
}

func (m *Model) checkScalar(where, shapeName, v string) []string {
	if shapeName == "" {
		return nil
	}
	s := m.Shapes[shapeName]
	var probs []string
	switch s.Type {
	case "string":
		n := len([]rune(v))
		if s.Min != nil && float64(n) < *s.Min {
			probs = append(probs, fmt.Sprintf("%s: length %d < min %v", where, n, *s.Min))
		}
		if s.Max != nil && float64(n) > *s.Max {
			probs = append(probs, fmt.Sprintf("%s: length %d > max %v", where, n, *s.Max))
		}
		if s.Pattern != "" {
			if re := m.pattern(s.Pattern); re != nil && !re.MatchString(v) {
				probs = append(probs, fmt.Sprintf("%s: %q does not match %s", where, v, s.Pattern))
			}
		}
		if len(s.Enum) > 0 && !contains(s.Enum, v) {
			probs = append(probs, fmt.Sprintf("%s: %q not in enum", where, v))
		}
	case "integer", "long":
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return []string{fmt.Sprintf("%s: %q is not an integer", where, v)}
		}
		if s.Min != nil && float64(n) < *s.Min || s.Max != nil && float64(n) > *s.Max {
			probs = append(probs, fmt.Sprintf("%s: %d out of range", where, n))
		}
	case "boolean":
		if v != "true" && v != "false" {
			probs = append(probs, fmt.Sprintf("%s: %q is not a boolean", where, v))
		}
	case "timestamp":
		if _, err := time.Parse(time.RFC3339, v); err != nil {
			probs = append(probs, fmt.Sprintf("%s: %q is not an ISO 8601 timestamp", where, v))
		}
	}
	return probs
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// checkJSONValue checks a decoded JSON value against a shape. strict
// applies constraints (requests); answers are checked for types and
// required members only.
func (m *Model) checkJSONValue(where, shapeName string, v any, strict bool) []string {
	s := m.Shapes[shapeName]
	if s == nil {
		return []string{fmt.Sprintf("%s: unknown shape %s", where, shapeName)}
	}
	var probs []string
	switch s.Type {
	case "structure":
		obj, ok := v.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want an object", where)}
		}
		for k, val := range obj {
			mem, ok := s.Members[k]
			if !ok {
				probs = append(probs, fmt.Sprintf("%s: %s is not a member of %s", where, k, shapeName))
				continue
			}
			probs = append(probs, m.checkJSONValue(where+"."+k, mem.Shape, val, strict)...)
		}
		for _, req := range s.Required {
			if _, ok := obj[req]; !ok {
				probs = append(probs, fmt.Sprintf("%s: required member %s missing", where, req))
			}
		}
	case "list":
		arr, ok := v.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want an array", where)}
		}
		if strict && (s.Min != nil && float64(len(arr)) < *s.Min || s.Max != nil && float64(len(arr)) > *s.Max) {
			probs = append(probs, fmt.Sprintf("%s: %d items outside the list's bounds", where, len(arr)))
		}
		for i, e := range arr {
			probs = append(probs, m.checkJSONValue(fmt.Sprintf("%s[%d]", where, i), s.Member.Shape, e, strict)...)
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			return []string{fmt.Sprintf("%s: want a string", where)}
		}
		if strict {
			probs = append(probs, m.checkScalar(where, shapeName, str)...)
		} else if len(s.Enum) > 0 && !contains(s.Enum, str) {
			probs = append(probs, fmt.Sprintf("%s: %q not in enum", where, str))
		}
	case "integer", "long":
		f, ok := v.(float64)
		if !ok || f != float64(int64(f)) {
			return []string{fmt.Sprintf("%s: want an integer", where)}
		}
		if strict {
			probs = append(probs, m.checkScalar(where, shapeName, strconv.FormatInt(int64(f), 10))...)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return []string{fmt.Sprintf("%s: want a boolean", where)}
		}
	case "timestamp":
		if _, ok := v.(float64); !ok {
			return []string{fmt.Sprintf("%s: want epoch seconds", where)}
		}
	}
	return probs
}

// CheckResponse checks an answer to op. It returns the error code (empty
// on success) and the problems found.
func (m *Model) CheckResponse(op string, status int, header http.Header, body []byte) (string, []string) {
	o := m.Ops[op]
	if o == nil {
		return "", []string{fmt.Sprintf("%s: answer to unknown operation %q", m.Service, op)}
	}
	if m.Protocol == "json" {
		return m.checkJSONResponse(o, status, header, body)
	}
	return m.checkQueryResponse(o, status, body)
}

func (m *Model) checkJSONResponse(o *Operation, status int, header http.Header, body []byte) (string, []string) {
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		return "", []string{fmt.Sprintf("%s %s: %d answer is not a JSON object", m.Service, o.Name, status)}
	}
	if status == http.StatusOK {
		if o.Output == "" {
			return "", nil
		}
		return "", m.checkJSONValue(o.Name+" output", o.Output, v, false)
	}
	typ, _ := v["__type"].(string)
	if i := strings.LastIndexByte(typ, '#'); i >= 0 {
		typ = typ[i+1:]
	}
	var probs []string
	modelled := m.ErrorCodes(o.Name)
	if want, ok := modelled[typ]; ok {
		if status != want {
			probs = append(probs, fmt.Sprintf("%s %s: %s with status %d, model says %d", m.Service, o.Name, typ, status, want))
		}
		s := m.Shapes[typ]
		for k := range v {
			if k == "__type" {
				continue
			}
			if _, ok := s.Members[k]; !ok {
				probs = append(probs, fmt.Sprintf("%s %s: error %s has member %s the model does not list", m.Service, o.Name, typ, k))
			}
		}
	} else if !CommonJSONErrors[typ] {
		probs = append(probs, fmt.Sprintf("%s %s: error %q is neither modelled for the operation nor common", m.Service, o.Name, typ))
	}
	return typ, probs
}

// xmlNode is a generic XML element.
type xmlNode struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Children []xmlNode  `xml:",any"`
	Text     string     `xml:",chardata"`
}

func (n *xmlNode) child(name string) *xmlNode {
	for i := range n.Children {
		if n.Children[i].XMLName.Local == name {
			return &n.Children[i]
		}
	}
	return nil
}

func (m *Model) checkQueryResponse(o *Operation, status int, body []byte) (string, []string) {
	var root xmlNode
	if err := xml.Unmarshal(body, &root); err != nil {
		return "", []string{fmt.Sprintf("%s %s: %d answer is not XML", m.Service, o.Name, status)}
	}
	if status != http.StatusOK {
		var probs []string
		if root.XMLName.Local != "ErrorResponse" {
			return "", []string{fmt.Sprintf("%s %s: error root is %s, want ErrorResponse", m.Service, o.Name, root.XMLName.Local)}
		}
		e := root.child("Error")
		if e == nil || e.child("Code") == nil || e.child("Type") == nil || root.child("RequestId") == nil {
			return "", []string{fmt.Sprintf("%s %s: error document lacks Error/Type, Error/Code or RequestId", m.Service, o.Name)}
		}
		code := strings.TrimSpace(e.child("Code").Text)
		if typ := strings.TrimSpace(e.child("Type").Text); (typ == "Sender") != (status < 500) {
			probs = append(probs, fmt.Sprintf("%s %s: Type %s with status %d", m.Service, o.Name, typ, status))
		}
		if want, ok := m.ErrorCodes(o.Name)[code]; ok {
			if want != status {
				probs = append(probs, fmt.Sprintf("%s %s: %s with status %d, model says %d", m.Service, o.Name, code, status, want))
			}
		} else if !CommonQueryErrors[code] {
			probs = append(probs, fmt.Sprintf("%s %s: error %q is neither modelled for the operation nor common", m.Service, o.Name, code))
		}
		return code, probs
	}
	var probs []string
	if root.XMLName.Local != o.Name+"Response" {
		probs = append(probs, fmt.Sprintf("%s %s: root element %s", m.Service, o.Name, root.XMLName.Local))
	}
	if root.XMLName.Space != m.XMLNS {
		probs = append(probs, fmt.Sprintf("%s %s: namespace %q, want %q", m.Service, o.Name, root.XMLName.Space, m.XMLNS))
	}
	if md := root.child("ResponseMetadata"); md == nil || md.child("RequestId") == nil {
		probs = append(probs, fmt.Sprintf("%s %s: no ResponseMetadata/RequestId", m.Service, o.Name))
	}
	if o.Output == "" {
		for _, c := range root.Children {
			if c.XMLName.Local != "ResponseMetadata" {
				probs = append(probs, fmt.Sprintf("%s %s: unexpected element %s", m.Service, o.Name, c.XMLName.Local))
			}
		}
		return "", probs
	}
	res := root.child(o.ResultWrapper)
	if res == nil {
		return "", append(probs, fmt.Sprintf("%s %s: no %s element", m.Service, o.Name, o.ResultWrapper))
	}
	return "", append(probs, m.checkXML(o.Name+" output", o.Output, res)...)
}

func (m *Model) checkXML(where, shapeName string, n *xmlNode) []string {
	s := m.Shapes[shapeName]
	var probs []string
	switch s.Type {
	case "structure":
		seen := map[string]bool{}
		for i := range n.Children {
			c := &n.Children[i]
			mem, ok := s.Members[c.XMLName.Local]
			if !ok {
				probs = append(probs, fmt.Sprintf("%s: %s is not a member of %s", where, c.XMLName.Local, shapeName))
				continue
			}
			seen[c.XMLName.Local] = true
			probs = append(probs, m.checkXML(where+"."+c.XMLName.Local, mem.Shape, c)...)
		}
		for _, req := range s.Required {
			if !seen[req] {
				probs = append(probs, fmt.Sprintf("%s: required member %s missing", where, req))
			}
		}
	case "list":
		for i := range n.Children {
			c := &n.Children[i]
			if c.XMLName.Local != "member" {
				probs = append(probs, fmt.Sprintf("%s: list item element %s, want member", where, c.XMLName.Local))
				continue
			}
			probs = append(probs, m.checkXML(fmt.Sprintf("%s[%d]", where, i), s.Member.Shape, c)...)
		}
	default:
		if len(n.Children) > 0 {
			probs = append(probs, fmt.Sprintf("%s: scalar %s has child elements", where, shapeName))
		}
		v := strings.TrimSpace(n.Text)
		switch s.Type {
		case "integer", "long":
			if _, err := strconv.ParseInt(v, 10, 64); err != nil {
				probs = append(probs, fmt.Sprintf("%s: %q is not an integer", where, v))
			}
		case "boolean":
			if v != "true" && v != "false" {
				probs = append(probs, fmt.Sprintf("%s: %q is not a boolean", where, v))
			}
		case "timestamp":
			if _, err := time.Parse(time.RFC3339, v); err != nil {
				probs = append(probs, fmt.Sprintf("%s: %q is not an ISO 8601 timestamp", where, v))
			}
		case "string":
			if len(s.Enum) > 0 && !contains(s.Enum, v) {
				probs = append(probs, fmt.Sprintf("%s: %q not in enum", where, v))
			}
		}
	}
	return probs
}

// Checker routes traffic to the model of its service and fails the test on
// any problem. It records which operations and error codes were seen.
type Checker struct {
	t      testing.TB
	models map[string]*Model

	mu      sync.Mutex
	covered map[string]map[string]bool // "svc Op" -> codes seen ("" = success)
}

// NewChecker loads every model.
func NewChecker(t testing.TB) *Checker {
	t.Helper()
	c := &Checker{t: t, models: map[string]*Model{}, covered: map[string]map[string]bool{}}
	for _, s := range Services {
		m, err := Load(s)
		if err != nil {
			t.Fatal(err)
		}
		c.models[s] = m
	}
	return c
}

// Model returns a loaded model.
func (c *Checker) Model(service string) *Model { return c.models[service] }

// ServiceOf tells which service a request is for: SSM by its target, STS
// or IAM by the signature's credential scope, else by the Action.
func (c *Checker) ServiceOf(r *http.Request, body []byte) string {
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		for s, m := range c.models {
			if m.Protocol == "json" && strings.HasPrefix(t, m.Target+".") {
				return s
			}
		}
		return ""
	}
	if i := strings.Index(r.Header.Get("Authorization"), "Credential="); i >= 0 {
		parts := strings.Split(r.Header.Get("Authorization")[i:], "/")
		if len(parts) >= 4 {
			return parts[3]
		}
	}
	action := queryForm(r, body).Get("Action")
	for s, m := range c.models {
		if m.Protocol == "query" && m.Ops[action] != nil {
			return s
		}
	}
	return ""
}

// Transport wraps base: each request and its answer are checked.
func (c *Checker) Transport(base http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		var body []byte
		if r.Body != nil {
			b, err := io.ReadAll(r.Body)
			if err != nil {
				return nil, err
			}
			body = b
			r.Body = io.NopCloser(bytes.NewReader(b))
		}
		svc := c.ServiceOf(r, body)
		m := c.models[svc]
		if m == nil {
			c.t.Errorf("botocore: request for no known service: %s %s", r.Method, r.URL)
			return base.RoundTrip(r)
		}
		op, probs := m.CheckRequest(r, body)
		for _, p := range probs {
			c.t.Errorf("botocore request: %s", p)
		}
		resp, err := base.RoundTrip(r)
		if err != nil {
			return resp, err
		}
		rb, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		resp.Body = io.NopCloser(bytes.NewReader(rb))
		if m.Ops[op] != nil {
			code, probs := m.CheckResponse(op, resp.StatusCode, resp.Header, rb)
			for _, p := range probs {
				c.t.Errorf("botocore answer: %s", p)
			}
			c.record(svc, op, code)
		}
		return resp, nil
	})
}

func (c *Checker) record(svc, op, code string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := svc + " " + op
	if c.covered[k] == nil {
		c.covered[k] = map[string]bool{}
	}
	c.covered[k][code] = true
}

// Covered lists "svc Op" keys with the codes seen ("" for success).
func (c *Checker) Covered() map[string][]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string][]string{}
	for k, codes := range c.covered {
		for code := range codes {
			out[k] = append(out[k], code)
		}
		sort.Strings(out[k])
	}
	return out
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
