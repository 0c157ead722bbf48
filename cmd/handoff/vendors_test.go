package main

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/raxx-app/handoff/internal/devserver/awssrv"
	awsprov "github.com/raxx-app/handoff/internal/provider/aws"
	"github.com/raxx-app/handoff/internal/provider/cloudflare"
	awssurface "github.com/raxx-app/handoff/internal/surfaces/aws"
	cfsurface "github.com/raxx-app/handoff/internal/surfaces/cloudflare"
)

// The vendors' fixture handoffs of internal/apply/testdata/repo, whose
// handoff.hcl allows what the local servers hold.
const (
	vendorRepo = "../../internal/apply/testdata/repo"
	awsSlug    = "moosequest-queue-20260621"
	cfSlug     = "dns-rotate-20260621"
)

// newVendorGitOps is a GitOps directory with the apply tests' handoff.hcl
// and the given specs of its repository (name: file, without .hcl);
// extra adds specs by slug and content.
func newVendorGitOps(t *testing.T, specs []string, extra map[string]string) *gitops {
	t.Helper()
	c := newExecGitOps(t)
	for _, k := range []string{"AWS_SECRET_ACCESS_KEY", "CLOUDFLARE_API_TOKEN", "HEROKU_API_KEY"} {
		c.secrets[c.env[k]] = true
	}
	dir := filepath.Join(c.dir, "specs")
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	copyFileT(t, filepath.Join(vendorRepo, "handoff.hcl"), filepath.Join(c.dir, "handoff.hcl"))
	for _, name := range specs {
		copyFileT(t, filepath.Join(vendorRepo, "specs", name+".hcl"), filepath.Join(dir, name+".hcl"))
	}
	for slug, src := range extra {
		if err := os.WriteFile(filepath.Join(dir, slug+".hcl"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func copyFileT(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestVerifyOfRevokedAWSSessions: STS cannot end a session; a deny on its
// role does, until the session expires. verify asks the aws surface
// (surface.RevokedVerifier) about a revoked handoff and a killed aws
// surface: clean while the deny is in place, a scope violation (exit 4)
// naming the slug once someone removes the deny entry by hand on the
// local IAM server, and clean again after revoke -surface aws, the remedy
// the message gives.
func TestVerifyOfRevokedAWSSessions(t *testing.T) {
	const other = "moosequest-audit-20260621"
	src, err := os.ReadFile(filepath.Join(vendorRepo, "specs", awsSlug+".hcl"))
	if err != nil {
		t.Fatal(err)
	}
	c := newVendorGitOps(t, []string{awsSlug}, map[string]string{other: strings.ReplaceAll(string(src), awsSlug, other)})
	awsEnviron(t, c)
	c.must(0, "apply", "-auto-approve")
	c.must(0, "verify")

	c.must(0, "revoke", "-surface", "aws", "-reason", "test", awsSlug) // the surface killed
	c.must(0, "revoke", "-reason", "test", other)                      // the handoff revoked
	c.must(0, "verify")

	for _, slug := range []string{awsSlug, other} {
		removeDeny(t, c, slug)
		stdout, _ := c.must(exitScopeViolation, "verify", slug)
		if !strings.Contains(stdout, "handoff "+slug+" is revoked, but the handoff-revocations policy of role") {
			t.Errorf("verify %s does not report its revoked session as live:\n%s", slug, stdout)
		}
	}
	stdout, _ := c.must(exitScopeViolation, "verify", "-json")
	for _, slug := range []string{awsSlug, other} {
		if !strings.Contains(stdout, slug) {
			t.Errorf("verify -json does not name %s:\n%s", slug, stdout)
		}
	}

	// The remedy the message gives.
	c.must(0, "revoke", "-surface", "aws", awsSlug)
	c.must(0, "verify", awsSlug)
}

// awsEnviron gives the process the local AWS server's credentials: the
// AWS SDK reads its credential chain from the process's environment, not
// from the command's.
func awsEnviron(t *testing.T, c *gitops) {
	t.Helper()
	none := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{"AWS_PROFILE": "", "AWS_SESSION_TOKEN": "", "AWS_CONFIG_FILE": none, "AWS_SHARED_CREDENTIALS_FILE": none} {
		t.Setenv(k, v)
	}
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_ENDPOINT_URL", "AWS_EC2_METADATA_DISABLED"} {
		t.Setenv(k, c.env[k])
	}
}

// removeDeny takes slug's entry out of the agent role's revocation policy,
// as an administrator would by hand.
func removeDeny(t *testing.T, c *gitops, slug string) {
	t.Helper()
	ctx := context.Background()
	id, secret := c.s.AWS.Credentials(awssrv.DefaultAdminName)
	c.secrets[secret] = true
	admin := iam.NewFromConfig(awssdk.Config{Region: c.env["AWS_REGION"], BaseEndpoint: awssdk.String(c.env["AWS_ENDPOINT_URL"]),
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, "")})
	role, name := awssdk.String(awssrv.DefaultAgentRole), awssdk.String(awssurface.RevocationPolicy)
	out, err := admin.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: role, PolicyName: name})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := url.QueryUnescape(awssdk.ToString(out.PolicyDocument))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := awsprov.ParseDocument([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	kept := doc.Statement[:0]
	for _, st := range doc.Statement {
		if si := st.Condition["StringEquals"]["aws:SourceIdentity"]; len(si) == 1 && si[0] == slug {
			continue
		}
		kept = append(kept, st)
	}
	if len(kept) == len(doc.Statement) {
		t.Fatalf("no deny entry of %s in %s", slug, raw)
	}
	doc.Statement = kept
	if len(kept) == 0 {
		if _, err := admin.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: role, PolicyName: name}); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: role, PolicyName: name, PolicyDocument: awssdk.String(string(b))}); err != nil {
		t.Fatal(err)
	}
}

// TestRevokeAfterTheLastCloudflareSpecSweepsByName: once the last spec
// with a cloudflare block is deleted, the plan still reads Cloudflare's
// live state, because a manifest records the surface, so the revocation
// deletes every token named for the handoff, the one a crashed run left
// besides the recorded one.
func TestRevokeAfterTheLastCloudflareSpecSweepsByName(t *testing.T) {
	c := newVendorGitOps(t, []string{cfSlug}, nil)
	c.must(0, "apply", "-auto-approve")

	// A token a crashed run minted and never recorded, found by its name.
	ctx := context.Background()
	cf, err := cloudflare.New(cloudflare.Config{BaseURL: c.env[cloudflare.EnvAPIURL], Token: cloudflare.Secret(c.env[cloudflare.EnvAPIToken])})
	if err != nil {
		t.Fatal(err)
	}
	groups, err := cf.PermissionGroups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var dnsWrite []cloudflare.PermissionGroup
	for _, g := range groups {
		if g.Name == "DNS Write" {
			dnsWrite = append(dnsWrite, g)
		}
	}
	zone, ok := c.s.Cloudflare.ZoneByName("example.com")
	if !ok || len(dnsWrite) != 1 {
		t.Fatalf("fixture: zone %v, DNS Write %v", ok, dnsWrite)
	}
	stray, err := cf.CreateToken(ctx, cloudflare.TokenRequest{Name: cfsurface.TokenName(cfSlug),
		Policies: []cloudflare.Policy{{Effect: cloudflare.Allow, PermissionGroups: dnsWrite, Resources: cloudflare.ZoneResources(zone.ID)}}})
	if err != nil {
		t.Fatal(err)
	}
	c.secrets[stray.Value.Reveal()] = true
	named := func() []string {
		var out []string
		for _, tok := range c.s.Cloudflare.Tokens() {
			if tok.Name == cfsurface.TokenName(cfSlug) {
				out = append(out, tok.ID)
			}
		}
		return out
	}
	if n := len(named()); n != 2 {
		t.Fatalf("%d tokens named for %s before the spec is deleted, want the recorded one and the stray", n, cfSlug)
	}

	if err := os.Remove(filepath.Join(c.dir, "specs", cfSlug+".hcl")); err != nil {
		t.Fatal(err)
	}
	c.must(exitChanges, "plan", "-detailed-exitcode")
	c.must(0, "apply", "-auto-approve")
	if left := named(); len(left) != 0 {
		t.Errorf("tokens named for %s left after its spec was deleted: %v", cfSlug, left)
	}
	c.must(0, "plan", "-detailed-exitcode")
}
