package aws_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/hashicorp/hcl/v2"

	"github.com/raxx-app/handoff/internal/devserver/awssrv"
	"github.com/raxx-app/handoff/internal/plan"
	awsprov "github.com/raxx-app/handoff/internal/provider/aws"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/surface"
	awssurface "github.com/raxx-app/handoff/internal/surfaces/aws"
	"github.com/raxx-app/handoff/internal/workspace"
)

var _ workspace.LivePlanChecker = (*awssurface.Surface)(nil)

// clientAs is a client of the env's server signing with id and secret.
func (e *env) clientAs(id, secret string) *awsprov.Client {
	e.t.Helper()
	c, err := awsprov.New(context.Background(), awsprov.Config{Region: "us-east-1", Endpoint: e.ts.URL,
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, ""), Retryer: fastRetryer, Now: e.kit.Clock.Now, SigningClock: e.kit.Clock.Now,
		HTTPClient: &http.Client{Transport: e.checker.Transport(http.DefaultTransport)}})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// TestCheckPlanLive: before a plan mints a session, the surface reads
// each distinct role once with the provisioner's credentials (iam:GetRole,
// as apply does): credentials AWS refuses, a role the provisioner may not
// read and a role that does not exist are plan errors naming the role and
// AWS's code, never the secret; nothing is read when nothing is minted.
func TestCheckPlanLive(t *testing.T) {
	const wrongSecret = "wrong+AWS/secret0key0of0forty0characters"
	for _, tc := range []struct {
		name string
		// as returns the client's credentials (nil: the provisioner's).
		as      func(e *env) (id, secret string)
		role    func(e *env) string
		actions []plan.Action // one handoff each
		reads   int64
		want    []string // in the one error's summary and detail; none: no diagnostic
	}{
		{name: "valid, one read for three mints of one role", actions: []plan.Action{plan.Create, plan.Replace, plan.Refresh, plan.NoOp}, reads: 1},
		{name: "nothing minted, nothing read", actions: []plan.Action{plan.NoOp, plan.Revoke}, reads: 0},
		{name: "wrong secret key", actions: []plan.Action{plan.Create, plan.Create}, reads: 1,
			as: func(e *env) (string, string) {
				id, _ := e.srv.ProvisionerCredentials()
				return id, wrongSecret
			},
			want: []string{"raxx-handoff-agent", "SignatureDoesNotMatch", "credentials", "h-0, h-1"}},
		{name: "unknown access key", actions: []plan.Action{plan.Create}, reads: 1,
			as:   func(*env) (string, string) { return "AKIAUNKNOWNKEY000000", wrongSecret },
			want: []string{"raxx-handoff-agent", "InvalidClientTokenId"}},
		{name: "role not allowed", actions: []plan.Action{plan.Refresh}, reads: 1,
			role: func(e *env) string { return "arn:aws:iam::123456789012:role/ops/elsewhere" },
			want: []string{"elsewhere", "AccessDenied", "may not read"}},
		{name: "role that does not exist", actions: []plan.Action{plan.Create}, reads: 1,
			as:   func(e *env) (string, string) { return e.srv.Credentials(awssrv.DefaultAdminName) },
			role: func(e *env) string { return "arn:aws:iam::123456789012:role/handoff/gone" },
			want: []string{"gone", "NoSuchEntity", "does not exist"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			s := e.surface()
			if tc.as != nil {
				id, secret := tc.as(e)
				e.secrets = append(e.secrets, secret)
				c := e.clientAs(id, secret)
				s = awssurface.New(func() (*awsprov.Client, error) { return c, nil })
			}
			role := e.role()
			if tc.role != nil {
				role = tc.role(e)
			}
			in := surface.PlanInput{}
			for i, a := range tc.actions {
				h := e.handoff(fmt.Sprintf("h-%d", i), "8h", fmt.Sprintf("\n    role_arn = %q\n    ssm_read = [\"/raxx/h/\"]", role))
				c := plan.Change{Surface: awssurface.Name, Action: a}
				if a != plan.Revoke {
					c.After = s.Desired(targetOf(h, e.now(), e.now().Add(8*time.Hour)))
				}
				in.Specs = append(in.Specs, h)
				in.Uses = append(in.Uses, surface.Use{Spec: h, Change: c})
			}
			diags, err := s.CheckPlanLive(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range diags {
				e.text(d.Summary, d.Detail, d.Error())
			}
			if n := e.srv.RequestCount("iam", "GetRole"); n != tc.reads {
				t.Errorf("GetRole read %d times, want %d", n, tc.reads)
			}
			if n := e.srv.RequestCount("sts", "AssumeRole") + e.srv.RequestCount("iam", "PutRolePolicy"); n != 0 {
				t.Errorf("the check wrote: %d requests", n)
			}
			if len(tc.want) == 0 {
				if len(diags) != 0 {
					t.Fatalf("diagnostics: %v", diags)
				}
				return
			}
			if len(diags) != 1 || diags[0].Severity != hcl.DiagError {
				t.Fatalf("diagnostics: %v, want one error", diags)
			}
			d := diags[0]
			for _, w := range tc.want {
				if !strings.Contains(d.Summary+" "+d.Detail, w) {
					t.Errorf("the error does not say %q:\n%s\n%s", w, d.Summary, d.Detail)
				}
			}
			if !strings.Contains(d.Detail, role) {
				t.Errorf("the error does not name role %s:\n%s", role, d.Detail)
			}
			if d.Subject == nil || d.Subject.Filename != "specs/h-0.hcl" {
				t.Errorf("subject %v, want the first spec's role_arn", d.Subject)
			}
		})
	}
}

// TestCheckPlanLiveFailureToAsk: AWS failing after the retries is a
// failure to ask (an error: the plan stops), not a finding about the role.
func TestCheckPlanLiveFailureToAsk(t *testing.T) {
	e := newEnv(t)
	e.kit.Faults.Add(devkitFault("POST /iam/GetRole"))
	h := e.ssmHandoff("h-0")
	_, err := e.surface().CheckPlanLive(context.Background(), surface.PlanInput{Specs: []*spec.Handoff{h},
		Uses: []surface.Use{{Spec: h, Change: plan.Change{Surface: awssurface.Name, Action: plan.Create}}}})
	if err == nil || !strings.Contains(err.Error(), "read role "+e.role()) {
		t.Fatalf("err = %v", err)
	}
	e.text(err.Error())

	// Without a client, the plan says so.
	none := awssurface.New(nil)
	diags, err := none.CheckPlanLive(context.Background(), surface.PlanInput{Specs: []*spec.Handoff{h},
		Uses: []surface.Use{{Spec: h, Change: plan.Change{Surface: awssurface.Name, Action: plan.Create}}}})
	if err != nil || !diags.HasErrors() || !strings.Contains(diags.Error(), "AWS client not configured") {
		t.Fatalf("without a client: %v, %v", diags, err)
	}
}

// TestCheckPlanLiveWithoutCredentials: a plan with no AWS identity at all
// (a pull request's plan job, by design) warns that the roles went
// unchecked; apply's CheckMint, with the apply job's identity, reads the
// role before anything of the handoff is made and refuses there.
func TestCheckPlanLiveWithoutCredentials(t *testing.T) {
	e := newEnv(t)
	none, err := awsprov.New(context.Background(), awsprov.Config{Region: "us-east-1", Endpoint: e.ts.URL,
		Credentials: awssdk.CredentialsProviderFunc(func(context.Context) (awssdk.Credentials, error) {
			return awssdk.Credentials{}, errors.New("no EC2 IMDS role found")
		})})
	if err != nil {
		t.Fatal(err)
	}
	s := awssurface.New(func() (*awsprov.Client, error) { return none, nil })
	h := e.ssmHandoff("h-0")
	in := surface.PlanInput{Specs: []*spec.Handoff{h}, Uses: []surface.Use{{Spec: h, Change: plan.Change{Surface: awssurface.Name, Action: plan.Create}}}}
	diags, err := s.CheckPlanLive(context.Background(), in)
	if err != nil || len(diags) != 1 || diags[0].Severity != hcl.DiagWarning || !strings.Contains(diags[0].Detail, e.role()) {
		t.Fatalf("without credentials: %v, %v; want one warning naming the role", diags, err)
	}
	e.text(diags.Error())
	err = s.CheckMint(context.Background(), e.request("h-0", h))
	if err == nil || !strings.Contains(err.Error(), "No AWS credentials to read role raxx-handoff-agent") {
		t.Fatalf("CheckMint without credentials: %v", err)
	}
	e.text(err.Error())
}

// TestCheckMint: apply reads the role before anything of a handoff is
// made, once a run per role (the plan's read counts), and refuses
// credentials AWS refuses with the role and AWS's code, never the secret.
func TestCheckMint(t *testing.T) {
	e := newEnv(t)
	s := e.surface()
	h0, h1 := e.ssmHandoff("h-0"), e.ssmHandoff("h-1")
	in := surface.PlanInput{Specs: []*spec.Handoff{h0}, Uses: []surface.Use{{Spec: h0, Change: plan.Change{Surface: awssurface.Name, Action: plan.Create}}}}
	if diags, err := s.CheckPlanLive(context.Background(), in); err != nil || len(diags) != 0 {
		t.Fatalf("CheckPlanLive: %v, %v", diags, err)
	}
	for _, h := range []*spec.Handoff{h0, h1} {
		if err := s.CheckMint(context.Background(), e.request(h.Slug.Value, h)); err != nil {
			t.Fatalf("CheckMint %s: %v", h.Slug.Value, err)
		}
	}
	if n := e.srv.RequestCount("iam", "GetRole"); n != 1 {
		t.Errorf("GetRole read %d times, want once a run", n)
	}

	id, _ := e.srv.ProvisionerCredentials()
	const wrong = "wrong+AWS/secret0key0of0forty0characters"
	e.secrets = append(e.secrets, wrong)
	bad := e.clientAs(id, wrong)
	s = awssurface.New(func() (*awsprov.Client, error) { return bad, nil })
	err := s.CheckMint(context.Background(), e.request("h-0", h0))
	e.text(fmt.Sprint(err))
	if err == nil || !strings.Contains(err.Error(), "raxx-handoff-agent") || !strings.Contains(err.Error(), "SignatureDoesNotMatch") {
		t.Fatalf("CheckMint with a wrong secret key: %v", err)
	}
	if n := e.srv.RequestCount("sts", "AssumeRole"); n != 0 {
		t.Errorf("AssumeRole called %d times", n)
	}
}
