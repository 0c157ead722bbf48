package botocore

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The embedded copies must stay identical to the shared originals whenever
// those are beside the checkout.
func TestEmbeddedModelsMatchShared(t *testing.T) {
	for _, s := range Services {
		shared := filepath.Join("..", "..", "..", "..", "..", "shared", "contracts", "aws-"+s+".json")
		want, err := os.ReadFile(shared)
		if os.IsNotExist(err) {
			t.Skipf("%s not beside the checkout", shared)
		}
		if err != nil {
			t.Fatal(err)
		}
		got, err := Document(s)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("embedded %s model differs from %s: copy it again", s, shared)
		}
	}
}

func TestModelsLoad(t *testing.T) {
	want := map[string][]string{
		"sts": {"AssumeRole", "GetCallerIdentity"},
		"iam": {"CreateRole", "DeleteRole", "DeleteRolePolicy", "GetRole", "GetRolePolicy", "ListRolePolicies", "PutRolePolicy", "TagRole"},
		"ssm": {"GetParameter", "GetParameters", "GetParametersByPath"},
	}
	for svc, ops := range want {
		m, err := Load(svc)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(m.Operations(), ","); got != strings.Join(ops, ",") {
			t.Errorf("%s operations = %s", svc, got)
		}
	}
	iam, _ := Load("iam")
	if got := iam.ErrorCodes("PutRolePolicy"); got["LimitExceeded"] != 409 || got["NoSuchEntity"] != 404 {
		t.Errorf("PutRolePolicy errors = %v", got)
	}
	ssm, _ := Load("ssm")
	if got := ssm.ErrorCodes("GetParameter"); got["ParameterNotFound"] != 400 || got["InternalServerError"] != 500 {
		t.Errorf("GetParameter errors = %v", got)
	}
}

func TestCheckRequestAndResponse(t *testing.T) {
	sts, _ := Load("sts")
	req := httptest.NewRequest("POST", "/", nil)
	body := []byte("Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fx&RoleSessionName=a%20b&Tags.member.1.Key=k&Tags.member.1.Value=v&Colour=red")
	op, probs := sts.CheckRequest(req, body)
	if op != "AssumeRole" || len(probs) != 2 {
		t.Fatalf("op %s, problems %q (want the session name pattern and Colour)", op, probs)
	}
	ok := `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><AssumedRoleUser><AssumedRoleId>AROA:x</AssumedRoleId><Arn>arn:aws:sts::1:assumed-role/r/x</Arn></AssumedRoleUser><Credentials><AccessKeyId>ASIA</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken><Expiration>2026-06-21T11:00:00Z</Expiration></Credentials><PackedPolicySize>7</PackedPolicySize></AssumeRoleResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleResponse>`
	if _, probs := sts.CheckResponse("AssumeRole", 200, http.Header{}, []byte(ok)); len(probs) != 0 {
		t.Errorf("good answer: %q", probs)
	}
	bad := strings.Replace(ok, "<PackedPolicySize>7</PackedPolicySize>", "<Colour>red</Colour>", 1)
	if _, probs := sts.CheckResponse("AssumeRole", 200, http.Header{}, []byte(bad)); len(probs) != 1 {
		t.Errorf("bad answer: %q", probs)
	}
	errDoc := `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>NoSuchThing</Code><Message>m</Message></Error><RequestId>r</RequestId></ErrorResponse>`
	if code, probs := sts.CheckResponse("AssumeRole", 400, http.Header{}, []byte(errDoc)); code != "NoSuchThing" || len(probs) != 1 {
		t.Errorf("unknown error code: %s %q", code, probs)
	}
	ssm, _ := Load("ssm")
	if code, probs := ssm.CheckResponse("GetParameter", 400, http.Header{}, []byte(`{"__type":"com.amazon.coral.service#UnrecognizedClientException","message":"x"}`)); code != "UnrecognizedClientException" || len(probs) != 0 {
		t.Errorf("coral error: %s %q", code, probs)
	}
	if _, probs := ssm.CheckResponse("GetParameter", 200, http.Header{}, []byte(`{"Parameter":{"Name":"/a","Version":"1"}}`)); len(probs) != 1 {
		t.Errorf("string version accepted: %q", probs)
	}
}
