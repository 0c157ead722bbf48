package iameval

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Kind says which rules a policy document must follow.
type Kind int

const (
	// Identity is an inline or managed policy attached to a user or role:
	// no Principal, Resource required.
	Identity Kind = iota
	// Session is a policy passed to sts:AssumeRole: the rules of Identity.
	Session
	// Trust is a role's trust policy (AssumeRolePolicyDocument): Principal
	// required, no Resource, only sts actions.
	Trust
)

// Versions IAM accepts in a policy's Version element.
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// MalformedError is a document IAM would refuse with MalformedPolicyDocument;
// Error is IAM's own message.
type MalformedError struct{ Msg string }

func (e *MalformedError) Error() string { return e.Msg }

func malformed(format string, args ...any) error {
	return &MalformedError{Msg: fmt.Sprintf(format, args...)}
}

// Policy is a parsed, validated policy document.
type Policy struct {
	Version    string
	Statements []Statement
}

// Statement is one statement. Exactly one of Action/NotAction and (except in
// trust policies) one of Resource/NotResource is set.
type Statement struct {
	Sid          string
	Effect       string // "Allow" or "Deny"
	Action       []string
	NotAction    []string
	Resource     []string
	NotResource  []string
	Principal    *PrincipalSet
	NotPrincipal *PrincipalSet
	Conditions   []Condition
}

// PrincipalSet is a Principal element: Any for "*", else the values per
// type ("AWS", "Service", "Federated", "CanonicalUser").
type PrincipalSet struct {
	Any    bool
	Values map[string][]string
}

// Condition is one operator and key of a Condition block, with its values.
type Condition struct {
	Operator string // as written, e.g. "ForAnyValue:StringLike"
	Key      string // as written, e.g. "aws:SourceIdentity"
	Values   []string
	op       operator
}

var sidRe = regexp.MustCompile(`^[0-9A-Za-z]*$`)

// Parse validates doc as a policy of the given kind. The error, when the
// document is not acceptable, is a *MalformedError carrying IAM's message.
func Parse(doc string, kind Kind) (*Policy, error) {
	if strings.TrimSpace(doc) == "" {
		return nil, malformed("Syntax errors in policy.")
	}
	for _, r := range doc {
		if r != '\t' && r != '\n' && r != '\r' && (r < 0x20 || r > 0xFF) {
			return nil, malformed("Syntax errors in policy.")
		}
	}
	top, err := decodeObject([]byte(doc))
	if err != nil {
		return nil, malformed("Syntax errors in policy.")
	}
	p := &Policy{}
	for k, raw := range top {
		switch k {
		case "Version":
			if err := json.Unmarshal(raw, &p.Version); err != nil {
				return nil, malformed("Syntax errors in policy.")
			}
			if p.Version != Version2012 && p.Version != Version2008 {
				return nil, malformed("The policy failed legacy parsing")
			}
		case "Id", "Statement":
		default:
			return nil, malformed("Syntax errors in policy.")
		}
	}
	rawStmts, ok := top["Statement"]
	if !ok {
		return nil, malformed("Syntax errors in policy.")
	}
	var list []json.RawMessage
	if t := bytes.TrimSpace(rawStmts); len(t) > 0 && t[0] == '[' {
		if err := json.Unmarshal(rawStmts, &list); err != nil {
			return nil, malformed("Syntax errors in policy.")
		}
	} else {
		list = []json.RawMessage{rawStmts}
	}
	if len(list) == 0 {
		return nil, malformed("Syntax errors in policy.")
	}
	sids := map[string]bool{}
	for _, raw := range list {
		st, err := parseStatement(raw, kind)
		if err != nil {
			return nil, err
		}
		if st.Sid != "" {
			if sids[st.Sid] {
				return nil, malformed("Statement IDs (SID) in a single policy must be unique.")
			}
			sids[st.Sid] = true
		}
		p.Statements = append(p.Statements, st)
	}
	return p, nil
}

func decodeObject(b []byte) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	var m map[string]json.RawMessage
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil || dec.More() {
		return nil, fmt.Errorf("not one object")
	}
	if _, err := dec.Token(); err == nil {
		return nil, fmt.Errorf("trailing data")
	}
	return m, nil
}

func parseStatement(raw json.RawMessage, kind Kind) (Statement, error) {
	var st Statement
	fields, err := decodeObject(raw)
	if err != nil {
		return st, malformed("Syntax errors in policy.")
	}
	for k, v := range fields {
		var err error
		switch k {
		case "Sid":
			if json.Unmarshal(v, &st.Sid) != nil {
				return st, malformed("Syntax errors in policy.")
			}
			if !sidRe.MatchString(st.Sid) {
				return st, malformed("Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*")
			}
		case "Effect":
			if json.Unmarshal(v, &st.Effect) != nil {
				return st, malformed("Syntax errors in policy.")
			}
		case "Action":
			st.Action, err = stringList(v)
		case "NotAction":
			st.NotAction, err = stringList(v)
		case "Resource":
			st.Resource, err = stringList(v)
		case "NotResource":
			st.NotResource, err = stringList(v)
		case "Principal":
			st.Principal, err = parsePrincipal(v)
		case "NotPrincipal":
			st.NotPrincipal, err = parsePrincipal(v)
		case "Condition":
			st.Conditions, err = parseConditions(v)
		default:
			return st, malformed("Syntax errors in policy.")
		}
		if err != nil {
			return st, err
		}
	}
	if st.Effect != "Allow" && st.Effect != "Deny" {
		if st.Effect == "" {
			return st, malformed("Syntax errors in policy.")
		}
		return st, malformed("Invalid effect: %s", st.Effect)
	}
	switch {
	case st.Action == nil && st.NotAction == nil:
		return st, malformed("Policy statement must contain actions.")
	case st.Action != nil && st.NotAction != nil:
		return st, malformed("Syntax errors in policy.")
	}
	for _, a := range append(append([]string{}, st.Action...), st.NotAction...) {
		if a != "*" && !validAction(a) {
			return st, malformed("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.")
		}
	}
	if st.Resource != nil && st.NotResource != nil {
		return st, malformed("Syntax errors in policy.")
	}
	for _, r := range append(append([]string{}, st.Resource...), st.NotResource...) {
		if r != "*" && !strings.HasPrefix(r, "arn:") {
			return st, malformed("Resource %s must be in ARN format or \"*\".", r)
		}
		if strings.HasPrefix(r, "arn:") && strings.Count(r, ":") < 5 {
			return st, malformed("Resource %s must be in ARN format or \"*\".", r)
		}
	}
	switch kind {
	case Trust:
		if st.Resource != nil || st.NotResource != nil {
			return st, malformed("Has prohibited field Resource")
		}
		if st.Principal == nil && st.NotPrincipal == nil {
			return st, malformed("Missing required field Principal")
		}
		for _, a := range append(append([]string{}, st.Action...), st.NotAction...) {
			svc, _, _ := strings.Cut(strings.ToLower(a), ":")
			if a != "*" && svc != "sts" {
				return st, malformed("AssumeRole policy may only specify STS AssumeRole actions.")
			}
		}
		if err := checkPrincipals(st.Principal); err != nil {
			return st, err
		}
		if err := checkPrincipals(st.NotPrincipal); err != nil {
			return st, err
		}
	default:
		if st.Principal != nil || st.NotPrincipal != nil {
			return st, malformed("Policy document should not specify a principal.")
		}
		if st.Resource == nil && st.NotResource == nil {
			return st, malformed("Policy statement must contain resources.")
		}
	}
	return st, nil
}

var actionRe = regexp.MustCompile(`^[A-Za-z0-9-]+:[A-Za-z0-9*?]*$`)

func validAction(a string) bool { return actionRe.MatchString(a) }

// stringList reads a string or an array of strings (IAM also accepts
// numbers and booleans in value positions and reads them as strings).
func stringList(raw json.RawMessage) ([]string, error) {
	var one any
	if err := json.Unmarshal(raw, &one); err != nil {
		return nil, malformed("Syntax errors in policy.")
	}
	switch v := one.(type) {
	case []any:
		if len(v) == 0 {
			return nil, malformed("Syntax errors in policy.")
		}
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := scalarString(e)
			if !ok {
				return nil, malformed("Syntax errors in policy.")
			}
			out = append(out, s)
		}
		return out, nil
	default:
		s, ok := scalarString(v)
		if !ok {
			return nil, malformed("Syntax errors in policy.")
		}
		return []string{s}, nil
	}
}

func scalarString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	}
	return "", false
}

func parsePrincipal(raw json.RawMessage) (*PrincipalSet, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s != "*" {
			return nil, malformed("Invalid principal in policy: %q", s)
		}
		return &PrincipalSet{Any: true}, nil
	}
	m, err := decodeObject(raw)
	if err != nil || len(m) == 0 {
		return nil, malformed("Syntax errors in policy.")
	}
	ps := &PrincipalSet{Values: map[string][]string{}}
	for typ, v := range m {
		switch typ {
		case "AWS", "Service", "Federated", "CanonicalUser":
		default:
			return nil, malformed("Invalid principal in policy: %q", typ)
		}
		vals, err := stringList(v)
		if err != nil {
			return nil, err
		}
		ps.Values[typ] = vals
	}
	return ps, nil
}

var accountRe = regexp.MustCompile(`^[0-9]{12}$`)

func checkPrincipals(ps *PrincipalSet) error {
	if ps == nil || ps.Any {
		return nil
	}
	for _, v := range ps.Values["AWS"] {
		if v == "*" || accountRe.MatchString(v) {
			continue
		}
		a, ok := parseARN(v)
		if !ok || a.service != "iam" && a.service != "sts" || !accountRe.MatchString(a.account) {
			return malformed("Invalid principal in policy: \"AWS\":%q", v)
		}
	}
	return nil
}

func parseConditions(raw json.RawMessage) ([]Condition, error) {
	block, err := decodeObject(raw)
	if err != nil {
		return nil, malformed("Syntax errors in policy.")
	}
	ops := make([]string, 0, len(block))
	for k := range block {
		ops = append(ops, k)
	}
	sort.Strings(ops)
	var out []Condition
	for _, opName := range ops {
		op, ok := parseOperator(opName)
		if !ok {
			return nil, malformed("Invalid Condition type : %s", opName)
		}
		keys, err := decodeObject(block[opName])
		if err != nil {
			return nil, malformed("Syntax errors in policy.")
		}
		names := make([]string, 0, len(keys))
		for k := range keys {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, key := range names {
			if !strings.Contains(key, ":") {
				return nil, malformed("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.")
			}
			vals, err := stringList(keys[key])
			if err != nil {
				return nil, err
			}
			out = append(out, Condition{Operator: opName, Key: key, Values: vals, op: op})
		}
	}
	return out, nil
}
