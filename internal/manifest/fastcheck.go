package manifest

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/raxx-app/handoff/schema"
)

// fastValid reports whether doc (a manifest decoded by encoding/json into
// `any`) is valid against schema/manifest.schema.json, the way the schema
// validator would say, at a small fraction of its cost: a plan reads every
// manifest of the handoff root, and validating them with the generic
// validator was about a fifth of a no-change plan's CPU.
//
// The check is compiled from the schema itself (the subset of JSON Schema
// it uses), so it follows the schema and names no surface. It may say
// false for a valid document (then Parse asks the schema validator, which
// decides and explains), never true for an invalid one: a keyword it does
// not know makes it refuse everything, date-times are RFC 3339 in upper
// case only, numbers are exact below 2^53. TestFastCheckAgreesWithSchema
// checks both verdicts on thousands of mutated manifests, and a fuzz
// target the one that matters.
func fastValid(doc any) bool {
	fastOnce.Do(func() { fastCheck = compileFastCheck(schema.ManifestJSONSchema) })
	return fastCheck(doc)
}

var (
	fastOnce  sync.Once
	fastCheck func(any) bool
)

// A check says whether an instance is valid; never true when it is not.
type check func(any) bool

func refuse(any) bool { return false }

// compileFastCheck compiles a schema document; a schema it cannot compile
// gives a check that refuses everything (Parse then always asks the schema
// validator).
func compileFastCheck(doc []byte) check {
	var root map[string]any
	if err := json.Unmarshal(doc, &root); err != nil {
		return refuse
	}
	c := &compiler{defs: map[string]any{}}
	if d, ok := root["$defs"].(map[string]any); ok {
		c.defs = d
	}
	chk, err := c.compile(root, false)
	if err != nil {
		return refuse
	}
	return chk
}

type compiler struct {
	defs map[string]any
	// depth bounds $ref chains (the schema has no recursion).
	depth int
}

// ignored are keywords that constrain nothing.
var ignored = map[string]bool{"$schema": true, "$id": true, "$defs": true, "title": true, "description": true}

// compile returns the check of schema s. exact asks for a check that is
// never stricter than the schema either (the condition of an if: a check
// that said false for a valid instance would skip its then).
func (c *compiler) compile(s any, exact bool) (check, error) {
	if b, ok := s.(bool); ok {
		return func(any) bool { return b }, nil
	}
	m, ok := s.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("schema is %T", s)
	}
	var checks []check
	add := func(k check) { checks = append(checks, k) }
	for kw, v := range m {
		if ignored[kw] {
			continue
		}
		k, err := c.keyword(kw, v, m, exact)
		if err != nil {
			return nil, err
		}
		if k != nil {
			add(k)
		}
	}
	return allOf(checks), nil
}

// allOf is the check that every check of checks passes.
func allOf(checks []check) check {
	return func(x any) bool {
		for _, k := range checks {
			if !k(x) {
				return false
			}
		}
		return true
	}
}

// keyword compiles one keyword of schema m (nil: checked with another).
func (c *compiler) keyword(kw string, v any, m map[string]any, exact bool) (check, error) {
	switch kw {
	case "$ref":
		ref, _ := v.(string)
		name, ok := strings.CutPrefix(ref, "#/$defs/")
		def, found := c.defs[name]
		if !ok || !found || c.depth > 32 {
			return nil, fmt.Errorf("$ref %q", ref)
		}
		c.depth++
		defer func() { c.depth-- }()
		return c.compile(def, exact)
	case "type":
		return typeCheck(v, exact)
	case "const":
		if exact && hasNumber(v) {
			return nil, fmt.Errorf("a number in a condition")
		}
		return func(x any) bool { return jsonEqual(x, v) }, nil
	case "enum":
		list, ok := v.([]any)
		if !ok || (exact && hasNumber(v)) {
			return nil, fmt.Errorf("enum")
		}
		return func(x any) bool { return slices.ContainsFunc(list, func(e any) bool { return jsonEqual(x, e) }) }, nil
	case "minLength":
		n, ok := v.(float64)
		if !ok {
			return nil, fmt.Errorf("minLength")
		}
		return func(x any) bool {
			s, ok := x.(string)
			return !ok || float64(utf8.RuneCountInString(s)) >= n
		}, nil
	case "pattern":
		re, err := regexp.Compile(fmt.Sprint(v))
		if err != nil {
			return nil, err
		}
		return func(x any) bool { s, ok := x.(string); return !ok || re.MatchString(s) }, nil
	case "format":
		if v != "date-time" {
			return nil, fmt.Errorf("format %v", v)
		}
		if exact {
			return nil, fmt.Errorf("date-time in a condition")
		}
		return func(x any) bool { s, ok := x.(string); return !ok || dateTime(s) }, nil
	case "minimum":
		n, ok := v.(float64)
		if !ok || exact {
			return nil, fmt.Errorf("minimum")
		}
		return func(x any) bool { f, ok := x.(float64); return !ok || f >= n }, nil
	case "required":
		keys, err := stringsOf(v)
		if err != nil {
			return nil, err
		}
		return func(x any) bool {
			o, ok := x.(map[string]any)
			if !ok {
				return true
			}
			for _, k := range keys {
				if _, ok := o[k]; !ok {
					return false
				}
			}
			return true
		}, nil
	case "properties":
		return c.object(m, exact)
	case "additionalProperties":
		if _, ok := m["properties"]; ok {
			return nil, nil // with properties
		}
		return c.object(m, exact)
	case "propertyNames":
		names, err := c.compile(v, exact)
		if err != nil {
			return nil, err
		}
		return func(x any) bool {
			o, ok := x.(map[string]any)
			if !ok {
				return true
			}
			for k := range o {
				if !names(k) {
					return false
				}
			}
			return true
		}, nil
	case "items":
		item, err := c.compile(v, exact)
		if err != nil {
			return nil, err
		}
		return func(x any) bool {
			a, ok := x.([]any)
			if !ok {
				return true
			}
			for _, e := range a {
				if !item(e) {
					return false
				}
			}
			return true
		}, nil
	case "uniqueItems":
		if v != true {
			return nil, nil
		}
		return func(x any) bool {
			a, ok := x.([]any)
			if !ok {
				return true
			}
			for i := range a {
				for j := i + 1; j < len(a); j++ {
					if jsonEqual(a[i], a[j]) {
						return false
					}
				}
			}
			return true
		}, nil
	case "allOf":
		list, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("allOf")
		}
		var all []check
		for _, s := range list {
			k, err := c.compile(s, exact)
			if err != nil {
				return nil, err
			}
			all = append(all, k)
		}
		return allOf(all), nil
	case "if":
		if exact {
			return nil, fmt.Errorf("nested if")
		}
		cond, err := c.compile(v, true)
		if err != nil {
			return nil, err
		}
		then, els := check(func(any) bool { return true }), check(func(any) bool { return true })
		if t, ok := m["then"]; ok {
			if then, err = c.compile(t, false); err != nil {
				return nil, err
			}
		}
		if e, ok := m["else"]; ok {
			if els, err = c.compile(e, false); err != nil {
				return nil, err
			}
		}
		return func(x any) bool {
			if cond(x) {
				return then(x)
			}
			return els(x)
		}, nil
	case "then", "else":
		return nil, nil // with if
	}
	return nil, fmt.Errorf("keyword %s", kw)
}

// object compiles properties and additionalProperties together (once, for
// whichever of the two comes first).
func (c *compiler) object(m map[string]any, exact bool) (check, error) {
	props := map[string]check{}
	if p, ok := m["properties"].(map[string]any); ok {
		for name, s := range p {
			k, err := c.compile(s, exact)
			if err != nil {
				return nil, err
			}
			props[name] = k
		}
	}
	var extra check
	if a, ok := m["additionalProperties"]; ok {
		k, err := c.compile(a, exact)
		if err != nil {
			return nil, err
		}
		extra = k
	}
	return func(x any) bool {
		o, ok := x.(map[string]any)
		if !ok {
			return true
		}
		for k, v := range o {
			if p, ok := props[k]; ok {
				if !p(v) {
					return false
				}
			} else if extra != nil && !extra(v) {
				return false
			}
		}
		return true
	}, nil
}

func typeCheck(v any, exact bool) (check, error) {
	var types []string
	switch t := v.(type) {
	case string:
		types = []string{t}
	case []any:
		var err error
		if types, err = stringsOf(t); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("type")
	}
	for _, t := range types {
		if exact && (t == "number" || t == "integer") {
			return nil, fmt.Errorf("a number type in a condition")
		}
	}
	return func(x any) bool { return slices.ContainsFunc(types, func(t string) bool { return isType(x, t) }) }, nil
}

func isType(x any, t string) bool {
	switch t {
	case "object":
		_, ok := x.(map[string]any)
		return ok
	case "array":
		_, ok := x.([]any)
		return ok
	case "string":
		_, ok := x.(string)
		return ok
	case "boolean":
		_, ok := x.(bool)
		return ok
	case "null":
		return x == nil
	case "number":
		f, ok := x.(float64)
		return ok && math.Abs(f) < 1<<53
	case "integer":
		f, ok := x.(float64)
		return ok && f == math.Trunc(f) && math.Abs(f) < 1<<53
	}
	return false
}

// jsonEqual compares two decoded JSON values; numbers only below 2^53.
func jsonEqual(a, b any) bool {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		return ok && x == y && math.Abs(x) < 1<<53
	case string, bool, nil:
		return a == b
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !jsonEqual(v, w) {
				return false
			}
		}
		return true
	}
	return false
}

// hasNumber reports whether a decoded JSON value holds a number.
func hasNumber(v any) bool {
	switch x := v.(type) {
	case float64:
		return true
	case []any:
		for _, e := range x {
			if hasNumber(e) {
				return true
			}
		}
	case map[string]any:
		for _, e := range x {
			if hasNumber(e) {
				return true
			}
		}
	}
	return false
}

func stringsOf(v any) ([]string, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("not a list of strings")
	}
	out := make([]string, len(list))
	for i, e := range list {
		s, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("not a list of strings")
		}
		out[i] = s
	}
	return out, nil
}

// dateTimeRE is RFC 3339's date-time, upper case only; time.Parse then
// checks the ranges (a date-time it refuses goes to the schema validator,
// which may accept a leap second or a lower-case t and z).
var dateTimeRE = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$`)

func dateTime(s string) bool {
	if !dateTimeRE.MatchString(s) {
		return false
	}
	_, err := time.Parse(time.RFC3339Nano, s)
	return err == nil
}
