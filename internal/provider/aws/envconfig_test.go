package aws

import (
	"context"
	"testing"
)

// An injected environment is read, not the process's: without this the
// SDK's chain goes on to the instance metadata service.
func TestEnvConfig(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		wantKey string
	}{
		{"static keys", map[string]string{"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "s", "AWS_REGION": "eu-west-1",
			"AWS_ENDPOINT_URL": "http://127.0.0.1:9"}, "AKIDEXAMPLE"},
		{"a key without its secret is not a credential", map[string]string{"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE"}, ""},
		{"nothing", map[string]string{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := EnvConfig(func(k string) string { return tc.env[k] })
			if c.Region != tc.env["AWS_REGION"] || c.Endpoint != tc.env["AWS_ENDPOINT_URL"] {
				t.Errorf("region %q endpoint %q", c.Region, c.Endpoint)
			}
			if tc.wantKey == "" {
				if c.Credentials != nil {
					t.Errorf("credentials from %v", tc.env)
				}
				return
			}
			got, err := c.Credentials.Retrieve(context.Background())
			if err != nil || got.AccessKeyID != tc.wantKey {
				t.Errorf("credentials %q, %v; want %q", got.AccessKeyID, err, tc.wantKey)
			}
		})
	}
}
