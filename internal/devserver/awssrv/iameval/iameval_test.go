package iameval

import (
	"errors"
	"testing"
)

func mustParse(t *testing.T, doc string, kind Kind) *Policy {
	t.Helper()
	p, err := Parse(doc, kind)
	if err != nil {
		t.Fatalf("Parse(%s): %v", doc, err)
	}
	return p
}

func TestParseRejectsWithIAMMessages(t *testing.T) {
	cases := []struct {
		name, doc string
		kind      Kind
		want      string
	}{
		{"not json", `{"Version":`, Identity, "Syntax errors in policy."},
		{"trailing", `{"Statement":[]} x`, Identity, "Syntax errors in policy."},
		{"empty statements", `{"Version":"2012-10-17","Statement":[]}`, Identity, "Syntax errors in policy."},
		{"unknown field", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Colour":1}}`, Identity, "Syntax errors in policy."},
		{"bad version", `{"Version":"2020-01-01","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, Identity, "The policy failed legacy parsing"},
		{"bad effect", `{"Statement":{"Effect":"allow","Action":"*","Resource":"*"}}`, Identity, "Invalid effect: allow"},
		{"no action", `{"Statement":{"Effect":"Allow","Resource":"*"}}`, Identity, "Policy statement must contain actions."},
		{"no resource", `{"Statement":{"Effect":"Allow","Action":"s3:GetObject"}}`, Session, "Policy statement must contain resources."},
		{"vendorless action", `{"Statement":{"Effect":"Allow","Action":"GetObject","Resource":"*"}}`, Identity, "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."},
		{"bad resource", `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"bucket"}}`, Identity, `Resource bucket must be in ARN format or "*".`},
		{"principal in identity", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}}`, Identity, "Policy document should not specify a principal."},
		{"sid format", `{"Statement":{"Sid":"a-b","Effect":"Allow","Action":"s3:*","Resource":"*"}}`, Identity, "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"},
		{"sid dup", `{"Statement":[{"Sid":"A","Effect":"Allow","Action":"s3:*","Resource":"*"},{"Sid":"A","Effect":"Deny","Action":"s3:*","Resource":"*"}]}`, Identity, "Statement IDs (SID) in a single policy must be unique."},
		{"bad operator", `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEqualz":{"aws:username":"x"}}}}`, Identity, "Invalid Condition type : StringEqualz"},
		{"trust resource", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole","Resource":"*"}}`, Trust, "Has prohibited field Resource"},
		{"trust no principal", `{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole"}}`, Trust, "Missing required field Principal"},
		{"trust non-sts", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"s3:GetObject"}}`, Trust, "AssumeRole policy may only specify STS AssumeRole actions."},
		{"trust bad principal", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"bob"},"Action":"sts:AssumeRole"}}`, Trust, `Invalid principal in policy: "AWS":"bob"`},
		{"non-latin1", `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::ü€"}}`, Identity, "Syntax errors in policy."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.doc, c.kind)
			var me *MalformedError
			if !errors.As(err, &me) || me.Msg != c.want {
				t.Errorf("Parse = %v, want MalformedError %q", err, c.want)
			}
		})
	}
}

func TestGlobAndARNs(t *testing.T) {
	cases := []struct {
		pattern, s string
		fold, want bool
	}{
		{"ssm:GetParameter*", "ssm:GetParametersByPath", true, true},
		{"SSM:getparameter", "ssm:GetParameter", true, true},
		{"ssm:Get?arameter", "ssm:GetParameter", true, true},
		{"ssm:Get*", "ssm:PutParameter", true, false},
		{"a*b*c", "aXXbYYc", false, true},
		{"a*b*c", "aXXbYY", false, false},
		{"*", "", false, true},
		{"abc", "ABC", false, false},
	}
	for _, c := range cases {
		if got := glob(c.pattern, c.s, c.fold); got != c.want {
			t.Errorf("glob(%q, %q) = %v", c.pattern, c.s, got)
		}
	}
	arns := []struct {
		pattern, arn string
		want         bool
	}{
		{"arn:aws:ssm:*:*:parameter/raxx/q/*", "arn:aws:ssm:us-east-1:123456789012:parameter/raxx/q/KEY", true},
		{"arn:aws:ssm:*:*:parameter/raxx/q/*", "arn:aws:ssm:us-east-1:123456789012:parameter/raxx/q", false},
		{"arn:aws:ssm:*:*:parameter/raxx/q/*", "arn:aws:ssm:us-east-1:123456789012:parameter/raxx/other/KEY", false},
		{"arn:aws:ssm:us-*:123456789012:parameter/*", "arn:aws:ssm:eu-west-1:123456789012:parameter/x", false},
		{"arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b.txt", true},
		{"arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket", false},
		{"*", "arn:aws:sqs:us-east-1:1:q", true},
	}
	for _, c := range arns {
		if got := arnMatch(c.pattern, c.arn); got != c.want {
			t.Errorf("arnMatch(%q, %q) = %v", c.pattern, c.arn, got)
		}
	}
}

func ctxOf(kv ...string) *Context {
	c := &Context{}
	for i := 0; i+1 < len(kv); i += 2 {
		c.Set(kv[i], kv[i+1])
	}
	return c
}

func TestConditions(t *testing.T) {
	multi := &Context{}
	multi.Set("aws:TagKeys", "handoff", "team")
	cases := []struct {
		name, cond string
		ctx        *Context
		want       bool
	}{
		{"StringEquals match", `{"StringEquals":{"aws:SourceIdentity":"slug-a"}}`, ctxOf("aws:sourceidentity", "slug-a"), true},
		{"StringEquals keys are case-insensitive", `{"StringEquals":{"AWS:SOURCEIDENTITY":"slug-a"}}`, ctxOf("aws:SourceIdentity", "slug-a"), true},
		{"StringEquals values are not", `{"StringEquals":{"aws:SourceIdentity":"SLUG-A"}}`, ctxOf("aws:SourceIdentity", "slug-a"), false},
		{"StringEquals missing key", `{"StringEquals":{"aws:SourceIdentity":"slug-a"}}`, ctxOf(), false},
		{"StringNotEquals missing key", `{"StringNotEquals":{"aws:SourceIdentity":"slug-a"}}`, ctxOf(), true},
		{"StringNotEquals other", `{"StringNotEquals":{"aws:SourceIdentity":"slug-a"}}`, ctxOf("aws:SourceIdentity", "slug-b"), true},
		{"StringEqualsIfExists missing", `{"StringEqualsIfExists":{"aws:SourceIdentity":"x"}}`, ctxOf(), true},
		{"StringLike", `{"StringLike":{"aws:PrincipalTag/handoff":"mq-*"}}`, ctxOf("aws:PrincipalTag/handoff", "mq-1"), true},
		{"StringNotLike", `{"StringNotLike":{"aws:PrincipalTag/handoff":"mq-*"}}`, ctxOf("aws:PrincipalTag/handoff", "mq-1"), false},
		{"values OR", `{"StringEquals":{"aws:username":["a","b"]}}`, ctxOf("aws:username", "b"), true},
		{"keys AND", `{"StringEquals":{"aws:username":"a","aws:SourceIdentity":"s"}}`, ctxOf("aws:username", "a"), false},
		{"DateLessThan before", `{"DateLessThan":{"aws:TokenIssueTime":"2026-06-21T10:00:00Z"}}`, ctxOf("aws:TokenIssueTime", "2026-06-21T09:59:59Z"), true},
		{"DateLessThan after", `{"DateLessThan":{"aws:TokenIssueTime":"2026-06-21T10:00:00Z"}}`, ctxOf("aws:TokenIssueTime", "2026-06-21T10:00:00Z"), false},
		{"DateLessThan epoch", `{"DateLessThan":{"aws:TokenIssueTime":"1782036000"}}`, ctxOf("aws:TokenIssueTime", "2026-06-21T09:00:00Z"), true},
		{"DateGreaterThan", `{"DateGreaterThan":{"aws:CurrentTime":"2026-01-01"}}`, ctxOf("aws:CurrentTime", "2026-06-21T09:00:00Z"), true},
		{"DateLessThan missing key", `{"DateLessThan":{"aws:TokenIssueTime":"2026-06-21T10:00:00Z"}}`, ctxOf(), false},
		{"Bool", `{"Bool":{"aws:SecureTransport":"false"}}`, ctxOf("aws:SecureTransport", "false"), true},
		{"Bool json bool", `{"Bool":{"aws:SecureTransport":true}}`, ctxOf("aws:SecureTransport", "false"), false},
		{"Null true absent", `{"Null":{"aws:SourceIdentity":"true"}}`, ctxOf(), true},
		{"Null false present", `{"Null":{"aws:SourceIdentity":"false"}}`, ctxOf("aws:SourceIdentity", "x"), true},
		{"ForAnyValue", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["team","x"]}}`, multi, true},
		{"ForAllValues subset", `{"ForAllValues:StringEquals":{"aws:TagKeys":["team","handoff","x"]}}`, multi, true},
		{"ForAllValues not subset", `{"ForAllValues:StringEquals":{"aws:TagKeys":["team"]}}`, multi, false},
		{"ForAllValues missing", `{"ForAllValues:StringEquals":{"aws:TagKeys":["team"]}}`, ctxOf(), true},
		{"ForAnyValue missing", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["team"]}}`, ctxOf(), false},
		{"ForAnyValue StringNotLike", `{"ForAnyValue:StringNotLike":{"aws:TagKeys":["team*"]}}`, multi, true},
		{"NumericLessThan", `{"NumericLessThan":{"sts:DurationSeconds":"3600"}}`, ctxOf("sts:DurationSeconds", "900"), true},
		{"IpAddress", `{"IpAddress":{"aws:SourceIp":"127.0.0.0/8"}}`, ctxOf("aws:SourceIp", "127.0.0.1"), true},
		{"ArnLike", `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/handoff/*"}}`, ctxOf("aws:PrincipalArn", "arn:aws:iam::123456789012:role/handoff/r"), true},
		{"policy variable", `{"StringEquals":{"aws:PrincipalTag/handoff":"${aws:SourceIdentity}"}}`, ctxOf("aws:PrincipalTag/handoff", "s", "aws:SourceIdentity", "s"), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":` + c.cond + `}}`
			p := mustParse(t, doc, Identity)
			got := p.Eval(&Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k", Context: c.ctx}).Effect == Allowed
			if got != c.want {
				t.Errorf("allowed = %v, want %v", got, c.want)
			}
		})
	}
}

func TestResourceVariables(t *testing.T) {
	p := mustParse(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ssm:GetParameter","Resource":"arn:aws:ssm:*:*:parameter/raxx/${aws:SourceIdentity}/*"}}`, Identity)
	req := func(si, name string) *Request {
		c := &Context{}
		if si != "" {
			c.Set("aws:SourceIdentity", si)
		}
		return &Request{Action: "ssm:GetParameter", Resource: "arn:aws:ssm:us-east-1:123456789012:parameter" + name, Context: c}
	}
	if p.Eval(req("mq", "/raxx/mq/K")).Effect != Allowed {
		t.Error("own path denied")
	}
	if p.Eval(req("mq", "/raxx/other/K")).Effect != NotApplicable {
		t.Error("other path allowed")
	}
	if p.Eval(req("", "/raxx/mq/K")).Effect != NotApplicable {
		t.Error("missing variable matched")
	}
	// 2008-10-17 documents take ${...} literally.
	old := mustParse(t, `{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"ssm:GetParameter","Resource":"arn:aws:ssm:*:*:parameter/raxx/${aws:SourceIdentity}/*"}}`, Identity)
	if old.Eval(req("mq", "/raxx/mq/K")).Effect != NotApplicable {
		t.Error("2008 policy substituted a variable")
	}
}

func TestDecide(t *testing.T) {
	const acct = "123456789012"
	role := mustParse(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ssm:GetParameter*"],"Resource":"arn:aws:ssm:*:*:parameter/raxx/*"},{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*"}]}`, Identity)
	session := mustParse(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ssm:GetParameter","Resource":"arn:aws:ssm:*:*:parameter/raxx/mq/*"}}`, Session)
	kill := mustParse(t, `{"Version":"2012-10-17","Statement":{"Sid":"Kill","Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:SourceIdentity":"mq"},"DateLessThan":{"aws:TokenIssueTime":"2026-06-21T10:00:00Z"}}}}`, Identity)
	trustDirect := mustParse(t, `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+acct+`:user/prov"},"Action":["sts:AssumeRole","sts:TagSession"]}}`, Trust)
	trustAccount := mustParse(t, `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+acct+`:root"},"Action":"sts:AssumeRole"}}`, Trust)
	userPolicy := mustParse(t, `{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::*:role/handoff/*"}}`, Identity)

	ssm := func(name, si, issued string) *Request {
		c := &Context{}
		c.Set("aws:SourceIdentity", si)
		c.Set("aws:TokenIssueTime", issued)
		return &Request{Action: "ssm:GetParameter", Resource: "arn:aws:ssm:us-east-1:" + acct + ":parameter" + name, Context: c}
	}
	assume := func(user, role string) *Request {
		return &Request{Action: "sts:AssumeRole", Resource: "arn:aws:iam::" + acct + ":role/" + role,
			Principal: Principal{Account: acct, ARNs: []string{"arn:aws:iam::" + acct + ":user/" + user}}, Context: &Context{}}
	}
	cases := []struct {
		name string
		in   Input
		req  *Request
		want Decision
	}{
		{"session path allowed", Input{Identity: []*Policy{role}, Session: session}, ssm("/raxx/mq/K", "mq", "2026-06-21T09:00:00Z"), Decision{Allowed: true}},
		{"session narrows", Input{Identity: []*Policy{role}, Session: session}, ssm("/raxx/other/K", "mq", "2026-06-21T09:00:00Z"), Decision{Type: SessionPolicy}},
		{"role does not allow", Input{Identity: []*Policy{role}, Session: session}, ssm("/prod/K", "mq", "2026-06-21T09:00:00Z"), Decision{Type: IdentityBased}},
		{"no session policy: role alone", Input{Identity: []*Policy{role}}, ssm("/raxx/other/K", "mq", "2026-06-21T09:00:00Z"), Decision{Allowed: true}},
		{"kill denies older session", Input{Identity: []*Policy{role, kill}, Session: session}, ssm("/raxx/mq/K", "mq", "2026-06-21T09:00:00Z"), Decision{Explicit: true, Type: IdentityBased, Sid: "Kill"}},
		{"kill spares newer session", Input{Identity: []*Policy{role, kill}, Session: session}, ssm("/raxx/mq/K", "mq", "2026-06-21T10:00:01Z"), Decision{Allowed: true}},
		{"kill spares other handoff", Input{Identity: []*Policy{role, kill}}, ssm("/raxx/mq/K", "other", "2026-06-21T09:00:00Z"), Decision{Allowed: true}},
		{"trust names the user", Input{Resource: trustDirect, ResourceRequired: true}, assume("prov", "handoff/r"), Decision{Allowed: true}},
		{"trust names someone else", Input{Identity: []*Policy{userPolicy}, Resource: trustDirect, ResourceRequired: true}, assume("eve", "handoff/r"), Decision{Type: ResourceBased}},
		{"trust names the account: identity needed", Input{Resource: trustAccount, ResourceRequired: true}, assume("prov", "handoff/r"), Decision{Type: IdentityBased}},
		{"trust names the account and identity allows", Input{Identity: []*Policy{userPolicy}, Resource: trustAccount, ResourceRequired: true}, assume("prov", "handoff/r"), Decision{Allowed: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Decide(c.in, c.req); got != c.want {
				t.Errorf("Decide = %+v, want %+v", got, c.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"ForAnyValue:StringLike":{"aws:TagKeys":["a*"]}}}}`)
	f.Add(`{"Statement":[{"Effect":"Deny","NotAction":"iam:*","NotResource":"arn:aws:iam::1:role/${aws:username}"}]}`)
	f.Fuzz(func(t *testing.T, doc string) {
		p, err := Parse(doc, Identity)
		if err != nil {
			var me *MalformedError
			if !errors.As(err, &me) {
				t.Fatalf("error %v is not a MalformedError", err)
			}
			return
		}
		c := &Context{}
		c.Set("aws:TagKeys", "a", "b")
		p.Eval(&Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k", Context: c})
	})
}

func TestNotElements(t *testing.T) {
	p := mustParse(t, `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","NotAction":"iam:*","Resource":"*"},
		{"Effect":"Deny","Action":"s3:*","NotResource":"arn:aws:s3:::public/*"}]}`, Identity)
	cases := []struct {
		action, resource string
		want             Effect
	}{
		{"ssm:GetParameter", "arn:aws:ssm:us-east-1:1:parameter/x", Allowed},
		{"iam:GetRole", "arn:aws:iam::1:role/x", NotApplicable},
		{"s3:GetObject", "arn:aws:s3:::public/a", Allowed},
		{"s3:GetObject", "arn:aws:s3:::private/a", Denied},
	}
	for _, c := range cases {
		if got := p.Eval(&Request{Action: c.action, Resource: c.resource, Context: &Context{}}).Effect; got != c.want {
			t.Errorf("%s on %s = %v, want %v", c.action, c.resource, got, c.want)
		}
	}
	trust := mustParse(t, `{"Statement":{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::123456789012:user/eve"},"Action":"sts:AssumeRole"}}`, Trust)
	eve := &Request{Action: "sts:AssumeRole", Resource: "*", Context: &Context{}, Principal: Principal{Account: "123456789012", ARNs: []string{"arn:aws:iam::123456789012:user/eve"}}}
	bob := &Request{Action: "sts:AssumeRole", Resource: "*", Context: &Context{}, Principal: Principal{Account: "123456789012", ARNs: []string{"arn:aws:iam::123456789012:user/bob"}}}
	if trust.Eval(eve).Effect != NotApplicable || trust.Eval(bob).Effect != Allowed {
		t.Error("NotPrincipal")
	}
}
