package aws

import (
	"github.com/hashicorp/hcl/v2"

	"github.com/raxx-app/handoff/internal/spec"
)

// Name is the surface's block name.
const Name = "aws"

// Block attribute names.
const (
	AttrRoleARN       = "role_arn"
	AttrSessionPolicy = "session_policy"
	AttrDuration      = "duration"
	AttrRegion        = "region"
	AttrSSMRead       = "ssm_read"
	AttrS3Read        = "s3_read"
	AttrSQSSend       = "sqs_send"
	// AttrCompiledPolicy is the grant attribute holding the session policy
	// handoff sends to STS, one compact JSON statement per element.
	AttrCompiledPolicy = "compiled_policy"
)

// Policy attribute names (the policy block of handoff.hcl and the default
// policy).
const (
	PolicyRoleARNs     = "aws_role_arns"
	PolicySSMReadRoots = "aws_ssm_read_roots"
	PolicyS3Prefixes   = "aws_s3_read_prefixes"
	PolicySQSQueues    = "aws_sqs_send_queues"
)

// DefaultDuration is the session length when the block gives none.
const DefaultDuration = "1h"

// Block is the aws block of a handoff: an STS session of RoleARN narrowed
// by an inline session policy compiled from the typed grants (SSMRead,
// S3Read, SQSSend) and the raw SessionPolicy, lasting Duration.
type Block struct {
	DefRange      hcl.Range   // the block header
	RoleARN       spec.String // arn:aws:iam::ACCOUNT:role/NAME
	SessionPolicy spec.String // raw JSON policy; invalid when omitted
	Duration      spec.Duration
	Region        spec.String     // AWS_REGION and the region of SSM grants; invalid when omitted
	SSMRead       spec.StringList // SSM parameter paths ("/raxx/moosequest-queue/")
	S3Read        spec.StringList // S3 prefixes ("arn:aws:s3:::bucket/prefix/")
	SQSSend       spec.StringList // SQS queue ARNs
}

// Range is the block header.
func (b *Block) Range() hcl.Range { return b.DefRange }

// Canonical is the block's part of the handoff's digest. The first three
// fields are those of the block before the typed grants existed, in their
// order and form, so that a spec using only them keeps its digest; the
// others are left out when unset.
func (b *Block) Canonical() any {
	return struct {
		RoleARN       string   `json:"role_arn"`
		SessionPolicy string   `json:"session_policy"`
		Duration      string   `json:"duration"`
		Region        string   `json:"region,omitempty"`
		SSMRead       []string `json:"ssm_read,omitempty"`
		S3Read        []string `json:"s3_read,omitempty"`
		SQSSend       []string `json:"sqs_send,omitempty"`
	}{b.RoleARN.Value, b.SessionPolicy.Value, spec.CanonicalDuration(b.Duration),
		b.Region.Value, b.SSMRead.Strings(), b.S3Read.Strings(), b.SQSSend.Strings()}
}

// Of returns the aws block of h, nil when it has none.
func Of(h *spec.Handoff) *Block {
	b, _ := h.Block(Name)
	x, _ := b.(*Block)
	return x
}

// PolicyBlock is what the surface reads of a policy block: the bounds of
// every handoff's aws block. Each list is invalid when not written (the
// default policy's then holds).
type PolicyBlock struct {
	RoleARNs     spec.StringList
	SSMReadRoots spec.StringList
	S3Prefixes   spec.StringList
	SQSQueues    spec.StringList
}

// Range is the range of the role list.
func (p *PolicyBlock) Range() hcl.Range { return p.RoleARNs.Range }

var (
	blockSyntax = &spec.BlockSyntax{
		Type: Name,
		Name: "An aws block in a handoff",
		Attrs: []spec.AttrSyntax{
			{Name: AttrRoleARN, Required: true, Example: `role_arn = "arn:aws:iam::123456789012:role/handoff/raxx-handoff-agent"`},
			{Name: AttrRegion, Example: `region = "us-east-1"`},
			{Name: AttrSSMRead, Example: `ssm_read = ["/raxx/moosequest-queue/"]`},
			{Name: AttrS3Read, Example: `s3_read = ["arn:aws:s3:::raxx-handoff-artifacts/moosequest/"]`},
			{Name: AttrSQSSend, Example: `sqs_send = ["arn:aws:sqs:us-east-1:123456789012:raxx-handoff-jobs"]`},
			{Name: AttrSessionPolicy, Example: `session_policy = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::my-bucket/*\"}]}"`},
			{Name: AttrDuration, Example: `duration = "1h"`},
		},
	}
	policyAttrs = []spec.AttrSyntax{
		{Name: PolicyRoleARNs, Example: `aws_role_arns = ["arn:aws:iam::123456789012:role/handoff/raxx-handoff-agent"]`},
		{Name: PolicySSMReadRoots, Example: `aws_ssm_read_roots = ["/raxx/"]`},
		{Name: PolicyS3Prefixes, Example: `aws_s3_read_prefixes = ["arn:aws:s3:::raxx-handoff-artifacts/"]`},
		{Name: PolicySQSQueues, Example: `aws_sqs_send_queues = ["arn:aws:sqs:us-east-1:123456789012:raxx-handoff-jobs"]`},
	}
)

// Syntax is the surface's part of the spec language.
func (s *Surface) Syntax() spec.SurfaceSyntax {
	return spec.SurfaceSyntax{
		Spec: blockSyntax,
		Decode: func(b *spec.Body, _ *spec.Handoff) spec.Block {
			return &Block{DefRange: b.DefRange(),
				RoleARN:       b.String(AttrRoleARN, ""),
				SessionPolicy: b.String(AttrSessionPolicy, ""),
				Duration:      b.Duration(AttrDuration, DefaultDuration),
				Region:        b.String(AttrRegion, ""),
				SSMRead:       b.List(AttrSSMRead),
				S3Read:        b.List(AttrS3Read),
				SQSSend:       b.List(AttrSQSSend),
			}
		},
		Policy: policyAttrs,
		DecodePolicy: func(b *spec.Body) spec.Block {
			return &PolicyBlock{RoleARNs: b.List(PolicyRoleARNs), SSMReadRoots: b.List(PolicySSMReadRoots),
				S3Prefixes: b.List(PolicyS3Prefixes), SQSQueues: b.List(PolicySQSQueues)}
		},
	}
}
