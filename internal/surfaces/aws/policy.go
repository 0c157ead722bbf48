package aws

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/raxx-app/handoff/internal/policy"
	awsprov "github.com/raxx-app/handoff/internal/provider/aws"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/surface"
)

// Session length bounds.
const (
	// MaxSession is the longest session handoff mints (H3): one hour, the
	// limit of role chaining and of the roles' default MaxSessionDuration.
	MaxSession = time.Hour
	// MinSession is STS's shortest session (DurationSeconds 900).
	MinSession = 15 * time.Minute
)

// Policy is the surface's effective policy: what a handoff's aws block may
// reach. Entries that break a hard rule are left out.
type Policy struct {
	// RoleARNs are the roles prepared for handoffs (exact ARNs); none by
	// default, so no handoff assumes a role until an operator lists one.
	RoleARNs spec.StringList
	// SSMReadRoots are SSM parameter paths an ssm_read path must be at or
	// below.
	SSMReadRoots spec.StringList
	// S3Prefixes are S3 prefixes (arn:aws:s3:::bucket/prefix/) an s3_read
	// prefix must be at or below.
	S3Prefixes spec.StringList
	// SQSQueues are the queue ARNs sqs_send may name.
	SQSQueues spec.StringList
}

// Policy merges the default policy with handoff.hcl's, list by list, and
// checks each entry, dropping those that break a hard rule (a wildcard, a
// root of everything).
func (s *Surface) Policy(def, override spec.Block, _ *spec.Config) (any, hcl.Diagnostics) {
	p := &Policy{}
	if d, ok := def.(*PolicyBlock); ok {
		p.RoleARNs, p.SSMReadRoots, p.S3Prefixes, p.SQSQueues = d.RoleARNs, d.SSMReadRoots, d.S3Prefixes, d.SQSQueues
	}
	if o, ok := override.(*PolicyBlock); ok {
		for _, x := range []struct{ dst, src *spec.StringList }{
			{&p.RoleARNs, &o.RoleARNs}, {&p.SSMReadRoots, &o.SSMReadRoots}, {&p.S3Prefixes, &o.S3Prefixes}, {&p.SQSQueues, &o.SQSQueues},
		} {
			if x.src.Valid() {
				*x.dst = *x.src
			}
		}
	}
	c := &surface.Check{}
	p.RoleARNs.Values = keep(p.RoleARNs.Values, func(v spec.String) bool {
		if _, _, ok := roleParts(v.Value); ok {
			return true
		}
		c.Errorf(v.Range, "Invalid AWS role ARN in "+PolicyRoleARNs,
			"%q is not an IAM role ARN. List each role prepared for handoffs by its exact ARN, such as %q; wildcards are not allowed (H1).",
			v.Value, exampleRole)
		return false
	})
	p.SSMReadRoots.Values = keep(p.SSMReadRoots.Values, func(v spec.String) bool {
		if ssmPath(v.Value) != "" {
			return true
		}
		c.Errorf(v.Range, "Invalid SSM root in "+PolicySSMReadRoots,
			"%q is not an SSM parameter path. Write an absolute path below the root of Parameter Store, such as \"/raxx/\"; \"/\" alone, wildcards and .. are not allowed (H1).",
			v.Value)
		return false
	})
	p.S3Prefixes.Values = keep(p.S3Prefixes.Values, func(v spec.String) bool {
		if _, _, ok := s3Prefix(v.Value); ok {
			return true
		}
		c.Errorf(v.Range, "Invalid S3 prefix in "+PolicyS3Prefixes,
			"%q is not an S3 prefix. Write the bucket's ARN and a key prefix ending in \"/\" (nothing for the whole bucket), such as %q; wildcards are not allowed (H1).",
			v.Value, "arn:aws:s3:::raxx-handoff-artifacts/")
		return false
	})
	p.SQSQueues.Values = keep(p.SQSQueues.Values, func(v spec.String) bool {
		if sqsRE.MatchString(v.Value) {
			return true
		}
		c.Errorf(v.Range, "Invalid SQS queue ARN in "+PolicySQSQueues,
			"%q is not an SQS queue ARN. Name each queue by its ARN, such as %q; wildcards are not allowed (H1).", v.Value, exampleQueue)
		return false
	})
	return p, c.Diagnostics()
}

const (
	exampleRole  = "arn:aws:iam::123456789012:role/handoff/raxx-handoff-agent"
	exampleQueue = "arn:aws:sqs:us-east-1:123456789012:raxx-handoff-jobs"
)

func keep(l []spec.String, ok func(spec.String) bool) []spec.String {
	out := l[:0:0]
	for _, v := range l {
		if ok(v) {
			out = append(out, v)
		}
	}
	return out
}

// Check checks a handoff's aws block against the hard rules and the
// policy's bounds.
func (s *Surface) Check(c *surface.Check, h *spec.Handoff, b spec.Block) {
	blk, ok := b.(*Block)
	if !ok {
		return
	}
	p, _ := c.Policy.(*Policy)
	if p == nil {
		p = &Policy{}
	}
	roleOK := checkRole(c, blk.RoleARN, p)
	regionOK := true
	if r := blk.Region; r.Valid() && !regionRE.MatchString(r.Value) {
		regionOK = false
		c.Errorf(r.Range, "Invalid AWS region",
			"region is %q; write an AWS region code, such as \"us-east-1\".", r.Value)
	}
	typedOK := checkSSM(c, blk, p)
	typedOK = checkS3(c, blk, p) && typedOK
	typedOK = checkSQS(c, blk, p) && typedOK
	rawOK := true
	if sp := blk.SessionPolicy; sp.Valid() {
		if sum, det := sessionPolicyProblem(sp.Value); sum != "" {
			rawOK = false
			c.Errorf(sp.Range, sum, "%s", det)
		}
	}
	if !blk.SSMRead.Valid() && !blk.S3Read.Valid() && !blk.SQSSend.Valid() && !blk.SessionPolicy.Valid() {
		c.Errorf(blk.DefRange, "AWS block grants nothing",
			"Without a session policy the session would hold every permission of the role (H1). Add a typed grant such as ssm_read = [\"/raxx/%s/\"], or s3_read, sqs_send or session_policy.",
			h.Slug.Value)
	}
	checkDuration(c, h, blk.Duration)
	if !roleOK || !regionOK || !typedOK || !rawOK {
		return
	}
	compiled, err := Compile(GrantOf(blk))
	if err != nil {
		if strings.Contains(err.Error(), "reuses the Sid") {
			c.Errorf(blk.SessionPolicy.Range, "AWS session policy reuses a handoff Sid",
				"%v. Rename the statement's Sid; Sids starting with \"Handoff\" name the statements of typed grants.", err)
		}
		return
	}
	checkSize(c, blk, h.Slug.Value, compiled)
}

// checkRole checks role_arn: an IAM role ARN that the policy lists.
func checkRole(c *surface.Check, r spec.String, p *Policy) bool {
	if !r.Valid() {
		return false
	}
	if _, _, ok := roleParts(r.Value); !ok {
		c.Errorf(r.Range, "Invalid AWS role ARN",
			"role_arn is %q; write an IAM role ARN, such as \"arn:aws:iam::123456789012:role/handoff-deploy\".", r.Value)
		return false
	}
	for _, a := range p.RoleARNs.Values {
		if a.Value == r.Value {
			return true
		}
	}
	if len(p.RoleARNs.Values) == 0 {
		c.Errorf(r.Range, "AWS role not allowed by the policy",
			"role_arn is %q, but the policy lists no role in %s, so no handoff may assume one. Prepare the role for handoffs (docs/vendors/aws.md), then list it in the policy block of handoff.hcl through a reviewed change, such as %s = [%q].",
			r.Value, PolicyRoleARNs, PolicyRoleARNs, r.Value)
		return false
	}
	c.Errorf(r.Range, "AWS role not allowed by the policy",
		"role_arn is %q, but the policy allows only %s (%s at %s). Use one of those, or add the role to %s in the policy block of handoff.hcl through a reviewed change.",
		r.Value, quoteList(p.RoleARNs), PolicyRoleARNs, spec.RangeString(p.RoleARNs.Range), PolicyRoleARNs)
	return false
}

// checkSSM checks ssm_read: absolute paths under an allowed root, and a
// region to find them in.
func checkSSM(c *surface.Check, b *Block, p *Policy) bool {
	l := b.SSMRead
	if !l.Valid() {
		return true
	}
	ok := nonEmpty(c, l, AttrSSMRead, `ssm_read = ["/raxx/moosequest-queue/"]`)
	for _, v := range l.Values {
		path := ssmPath(v.Value)
		if path == "" {
			ok = false
			c.Errorf(v.Range, "Invalid SSM parameter path",
				"%q is not a path of Parameter Store's hierarchy. Write an absolute path, such as \"/raxx/moosequest-queue/\"; \"/\" alone, wildcards and .. are not allowed (H1).", v.Value)
			continue
		}
		if !slices.ContainsFunc(p.SSMReadRoots.Values, func(r spec.String) bool { return pathUnder(path, ssmPath(r.Value)) }) {
			ok = false
			bound(c, v, p.SSMReadRoots, "SSM path outside the allowed roots", PolicySSMReadRoots, "read SSM parameters", "Read below one of those", `["/raxx/"]`)
		}
	}
	if len(l.Values) > 0 && !b.Region.Valid() {
		ok = false
		c.Errorf(l.Range, "SSM paths without a region",
			"Parameter Store is regional: the session may read these paths in one region only. Add the region, such as region = \"us-east-1\".")
	}
	return ok
}

// checkS3 checks s3_read: bucket prefixes under an allowed prefix.
func checkS3(c *surface.Check, b *Block, p *Policy) bool {
	l := b.S3Read
	if !l.Valid() {
		return true
	}
	ok := nonEmpty(c, l, AttrS3Read, `s3_read = ["arn:aws:s3:::raxx-handoff-artifacts/moosequest/"]`)
	for _, v := range l.Values {
		bucket, prefix, valid := s3Prefix(v.Value)
		if !valid {
			ok = false
			c.Errorf(v.Range, "Invalid S3 prefix",
				"%q is not an S3 prefix. Write the bucket's ARN and a key prefix ending in \"/\", such as \"arn:aws:s3:::raxx-handoff-artifacts/moosequest/\"; wildcards are not allowed (H1).", v.Value)
			continue
		}
		if !slices.ContainsFunc(p.S3Prefixes.Values, func(r spec.String) bool {
			rb, rp, _ := s3Prefix(r.Value)
			return rb == bucket && strings.HasPrefix(prefix, rp)
		}) {
			ok = false
			bound(c, v, p.S3Prefixes, "S3 prefix outside the allowed prefixes", PolicyS3Prefixes, "read from S3", "Read below one of those",
				`["arn:aws:s3:::raxx-handoff-artifacts/"]`)
		}
	}
	return ok
}

// checkSQS checks sqs_send: queue ARNs the policy lists.
func checkSQS(c *surface.Check, b *Block, p *Policy) bool {
	l := b.SQSSend
	if !l.Valid() {
		return true
	}
	ok := nonEmpty(c, l, AttrSQSSend, fmt.Sprintf(`sqs_send = [%q]`, exampleQueue))
	for _, v := range l.Values {
		if !sqsRE.MatchString(v.Value) {
			ok = false
			c.Errorf(v.Range, "Invalid SQS queue ARN",
				"%q is not an SQS queue ARN. Name the queue by its ARN, such as %q; wildcards are not allowed (H1).", v.Value, exampleQueue)
			continue
		}
		if !slices.ContainsFunc(p.SQSQueues.Values, func(r spec.String) bool { return r.Value == v.Value }) {
			ok = false
			bound(c, v, p.SQSQueues, "SQS queue not allowed by the policy", PolicySQSQueues, "send to a queue", "Send to one of those",
				fmt.Sprintf("[%q]", v.Value))
		}
	}
	return ok
}

// bound reports v outside the policy list l (attribute attr): what l
// allows, or that it allows nothing (no handoff may verb); do says what to
// do instead, example is a value of attr.
func bound(c *surface.Check, v spec.String, l spec.StringList, summary, attr, verb, do, example string) {
	if len(l.Values) == 0 {
		c.Errorf(v.Range, summary,
			"%q is not allowed: the policy's %s is empty, so no handoff may %s. Add an entry to %s in the policy block of handoff.hcl through a reviewed change, such as %s = %s.",
			v.Value, attr, verb, attr, attr, example)
		return
	}
	c.Errorf(v.Range, summary,
		"%q is outside what the policy allows: %s (%s at %s). %s, or add an entry to %s in the policy block of handoff.hcl through a reviewed change.",
		v.Value, quoteList(l), attr, spec.RangeString(l.Range), do, attr)
}

func quoteList(l spec.StringList) string {
	q := make([]string, len(l.Values))
	for i, v := range l.Values {
		q[i] = fmt.Sprintf("%q", v.Value)
	}
	return strings.Join(q, ", ")
}

// nonEmpty reports an empty list and blank elements; false when it did.
func nonEmpty(c *surface.Check, l spec.StringList, name, example string) bool {
	n := len(c.Diagnostics())
	policy.NonEmptyList(c, l, Name, name, example)
	return len(c.Diagnostics()) == n
}

// pathUnder reports whether SSM path p is root or below it (both without
// a trailing slash).
func pathUnder(p, root string) bool {
	return root != "" && (p == root || strings.HasPrefix(p, root+"/"))
}

// checkDuration checks the session length: from STS's 15 minutes to an
// hour, and within the handoff's ttl.
func checkDuration(c *surface.Check, h *spec.Handoff, d spec.Duration) {
	if !d.Valid() {
		return
	}
	switch {
	case d.Value > MaxSession:
		c.Errorf(d.Range, "AWS session longer than 1h",
			"duration is %s; an AWS session lasts at most %s (H3), and scheduled applies refresh it. Write duration = \"1h\" or less.",
			d.Raw, policy.FormatDuration(MaxSession))
	case d.Value > 0 && d.Value < MinSession:
		c.Errorf(d.Range, "AWS session shorter than 15m",
			"duration is %s; AWS STS refuses sessions under %s. Write duration = \"15m\" or more.", d.Raw, policy.FormatDuration(MinSession))
	default:
		policy.SurfaceTTL(c, h, d, Name, AttrDuration)
	}
}

// checkSize refuses a compiled session policy STS would refuse: over its
// 2,048 characters, or over its packed size (an estimate: STS does not
// publish its packing; the session tag handoff=<slug> counts too).
func checkSize(c *surface.Check, b *Block, slug, compiled string) {
	rng := b.DefRange
	if b.SessionPolicy.Valid() && !GrantOf(b).Typed() {
		rng = b.SessionPolicy.Range
	}
	if n := awsprov.SessionPolicyLength([]byte(compiled)); n > awsprov.MaxSessionPolicyLength {
		c.Errorf(rng, "AWS session policy too large",
			"The session policy handoff compiles for this block is %d characters; STS refuses more than %d. Grant fewer paths, prefixes or queues (a common parent path covers several), shorten session_policy, or split the handoff.",
			n, awsprov.MaxSessionPolicyLength)
		return
	}
	if pct := awsprov.PackedSizeEstimate([]byte(compiled), sessionTags(slug)); pct > 100 {
		c.Errorf(rng, "AWS session policy over STS's packed size",
			"The session policy and the session tag would use about %d%% of the packed space STS allows for them, and STS refuses a session over 100%% (PackedPolicyTooLarge). Grant fewer paths, prefixes or queues, shorten session_policy, or split the handoff.",
			pct)
	}
}

// sessionPolicyProblem checks that a raw session policy is a JSON IAM
// policy a session accepts, without blanket grants.
func sessionPolicyProblem(src string) (summary, detail string) {
	var doc struct {
		Version   string          `json:"Version"`
		Statement json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal([]byte(src), &doc); err != nil {
		return "Invalid AWS session policy", fmt.Sprintf("session_policy is not a JSON policy document (%v). Write it as a JSON string with Version and Statement.", err)
	}
	type statement struct {
		Effect    string          `json:"Effect"`
		Action    json.RawMessage `json:"Action"`
		NotAction json.RawMessage `json:"NotAction"`
	}
	var raws []map[string]json.RawMessage
	if err := json.Unmarshal(doc.Statement, &raws); err != nil {
		var one map[string]json.RawMessage
		if err := json.Unmarshal(doc.Statement, &one); err != nil || len(doc.Statement) == 0 || one == nil {
			return "Invalid AWS session policy", "session_policy needs a Statement (an object or a list of objects) with Effect and Action. Add one."
		}
		raws = []map[string]json.RawMessage{one}
	}
	for i, raw := range raws {
		for k := range raw {
			if !slices.Contains(statementKeys, k) {
				return "Invalid AWS session policy", fmt.Sprintf("Statement %d has %q, which a session policy does not take. Use only %s.", i+1, k, strings.Join(statementKeys, ", "))
			}
		}
		b, _ := json.Marshal(raw)
		var s statement
		_ = json.Unmarshal(b, &s)
		if s.Effect != "Allow" {
			continue
		}
		if len(s.NotAction) > 0 {
			return "Blanket AWS session policy", "An Allow statement with NotAction grants every action but a few (H1). List the actions the task needs under Action."
		}
		var actions []string
		if err := json.Unmarshal(s.Action, &actions); err != nil {
			var one string
			if json.Unmarshal(s.Action, &one) == nil {
				actions = []string{one}
			}
		}
		for _, a := range actions {
			if a == "*" || strings.HasSuffix(a, ":*") {
				return "Blanket AWS session policy", fmt.Sprintf("Action %q grants every action of a service (H1). List the actions the task needs, such as \"s3:GetObject\".", a)
			}
		}
	}
	if _, err := awsprov.ParseDocument([]byte(src)); err != nil {
		return "Invalid AWS session policy", fmt.Sprintf("session_policy is not a policy document handoff can send (%v). Write each element as a string or a list of strings.", err)
	}
	return "", ""
}

// statementKeys are the elements of a statement in a session policy.
var statementKeys = []string{"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"}

// Checks are the surface's rules, for the plan's record.
func (s *Surface) Checks() surface.Checks {
	return surface.Checks{
		Policy: []string{
			"AWS role in aws_role_arns; SSM paths below aws_ssm_read_roots, S3 prefixes below aws_s3_read_prefixes, SQS queues in aws_sqs_send_queues",
			"AWS session policy: no *, service:* or NotAction allow, within STS's 2,048 characters and packed size; sessions of 15m to 1h",
		},
		Settings: "AWS roles, SSM paths, S3 prefixes and SQS queues",
		Plan: []string{
			"the provisioner's AWS credentials read each role a session is about to be minted of (iam:GetRole, one request per role)",
		},
	}
}
