package aws_test

import (
	"testing"

	"github.com/raxx-app/handoff/internal/devserver/awssrv"
	"github.com/raxx-app/handoff/internal/devserver/awssrv/iameval"
	awssurface "github.com/raxx-app/handoff/internal/surfaces/aws"
)

// TestS3AndSQSGrantsThroughTheEvaluator: the local server serves no S3 or
// SQS, so the compiled S3 and SQS statements are put, with the agent
// role's own policy, through the server's IAM evaluator (package iameval,
// which shares no code with the compiler): each allows its prefix or
// queue and refuses one step beyond it.
func TestS3AndSQSGrantsThroughTheEvaluator(t *testing.T) {
	fx := awssrv.DefaultFixture()
	var rolePolicy string
	for _, r := range fx.Roles {
		if r.Name == awssrv.DefaultAgentRole {
			rolePolicy = r.Policies["permissions"]
		}
	}
	agent, err := iameval.Parse(rolePolicy, iameval.Identity)
	if err != nil {
		t.Fatal(err)
	}
	// A role wider than the fixture's: the session policy alone narrows.
	broad, err := iameval.Parse(`{"Version":"2012-10-17","Statement":[`+
		`{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject","s3:ListBucket"],"Resource":["arn:aws:s3:::raxx-handoff-artifacts","arn:aws:s3:::raxx-handoff-artifacts/*"]},`+
		`{"Effect":"Allow","Action":"sqs:*","Resource":"arn:aws:sqs:us-east-1:123456789012:*"}]}`, iameval.Identity)
	if err != nil {
		t.Fatal(err)
	}
	compiled, err := awssurface.Compile(awssurface.Grant{RoleARN: agentRole,
		S3Read:  []string{"arn:aws:s3:::raxx-handoff-artifacts/moosequest/"},
		SQSSend: []string{jobsQueue}})
	if err != nil {
		t.Fatal(err)
	}
	session, err := iameval.Parse(compiled, iameval.Session)
	if err != nil {
		t.Fatalf("the server's parser refuses the compiled policy: %v", err)
	}
	bucket := "arn:aws:s3:::raxx-handoff-artifacts"
	for _, tc := range []struct {
		action, resource, prefix string
		allowed                  bool
		// agent: what the fixture's agent role allows with the session
		// policy (it grants no listing: a session policy never widens).
		agent bool
	}{
		{"s3:GetObject", bucket + "/moosequest/report.csv", "", true, true},
		{"s3:GetObject", bucket + "/moosequest/2026/06/report.csv", "", true, true},
		{"s3:GetObject", bucket + "/trademaster/report.csv", "", false, false},
		{"s3:GetObject", bucket + "/moosequest-old/report.csv", "", false, false},
		{"s3:PutObject", bucket + "/moosequest/report.csv", "", false, false},
		{"s3:ListBucket", bucket, "moosequest/", true, false},
		{"s3:ListBucket", bucket, "moosequest/2026/", true, false},
		{"s3:ListBucket", bucket, "trademaster/", false, false},
		{"s3:ListBucket", bucket, "", false, false},
		{"sqs:SendMessage", jobsQueue, "", true, true},
		{"sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:raxx-handoff-jobs-dlq", "", false, false},
		{"sqs:ReceiveMessage", jobsQueue, "", false, false},
		{"sqs:DeleteQueue", jobsQueue, "", false, false},
	} {
		ctx := &iameval.Context{}
		if tc.prefix != "" {
			ctx.Set("s3:prefix", tc.prefix)
		}
		for _, r := range []struct {
			name string
			role *iameval.Policy
			want bool
		}{{"broad role", broad, tc.allowed}, {"agent role", agent, tc.agent}} {
			d := iameval.Decide(iameval.Input{Identity: []*iameval.Policy{r.role}, Session: session},
				&iameval.Request{Action: tc.action, Resource: tc.resource, Context: ctx})
			if d.Allowed != r.want {
				t.Errorf("%s: %s on %s (prefix %q): allowed %t, want %t (%+v)", r.name, tc.action, tc.resource, tc.prefix, d.Allowed, r.want, d)
			}
		}
	}
}
