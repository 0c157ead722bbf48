package awssrv

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// rawReq is a request built by hand and signed with the SDK's signer, so a
// test can break one part of it at a time.
type rawReq struct {
	service, region string
	body            string
	target          string // X-Amz-Target for SSM
	id, secret      string
	token           string
	at              time.Time
	tamper          func(*http.Request)
}

func (e *testEnv) send(rr rawReq) (int, string, string) {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.ts.URL+"/", strings.NewReader(rr.body))
	if rr.target != "" {
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", rr.target)
	} else {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	}
	if rr.at.IsZero() {
		rr.at = e.kit.Clock.Now()
	}
	if rr.id != "" {
		sum := sha256.Sum256([]byte(rr.body))
		creds := aws.Credentials{AccessKeyID: rr.id, SecretAccessKey: rr.secret, SessionToken: rr.token}
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), rr.service, rr.region, rr.at); err != nil {
			e.t.Fatal(err)
		}
	}
	if rr.tamper != nil {
		rr.tamper(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var code, msg string
	if rr.target != "" {
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		code, _ = m["__type"].(string)
		msg, _ = m["message"].(string)
	} else {
		var er queryErrorBody
		if xml.Unmarshal(b, &er) == nil {
			code, msg = er.Error.Code, er.Error.Message
		}
	}
	if code == "" {
		msg = string(b)
	}
	return resp.StatusCode, code, msg
}

func TestSigV4Failures(t *testing.T) {
	e := newTestEnv(t)
	id, secret := e.srv.ProvisionerCredentials()
	sess, out := e.assume(DefaultAgentRole, "sig", sessionPolicy("moosequest-queue"))
	_ = sess
	sid, ssecret, stoken := *out.Credentials.AccessKeyId, *out.Credentials.SecretAccessKey, *out.Credentials.SessionToken
	gci := "Action=GetCallerIdentity&Version=2011-06-15"
	getRole := "Action=GetRole&Version=2010-05-08&RoleName=" + DefaultAgentRole
	ssmBody := `{"Name":"/raxx/moosequest-queue/APPLE_IAP_KEY_ID"}`
	const ssmGet = "AmazonSSM.GetParameter"
	now := e.kit.Clock.Now()
	cases := []struct {
		name   string
		req    rawReq
		status int
		code   string
		msg    string
	}{
		{"sts ok", rawReq{service: "sts", region: "us-east-1", body: gci, id: id, secret: secret}, 200, "", ""},
		{"ssm ok with session", rawReq{service: "ssm", region: "us-east-1", body: ssmBody, target: ssmGet, id: sid, secret: ssecret, token: stoken}, 200, "", ""},
		{"no auth (query)", rawReq{body: gci}, 403, "MissingAuthenticationToken", "Request is missing Authentication Token"},
		{"no auth (json)", rawReq{body: ssmBody, target: ssmGet}, 400, "com.amazon.coral.service#MissingAuthenticationTokenException", ""},
		{"unknown key (query)", rawReq{service: "sts", region: "us-east-1", body: gci, id: "AKIAUNKNOWNUNKNOWN00", secret: secret}, 403, "InvalidClientTokenId", "The security token included in the request is invalid."},
		{"unknown key (json)", rawReq{service: "ssm", region: "us-east-1", body: ssmBody, target: ssmGet, id: "AKIAUNKNOWNUNKNOWN00", secret: secret}, 400, "com.amazon.coral.service#UnrecognizedClientException", ""},
		{"wrong secret (query)", rawReq{service: "sts", region: "us-east-1", body: gci, id: id, secret: "nope"}, 403, "SignatureDoesNotMatch", signatureMismatch},
		{"wrong secret (json)", rawReq{service: "ssm", region: "us-east-1", body: ssmBody, target: ssmGet, id: id, secret: "nope"}, 400, "com.amazon.coral.service#InvalidSignatureException", signatureMismatch},
		{"tampered body", rawReq{service: "sts", region: "us-east-1", body: gci, id: id, secret: secret, tamper: func(r *http.Request) {
			r.Body = io.NopCloser(strings.NewReader(gci + "&Foo=1"))
			r.ContentLength = int64(len(gci) + 6)
		}}, 403, "SignatureDoesNotMatch", ""},
		{"tampered signed header", rawReq{service: "sts", region: "us-east-1", body: gci, id: id, secret: secret, tamper: func(r *http.Request) {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}}, 403, "SignatureDoesNotMatch", signatureMismatch},
		{"session token missing", rawReq{service: "sts", region: "us-east-1", body: gci, id: sid, secret: ssecret}, 403, "InvalidClientTokenId", ""},
		{"session token of another session", rawReq{service: "sts", region: "us-east-1", body: gci, id: sid, secret: ssecret, token: stoken + "x"}, 403, "InvalidClientTokenId", ""},
		{"skewed past", rawReq{service: "sts", region: "us-east-1", body: gci, id: id, secret: secret, at: now.Add(-6 * time.Minute)}, 403, "SignatureDoesNotMatch", "Signature expired: "},
		{"skewed future (json)", rawReq{service: "ssm", region: "us-east-1", body: ssmBody, target: ssmGet, id: id, secret: secret, at: now.Add(6 * time.Minute)}, 400, "com.amazon.coral.service#InvalidSignatureException", "Signature not yet current: "},
		{"wrong service scope", rawReq{service: "iam", region: "us-east-1", body: gci, id: id, secret: secret, tamper: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/iam/", "/sts/", 1))
		}}, 403, "SignatureDoesNotMatch", ""},
		{"iam outside us-east-1", rawReq{service: "iam", region: "eu-west-1", body: getRole, id: id, secret: secret}, 403, "SignatureDoesNotMatch", "Credential should be scoped to a valid region, not 'eu-west-1'. "},
		{"other algorithm", rawReq{service: "sts", region: "us-east-1", body: gci, id: id, secret: secret, tamper: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512", 1))
		}}, 400, "IncompleteSignature", "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512'"},
		{"no signature part", rawReq{service: "sts", region: "us-east-1", body: gci, id: id, secret: secret, tamper: func(r *http.Request) {
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", a[:strings.Index(a, ", Signature=")])
		}}, 400, "IncompleteSignature", "Authorization header requires 'Signature' parameter."},
		{"no date", rawReq{service: "sts", region: "us-east-1", body: gci, id: id, secret: secret, tamper: func(r *http.Request) {
			r.Header.Del("X-Amz-Date")
		}}, 400, "IncompleteSignature", "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."},
		{"unknown action", rawReq{service: "sts", region: "us-east-1", body: "Action=GetSessionToken&Version=2011-06-15", id: id, secret: secret}, 400, "InvalidAction", "Could not find operation GetSessionToken for version 2011-06-15"},
		{"unknown target", rawReq{service: "ssm", region: "us-east-1", body: "{}", target: "AmazonSSM.PutParameter", id: id, secret: secret}, 400, "com.amazon.coral.service#UnknownOperationException", ""},
		{"bad json", rawReq{service: "ssm", region: "us-east-1", body: "{", target: ssmGet, id: id, secret: secret}, 400, "com.amazon.coral.service#SerializationException", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, code, body := e.send(c.req)
			if status != c.status || code != c.code || !strings.Contains(body, c.msg) {
				t.Errorf("got %d %q %s; want %d %q containing %q", status, code, body, c.status, c.code, c.msg)
			}
			for _, s := range []string{secret, ssecret, stoken} {
				if c.code != "" && strings.Contains(body, s) {
					t.Errorf("error body holds a secret")
				}
			}
		})
	}
	// An expired session: ExpiredToken even though the signature is fresh.
	e.kit.Clock.Advance(time.Hour + time.Second)
	status, code, _ := e.send(rawReq{service: "sts", region: "us-east-1", body: gci, id: sid, secret: ssecret, token: stoken})
	if status != 403 || code != "ExpiredToken" {
		t.Errorf("expired session: %d %s", status, code)
	}
	status, code, _ = e.send(rawReq{service: "ssm", region: "us-east-1", body: ssmBody, target: ssmGet, id: sid, secret: ssecret, token: stoken})
	if status != 400 || code != "com.amazon.coral.service#ExpiredTokenException" {
		t.Errorf("expired session (ssm): %d %s", status, code)
	}
}
