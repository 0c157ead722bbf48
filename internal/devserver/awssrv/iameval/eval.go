package iameval

import (
	"strings"
)

// Request is what a policy is evaluated against.
type Request struct {
	// Action is "service:Operation", e.g. "ssm:GetParameter".
	Action string
	// Resource is the ARN acted on ("*" for actions without a resource).
	Resource string
	// Principal identifies the caller for Principal elements of trust
	// policies.
	Principal Principal
	// Context holds the condition keys of the request.
	Context *Context
}

// Principal is the caller as trust policies see it.
type Principal struct {
	// Account is the caller's 12-digit account.
	Account string
	// ARNs name the caller: an IAM user's ARN; for a role session both the
	// assumed-role session ARN and the role's ARN.
	ARNs []string
}

// Effect is the outcome of evaluating one policy.
type Effect int

const (
	// NotApplicable: no statement matched.
	NotApplicable Effect = iota
	// Allowed: an Allow statement matched and no Deny did.
	Allowed
	// Denied: a Deny statement matched.
	Denied
)

// Match is the outcome of one policy: its effect, the Sid of the deciding
// statement and, for trust policies, whether the Allow named the caller
// itself rather than its whole account.
type Match struct {
	Effect Effect
	Sid    string
	// Direct is set when an Allow in a trust policy names the caller's own
	// ARN (a same-account grant that needs no identity-based allow).
	Direct bool
}

// Eval evaluates the policy against r.
func (p *Policy) Eval(r *Request) Match {
	var m Match
	if p == nil {
		return m
	}
	for _, st := range p.Statements {
		ok, direct := st.matches(r, p.Version)
		if !ok {
			continue
		}
		if st.Effect == "Deny" {
			return Match{Effect: Denied, Sid: st.Sid}
		}
		if m.Effect != Allowed || (direct && !m.Direct) {
			m = Match{Effect: Allowed, Sid: st.Sid, Direct: direct}
		}
	}
	return m
}

func (st *Statement) matches(r *Request, version string) (bool, bool) {
	if st.Action != nil && !anyAction(st.Action, r.Action) {
		return false, false
	}
	if st.NotAction != nil && anyAction(st.NotAction, r.Action) {
		return false, false
	}
	if st.Resource != nil && !anyResource(st.Resource, r.Resource, r.Context, version) {
		return false, false
	}
	if st.NotResource != nil && anyResource(st.NotResource, r.Resource, r.Context, version) {
		return false, false
	}
	direct := false
	if st.Principal != nil {
		ok, d := st.Principal.matches(r.Principal)
		if !ok {
			return false, false
		}
		direct = d
	}
	if st.NotPrincipal != nil {
		if ok, _ := st.NotPrincipal.matches(r.Principal); ok {
			return false, false
		}
	}
	for _, c := range st.Conditions {
		if !c.holds(r.Context, version) {
			return false, false
		}
	}
	return true, direct
}

func anyAction(patterns []string, action string) bool {
	for _, p := range patterns {
		if glob(p, action, true) {
			return true
		}
	}
	return false
}

func anyResource(patterns []string, resource string, ctx *Context, version string) bool {
	for _, p := range patterns {
		s, ok := substitute(p, ctx, version)
		if ok && arnMatch(s, resource) {
			return true
		}
	}
	return false
}

// matches reports whether the set names the principal, and whether it named
// it directly (its ARN) rather than through its account or "*".
func (ps *PrincipalSet) matches(p Principal) (bool, bool) {
	if ps.Any {
		return true, false
	}
	for _, v := range ps.Values["AWS"] {
		switch {
		case v == "*":
			return true, false
		case v == p.Account || v == "arn:aws:iam::"+p.Account+":root":
			return true, false
		}
		for _, a := range p.ARNs {
			if v == a {
				return true, true
			}
		}
	}
	return false, false
}

// glob matches s against pattern, where '*' matches any run of characters
// and '?' any one character.
func glob(pattern, s string, fold bool) bool {
	if fold {
		pattern, s = strings.ToLower(pattern), strings.ToLower(s)
	}
	// Iterative matcher with backtracking to the last '*'.
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

type arnParts struct {
	partition, service, region, account, resource string
}

func parseARN(s string) (arnParts, bool) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return arnParts{}, false
	}
	return arnParts{parts[1], parts[2], parts[3], parts[4], parts[5]}, true
}

// arnMatch matches an ARN against a pattern the way IAM does: "*" matches
// everything; otherwise each of the six components is matched on its own,
// with wildcards, so a '*' in the region never reaches into the resource.
func arnMatch(pattern, arn string) bool {
	if pattern == "*" {
		return true
	}
	pp, ok1 := parseARN(pattern)
	ap, ok2 := parseARN(arn)
	if !ok1 || !ok2 {
		return glob(pattern, arn, false)
	}
	return glob(pp.partition, ap.partition, false) && glob(pp.service, ap.service, false) &&
		glob(pp.region, ap.region, false) && glob(pp.account, ap.account, false) &&
		glob(pp.resource, ap.resource, false)
}

// substitute replaces policy variables (${aws:username}, ${*}, ...) in s. It
// reports false when a variable has no value in the context and no default,
// in which case the element matches nothing. Variables are only read in
// version 2012-10-17 policies, as in IAM.
func substitute(s string, ctx *Context, version string) (string, bool) {
	if version != Version2012 || !strings.Contains(s, "${") {
		return s, true
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), true
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			b.WriteString(s)
			return b.String(), true
		}
		b.WriteString(s[:i])
		name := s[i+2 : i+j]
		s = s[i+j+1:]
		switch name {
		case "*", "?", "$":
			b.WriteString(name)
			continue
		}
		key, def, hasDef := strings.Cut(name, ",")
		key = strings.TrimSpace(key)
		if vals, ok := ctx.Get(key); ok && len(vals) == 1 {
			b.WriteString(vals[0])
			continue
		}
		if hasDef {
			def = strings.TrimSpace(def)
			b.WriteString(strings.Trim(def, "'"))
			continue
		}
		return "", false
	}
}
