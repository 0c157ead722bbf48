package workspace

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/devserver/awssrv"
	"github.com/raxx-app/handoff/internal/devserver/devkit"
)

// TestAWSClientIsPacedAndRetriesOnce: the workspace's AWS client sends
// every attempt through the workspace's pacer, under AWS's model, and
// repeats a failed call once (the SDK's retryer, the only layer that
// repeats).
func TestAWSClientIsPacedAndRetriesOnce(t *testing.T) {
	kit := &devkit.Kit{Clock: devkit.NewFrozenClock(time.Now().UTC().Truncate(time.Second)), Stats: &devkit.Stats{}, Faults: &devkit.Faults{}}
	srv, err := awssrv.New(kit, awssrv.DefaultFixture())
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	id, secret := srv.ProvisionerCredentials()
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": id, "AWS_SECRET_ACCESS_KEY": secret, "AWS_SESSION_TOKEN": "",
		"AWS_REGION": "us-east-1", "AWS_PROFILE": "", "AWS_CONFIG_FILE": t.TempDir() + "/none",
		"AWS_SHARED_CREDENTIALS_FILE": t.TempDir() + "/none", "AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL": ""} {
		t.Setenv(k, v)
	}
	w := &Workspace{getenv: func(k string) string {
		if k == EnvAWSEndpoint {
			return ts.URL
		}
		return ""
	}}
	c, err := w.AWS()
	if err != nil {
		t.Fatal(err)
	}
	kit.Faults.Add(devkit.Fault{Route: "POST /sts/GetCallerIdentity", Status: 500, Count: 1})
	if _, err := c.CallerIdentity(context.Background()); err != nil {
		t.Fatalf("one failure is retried: %v", err)
	}
	if n := srv.RequestCount("sts", "GetCallerIdentity"); n != AWSAttempts {
		t.Errorf("%d attempts, want %d", n, AWSAttempts)
	}
	if tot := w.Pacer().Total("AWS"); tot.Requests != AWSAttempts {
		t.Errorf("the pacer saw %d AWS attempts, want %d", tot.Requests, AWSAttempts)
	}
}
