package aws

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	awsprov "github.com/raxx-app/handoff/internal/provider/aws"
)

// Grant is what one session is minted with: the role, the typed grants
// and the raw session policy as the spec wrote them, and the session's
// length. It is the same whether read from a spec (GrantOf) or from a
// record (Record.Grant), so that the plan compares like with like.
type Grant struct {
	RoleARN string
	// Region is the block's region ("" when unset).
	Region  string
	SSMRead []string
	S3Read  []string
	SQSSend []string
	// SessionPolicy is the raw session policy ("" when unset).
	SessionPolicy string
	// Duration is the block's session length (at most an hour).
	Duration time.Duration
}

// GrantOf is the grant of an aws block.
func GrantOf(b *Block) Grant {
	d := b.Duration.Value
	if !b.Duration.Valid() || d <= 0 {
		d = time.Hour
	}
	return Grant{RoleARN: b.RoleARN.Value, Region: b.Region.Value, SSMRead: b.SSMRead.Strings(), S3Read: b.S3Read.Strings(),
		SQSSend: b.SQSSend.Strings(), SessionPolicy: b.SessionPolicy.Value, Duration: d}
}

// Typed reports whether the grant has a typed grant.
func (g Grant) Typed() bool { return len(g.SSMRead)+len(g.S3Read)+len(g.SQSSend) > 0 }

// Sids of the statements the compiler writes. A raw session policy may not
// use them.
const (
	SidSSMRead = "HandoffSSMRead"
	SidSSMList = "HandoffSSMList"
	SidS3Read  = "HandoffS3Read"
	sidS3List  = "HandoffS3List" // followed by 1, 2, … per bucket
	SidSQSSend = "HandoffSQSSend"
)

// The actions each typed grant allows.
var (
	ssmGetActions  = awsprov.Value{"ssm:GetParameter", "ssm:GetParameters"}
	ssmListActions = awsprov.Value{"ssm:GetParametersByPath"}
	s3GetActions   = awsprov.Value{"s3:GetObject"}
	s3ListActions  = awsprov.Value{"s3:ListBucket"}
	sqsSendActions = awsprov.Value{"sqs:SendMessage"}
)

var (
	roleARNRE = regexp.MustCompile(`^arn:(aws(?:-[a-z]+)*):iam::([0-9]{12}):role/[A-Za-z0-9+=,.@_/-]{1,512}$`)
	regionRE  = regexp.MustCompile(`^[a-z]{2}(?:-[a-z]+)+-[0-9]{1,2}$`)
	ssmPathRE = regexp.MustCompile(`^(?:/[A-Za-z0-9_.-]+)+/?$`)
	s3RE      = regexp.MustCompile(`^arn:(aws(?:-[a-z]+)*):s3:::([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(.*)$`)
	s3KeyRE   = regexp.MustCompile(`^(?:[A-Za-z0-9!_.'()=+,@;:&$-]+/)*$`)
	sqsRE     = regexp.MustCompile(`^arn:(aws(?:-[a-z]+)*):sqs:([a-z]{2}(?:-[a-z]+)+-[0-9]{1,2}):([0-9]{12}):([A-Za-z0-9_-]{1,80}(?:\.fifo)?)$`)
)

// roleParts returns the partition and account of a role ARN.
func roleParts(arn string) (partition, account string, ok bool) {
	m := roleARNRE.FindStringSubmatch(arn)
	if m == nil {
		return "", "", false
	}
	return m[1], m[2], true
}

// ssmPath is an ssm_read entry without its trailing slash, or "" when it
// is not a path of SSM's hierarchy (or is "/" alone).
func ssmPath(p string) string {
	if len(p) > 1011 || !ssmPathRE.MatchString(p) || strings.Contains(p, "/../") || strings.HasSuffix(p, "/..") ||
		strings.Contains(p, "/./") || strings.HasSuffix(p, "/.") {
		return ""
	}
	return strings.TrimSuffix(p, "/")
}

// s3Prefix splits an s3_read entry (arn:PARTITION:s3:::BUCKET/PREFIX/,
// PREFIX empty for the whole bucket) into its bucket ARN and key prefix.
func s3Prefix(e string) (bucketARN, prefix string, ok bool) {
	m := s3RE.FindStringSubmatch(e)
	if m == nil || strings.Contains(m[2], "..") || !s3KeyRE.MatchString(m[3]) ||
		strings.Contains("/"+m[3], "/../") || strings.Contains("/"+m[3], "/./") {
		return "", "", false
	}
	return "arn:" + m[1] + ":s3:::" + m[2], m[3], true
}

// Compile returns the session policy of g: the typed grants' statements,
// then the raw session policy's, as compact JSON. The same grant always
// compiles to the same bytes: resources are sorted and deduplicated, S3
// listings are one statement per bucket, keys of conditions are sorted.
// An error says what of g cannot be compiled (policy.Check refuses it
// first).
func Compile(g Grant) (string, error) {
	doc, err := compileDocument(g)
	if err != nil {
		return "", err
	}
	b, err := doc.JSON()
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func compileDocument(g Grant) (awsprov.Document, error) {
	doc := awsprov.Document{Version: awsprov.PolicyVersion}
	partition, account, ok := roleParts(g.RoleARN)
	if !ok {
		return doc, fmt.Errorf("role_arn %q is not an IAM role ARN", g.RoleARN)
	}
	if len(g.SSMRead) > 0 {
		if g.Region == "" {
			return doc, fmt.Errorf("ssm_read needs a region")
		}
		var get, list []string
		for _, p := range g.SSMRead {
			path := ssmPath(p)
			if path == "" {
				return doc, fmt.Errorf("ssm_read %q is not an SSM parameter path", p)
			}
			arn := "arn:" + partition + ":ssm:" + g.Region + ":" + account + ":parameter" + path
			get = append(get, arn+"/*")
			list = append(list, arn, arn+"/*")
		}
		doc.Statement = append(doc.Statement,
			awsprov.Statement{Sid: SidSSMRead, Effect: awsprov.Allow, Action: ssmGetActions, Resource: sorted(get)},
			awsprov.Statement{Sid: SidSSMList, Effect: awsprov.Allow, Action: ssmListActions, Resource: sorted(list)})
	}
	if len(g.S3Read) > 0 {
		var objects []string
		buckets := map[string][]string{}
		for _, e := range g.S3Read {
			bucket, prefix, ok := s3Prefix(e)
			if !ok {
				return doc, fmt.Errorf("s3_read %q is not an S3 prefix", e)
			}
			objects = append(objects, bucket+"/"+prefix+"*")
			buckets[bucket] = append(buckets[bucket], prefix)
		}
		doc.Statement = append(doc.Statement, awsprov.Statement{Sid: SidS3Read, Effect: awsprov.Allow, Action: s3GetActions, Resource: sorted(objects)})
		names := make([]string, 0, len(buckets))
		for b := range buckets {
			names = append(names, b)
		}
		sort.Strings(names)
		for i, b := range names {
			st := awsprov.Statement{Sid: fmt.Sprintf("%s%d", sidS3List, i+1), Effect: awsprov.Allow, Action: s3ListActions, Resource: awsprov.Value{b}}
			if !slices.Contains(buckets[b], "") {
				var like []string
				for _, p := range buckets[b] {
					like = append(like, p+"*")
				}
				st.Condition = awsprov.Condition{"StringLike": {"s3:prefix": sorted(like)}}
			}
			doc.Statement = append(doc.Statement, st)
		}
	}
	if len(g.SQSSend) > 0 {
		for _, q := range g.SQSSend {
			if !sqsRE.MatchString(q) {
				return doc, fmt.Errorf("sqs_send %q is not an SQS queue ARN", q)
			}
		}
		doc.Statement = append(doc.Statement, awsprov.Statement{Sid: SidSQSSend, Effect: awsprov.Allow, Action: sqsSendActions, Resource: sorted(g.SQSSend)})
	}
	if g.SessionPolicy != "" {
		raw, err := awsprov.ParseDocument([]byte(g.SessionPolicy))
		if err != nil {
			return doc, fmt.Errorf("session_policy: %w", err)
		}
		for _, st := range raw.Statement {
			if st.Sid != "" && slices.ContainsFunc(doc.Statement, func(o awsprov.Statement) bool { return o.Sid == st.Sid }) {
				return doc, fmt.Errorf("session_policy reuses the Sid %q of a typed grant", st.Sid)
			}
			doc.Statement = append(doc.Statement, st)
		}
	}
	if len(doc.Statement) == 0 {
		return doc, fmt.Errorf("the block grants nothing: no typed grant and no session_policy")
	}
	return doc, nil
}

// sorted returns the distinct values of l, sorted.
func sorted(l []string) awsprov.Value {
	out := slices.Clone(l)
	sort.Strings(out)
	return awsprov.Value(slices.Compact(out))
}

// Statements splits a compiled policy into its statements, each as compact
// JSON (the elements of the grant's compiled_policy attribute).
func Statements(compiled string) []string {
	doc, err := awsprov.ParseDocument([]byte(compiled))
	if err != nil {
		return nil
	}
	out := make([]string, 0, len(doc.Statement))
	for _, st := range doc.Statement {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if enc.Encode(st) != nil {
			return nil
		}
		out = append(out, strings.TrimSpace(b.String()))
	}
	return out
}
