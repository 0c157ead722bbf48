package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPlanProvesAWSCredentials: plan green means apply green. A plan that
// would mint an AWS session reads the role first, with the provisioner's
// credentials (iam:GetRole, once per role): a wrong secret key, a role the
// provisioner may not read and a role that does not exist fail the plan
// (exit 1, naming the role and AWS's error code, writing nothing), where
// apply would fail after its first writes; valid credentials plan as
// before, with one AWS request for two handoffs of one role.
func TestPlanProvesAWSCredentials(t *testing.T) {
	const (
		agent  = "arn:aws:iam::123456789012:role/handoff/raxx-handoff-agent"
		other  = "arn:aws:iam::123456789012:role/ops/raxx-handoff-agent-2" // outside the provisioner's handoff/* roles
		absent = "arn:aws:iam::123456789012:role/handoff/raxx-handoff-gone"
	)
	src, err := os.ReadFile(filepath.Join(vendorRepo, "specs", awsSlug+".hcl"))
	if err != nil {
		t.Fatal(err)
	}
	second := "moosequest-audit-20260621"
	for _, tc := range []struct {
		name      string
		secret    string // the provisioner's AWS_SECRET_ACCESS_KEY ("": the right one)
		noCreds   bool   // no AWS identity at all (a pull request's plan job)
		role      string // the role of the specs
		want      int
		wantError []string
	}{
		{name: "valid", role: agent, want: 2},
		// The plan job has no AWS identity by design: it warns, and apply
		// (which plans again with the apply job's identity, and reads the
		// role before anything of a handoff is made) refuses.
		{name: "no AWS identity", noCreds: true, role: agent, want: 2, wantError: []string{"AWS roles not checked", "No AWS credentials to read role raxx-handoff-agent"}},
		{name: "wrong secret key", secret: "wrong+AWS/secret0key0of0forty0characters", role: agent, want: 1,
			wantError: []string{"raxx-handoff-agent", "SignatureDoesNotMatch", agent, awsSlug, second}},
		{name: "role not allowed", role: other, want: 1, wantError: []string{"raxx-handoff-agent-2", "AccessDenied"}},
		// AWS authorizes GetRole of a role that does not exist against
		// role/NAME, without its path, which the provisioner's handoff/*
		// does not match: AccessDenied, as for a role outside it.
		{name: "role absent", role: absent, want: 1, wantError: []string{"raxx-handoff-gone", "AccessDenied"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			one := strings.ReplaceAll(string(src), agent, tc.role)
			c := newVendorGitOps(t, []string{awsSlug}, map[string]string{awsSlug: one, second: strings.ReplaceAll(one, awsSlug, second)})
			hcl := filepath.Join(c.dir, "handoff.hcl")
			b, err := os.ReadFile(hcl)
			if err != nil {
				t.Fatal(err)
			}
			roles := `aws_role_arns      = ["` + agent + `", "` + other + `", "` + absent + `"]`
			if err := os.WriteFile(hcl, []byte(strings.Replace(string(b), `aws_role_arns      = ["`+agent+`"]`, roles, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			if tc.noCreds {
				c.env["AWS_ACCESS_KEY_ID"], c.env["AWS_SECRET_ACCESS_KEY"], c.env["AWS_EC2_METADATA_DISABLED"] = "", "", "true"
			}
			if tc.secret != "" {
				c.env["AWS_SECRET_ACCESS_KEY"] = tc.secret
				c.secrets[tc.secret] = true
			}
			awsEnviron(t, c)
			c.s.Kit.Stats.Reset()

			code, stdout, stderr := c.run("plan", "-detailed-exitcode")
			if code != tc.want {
				t.Fatalf("plan: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.want, stdout, stderr)
			}
			if n, want := c.s.AWS.RequestCount("iam", "GetRole"), map[bool]int64{false: 1, true: 0}[tc.noCreds]; n != want {
				t.Errorf("plan read the role %d times, want %d (two handoffs, one role)", n, want)
			}
			for route, n := range c.s.Kit.Stats.Snapshot() {
				method, path, _ := strings.Cut(route, " ")
				if method != "GET" && path != "/iam/GetRole" && !strings.HasSuffix(path, "/login") && path != "/api/v1/auth/token/revoke" {
					t.Errorf("plan wrote: %s (%d)", route, n)
				}
			}
			if tc.want == 2 {
				if !strings.Contains(stdout, "Plan: 2 to create") || strings.Contains(stderr, "error") {
					t.Errorf("plan:\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
				}
				if len(tc.wantError) == 0 {
					return
				}
				if !strings.Contains(stderr, "warning: "+tc.wantError[0]) {
					t.Errorf("plan without an AWS identity does not warn:\n%s", stderr)
				}
			} else {
				for _, w := range tc.wantError {
					if !strings.Contains(stderr, w) {
						t.Errorf("plan's error does not say %q:\n%s", w, stderr)
					}
				}
				if strings.Contains(stdout, "to create") {
					t.Errorf("plan printed a plan it refuses:\n%s", stdout)
				}
			}
			// apply refuses too, before anything of a handoff is made.
			code, _, stderr = c.run("apply", "-auto-approve")
			if code != 1 || !strings.Contains(stderr, tc.wantError[1]) {
				t.Errorf("apply: exit %d\n%s", code, stderr)
			}
			for _, op := range []string{"AssumeRole", "PutRolePolicy"} {
				if n := c.s.AWS.RequestCount("sts", op) + c.s.AWS.RequestCount("iam", op); n != 0 {
					t.Errorf("%s called %d times", op, n)
				}
			}
			if f := c.s.Infisical.Secrets("staging", "/MooseQuest/handoffs", true); len(f) != 0 {
				t.Errorf("apply wrote %d secrets", len(f))
			}
		})
	}
}
