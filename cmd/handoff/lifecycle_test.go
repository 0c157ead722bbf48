package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/raxx-app/handoff/internal/workspace"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/devserver"
	"github.com/raxx-app/handoff/internal/devserver/infisicalsrv"
	"github.com/raxx-app/handoff/internal/provider/infisical"
	infsurface "github.com/raxx-app/handoff/internal/surfaces/infisical"
)

const (
	iapSlug    = "iap-notif-handler-20260621"
	stripeSlug = "founders-checkout-20260621"
)

// gitops is a GitOps directory wired to the dev servers, running commands in
// process and keeping every output for the secret scan.
type gitops struct {
	t       *testing.T
	s       *devserver.Servers
	env     map[string]string
	dir     string
	outputs []string
	secrets map[string]bool
}

func newGitOps(t *testing.T) *gitops {
	t.Helper()
	s, env := devEnv(t)
	dir := t.TempDir()
	copyTree(t, "../../specs", filepath.Join(dir, "specs"))
	b, err := os.ReadFile("../../handoff.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "handoff.hcl"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	c := &gitops{t: t, s: s, env: env, dir: dir, secrets: map[string]bool{}}
	for _, v := range secretsOf(t, s, env) {
		c.secrets[v] = true
	}
	for _, sec := range infisicalsrv.DefaultFixture().Projects[0].Secrets {
		c.secrets[sec.Value] = true
	}
	t.Cleanup(c.scan)
	return c
}

// run runs handoff with args in the GitOps directory; stdin feeds the
// prompt, which is answerable when tty is set.
func (c *gitops) runIO(tty bool, stdin string, args ...string) (int, string, string) {
	c.t.Helper()
	var stdout, stderr bytes.Buffer
	e := &env{stdin: strings.NewReader(stdin), stdout: &stdout, stderr: &stderr, getenv: func(k string) string { return c.env[k] }}
	if tty {
		e.interactive = func() bool { return true }
	}
	wd, _ := os.Getwd()
	if err := os.Chdir(c.dir); err != nil {
		c.t.Fatal(err)
	}
	code := e.run(context.Background(), append([]string{"handoff", "-no-color"}, args...))
	if err := os.Chdir(wd); err != nil {
		c.t.Fatal(err)
	}
	c.harvest()
	c.outputs = append(c.outputs, stdout.String(), stderr.String())
	return code, stdout.String(), stderr.String()
}

func (c *gitops) run(args ...string) (int, string, string) {
	c.t.Helper()
	return c.runIO(false, "", args...)
}

// must runs a command that must exit with want.
func (c *gitops) must(want int, args ...string) (string, string) {
	c.t.Helper()
	code, stdout, stderr := c.run(args...)
	if code != want {
		c.t.Fatalf("handoff %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, stdout, stderr)
	}
	return stdout, stderr
}

// harvest records every credential value the vault holds now, so that the
// scan finds them even after they are revoked and deleted.
func (c *gitops) harvest() {
	for _, sec := range c.s.Infisical.Secrets("staging", infisicalsrv.DefaultHandoffRoot, true) {
		switch sec.Key {
		case "GH_HANDOFF_TOKEN", "INFISICAL_CLIENT_SECRET", "CLOUDFLARE_API_TOKEN", "HEROKU_API_KEY", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN":
			c.secrets[sec.Value] = true
		}
	}
}

// scan fails when any output but the one allowed to (env -reveal, which
// the test drops from c.outputs) holds a secret value.
func (c *gitops) scan() {
	c.harvest()
	var list []string
	for v := range c.secrets {
		for _, part := range strings.Split(v, "\n") {
			if part = strings.TrimSpace(part); len(part) >= 8 && !strings.HasPrefix(part, "-----") {
				list = append(list, part)
			}
		}
	}
	assertNoSecrets(c.t, list, c.outputs...)
}

// writes counts the write requests both servers received (logins and the
// revocation of the commands' own access tokens aside).
func (c *gitops) writes() int64 {
	var n int64
	for route, count := range c.s.Kit.Stats.Snapshot() {
		method, path, _ := strings.Cut(route, " ")
		if method != "GET" && !strings.HasSuffix(path, "/login") && path != "/api/v1/auth/token/revoke" {
			n += count
		}
	}
	return n
}

func (c *gitops) liveIdentities() int {
	n := 0
	for _, id := range c.s.Infisical.Identities() {
		if _, ok := infsurface.IdentitySlug(id.Name); ok {
			n++
		}
	}
	return n
}

func TestApplyRefusesWithoutConfirmation(t *testing.T) {
	c := newGitOps(t)
	code, stdout, stderr := c.run("apply")
	if code != 1 || !strings.Contains(stderr, "refusing to apply without confirmation") || !strings.Contains(stdout, "Plan: 2 to create") {
		t.Fatalf("apply with no terminal: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	code, _, stderr = c.runIO(true, "no\n", "apply")
	if code != 1 || !strings.Contains(stderr, "cancelled") {
		t.Fatalf("apply answered no: exit %d\n%s", code, stderr)
	}
	if w := c.writes(); w != 0 {
		t.Errorf("refused applies made %d write requests, want 0", w)
	}
	code, stdout, stderr = c.runIO(true, "yes\n", "apply")
	if code != 0 || !strings.Contains(stdout, "Apply complete: 2 created") {
		t.Fatalf("apply answered yes: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "Only 'yes' will be accepted") || !strings.Contains(stderr, "step 1/") {
		t.Errorf("the prompt and the numbered steps belong on stderr:\n%s", stderr)
	}
	if strings.Contains(stdout, "step ") {
		t.Errorf("steps leaked to stdout:\n%s", stdout)
	}
}

// TestLifecycle runs the whole life of two handoffs through the CLI on the
// dev servers: apply, gate, env, refresh on the dev clock, per-surface and
// full revocation, untombstone, deletion of a spec, and verify.
func TestLifecycle(t *testing.T) {
	c := newGitOps(t)

	c.must(1, "gate", iapSlug) // H4: no manifest, no dispatch
	stdout, _ := c.must(0, "apply", "-auto-approve")
	if !strings.Contains(stdout, "Apply complete: 2 created") {
		t.Fatalf("apply:\n%s", stdout)
	}
	if n := c.liveIdentities(); n != 2 {
		t.Fatalf("%d handoff identities after apply, want 2", n)
	}

	// Idempotent: the second apply plans no change and writes nothing.
	before := c.writes()
	stdout, _ = c.must(0, "apply", "-auto-approve")
	if !strings.Contains(stdout, "No changes.") || c.writes() != before {
		t.Errorf("second apply wrote %d requests:\n%s", c.writes()-before, stdout)
	}

	stdout, _ = c.must(0, "gate", iapSlug)
	if !strings.Contains(stdout, "may be dispatched") {
		t.Errorf("gate: %s", stdout)
	}
	stdout, _ = c.must(0, "verify")
	if strings.Count(stdout, "verified (active)") != 2 {
		t.Errorf("verify:\n%s", stdout)
	}

	// env without -reveal: names and references, no value.
	stdout, _ = c.must(0, "env", iapSlug)
	var sc struct {
		Env              map[string]string
		Read             []string
		MCPTools         []string `json:"mcp_tools"`
		MCPToolsExcluded []string `json:"mcp_tools_excluded"`
		Revealed         bool
	}
	if err := json.Unmarshal([]byte(stdout), &sc); err != nil {
		t.Fatalf("env is not JSON: %v\n%s", err, stdout)
	}
	if sc.Revealed || len(sc.MCPTools) != 3 || len(sc.MCPToolsExcluded) != 3 || len(sc.Read) != 1 {
		t.Errorf("env = %+v", sc)
	}
	folder := "/MooseQuest/handoffs/" + iapSlug
	for name, want := range map[string]string{
		"HANDOFF_TASK_SLUG":       iapSlug,
		"INFISICAL_SECRET_PATH":   folder,
		"GH_TOKEN":                "infisical://proj-moosequest/staging" + folder + "/GH_HANDOFF_TOKEN",
		"INFISICAL_CLIENT_ID":     "infisical://proj-moosequest/staging" + folder + "/INFISICAL_CLIENT_ID",
		"INFISICAL_CLIENT_SECRET": "infisical://proj-moosequest/staging" + folder + "/INFISICAL_CLIENT_SECRET",
	} {
		if got := sc.Env[name]; got != want {
			t.Errorf("env %s = %q, want %q", name, got, want)
		}
	}
	if _, err := time.Parse(time.RFC3339, sc.Env["HANDOFF_EXPIRES_AT"]); err != nil {
		t.Errorf("HANDOFF_EXPIRES_AT: %v", err)
	}

	// env -reveal reads with the handoff's own identity: its folder and its
	// read paths, nothing of the other handoff, and the vault's audit log
	// names it.
	code, revealed, stderr := c.run("env", "-format", "dotenv", "-reveal", iapSlug)
	c.outputs = c.outputs[:len(c.outputs)-2] // the one output allowed to hold values
	if code != 0 {
		t.Fatalf("env -reveal: exit %d: %s", code, stderr)
	}
	token, _ := c.s.Infisical.Secret("staging", "/MooseQuest/handoffs/"+iapSlug, "GH_HANDOFF_TOKEN")
	for _, want := range []string{`GH_TOKEN="` + token.Value + `"`, "APPLE_IAP_KEY_ID=", "HANDOFF_MCP_TOOLS=", "INFISICAL_CLIENT_SECRET=\"", "HANDOFF_TASK_SLUG="} {
		if !strings.Contains(revealed, want) {
			t.Errorf("env -reveal lacks %.20q", want)
		}
	}
	if strings.Contains(revealed, "STRIPE") || strings.Contains(revealed, "PROVISION_MANIFEST") || strings.Contains(revealed, "infisical://") {
		t.Errorf("env -reveal shows more than the handoff's grant")
	}
	stdout, _ = c.must(0, "audit", iapSlug)
	if !strings.Contains(stdout, infsurface.IdentityName(iapSlug, time.Time{})) || !strings.Contains(stdout, "get-secrets") {
		t.Errorf("audit does not show the identity's reads:\n%s", stdout)
	}

	// The dev clock passes the token's hour: the gate refuses a stale
	// token, a scheduled apply refreshes it.
	c.s.Kit.Clock.Advance(61 * time.Minute)
	_, stderr = c.must(1, "gate", iapSlug)
	if !strings.Contains(stderr, "GitHub token expired") {
		t.Errorf("gate after the token's hour: %s", stderr)
	}
	stdout, _ = c.must(0, "apply", "-auto-approve")
	if !strings.Contains(stdout, "1 refreshed") {
		t.Errorf("scheduled apply:\n%s", stdout)
	}
	c.must(0, "gate", iapSlug)
	if live := c.s.GitHub.LiveTokens(); len(live) != 1 {
		t.Errorf("%d live GitHub tokens after the refresh, want 1 (the old one revoked)", len(live))
	}

	// Kill switch for one surface: GitHub dies, the rest lives, and apply
	// does not mint it again.
	stdout, _ = c.must(0, "revoke", "-surface", "github", "-reason", "drill", "-by", "alice", iapSlug)
	if !strings.Contains(stdout, "Revoked surface github") {
		t.Errorf("revoke -surface: %s", stdout)
	}
	if live := c.s.GitHub.LiveTokens(); len(live) != 0 {
		t.Errorf("%d live GitHub tokens after the kill, want 0", len(live))
	}
	_, stderr = c.must(0, "gate", iapSlug)
	if !strings.Contains(stderr, "killed by alice") {
		t.Errorf("gate does not mention the killed surface: %s", stderr)
	}
	before = c.writes()
	c.must(0, "apply", "-auto-approve")
	if c.writes() != before || len(c.s.GitHub.LiveTokens()) != 0 {
		t.Errorf("apply minted a killed surface again")
	}

	// Full revocation: tombstone, gate closed, nothing minted by apply.
	c.must(0, "revoke", "-reason", "task done", iapSlug)
	_, stderr = c.must(1, "gate", iapSlug)
	if !strings.Contains(stderr, "revoked (manual)") {
		t.Errorf("gate after revoke: %s", stderr)
	}
	c.must(1, "env", iapSlug)
	c.must(exitNothingFound, "revoke", "never-existed-20260101")
	c.must(0, "apply", "-auto-approve")
	if n := c.liveIdentities(); n != 1 {
		t.Errorf("%d handoff identities after revoking one of two and applying, want 1", n)
	}

	// Untombstone: the next apply mints it again.
	c.must(0, "untombstone", "-by", "bob", iapSlug)
	stdout, _ = c.must(0, "audit", "-json", iapSlug)
	if !strings.Contains(stdout, `"action": "untombstone"`) || !strings.Contains(stdout, "bob@") {
		t.Errorf("the untombstone event does not name who lifted it:\n%s", stdout)
	}
	stdout, _ = c.must(0, "apply", "-auto-approve")
	if !strings.Contains(stdout, "1 created") {
		t.Errorf("apply after untombstone:\n%s", stdout)
	}
	c.must(0, "gate", iapSlug)

	// A pull request deletes a spec: the merge's apply revokes it.
	if err := os.Remove(filepath.Join(c.dir, "specs", stripeSlug+".hcl")); err != nil {
		t.Fatal(err)
	}
	stdout, _ = c.must(0, "apply", "-auto-approve")
	if !strings.Contains(stdout, "1 revoked") {
		t.Errorf("apply after deleting a spec:\n%s", stdout)
	}
	c.must(1, "gate", stripeSlug)
	if n := c.liveIdentities(); n != 1 {
		t.Errorf("%d handoff identities, want 1", n)
	}

	// The TTL ends: everything is revoked, nothing is left.
	c.s.Kit.Clock.Advance(25 * time.Hour)
	stdout, _ = c.must(0, "apply", "-auto-approve")
	if !strings.Contains(stdout, "1 revoked") {
		t.Errorf("apply past the TTL:\n%s", stdout)
	}
	if n, tokens := c.liveIdentities(), len(c.s.GitHub.LiveTokens()); n != 0 || tokens != 0 {
		t.Errorf("after expiry: %d identities and %d tokens live, want none", n, tokens)
	}
	stdout, _ = c.must(0, "audit", "-json")
	var audit struct{ Records []auditRecord }
	if err := json.Unmarshal([]byte(stdout), &audit); err != nil || len(audit.Records) == 0 {
		t.Errorf("audit -json: %v\n%s", err, stdout)
	}
}

func TestVerifyReportsAScopeViolation(t *testing.T) {
	c := newGitOps(t)
	c.must(0, "apply", "-auto-approve")
	// An identity named for the handoff that its manifest does not record:
	// someone minted a second credential for the task by hand.
	inf, err := c.provisioner()
	if err != nil {
		t.Fatal(err)
	}
	// Named the way earlier versions named identities: still found.
	if _, err := inf.CreateIdentity(context.Background(), "infisical-handoff-"+iapSlug+"-20260622", "no-access"); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := c.run("verify")
	if code != exitScopeViolation || !strings.Contains(stdout, "scope violation") || !strings.Contains(stdout, "not recorded by its manifest") {
		t.Fatalf("verify: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, _ = c.run("verify", "-json", stripeSlug)
	if code != 0 || !strings.Contains(stdout, `"verified": true`) {
		t.Errorf("verify -json of the untouched handoff: exit %d\n%s", code, stdout)
	}
}

func TestApplySavedPlanAndStalePlan(t *testing.T) {
	c := newGitOps(t)
	planFile := filepath.Join(t.TempDir(), "plan.bin")
	c.must(0, "plan", "-out", planFile)
	stdout, _ := c.must(0, "apply", planFile)
	if !strings.Contains(stdout, "2 created") {
		t.Fatalf("apply FILE:\n%s", stdout)
	}
	// A plan made before a change of the live state is refused.
	c.must(0, "plan", "-out", planFile)
	c.s.Kit.Clock.Advance(55 * time.Minute)
	c.must(0, "apply", "-auto-approve") // refreshes: the state changes
	before := c.writes()
	_, stderr := c.must(1, "apply", planFile)
	if !strings.Contains(stderr, "stale plan") || !strings.Contains(stderr, "Nothing was changed") || c.writes() != before {
		t.Errorf("stale plan: %s (%d writes)", stderr, c.writes()-before)
	}
	// So is a plan made before the specs changed.
	c.must(0, "plan", "-out", planFile)
	spec := filepath.Join(c.dir, "specs", stripeSlug+".hcl")
	b, _ := os.ReadFile(spec)
	if err := os.WriteFile(spec, bytes.Replace(b, []byte(`"24h"`), []byte(`"12h"`), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr = c.must(1, "apply", planFile)
	if !strings.Contains(stderr, "specs changed") {
		t.Errorf("plan made before a spec change: %s", stderr)
	}
}

// TestApplyShowsAProgressLineForLongRuns: 20 handoffs or more on a terminal
// get one redrawn line instead of every step.
func TestApplyShowsAProgressLineForLongRuns(t *testing.T) {
	c := newGitOps(t)
	// The output is tested, not Infisical Cloud's limits: 20 handoffs make
	// more than 40 secret writes a minute on the frozen clock, so no limiter.
	if err := c.s.Infisical.SetRateLimits(infisicalsrv.RateLimits{Profile: infisicalsrv.ProfileSelfHosted}); err != nil {
		t.Fatal(err)
	}
	c.env[workspace.EnvInfisicalRateLimits] = "self-hosted" // and the tool paces itself to none
	if err := os.RemoveAll(filepath.Join(c.dir, "specs")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(c.dir, "specs"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range progressLineThreshold {
		slug := fmt.Sprintf("bulk-task-%02d", i)
		body := fmt.Sprintf("handoff %q {\n  card        = %d\n  description = \"bulk\"\n  ttl         = \"2h\"\n  approved_by = \"ops\"\n\n  infisical {\n    environment = \"staging\"\n    read        = [\"/MooseQuest/queue/staging/STRIPE_*\"]\n  }\n}\n", slug, 100+i)
		if err := os.WriteFile(filepath.Join(c.dir, "specs", slug+".hcl"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, stdout, stderr := c.runIO(true, "", "apply", "-auto-approve")
	if code != 0 || !strings.Contains(stdout, "20 created") {
		t.Fatalf("apply: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "applying: 20/20 handoffs") || strings.Contains(stderr, "step 1/") {
		t.Errorf("want one progress line and no steps on a terminal:\n%s", stderr)
	}
	if !regexp.MustCompile(`applied: 20/20 handoffs, \d+/\d+ steps, \d+ requests; `).MatchString(stderr) {
		t.Errorf("the last progress line does not count the steps and requests:\n%s", stderr)
	}
	// Not on a terminal: the numbered steps, no progress line.
	c.s.Kit.Clock.Advance(3 * time.Hour)
	code, _, stderr = c.run("apply", "-auto-approve")
	if code != 0 || strings.Contains(stderr, "applying:") || !strings.Contains(stderr, "step 1/") {
		t.Errorf("apply without a terminal: exit %d\n%s", code, stderr)
	}
}

// provisioner is an Infisical client with the provisioner's credentials, to
// change the live state behind handoff's back.
func (c *gitops) provisioner() (*infisical.Client, error) {
	cfg, err := infisical.ConfigFromEnv(func(k string) string { return c.env[k] }, infisical.Config{
		OrganizationID: c.s.Infisical.OrganizationID(), ProjectID: c.s.Infisical.ProjectID()})
	if err != nil {
		return nil, err
	}
	return infisical.New(cfg)
}

// TestPatsListsChecksAndRevokes: the PATs made by hand in the fixture are
// listed with their findings (pinned by a golden file), -check exits 4, and
// -revoke ends one.
func TestPatsListsChecksAndRevokes(t *testing.T) {
	c := newGitOps(t)
	delete(c.env, "GITHUB_REPOSITORY") // the org comes from the specs' repositories
	stdout, _ := c.must(0, "pats")
	golden := filepath.Join("testdata", "golden", "pats-dev.txt")
	if *update {
		if err := os.WriteFile(golden, []byte(stdout), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if want, err := os.ReadFile(golden); err != nil || stdout != string(want) {
		t.Errorf("handoff pats differs from %s (rerun with -update if intended): %v\n%s", golden, err, stdout)
	}
	_, stderr := c.must(exitScopeViolation, "pats", "-check")
	if !strings.Contains(stderr, "live PATs of raxx-app with a finding") {
		t.Errorf("pats -check: %s", stderr)
	}
	// -revoke asks first, as apply does (issue 12, item 20): refused
	// without a terminal, cancelled unless the answer is yes, and an id
	// the organization does not list is refused; none writes.
	_, stderr = c.must(1, "pats", "-revoke", "25383")
	if !strings.Contains(stderr, "refusing to revoke fine-grained PAT grant 25383 of raxx-app without confirmation") {
		t.Errorf("pats -revoke without a terminal: %s", stderr)
	}
	if code, _, stderr := c.runIO(true, "no\n", "pats", "-revoke", "25383"); code != 1 || !strings.Contains(stderr, "Do you want to revoke it?") || !strings.Contains(stderr, "cancelled") {
		t.Errorf("pats -revoke answered no: exit %d\n%s", code, stderr)
	}
	_, stderr = c.must(1, "pats", "-revoke", "999", "-auto-approve")
	if !strings.Contains(stderr, "lists no fine-grained PAT grant 999") {
		t.Errorf("pats -revoke of an unknown id: %s", stderr)
	}
	if stdout, _ := c.must(0, "pats", "-json", "-org", "raxx-app"); !strings.Contains(stdout, `"id": 25383`) {
		t.Errorf("PAT 25383 is gone after refused revocations")
	}
	if code, stdout, stderr := c.runIO(true, "yes\n", "pats", "-revoke", "25383"); code != 0 || !strings.Contains(stdout, "Revoked fine-grained PAT grant 25383 of raxx-app") {
		t.Errorf("pats -revoke answered yes: exit %d\n%s\n%s", code, stdout, stderr)
	}
	stdout, _ = c.must(0, "pats", "-json", "-org", "raxx-app")
	var doc struct {
		PATs []struct {
			ID       int64
			Findings []string
		}
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	for _, p := range doc.PATs {
		if p.ID == 25383 {
			t.Errorf("PAT 25383 still listed after -revoke")
		}
	}
	if len(doc.PATs) != 3 {
		t.Errorf("%d PATs after revoking one of 4", len(doc.PATs))
	}
}

// TestSavedPlanAppliedAfterTheTTLMintsNothing: a plan that refreshes a
// token, applied after the handoff's TTL ended, is refused before any
// write; verify reports the expired, still active handoff until an apply
// revokes it.
func TestSavedPlanAppliedAfterTheTTLMintsNothing(t *testing.T) {
	c := newGitOps(t)
	c.must(0, "apply", "-auto-approve")
	c.s.Kit.Clock.Advance(23*time.Hour + 55*time.Minute)
	planFile := filepath.Join(t.TempDir(), "refresh.plan")
	stdout, _ := c.must(0, "plan", "-out", planFile)
	if !strings.Contains(stdout, "to refresh") {
		t.Fatalf("want a refresh planned near the end of the TTL:\n%s", stdout)
	}
	c.s.Kit.Clock.Advance(10 * time.Minute)
	before, tokens := c.writes(), len(c.s.GitHub.Tokens())
	_, stderr := c.must(1, "apply", planFile)
	if !strings.Contains(stderr, "expired at") || c.writes() != before || len(c.s.GitHub.Tokens()) != tokens {
		t.Errorf("a stale refresh after the TTL: %d writes, %d tokens minted\n%s", c.writes()-before, len(c.s.GitHub.Tokens())-tokens, stderr)
	}
	stdout, _ = c.must(1, "verify")
	if !strings.Contains(stdout, "expired at") {
		t.Errorf("verify does not report the expired, active handoff:\n%s", stdout)
	}
	stdout, _ = c.must(0, "apply", "-auto-approve")
	if !strings.Contains(stdout, "2 revoked") {
		t.Errorf("apply after the TTL:\n%s", stdout)
	}
	c.must(0, "verify")
}

// TestRevokeIsNotBlockedByAnotherInvalidSpec: the kill switch works while a
// pull request left an invalid spec on main; it never reads that spec. An
// invalid handoff.hcl still stops it.
func TestRevokeIsNotBlockedByAnotherInvalidSpec(t *testing.T) {
	c := newGitOps(t)
	c.must(0, "apply", "-auto-approve")
	bad := filepath.Join(c.dir, "specs", "broken-task-20260621.hcl")
	if err := os.WriteFile(bad, []byte("handoff \"broken-task-20260621\" {\n  ttl = \"48h\"\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c.must(1, "apply", "-auto-approve") // everything else still refuses
	stdout, stderr := c.must(0, "revoke", "-reason", "leak", iapSlug)
	if !strings.Contains(stdout, "Revoked every surface of "+iapSlug) || strings.Contains(stderr, "broken-task") {
		t.Errorf("revoke beside an invalid spec:\n%s\n%s", stdout, stderr)
	}
	c.must(1, "gate", iapSlug)
	cfg := filepath.Join(c.dir, "handoff.hcl")
	b, _ := os.ReadFile(cfg)
	if err := os.WriteFile(cfg, append(b, []byte("\nbogus {}\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr = c.must(1, "revoke", stripeSlug)
	if !strings.Contains(stderr, "nothing remote was touched") {
		t.Errorf("revoke with a broken handoff.hcl: %s", stderr)
	}
}
