package aws

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestCredentialsNeverRenderSecrets(t *testing.T) {
	c := Credentials{AccessKeyID: "ASIAEXAMPLEEXAMPLE01", SecretAccessKey: "s3cr3t/KEY+value0123456789abcdefghijklmn",
		SessionToken: "IQoJb3JpZ2luX2VjTOKENTOKENTOKEN", Expiration: time.Date(2026, 6, 21, 11, 0, 0, 0, time.UTC),
		AssumedRoleARN: "arn:aws:sts::123456789012:assumed-role/r/s"}
	var outs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3v"} {
		outs = append(outs, fmt.Sprintf(verb, c), fmt.Sprintf(verb, &c))
	}
	outs = append(outs, c.String(), fmt.Sprint(c), fmt.Sprintln([]Credentials{c}), fmt.Sprintf("%v", map[string]any{"c": c}))
	var logBuf bytes.Buffer
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("minted", "creds", c)
	slog.New(slog.NewTextHandler(&logBuf, nil)).Info("minted", "creds", c)
	outs = append(outs, logBuf.String())
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	outs = append(outs, string(b))
	for _, o := range outs {
		if strings.Contains(o, c.SecretAccessKey) || strings.Contains(o, c.SessionToken) || strings.Contains(o, "s3cr3t") || strings.Contains(o, "TOKENTOKEN") {
			t.Errorf("secret rendered: %s", o)
		}
	}
	if !strings.Contains(fmt.Sprint(c), "ASIAEXAMPLEEXAMPLE01") || !strings.Contains(fmt.Sprint(c), "[redacted]") {
		t.Errorf("String = %s", c)
	}
}

func TestDocumentJSONIsCompact(t *testing.T) {
	d := Document{Statement: []Statement{
		{Sid: "Read", Effect: Allow, Action: Value{"ssm:GetParameter", "ssm:GetParameters"}, Resource: Value{"arn:aws:ssm:*:*:parameter/raxx/q/*"}},
		{Effect: Deny, Action: Value{"*"}, Resource: Value{"*"}, Condition: Condition{
			"StringEquals": {"aws:SourceIdentity": {"q"}}, "DateLessThan": {"aws:TokenIssueTime": {"2026-06-21T10:00:00Z"}}}},
	}}
	b, err := d.JSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":["ssm:GetParameter","ssm:GetParameters"],"Resource":"arn:aws:ssm:*:*:parameter/raxx/q/*"},` +
		`{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"2026-06-21T10:00:00Z"},"StringEquals":{"aws:SourceIdentity":"q"}}}]}`
	if string(b) != want {
		t.Errorf("JSON:\n got %s\nwant %s", b, want)
	}
	if IAMSize(b) != len(want) || IAMSize([]byte("{ \"a\" :\n 1 }")) != 7 {
		t.Errorf("IAMSize")
	}
	back, err := ParseDocument(b)
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := back.JSON()
	if string(b2) != want {
		t.Errorf("round trip: %s", b2)
	}
	one, err := ParseDocument([]byte(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":["arn:aws:s3:::b/*"],"Condition":{"Bool":{"aws:SecureTransport":true}}}}`))
	if err != nil || len(one.Statement) != 1 || one.Statement[0].Condition["Bool"]["aws:SecureTransport"][0] != "true" {
		t.Errorf("single statement: %+v %v", one, err)
	}
	if PackedSizeEstimate(b, map[string]string{"handoff": "q"}) <= 0 {
		t.Error("packed estimate")
	}
	if SessionPolicyLength([]byte("é")) != 1 {
		t.Error("length counts characters")
	}
}

func TestRevocationSid(t *testing.T) {
	cases := map[string]string{
		"moosequest-queue": "HandoffDenymoosequestZ2Dqueue",
		"abc123":           "HandoffDenyabc123",
		"A.b@c":            "HandoffDenyZ41Z2EbZ40c",
	}
	seen := map[string]string{}
	for in, want := range cases {
		got := RevocationSid(in)
		if got != want {
			t.Errorf("RevocationSid(%q) = %q, want %q", in, got, want)
		}
		for _, r := range got {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
				t.Errorf("%q is not alphanumeric", got)
			}
		}
		seen[got] = in
	}
	// "-" and a literal "Z2D" must not collide.
	if RevocationSid("a-b") == RevocationSid("aZ2Db") {
		t.Error("collision")
	}
}

func TestRoleNameAndEndpoint(t *testing.T) {
	for in, want := range map[string]string{
		"arn:aws:iam::123456789012:role/handoff/raxx-handoff-agent": "raxx-handoff-agent",
		"arn:aws:iam::123456789012:role/simple":                     "simple",
		"arn:aws-cn:iam::123456789012:role/a/b/c":                   "c",
	} {
		if got, err := RoleName(in); err != nil || got != want {
			t.Errorf("RoleName(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "role/x", "arn:aws:iam::1:user/x", "arn:aws:sts::1:assumed-role/r/s", "arn:aws:iam::1:role/"} {
		if _, err := RoleName(bad); err == nil {
			t.Errorf("RoleName(%q) accepted", bad)
		}
	}
	for in, ok := range map[string]bool{
		"http://127.0.0.1:4566": true, "http://localhost:1": true, "https://sts.example.com": true,
		"http://sts.example.com": false, "ftp://x": false, "https://user:pw@x": false, "": false,
	} {
		if _, err := checkEndpoint(in); (err == nil) != ok {
			t.Errorf("checkEndpoint(%q) = %v", in, err)
		}
	}
}

// TestScrubKeepsNoSigningMaterial: AWS's text is cut to its first line (a
// SignatureDoesNotMatch may go on with the canonical request, session
// token included) and access key ids are masked.
func TestScrubKeepsNoSigningMaterial(t *testing.T) {
	const token = "IQoJb3JpZ2luX2VjEXAMPLEsessiontoken0123456789"
	for _, tc := range []struct{ in, want string }{
		{"SignatureDoesNotMatch: The request signature we calculated does not match the signature you provided.\n\n" +
			"The Canonical String for this request should have been\n'POST\n/\n\nhost:ssm.us-east-1.amazonaws.com\nx-amz-security-token:" + token + "\n'",
			"SignatureDoesNotMatch: The request signature we calculated does not match the signature you provided. […]"},
		{"InvalidClientTokenId: The security token included in the request is invalid: AKIAIOSFODNN7EXAMPLE",
			"InvalidClientTokenId: The security token included in the request is invalid: AKIA…"},
		{"AccessDenied: not authorized\r\nASIAIOSFODNN7EXAMPLE " + token, "AccessDenied: not authorized […]"},
	} {
		if got := scrub(tc.in); got != tc.want || strings.Contains(got, token) {
			t.Errorf("scrub(%.60q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
