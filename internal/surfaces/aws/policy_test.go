package aws_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/raxx-app/handoff/internal/policy"
	"github.com/raxx-app/handoff/internal/spec"
	_ "github.com/raxx-app/handoff/internal/surfaces"
)

// The policy of the tests' handoff.hcl: line 6 onwards.
const (
	agentRole = "arn:aws:iam::123456789012:role/handoff/raxx-handoff-agent"
	jobsQueue = "arn:aws:sqs:us-east-1:123456789012:raxx-handoff-jobs"
	artifacts = "arn:aws:s3:::raxx-handoff-artifacts/moosequest/"
)

// configHCL is handoff.hcl with policy lines (each "  name = value").
func configHCL(policyLines ...string) string {
	if policyLines == nil {
		policyLines = []string{
			`  aws_role_arns        = ["` + agentRole + `"]`,
			`  aws_ssm_read_roots   = ["/raxx/"]`,
			`  aws_s3_read_prefixes = ["` + artifacts + `"]`,
			`  aws_sqs_send_queues  = ["` + jobsQueue + `"]`,
		}
	}
	return "infisical {\n  environment  = \"staging\"\n  handoff_root = \"/MooseQuest/handoffs\"\n}\npolicy {\n" +
		strings.Join(policyLines, "\n") + "\n}\n"
}

// specHCL is the spec of moosequest-queue whose aws block holds lines,
// from line 6 of the file ("    name = value": values start at column
// 8 + len(name)).
func specHCL(ttl string, lines ...string) string {
	return "handoff \"moosequest-queue\" {\n  card        = 1\n  ttl         = \"" + ttl + "\"\n  approved_by = \"ops\"\n  aws {\n" +
		strings.Join(lines, "\n") + "\n  }\n}\n"
}

// check loads a repository and runs the policy.
func check(t *testing.T, config, specSrc string) hcl.Diagnostics {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "specs"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, src := range map[string]string{"handoff.hcl": config, "specs/moosequest-queue.hcl": specSrc} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	repo, diags := spec.LoadDir(dir)
	if diags.HasErrors() {
		t.Fatalf("parse: %v", diags)
	}
	out := policy.Check(repo)
	for _, d := range out {
		if d.Subject != nil {
			d.Subject.Filename = strings.TrimPrefix(d.Subject.Filename, dir+string(filepath.Separator))
		}
		d.Detail = strings.ReplaceAll(d.Detail, dir+string(filepath.Separator), "")
	}
	return out
}

func where(d *hcl.Diagnostic) string {
	if d.Subject == nil {
		return d.Summary
	}
	return fmt.Sprintf("%s: %s", spec.RangeString(*d.Subject), d.Summary)
}

// bigRaw is a raw session policy of about n characters that deflates
// poorly (random resource names), to reach STS's packed size before its
// plaintext limit.
func bigRaw(n int) string {
	r := rand.New(rand.NewPCG(1, 2))
	const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#'()*+,-./:;=?@[]^_|~"
	var res []string
	size := 0
	for size < n-120 {
		b := make([]byte, 60)
		for i := range b {
			b[i] = chars[r.IntN(len(chars))]
		}
		res = append(res, `"`+string(b)+`"`)
		size += len(b) + 3
	}
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":[` + strings.Join(res, ",") + `]}]}`
}

// TestPolicy: each bad aws block or policy entry is reported at its
// file:line:col with the rule it breaks and what to write instead.
func TestPolicy(t *testing.T) {
	role := `    role_arn = "` + agentRole + `"`
	region := `    region = "us-east-1"`
	manyPaths := make([]string, 40)
	for i := range manyPaths {
		manyPaths[i] = fmt.Sprintf(`"/raxx/a-rather-long-parameter-hierarchy-for-task-%02d/"`, i)
	}
	tests := []struct {
		name   string
		config string // "" is configHCL()
		ttl    string // "" is 8h
		lines  []string
		want   []string // "where: summary", in order
		detail string   // a part of the first diagnostic's detail
	}{
		{name: "typed grants", lines: []string{role, region, `    ssm_read = ["/raxx/moosequest-queue/"]`,
			`    s3_read = ["` + artifacts + `"]`, `    sqs_send = ["` + jobsQueue + `"]`}},
		{name: "raw policy only", lines: []string{role,
			`    session_policy = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/*\"}]}"`}},
		{name: "role not listed", lines: []string{`    role_arn = "arn:aws:iam::123456789012:role/admin"`, region, `    ssm_read = ["/raxx/x/"]`},
			want:   []string{"specs/moosequest-queue.hcl:6:16: AWS role not allowed by the policy"},
			detail: `allows only "` + agentRole + `" (aws_role_arns at handoff.hcl:6:26)`},
		{name: "no role listed", config: configHCL(`  aws_ssm_read_roots = ["/raxx/"]`), lines: []string{role, region, `    ssm_read = ["/raxx/x/"]`},
			want:   []string{"specs/moosequest-queue.hcl:6:16: AWS role not allowed by the policy"},
			detail: `the policy lists no role in aws_role_arns, so no handoff may assume one`},
		{name: "not a role ARN", lines: []string{`    role_arn = "arn:aws:iam::123:role/x"`, region, `    ssm_read = ["/raxx/x/"]`},
			want: []string{"specs/moosequest-queue.hcl:6:16: Invalid AWS role ARN"}, detail: `write an IAM role ARN`},
		{name: "SSM path outside the roots", lines: []string{role, region, `    ssm_read = ["/raxx/x/", "/prod/payments/"]`},
			want:   []string{"specs/moosequest-queue.hcl:8:29: SSM path outside the allowed roots"},
			detail: `"/prod/payments/" is outside what the policy allows: "/raxx/" (aws_ssm_read_roots at handoff.hcl:7:26)`},
		{name: "SSM root is a prefix of a name, not a folder", lines: []string{role, region, `    ssm_read = ["/raxx-prod/"]`},
			want: []string{"specs/moosequest-queue.hcl:8:17: SSM path outside the allowed roots"}},
		{name: "SSM roots empty", config: configHCL(`  aws_role_arns = ["` + agentRole + `"]`), lines: []string{role, region, `    ssm_read = ["/raxx/x/"]`},
			want:   []string{"specs/moosequest-queue.hcl:8:17: SSM path outside the allowed roots"},
			detail: `the policy's aws_ssm_read_roots is empty, so no handoff may read SSM parameters`},
		{name: "SSM wildcard", lines: []string{role, region, `    ssm_read = ["/raxx/*"]`},
			want: []string{"specs/moosequest-queue.hcl:8:17: Invalid SSM parameter path"}, detail: `wildcards and .. are not allowed (H1)`},
		{name: "SSM root of everything", lines: []string{role, region, `    ssm_read = ["/"]`},
			want: []string{"specs/moosequest-queue.hcl:8:17: Invalid SSM parameter path"}},
		{name: "SSM dot-dot", lines: []string{role, region, `    ssm_read = ["/raxx/../prod/"]`},
			want: []string{"specs/moosequest-queue.hcl:8:17: Invalid SSM parameter path"}},
		{name: "SSM without region", lines: []string{role, `    ssm_read = ["/raxx/x/"]`},
			want: []string{"specs/moosequest-queue.hcl:7:16: SSM paths without a region"}, detail: `such as region = "us-east-1"`},
		{name: "empty SSM list", lines: []string{role, region, `    ssm_read = []`},
			want: []string{"specs/moosequest-queue.hcl:8:16: Empty aws ssm_read"}},
		{name: "bad region", lines: []string{role, `    region = "US East"`, `    ssm_read = ["/raxx/x/"]`},
			want: []string{"specs/moosequest-queue.hcl:7:14: Invalid AWS region"}},
		{name: "S3 outside the prefixes", lines: []string{role, `    s3_read = ["arn:aws:s3:::raxx-handoff-artifacts/trademaster/"]`},
			want:   []string{"specs/moosequest-queue.hcl:7:16: S3 prefix outside the allowed prefixes"},
			detail: `(aws_s3_read_prefixes at handoff.hcl:8:26)`},
		{name: "S3 other bucket", lines: []string{role, `    s3_read = ["arn:aws:s3:::other-bucket/moosequest/"]`},
			want: []string{"specs/moosequest-queue.hcl:7:16: S3 prefix outside the allowed prefixes"}},
		{name: "S3 without a trailing slash", lines: []string{role, `    s3_read = ["arn:aws:s3:::raxx-handoff-artifacts/moosequest"]`},
			want: []string{"specs/moosequest-queue.hcl:7:16: Invalid S3 prefix"}, detail: `a key prefix ending in "/"`},
		{name: "S3 wildcard", lines: []string{role, `    s3_read = ["arn:aws:s3:::raxx-handoff-artifacts/*/"]`},
			want: []string{"specs/moosequest-queue.hcl:7:16: Invalid S3 prefix"}},
		{name: "SQS queue not listed", lines: []string{role, `    sqs_send = ["arn:aws:sqs:us-east-1:123456789012:other"]`},
			want: []string{"specs/moosequest-queue.hcl:7:17: SQS queue not allowed by the policy"}},
		{name: "SQS wildcard", lines: []string{role, `    sqs_send = ["arn:aws:sqs:us-east-1:123456789012:*"]`},
			want: []string{"specs/moosequest-queue.hcl:7:17: Invalid SQS queue ARN"}},
		{name: "grants nothing", lines: []string{role},
			want: []string{"specs/moosequest-queue.hcl:5:3: AWS block grants nothing"}, detail: `such as ssm_read = ["/raxx/moosequest-queue/"]`},
		{name: "blanket raw policy", lines: []string{role,
			`    session_policy = "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"}]}"`},
			want: []string{"specs/moosequest-queue.hcl:7:22: Blanket AWS session policy"}, detail: `Action "s3:*" grants every action of a service (H1)`},
		{name: "NotAction allow", lines: []string{role,
			`    session_policy = "{\"Statement\":[{\"Effect\":\"Allow\",\"NotAction\":\"iam:*\",\"Resource\":\"*\"}]}"`},
			want: []string{"specs/moosequest-queue.hcl:7:22: Blanket AWS session policy"}},
		{name: "raw policy with a Principal", lines: []string{role,
			`    session_policy = "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":\"*\"}]}"`},
			want: []string{"specs/moosequest-queue.hcl:7:22: Invalid AWS session policy"}, detail: `Statement 1 has "Principal"`},
		{name: "raw policy not JSON", lines: []string{role, `    session_policy = "allow everything"`},
			want: []string{"specs/moosequest-queue.hcl:7:22: Invalid AWS session policy"}},
		{name: "raw policy reuses a handoff Sid", lines: []string{role, region, `    ssm_read = ["/raxx/x/"]`,
			`    session_policy = "{\"Statement\":[{\"Sid\":\"HandoffSSMRead\",\"Effect\":\"Deny\",\"Action\":\"s3:GetObject\",\"Resource\":\"*\"}]}"`},
			want: []string{"specs/moosequest-queue.hcl:9:22: AWS session policy reuses a handoff Sid"}},
		{name: "compiled policy over 2048 characters", lines: []string{role, region, `    ssm_read = [` + strings.Join(manyPaths, ", ") + `]`},
			want: []string{"specs/moosequest-queue.hcl:5:3: AWS session policy too large"}, detail: `STS refuses more than 2048`},
		{name: "raw policy over STS's packed size", lines: []string{role, `    session_policy = ` + fmt.Sprintf("%q", bigRaw(1900))},
			want: []string{"specs/moosequest-queue.hcl:7:22: AWS session policy over STS's packed size"}, detail: `(PackedPolicyTooLarge)`},
		{name: "two hours", lines: []string{role, region, `    ssm_read = ["/raxx/x/"]`, `    duration = "2h"`},
			want: []string{"specs/moosequest-queue.hcl:9:16: AWS session longer than 1h"}},
		{name: "five minutes", lines: []string{role, region, `    ssm_read = ["/raxx/x/"]`, `    duration = "5m"`},
			want: []string{"specs/moosequest-queue.hcl:9:16: AWS session shorter than 15m"}},
		{name: "default duration past a short ttl", ttl: "30m", lines: []string{role, region, `    ssm_read = ["/raxx/x/"]`},
			want: []string{"specs/moosequest-queue.hcl:5:3: aws duration longer than the handoff's ttl"}},
		{name: "policy entries", config: configHCL(
			`  aws_role_arns        = ["arn:aws:iam::*:role/x", "`+agentRole+`"]`,
			`  aws_ssm_read_roots   = ["/"]`,
			`  aws_s3_read_prefixes = ["arn:aws:s3:::*"]`,
			`  aws_sqs_send_queues  = ["arn:aws:sqs:*:123456789012:q"]`),
			lines: []string{role, `    s3_read = ["` + artifacts + `"]`},
			want: []string{
				"handoff.hcl:6:27: Invalid AWS role ARN in aws_role_arns",
				"handoff.hcl:7:27: Invalid SSM root in aws_ssm_read_roots",
				"handoff.hcl:8:27: Invalid S3 prefix in aws_s3_read_prefixes",
				"handoff.hcl:9:27: Invalid SQS queue ARN in aws_sqs_send_queues",
				"specs/moosequest-queue.hcl:7:16: S3 prefix outside the allowed prefixes",
			}, detail: `wildcards are not allowed (H1)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, ttl := tt.config, tt.ttl
			if cfg == "" {
				cfg = configHCL()
			}
			if ttl == "" {
				ttl = "8h"
			}
			diags := check(t, cfg, specHCL(ttl, tt.lines...))
			var got []string
			for _, d := range diags {
				got = append(got, where(d))
				if d.Detail == "" {
					t.Errorf("%s has no detail", where(d))
				}
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("diagnostics:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if tt.detail != "" && !strings.Contains(diags[0].Detail, tt.detail) {
				t.Errorf("detail %q lacks %q", diags[0].Detail, tt.detail)
			}
		})
	}
}
