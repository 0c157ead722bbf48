package infisicalsrv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Infisical validates every body and query string with zod and answers 422
// with the list of zod issues. This file is a small zod: schemas for the
// shapes the routes declare, and issues worded the way zod words them.

// zodIssue is one element of a 422's message array.
type zodIssue struct {
	Code       string   `json:"code"`
	Expected   string   `json:"expected,omitempty"`
	Received   any      `json:"received,omitempty"`
	Minimum    *float64 `json:"minimum,omitempty"`
	Maximum    *float64 `json:"maximum,omitempty"`
	Type       string   `json:"type,omitempty"`
	Inclusive  *bool    `json:"inclusive,omitempty"`
	Exact      *bool    `json:"exact,omitempty"`
	Options    []string `json:"options,omitempty"`
	Validation string   `json:"validation,omitempty"`
	Path       []any    `json:"path"`
	Message    string   `json:"message"`
}

type kind int

const (
	kString kind = iota
	kNumber
	kInt
	kBool
	kObject
	kArray
	kEnum
	kDateTime
	kCoerceNumber // a query-string number (z.coerce.number())
	kRecord       // z.record(z.string())
	kAny
	kUnion
)

// undefined marks a missing field (zod's undefined), distinct from JSON null.
type undefinedT struct{}

var undefined = undefinedT{}

type prop struct {
	name string
	s    *schema
}

// schema is one zod type. Build with str(), num(), … and the modifiers.
type schema struct {
	kind     kind
	optional bool
	nullable bool
	trim     bool
	minLen   int // strings and arrays; -1 when unset
	maxLen   int
	min, max *float64
	enum     []string
	props    []prop
	items    *schema
	alts     []*schema
	pattern  *regexp.Regexp
	patMsg   string
	// missing, when set, is the custom issue a required field that is
	// absent gets instead of invalid_type (z.custom and friends).
	missing string
	// refine runs after the type checks pass and may add issues.
	refine func(v any, path []any, add func(zodIssue))
}

func newSchema(k kind) *schema { return &schema{kind: k, minLen: -1, maxLen: -1} }

func str() *schema      { return newSchema(kString) }
func num() *schema      { return newSchema(kNumber) }
func integer() *schema  { return newSchema(kInt) }
func boolean() *schema  { return newSchema(kBool) }
func dateTime() *schema { return newSchema(kDateTime) }
func coerceNum() *schema {
	return newSchema(kCoerceNumber)
}
func anyValue() *schema { return newSchema(kAny) }
func record() *schema   { return newSchema(kRecord) }

func enum(values ...string) *schema {
	s := newSchema(kEnum)
	s.enum = values
	return s
}

func object(props ...prop) *schema {
	s := newSchema(kObject)
	s.props = props
	return s
}

func array(items *schema) *schema {
	s := newSchema(kArray)
	s.items = items
	return s
}

func field(name string, s *schema) prop { return prop{name, s} }

func (s *schema) clone() *schema { c := *s; return &c }

func (s *schema) opt() *schema       { c := s.clone(); c.optional = true; return c }
func (s *schema) null() *schema      { c := s.clone(); c.nullable = true; return c }
func (s *schema) trimmed() *schema   { c := s.clone(); c.trim = true; return c }
func (s *schema) minL(n int) *schema { c := s.clone(); c.minLen = n; return c }
func (s *schema) maxL(n int) *schema { c := s.clone(); c.maxLen = n; return c }
func (s *schema) gte(x float64) *schema {
	c := s.clone()
	c.min = &x
	return c
}
func (s *schema) lte(x float64) *schema {
	c := s.clone()
	c.max = &x
	return c
}
func (s *schema) missingIssue(msg string) *schema {
	c := s.clone()
	c.missing = msg
	return c
}
func (s *schema) withRefine(f func(v any, path []any, add func(zodIssue))) *schema {
	c := s.clone()
	c.refine = f
	return c
}

// check validates v (a value decoded with UseNumber, or undefined) and
// returns every issue found.
func (s *schema) check(v any) []zodIssue {
	var issues []zodIssue
	s.validate(v, []any{}, func(i zodIssue) { issues = append(issues, i) })
	return issues
}

func typeName(v any) string {
	switch x := v.(type) {
	case undefinedT:
		return "undefined"
	case nil:
		return "null"
	case string:
		return "string"
	case json.Number:
		if f, err := x.Float64(); err == nil && math.IsNaN(f) {
			return "nan"
		}
		return "number"
	case bool:
		return "boolean"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	return "unknown"
}

func (s *schema) expectedName() string {
	switch s.kind {
	case kString, kDateTime:
		return "string"
	case kNumber, kCoerceNumber:
		return "number"
	case kInt:
		return "integer"
	case kBool:
		return "boolean"
	case kObject, kRecord:
		return "object"
	case kArray:
		return "array"
	case kEnum:
		quoted := make([]string, len(s.enum))
		for i, e := range s.enum {
			quoted[i] = "'" + e + "'"
		}
		return strings.Join(quoted, " | ")
	}
	return "unknown"
}

func clonePath(path []any, more ...any) []any {
	p := make([]any, 0, len(path)+len(more))
	p = append(p, path...)
	return append(p, more...)
}

func invalidType(expected string, v any, path []any) zodIssue {
	recv := typeName(v)
	msg := "Expected " + expected + ", received " + recv
	if recv == "undefined" {
		msg = "Required"
	}
	return zodIssue{Code: "invalid_type", Expected: expected, Received: recv, Path: path, Message: msg}
}

func ptrF(f float64) *float64 { return &f }
func ptrB(b bool) *bool       { return &b }

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func (s *schema) validate(v any, path []any, add func(zodIssue)) {
	if _, ok := v.(undefinedT); ok {
		switch {
		case s.optional:
		case s.missing != "":
			add(customIssue(path, s.missing))
		default:
			add(invalidType(s.expectedName(), v, path))
		}
		return
	}
	if v == nil {
		if !s.nullable {
			add(invalidType(s.expectedName(), v, path))
		}
		return
	}
	switch s.kind {
	case kAny:
	case kString, kDateTime:
		x, ok := v.(string)
		if !ok {
			add(invalidType("string", v, path))
			return
		}
		if s.trim {
			x = strings.TrimSpace(x)
		}
		n := len([]rune(x))
		if s.minLen >= 0 && n < s.minLen {
			add(zodIssue{Code: "too_small", Minimum: ptrF(float64(s.minLen)), Type: "string", Inclusive: ptrB(true), Exact: ptrB(false), Path: path,
				Message: fmt.Sprintf("String must contain at least %d character(s)", s.minLen)})
		}
		if s.maxLen >= 0 && n > s.maxLen {
			add(zodIssue{Code: "too_big", Maximum: ptrF(float64(s.maxLen)), Type: "string", Inclusive: ptrB(true), Exact: ptrB(false), Path: path,
				Message: fmt.Sprintf("String must contain at most %d character(s)", s.maxLen)})
		}
		if s.pattern != nil && !s.pattern.MatchString(x) {
			msg := s.patMsg
			if msg == "" {
				msg = "Invalid"
			}
			add(zodIssue{Code: "invalid_string", Validation: "regex", Path: path, Message: msg})
		}
		if s.kind == kDateTime {
			if _, err := parseISOTime(x); err != nil {
				add(zodIssue{Code: "invalid_string", Validation: "datetime", Path: path, Message: "Invalid datetime"})
			}
		}
	case kNumber, kInt:
		n, ok := v.(json.Number)
		if !ok {
			add(invalidType(s.expectedName(), v, path))
			return
		}
		f, err := n.Float64()
		if err != nil {
			add(invalidType(s.expectedName(), v, path))
			return
		}
		if s.kind == kInt && f != math.Trunc(f) {
			add(zodIssue{Code: "invalid_type", Expected: "integer", Received: "float", Path: path, Message: "Expected integer, received float"})
			return
		}
		s.checkRange(f, path, add)
	case kCoerceNumber:
		var f float64
		switch x := v.(type) {
		case string:
			t := strings.TrimSpace(x)
			if t == "" {
				f = 0 // Number("") is 0
			} else {
				p, err := strconv.ParseFloat(t, 64)
				if err != nil {
					add(zodIssue{Code: "invalid_type", Expected: "number", Received: "nan", Path: path, Message: "Expected number, received nan"})
					return
				}
				f = p
			}
		case json.Number:
			p, _ := x.Float64()
			f = p
		default:
			add(invalidType("number", v, path))
			return
		}
		s.checkRange(f, path, add)
	case kBool:
		if _, ok := v.(bool); !ok {
			add(invalidType("boolean", v, path))
		}
	case kEnum:
		x, ok := v.(string)
		if !ok {
			add(invalidType(s.expectedName(), v, path))
			return
		}
		for _, e := range s.enum {
			if e == x {
				goto refine
			}
		}
		{
			quoted := make([]string, len(s.enum))
			for i, e := range s.enum {
				quoted[i] = "'" + e + "'"
			}
			add(zodIssue{Code: "invalid_enum_value", Received: x, Options: s.enum, Path: path,
				Message: "Invalid enum value. Expected " + strings.Join(quoted, " | ") + ", received '" + x + "'"})
		}
		return
	case kObject:
		m, ok := v.(map[string]any)
		if !ok {
			add(invalidType("object", v, path))
			return
		}
		for _, p := range s.props {
			fv, present := m[p.name]
			if !present {
				fv = undefined
			}
			p.s.validate(fv, clonePath(path, p.name), add)
		}
	case kRecord:
		m, ok := v.(map[string]any)
		if !ok {
			add(invalidType("object", v, path))
			return
		}
		for k, fv := range m {
			if _, ok := fv.(string); !ok {
				add(invalidType("string", fv, clonePath(path, k)))
			}
		}
	case kArray:
		a, ok := v.([]any)
		if !ok {
			add(invalidType("array", v, path))
			return
		}
		if s.minLen >= 0 && len(a) < s.minLen {
			add(zodIssue{Code: "too_small", Minimum: ptrF(float64(s.minLen)), Type: "array", Inclusive: ptrB(true), Exact: ptrB(false), Path: path,
				Message: fmt.Sprintf("Array must contain at least %d element(s)", s.minLen)})
		}
		if s.maxLen >= 0 && len(a) > s.maxLen {
			add(zodIssue{Code: "too_big", Maximum: ptrF(float64(s.maxLen)), Type: "array", Inclusive: ptrB(true), Exact: ptrB(false), Path: path,
				Message: fmt.Sprintf("Array must contain at most %d element(s)", s.maxLen)})
		}
		for i, item := range a {
			s.items.validate(item, clonePath(path, i), add)
		}
	case kUnion:
		for _, alt := range s.alts {
			failed := false
			alt.validate(v, path, func(zodIssue) { failed = true })
			if !failed {
				goto refine
			}
		}
		add(zodIssue{Code: "invalid_union", Path: path, Message: "Invalid input"})
		return
	}
refine:
	if s.refine != nil {
		s.refine(v, path, add)
	}
}

func (s *schema) checkRange(f float64, path []any, add func(zodIssue)) {
	if s.min != nil && f < *s.min {
		add(zodIssue{Code: "too_small", Minimum: s.min, Type: "number", Inclusive: ptrB(true), Exact: ptrB(false), Path: path,
			Message: "Number must be greater than or equal to " + fmtNum(*s.min)})
	}
	if s.max != nil && f > *s.max {
		add(zodIssue{Code: "too_big", Maximum: s.max, Type: "number", Inclusive: ptrB(true), Exact: ptrB(false), Path: path,
			Message: "Number must be less than or equal to " + fmtNum(*s.max)})
	}
}

func customIssue(path []any, msg string) zodIssue {
	return zodIssue{Code: "custom", Path: path, Message: msg}
}

// decodeJSONValue decodes a body into generic values, numbers kept exact.
func decodeJSONValue(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	// JSON.parse refuses anything after the value.
	var extra any
	if err := dec.Decode(&extra); err != io.EOF {
		return nil, fmt.Errorf("unexpected data after JSON value")
	}
	return v, nil
}

// parseISOTime accepts what zod's datetime() and JavaScript's Date accept
// in practice: RFC 3339 with or without fractional seconds, and the
// date-only form.
func parseISOTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000Z", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid datetime %q", s)
}

// Common shapes.

var folderNameRe = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

// folderName is the folder name rule of the folder routes: alphanumerics,
// dashes and underscores (a custom zod issue, as the route's superRefine
// adds it).
func folderName() *schema {
	return str().trimmed().withRefine(func(v any, path []any, add func(zodIssue)) {
		if s, ok := v.(string); ok && !folderNameRe.MatchString(strings.TrimSpace(s)) {
			add(customIssue(path, "Invalid folder name. Only alphanumeric characters, dashes, and underscores are allowed."))
		}
	})
}

var slugRe = regexp.MustCompile(`^[a-z0-9]+(?:[_-][a-z0-9]+)*$`)

func slugField(max int) *schema {
	return str().trimmed().minL(1).maxL(max).withRefine(func(v any, path []any, add func(zodIssue)) {
		if s, ok := v.(string); ok && strings.TrimSpace(s) != "" && !slugRe.MatchString(strings.TrimSpace(s)) {
			add(customIssue(path, "Must be valid slug format"))
		}
	})
}

func booleanQuery() *schema { return enum("true", "false").opt() }

func trustedIPs() *schema {
	return array(object(field("ipAddress", str().trimmed()))).minL(1).opt()
}

// bodyMap returns v as an object, or nil.
func bodyMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// getString reads an optional string field (trimmed when trim is set).
func getString(m map[string]any, key string, trim bool) (string, bool) {
	v, ok := m[key]
	if !ok || v == nil {
		return "", false
	}
	s, ok := v.(string)
	if !ok {
		return "", false
	}
	if trim {
		s = strings.TrimSpace(s)
	}
	return s, true
}

func getNumber(m map[string]any, key string) (float64, bool) {
	v, ok := m[key]
	if !ok || v == nil {
		return 0, false
	}
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil
	}
	return 0, false
}

func getBool(m map[string]any, key string) (bool, bool) {
	v, ok := m[key].(bool)
	return v, ok
}

// queryMap turns a query string into the object zod sees (first value of
// each key).
func queryMap(q map[string][]string) map[string]any {
	m := make(map[string]any, len(q))
	for k, vs := range q {
		if len(vs) > 0 {
			m[k] = vs[0]
		}
	}
	return m
}
