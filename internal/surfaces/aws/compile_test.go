package aws_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	awsprov "github.com/raxx-app/handoff/internal/provider/aws"
	awssurface "github.com/raxx-app/handoff/internal/surfaces/aws"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/compiled")

// compileCases are grants whose compiled session policies are pinned in
// testdata/compiled/<name>.json (indented there for reading; compared
// compact).
var compileCases = []struct {
	name string
	g    awssurface.Grant
}{
	{"ssm-read", awssurface.Grant{RoleARN: agentRole, Region: "us-east-1", SSMRead: []string{"/raxx/moosequest-queue/"}}},
	{"ssm-two-paths", awssurface.Grant{RoleARN: agentRole, Region: "eu-west-1",
		SSMRead: []string{"/raxx/trademaster-api", "/raxx/moosequest-queue/", "/raxx/moosequest-queue"}}},
	{"s3-prefixes-and-bucket", awssurface.Grant{RoleARN: agentRole, S3Read: []string{
		"arn:aws:s3:::raxx-handoff-artifacts/moosequest/", "arn:aws:s3:::raxx-handoff-artifacts/shared/reports/", "arn:aws:s3:::raxx-public/"}}},
	{"sqs-send", awssurface.Grant{RoleARN: agentRole, SQSSend: []string{jobsQueue}}},
	{"gov-partition", awssurface.Grant{RoleARN: "arn:aws-us-gov:iam::123456789012:role/handoff-deploy", Region: "us-gov-west-1",
		SSMRead: []string{"/raxx/x/"}}},
	{"typed-and-raw", awssurface.Grant{RoleARN: agentRole, Region: "us-east-1", SSMRead: []string{"/raxx/moosequest-queue/"},
		SQSSend: []string{jobsQueue},
		SessionPolicy: `{"Version":"2012-10-17","Statement":[{"Sid":"DenyLive","Effect":"Deny","Action":["ssm:GetParameter"],` +
			`"Resource":"arn:aws:ssm:*:*:parameter/raxx/moosequest-queue/LIVE_*"},` +
			`{"Effect":"Allow","Action":"kms:Decrypt","Resource":"arn:aws:kms:us-east-1:123456789012:key/1234",` +
			`"Condition":{"StringEquals":{"kms:ViaService":"ssm.us-east-1.amazonaws.com"}}}]}`}},
	{"raw-only", awssurface.Grant{RoleARN: agentRole,
		SessionPolicy: "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": {\"Effect\": \"Allow\", \"Action\": [\"s3:GetObject\"], \"Resource\": \"arn:aws:s3:::b/*\"}\n}"}},
}

// TestCompileGolden: each grant compiles to the pinned document, and the
// same grant written in another order compiles to the same bytes.
func TestCompileGolden(t *testing.T) {
	for _, tc := range compileCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := awssurface.Compile(tc.g)
			if err != nil {
				t.Fatal(err)
			}
			var indented bytes.Buffer
			if err := json.Indent(&indented, []byte(got), "", "  "); err != nil {
				t.Fatal(err)
			}
			indented.WriteByte('\n')
			file := filepath.Join("testdata", "compiled", tc.name+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(file, indented.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			var compact bytes.Buffer
			if err := json.Compact(&compact, want); err != nil {
				t.Fatal(err)
			}
			if got != compact.String() {
				t.Errorf("compiled:\n%s\nwant (%s):\n%s", indented.String(), file, want)
			}
			// Order does not matter.
			r := tc.g
			r.SSMRead, r.S3Read, r.SQSSend = reversed(r.SSMRead), reversed(r.S3Read), reversed(r.SQSSend)
			if again, _ := awssurface.Compile(r); again != got {
				t.Errorf("reordered grant compiles otherwise:\n%s\n%s", again, got)
			}
			// What STS gets is a policy its length limit and IAM's parser
			// take, with no white space.
			if n := awsprov.SessionPolicyLength([]byte(got)); n > awsprov.MaxSessionPolicyLength || strings.ContainsAny(got, "\n\t") {
				t.Errorf("compiled policy of %d characters, or with white space", n)
			}
			if _, err := awsprov.ParseDocument([]byte(got)); err != nil {
				t.Error(err)
			}
			// The plan's attribute: one compact statement per element.
			st := awssurface.Statements(got)
			doc, _ := awsprov.ParseDocument([]byte(got))
			if len(st) != len(doc.Statement) || slices.ContainsFunc(st, func(s string) bool { return strings.Contains(s, ", ") }) {
				t.Errorf("statements %q", st)
			}
		})
	}
}

func reversed(l []string) []string {
	out := slices.Clone(l)
	slices.Reverse(out)
	return out
}

// TestCompileRefuses: what the policy refuses does not compile either.
func TestCompileRefuses(t *testing.T) {
	for _, g := range []awssurface.Grant{
		{RoleARN: "not-an-arn", SQSSend: []string{jobsQueue}},
		{RoleARN: agentRole, SSMRead: []string{"/raxx/x/"}}, // no region
		{RoleARN: agentRole, Region: "us-east-1", SSMRead: []string{"/raxx/*"}},
		{RoleARN: agentRole, S3Read: []string{"arn:aws:s3:::b/p"}},
		{RoleARN: agentRole, SQSSend: []string{"arn:aws:sqs:*:123456789012:q"}},
		{RoleARN: agentRole},
		{RoleARN: agentRole, SQSSend: []string{jobsQueue}, SessionPolicy: `{"Statement":{"Sid":"HandoffSQSSend","Effect":"Deny","Action":"s3:GetObject","Resource":"*"}}`},
		{RoleARN: agentRole, SessionPolicy: `{`},
	} {
		if got, err := awssurface.Compile(g); err == nil {
			t.Errorf("Compile(%+v) = %s", g, got)
		}
	}
}

// TestDesiredAndRecordedAgree: the grant a spec asks for and the grant the
// record of its session says are the same (attributes and expiry), and a
// refresh plans the recorded grant.
func TestDesiredAndRecordedAgree(t *testing.T) {
	e := newEnv(t)
	h := e.handoff("moosequest-queue", "8h", `
    role_arn = "`+e.role()+`"
    region   = "us-east-1"
    ssm_read = ["/raxx/moosequest-queue/"]
    sqs_send = ["`+jobsQueue+`"]
    duration = "45m"`)
	s := e.surface()
	now := e.now()
	tgt := targetOf(h, now, now.Add(8*time.Hour))
	want := s.Desired(tgt)
	res := e.create(h)
	rec := recordOf(t, res)
	got := s.Recorded(rec, nil)
	if !mapsEqual(got.Attributes, want.Attributes) || !got.ExpiresAt.Equal(want.ExpiresAt) {
		t.Fatalf("recorded %v %s\ndesired  %v %s", got.Attributes, got.ExpiresAt, want.Attributes, want.ExpiresAt)
	}
	if want.Attributes["duration"] != "45m" || want.Attributes["ssm_read"] != "/raxx/moosequest-queue/" ||
		!strings.Contains(want.Attributes["compiled_policy"], `"Sid":"HandoffSSMRead"`) || !want.ExpiresAt.Equal(now.Add(45*time.Minute)) {
		t.Errorf("desired %v %s", want.Attributes, want.ExpiresAt)
	}
	// A refresh (the record given) plans the recorded grant, an hour on.
	later := now.Add(40 * time.Minute)
	tgt = targetOf(h, later, now.Add(8*time.Hour))
	tgt.Record = rec
	if r := s.Desired(tgt); !mapsEqual(r.Attributes, want.Attributes) || !r.ExpiresAt.Equal(later.Add(45*time.Minute)) {
		t.Errorf("refresh plans %v %s", r.Attributes, r.ExpiresAt)
	}
	// The handoff's end cuts the session, never under 15 minutes.
	if r := s.Desired(targetOf(h, now, now.Add(20*time.Minute))); !r.ExpiresAt.Equal(now.Add(20 * time.Minute)) {
		t.Errorf("session in a handoff ending in 20m ends at %s", r.ExpiresAt)
	}
	if r := s.Desired(targetOf(h, now, now.Add(5*time.Minute))); !r.ExpiresAt.Equal(now.Add(15 * time.Minute)) {
		t.Errorf("session in a handoff ending in 5m ends at %s", r.ExpiresAt)
	}
	if at, noun, early := s.Expiry(rec); !at.Equal(want.ExpiresAt) || noun != "session" || !early {
		t.Errorf("Expiry = %s %s %t", at, noun, early)
	}
	if s.Desired(targetOf(e.handoffWithout("other-task"), now, now.Add(time.Hour))) != nil {
		t.Error("a spec without an aws block desires a session")
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
