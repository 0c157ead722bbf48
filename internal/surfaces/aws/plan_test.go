package aws_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/reconcile"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/state"
	awssurface "github.com/raxx-app/handoff/internal/surfaces/aws"
)

// TestPlanShowsTheCompiledPolicyAndEscalations: a spec that adds an SSM
// path to a live handoff is planned as a replace whose escalations name
// the new path and the new statement of the compiled policy, and whose
// text shows the compiled policy; a change of the raw session policy is an
// escalation described without its text.
func TestPlanShowsTheCompiledPolicyAndEscalations(t *testing.T) {
	now := time.Date(2026, 6, 21, 9, 0, 0, 0, time.UTC)
	role := `    role_arn = "` + agentRole + `"`
	old := []string{role, `    region = "us-east-1"`, `    ssm_read = ["/raxx/moosequest-queue/"]`,
		`    session_policy = "{\"Statement\":[{\"Effect\":\"Deny\",\"Action\":\"ssm:GetParameter\",\"Resource\":\"*\"}]}"`}
	changed := []string{role, `    region = "us-east-1"`, `    ssm_read = ["/raxx/moosequest-queue/", "/raxx/shared/"]`,
		`    session_policy = "{\"Statement\":[{\"Effect\":\"Deny\",\"Action\":\"ssm:GetParameters\",\"Resource\":\"*\"}]}"`}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "specs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "handoff.hcl"), []byte(configHCL()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "specs", "moosequest-queue.hcl"), []byte(specHCL("8h", changed...)), 0o644); err != nil {
		t.Fatal(err)
	}
	repo, diags := spec.LoadDir(dir)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	before, diags := spec.ParseHandoffFile(filepath.Join(dir, "specs", "moosequest-queue.hcl"), []byte(specHCL("8h", old...)))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	g := awssurface.GrantOf(awssurface.Of(before))
	compiled, err := awssurface.Compile(g)
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := json.Marshal(&awssurface.Record{RoleARN: g.RoleARN, Region: g.Region, SSMRead: g.SSMRead, SessionPolicy: g.SessionPolicy,
		Duration: g.Duration.String(), CompiledPolicy: compiled, SessionName: "moosequest-queue", SourceIdentity: "moosequest-queue",
		SessionRegion: "us-east-1", IssuedAt: now.Add(-10 * time.Minute), ExpiresAt: now.Add(50 * time.Minute), KeyFingerprint: "sha256:000000000000",
		Revocations: awssurface.RevocationPolicy})
	secrets := []string{"AWS_ACCESS_KEY_ID", "AWS_REGION", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}
	m := &manifest.Manifest{SchemaVersion: 1, Slug: "moosequest-queue", SpecFile: "specs/moosequest-queue.hcl", SpecDigest: before.Digest(),
		ApprovedBy: "ops", CreatedAt: now.Add(-10 * time.Minute), UpdatedAt: now.Add(-10 * time.Minute), ExpiresAt: now.Add(8 * time.Hour),
		Status: manifest.Active, Secrets: secrets, Surfaces: manifest.Surfaces{"aws": rec}}
	lh := &state.Handoff{Slug: "moosequest-queue", Folder: root + "/moosequest-queue", Manifest: m, Secrets: map[string]state.SecretMeta{}}
	for _, n := range append(secrets, manifest.SecretName) {
		lh.Secrets[n] = state.SecretMeta{Version: 1}
	}
	live := &state.Live{ReadAt: now, Environment: envName, Root: root, Handoffs: map[string]*state.Handoff{"moosequest-queue": lh}}
	p, diags := reconcile.Plan(context.Background(), repo, live, reconcile.Options{Now: now, Version: "test"})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	var c *plan.Change
	for i := range p.Handoffs {
		for j := range p.Handoffs[i].Changes {
			if p.Handoffs[i].Changes[j].Surface == "aws" {
				c = &p.Handoffs[i].Changes[j]
			}
		}
	}
	if c == nil || c.Action != plan.Replace {
		t.Fatalf("aws change %+v", c)
	}
	esc := strings.Join(c.Escalations, "\n")
	for _, want := range []string{"new SSM path /raxx/shared/", "new session policy statement {\"Sid\":\"HandoffSSMList\"", "session policy changed"} {
		if !strings.Contains(esc, want) {
			t.Errorf("escalations lack %q:\n%s", want, esc)
		}
	}
	if !slices.Contains(c.Escalations, "session policy changed") {
		t.Errorf("the raw policy's change is not described without its text: %v", c.Escalations)
	}
	t.Logf("escalations:\n%s", esc)
	var text bytes.Buffer
	if err := plan.RenderText(&text, p, plan.TextOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"compiled_policy", "HandoffSSMRead", "arn:aws:ssm:us-east-1:123456789012:parameter/raxx/shared/*", `ssm_read`} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the plan's text lacks %q:\n%s", want, text.String())
		}
	}
}

// TestCanonicalKeepsTheOldForm: a block that uses only the attributes the
// aws block had before the typed grants keeps its canonical form, byte for
// byte (and so its handoffs' digests); a new attribute is left out unless
// set.
func TestCanonicalKeepsTheOldForm(t *testing.T) {
	h, diags := spec.ParseHandoffFile("specs/moosequest-queue.hcl", []byte(specHCL("8h",
		`    role_arn = "`+agentRole+`"`, `    session_policy = "{}"`, `    duration = "30m"`)))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	got, _ := json.Marshal(awssurface.Of(h).Canonical())
	want := `{"role_arn":"` + agentRole + `","session_policy":"{}","duration":"30m0s"}`
	if string(got) != want {
		t.Errorf("canonical %s\nwant      %s", got, want)
	}
	h, _ = spec.ParseHandoffFile("specs/moosequest-queue.hcl", []byte(specHCL("8h",
		`    role_arn = "`+agentRole+`"`, `    region = "us-east-1"`, `    ssm_read = ["/raxx/x/"]`)))
	got, _ = json.Marshal(awssurface.Of(h).Canonical())
	want = `{"role_arn":"` + agentRole + `","session_policy":"","duration":"1h0m0s","region":"us-east-1","ssm_read":["/raxx/x/"]}`
	if string(got) != want {
		t.Errorf("canonical %s\nwant      %s", got, want)
	}
}
