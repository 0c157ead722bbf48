package iameval

import (
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Context is the request context that conditions read. Keys are
// case-insensitive; a key holds one value or, for multivalued keys such as
// aws:TagKeys, several. The zero value is empty and usable.
type Context struct {
	vals map[string][]string
}

// Set stores values under key (replacing what was there).
func (c *Context) Set(key string, values ...string) {
	if c.vals == nil {
		c.vals = map[string][]string{}
	}
	c.vals[strings.ToLower(key)] = append([]string(nil), values...)
}

// Get returns the values of key and whether it is present.
func (c *Context) Get(key string) ([]string, bool) {
	if c == nil || c.vals == nil {
		return nil, false
	}
	v, ok := c.vals[strings.ToLower(key)]
	return v, ok
}

// Keys lists the keys present, lower-cased.
func (c *Context) Keys() []string {
	if c == nil {
		return nil
	}
	out := make([]string, 0, len(c.vals))
	for k := range c.vals {
		out = append(out, k)
	}
	return out
}

type setQualifier int

const (
	noSet setQualifier = iota
	forAnyValue
	forAllValues
)

type operator struct {
	set      setQualifier
	base     string // lower-case base name, e.g. "stringlike"
	ifExists bool
	negated  bool
}

var baseOperators = map[string]bool{
	"stringequals": false, "stringnotequals": true, "stringequalsignorecase": false, "stringnotequalsignorecase": true,
	"stringlike": false, "stringnotlike": true,
	"numericequals": false, "numericnotequals": true, "numericlessthan": false, "numericlessthanequals": false,
	"numericgreaterthan": false, "numericgreaterthanequals": false,
	"dateequals": false, "datenotequals": true, "datelessthan": false, "datelessthanequals": false,
	"dategreaterthan": false, "dategreaterthanequals": false,
	"bool": false, "binaryequals": false, "ipaddress": false, "notipaddress": true,
	"arnequals": false, "arnlike": false, "arnnotequals": true, "arnnotlike": true,
	"null": false,
}

func parseOperator(name string) (operator, bool) {
	var op operator
	n := strings.ToLower(name)
	switch {
	case strings.HasPrefix(n, "foranyvalue:"):
		op.set, n = forAnyValue, strings.TrimPrefix(n, "foranyvalue:")
	case strings.HasPrefix(n, "forallvalues:"):
		op.set, n = forAllValues, strings.TrimPrefix(n, "forallvalues:")
	}
	if strings.HasSuffix(n, "ifexists") && n != "null" {
		op.ifExists, n = true, strings.TrimSuffix(n, "ifexists")
	}
	neg, ok := baseOperators[n]
	if !ok || (n == "null" && (op.ifExists || op.set != noSet)) {
		return op, false
	}
	op.base, op.negated = n, neg
	return op, true
}

// holds evaluates one condition against the context.
func (c Condition) holds(ctx *Context, version string) bool {
	op := c.op
	ctxVals, present := ctx.Get(c.Key)
	if op.base == "null" {
		want := len(c.Values) > 0 && strings.EqualFold(c.Values[0], "true")
		absent := !present || len(ctxVals) == 0
		for _, v := range c.Values[1:] {
			if strings.EqualFold(v, "true") != want {
				// Mixed values: any of them may hold.
				return true
			}
		}
		return absent == want
	}
	if !present || len(ctxVals) == 0 {
		switch {
		case op.ifExists:
			return true
		case op.set == forAllValues:
			return true
		case op.set == forAnyValue:
			return false
		default:
			return op.negated
		}
	}
	// Policy variables in condition values are substituted (2012-10-17).
	policyVals := make([]string, 0, len(c.Values))
	for _, v := range c.Values {
		if s, ok := substitute(v, ctx, version); ok {
			policyVals = append(policyVals, s)
		}
	}
	// matchOne: the context value satisfies the positive form of the
	// operator against any policy value.
	matchOne := func(cv string) bool {
		for _, pv := range policyVals {
			if positiveMatch(op.base, cv, pv) {
				return true
			}
		}
		return false
	}
	// satisfies: the context value satisfies the operator itself.
	satisfies := func(cv string) bool {
		if op.negated {
			return !matchOne(cv)
		}
		return matchOne(cv)
	}
	switch op.set {
	case forAllValues:
		for _, cv := range ctxVals {
			if !satisfies(cv) {
				return false
			}
		}
		return true
	case forAnyValue:
		for _, cv := range ctxVals {
			if satisfies(cv) {
				return true
			}
		}
		return false
	default:
		if op.negated {
			for _, cv := range ctxVals {
				if matchOne(cv) {
					return false
				}
			}
			return true
		}
		for _, cv := range ctxVals {
			if matchOne(cv) {
				return true
			}
		}
		return false
	}
}

// positiveMatch compares a context value with a policy value under the
// non-negated form of the operator family.
func positiveMatch(base, cv, pv string) bool {
	switch base {
	case "stringequals", "stringnotequals":
		return cv == pv
	case "stringequalsignorecase", "stringnotequalsignorecase":
		return strings.EqualFold(cv, pv)
	case "stringlike", "stringnotlike":
		return glob(pv, cv, false)
	case "bool":
		return strings.EqualFold(cv, pv)
	case "binaryequals":
		return cv == pv
	case "arnequals", "arnnotequals", "arnlike", "arnnotlike":
		return arnMatch(pv, cv)
	case "ipaddress", "notipaddress":
		addr, err := netip.ParseAddr(cv)
		if err != nil {
			return false
		}
		if pfx, err := netip.ParsePrefix(pv); err == nil {
			return pfx.Contains(addr)
		}
		if a, err := netip.ParseAddr(pv); err == nil {
			return a == addr
		}
		return false
	}
	if strings.HasPrefix(base, "numeric") {
		a, err1 := strconv.ParseFloat(cv, 64)
		b, err2 := strconv.ParseFloat(pv, 64)
		if err1 != nil || err2 != nil {
			return false
		}
		return compare(strings.TrimPrefix(base, "numeric"), a, b)
	}
	if strings.HasPrefix(base, "date") {
		a, ok1 := parseDate(cv)
		b, ok2 := parseDate(pv)
		if !ok1 || !ok2 {
			return false
		}
		return compare(strings.TrimPrefix(base, "date"), float64(a.UnixNano()), float64(b.UnixNano()))
	}
	return false
}

func compare(rel string, a, b float64) bool {
	switch rel {
	case "equals", "notequals":
		return a == b
	case "lessthan":
		return a < b
	case "lessthanequals":
		return a <= b
	case "greaterthan":
		return a > b
	case "greaterthanequals":
		return a >= b
	}
	return false
}

var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04Z",
	"2006-01-02",
}

// parseDate reads an ISO 8601 date or an epoch time in seconds, the two
// forms IAM accepts in Date conditions.
func parseDate(s string) (time.Time, bool) {
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true
	}
	return time.Time{}, false
}
