package awssrv

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/raxx-app/handoff/internal/devserver/devkit"
)

// FuzzHandler sends arbitrary Query actions, SSM targets and bodies, signed
// correctly (so they reach the operations) or not at all. Whatever comes
// in, the answer is a 200, or an error in the protocol's own shape (XML
// ErrorResponse with a Code, or JSON with a __type) with a 4xx status; the
// server never fails with a 5xx of its own, and never panics.
func FuzzHandler(f *testing.F) {
	seeds := []struct {
		target string
		body   string
		signed bool
	}{
		{"", "Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::123456789012:role/handoff/raxx-handoff-agent&RoleSessionName=fz&Tags.member.1.Key=a&Tags.member.1.Value=b&Policy=%7B%7D", true},
		{"", "Action=GetCallerIdentity&Version=2011-06-15", true},
		{"", "Action=PutRolePolicy&Version=2010-05-08&RoleName=raxx-handoff-agent&PolicyName=p&PolicyDocument=%7B%22Statement%22%3A1%7D", true},
		{"", "Action=ListRolePolicies&Version=2010-05-08&RoleName=raxx-handoff-agent&Marker=m9&MaxItems=0", true},
		{"", "Action=CreateRole&Version=2010-05-08&RoleName=x&AssumeRolePolicyDocument=%7B%7D&Tags.member.1.Key=aws%3Ax", true},
		{"AmazonSSM.GetParametersByPath", `{"Path":"/raxx","Recursive":true,"MaxResults":11,"NextToken":"x"}`, true},
		{"AmazonSSM.GetParameters", `{"Names":[]}`, true},
		{"AmazonSSM.GetParameter", `{"Name":7}`, false},
		{"AmazonSSM.GetParameter", `[`, true},
	}
	for _, s := range seeds {
		f.Add(s.target, []byte(s.body), s.signed)
	}
	kit := devkit.NewKit()
	fx := DefaultFixture()
	fx.Settings.NoThrottling = true
	srv, err := New(kit, fx)
	if err != nil {
		f.Fatal(err)
	}
	id, secret := srv.Credentials(DefaultAdminName)
	signer := v4.NewSigner()
	f.Fuzz(func(t *testing.T, target string, body []byte, signed bool) {
		if strings.ContainsAny(target, "\r\n\x00") {
			return
		}
		req := httptest.NewRequest("POST", "http://aws.test/", bytes.NewReader(body))
		service := "sts"
		if target != "" {
			req.Header.Set("X-Amz-Target", target)
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			service = "ssm"
		} else {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if strings.Contains(string(body), "Version=2010-05-08") {
				service = "iam"
			}
		}
		if signed {
			sum := sha256.Sum256(body)
			_ = signer.SignHTTP(context.Background(), aws.Credentials{AccessKeyID: id, SecretAccessKey: secret}, req, hex.EncodeToString(sum[:]), service, "us-east-1", kit.Clock.Now())
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		res := rec.Result()
		raw := rec.Body.Bytes()
		if res.StatusCode == http.StatusOK {
			return
		}
		if res.StatusCode >= 500 {
			t.Fatalf("%s %q: %d %s", target, body, res.StatusCode, raw)
		}
		if target != "" {
			var m map[string]any
			if json.Unmarshal(raw, &m) != nil || m["__type"] == nil {
				t.Fatalf("%s: error is not AWS JSON: %s", target, raw)
			}
			return
		}
		var er queryErrorBody
		if xml.Unmarshal(raw, &er) != nil || er.Error.Code == "" || er.RequestID == "" {
			t.Fatalf("query error is not an ErrorResponse: %s", raw)
		}
	})
}
