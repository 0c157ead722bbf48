package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/raxx-app/handoff/internal/devserver/devkit"
	"github.com/raxx-app/handoff/internal/devserver/githubsrv"
)

// alertIssues are the alert issues of the dev repository.
func (c *gitops) alertIssues() []githubsrv.IssueInfo {
	var out []githubsrv.IssueInfo
	for _, is := range c.s.GitHub.Issues("raxx-app", "TradeMasterAPI") {
		for _, l := range is.Labels {
			if l == "handoff-alert" {
				out = append(out, is)
			}
		}
	}
	return out
}

// issueTexts are every alert issue's title, body and comments, to scan.
func (c *gitops) issueTexts() []string {
	var out []string
	for _, is := range c.alertIssues() {
		out = append(out, is.Title, is.Body)
		for _, cm := range c.s.GitHub.Comments("raxx-app", "TradeMasterAPI", is.Number) {
			out = append(out, cm.Body)
		}
	}
	return out
}

// TestVerifyAlertOpensUpdatesAndClosesOneIssue: a scope violation opens one
// issue; reruns update it, never a second one; a change is commented; a
// clean run closes it as completed.
func TestVerifyAlertOpensUpdatesAndClosesOneIssue(t *testing.T) {
	c := newGitOps(t)
	c.env["GITHUB_SERVER_URL"] = "https://github.com"
	c.env["GITHUB_RUN_ID"] = "777"
	c.must(0, "apply", "-auto-approve")
	inf, err := c.provisioner()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	stray, err := inf.CreateIdentity(ctx, "infisical-handoff-"+iapSlug+"-20260622", "no-access")
	if err != nil {
		t.Fatal(err)
	}

	_, stderr := c.must(exitScopeViolation, "verify", "-alert")
	issues := c.alertIssues()
	if len(issues) != 1 || issues[0].State != "open" || issues[0].Title != "handoff: scope violation on "+iapSlug ||
		!strings.Contains(issues[0].Body, `<!-- handoff-alert key="scope/`+iapSlug+`"`) ||
		!strings.Contains(issues[0].Body, "not recorded by its manifest") || !strings.Contains(issues[0].Body, "actions/runs/777") ||
		issues[0].User != "github-actions[bot]" || !strings.Contains(stderr, "opened alert issue") {
		t.Fatalf("after the first run: %+v\n%s", issues, stderr)
	}
	number := issues[0].Number

	c.s.Kit.Clock.Advance(15 * time.Minute)
	_, stderr = c.must(exitScopeViolation, "verify", "-alert")
	if got := c.alertIssues(); len(got) != 1 || !strings.Contains(stderr, "updated alert issue") {
		t.Fatalf("a rerun opened another issue: %+v\n%s", got, stderr)
	}
	if n := len(c.s.GitHub.Comments("raxx-app", "TradeMasterAPI", number)); n != 0 {
		t.Errorf("an unchanged violation was commented %d times", n)
	}

	second, err := inf.CreateIdentity(ctx, "infisical-handoff-"+iapSlug+"-20260623", "no-access")
	if err != nil {
		t.Fatal(err)
	}
	_, stderr = c.must(exitScopeViolation, "verify", "-alert")
	comments := c.s.GitHub.Comments("raxx-app", "TradeMasterAPI", number)
	if got := c.alertIssues(); len(got) != 1 || len(comments) != 1 || !strings.Contains(comments[0].Body, "20260623") ||
		!strings.Contains(stderr, "changed alert issue") {
		t.Fatalf("a changed violation: %d issues, comments %+v\n%s", len(got), comments, stderr)
	}

	for _, id := range []string{stray.ID, second.ID} {
		if err := inf.DeleteIdentity(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	_, stderr = c.must(0, "verify", "-alert")
	got := c.alertIssues()
	if len(got) != 1 || got[0].State != "closed" || got[0].StateReason != "completed" || !strings.Contains(stderr, "closed alert issue") {
		t.Fatalf("a clean run: %+v\n%s", got, stderr)
	}
	// The next clean run has nothing to do.
	_, stderr = c.must(0, "verify", "-alert")
	if strings.Contains(stderr, "alert issue") || len(c.alertIssues()) != 1 {
		t.Errorf("a second clean run: %s", stderr)
	}
	c.outputs = append(c.outputs, c.issueTexts()...)
}

// TestVerifyAlertOnAFailingVendor: a vendor answering 5xx is asked again on
// the dev clock until -vendor-failure-after has passed, then one issue is
// opened; the next run updates it at once (the first failure is remembered
// in the issue), and a run that reaches the vendor closes it.
func TestVerifyAlertOnAFailingVendor(t *testing.T) {
	c := newGitOps(t)
	c.must(0, "apply", "-auto-approve")
	// 501 is the one 5xx the HTTP layer does not retry with backoff on the
	// wall clock: the test stays fast; the alert treats every 5xx alike.
	c.s.Kit.Faults.Add(devkit.Fault{Route: "GET /api/v1/identities*", Status: http.StatusNotImplemented})

	start := c.s.Kit.Clock.Now()
	_, stderr := c.must(1, "verify", "-alert", "-vendor-failure-after", "5m", "-probe-every", "1m")
	waited := c.s.Kit.Clock.Now().Sub(start)
	issues := c.alertIssues()
	if len(issues) != 1 || issues[0].Title != "handoff: infisical is failing" || !strings.Contains(issues[0].Body, "501") ||
		!strings.Contains(issues[0].Body, `first-seen="`+start.Format(time.RFC3339)+`"`) {
		t.Fatalf("after 5 minutes of 501: %+v\n%s", issues, stderr)
	}
	if waited < 5*time.Minute || strings.Count(stderr, "asking again in 1m0s") != 5 {
		t.Errorf("waited %s on the dev clock:\n%s", waited, stderr)
	}

	c.s.Kit.Clock.Advance(15 * time.Minute)
	_, stderr = c.must(1, "verify", "-alert", "-vendor-failure-after", "5m", "-probe-every", "1m")
	if got := c.alertIssues(); len(got) != 1 || strings.Contains(stderr, "asking again") || !strings.Contains(stderr, "updated alert issue") ||
		len(c.s.GitHub.Comments("raxx-app", "TradeMasterAPI", got[0].Number)) != 0 ||
		!strings.Contains(got[0].Body, `first-seen="`+start.Format(time.RFC3339)+`"`) {
		t.Fatalf("the second run must update at once, keeping the first failure: %+v\n%s", got, stderr)
	}

	c.s.Kit.Faults.Clear()
	_, stderr = c.must(0, "verify", "-alert")
	if got := c.alertIssues(); len(got) != 1 || got[0].State != "closed" {
		t.Fatalf("the vendor answers again: %+v\n%s", got, stderr)
	}
	c.outputs = append(c.outputs, c.issueTexts()...)
}

// TestVerifyAlertRecoversBeforeTheThreshold: a vendor that answers again
// within the threshold wakes nobody.
func TestVerifyAlertRecoversBeforeTheThreshold(t *testing.T) {
	c := newGitOps(t)
	c.must(0, "apply", "-auto-approve")
	// One failed request (501: not retried by the HTTP layer), then the
	// vendor answers again.
	c.s.Kit.Faults.Add(devkit.Fault{Route: "GET /api/v1/identities*", Status: http.StatusNotImplemented, Count: 1})
	_, stderr := c.must(0, "verify", "-alert", "-vendor-failure-after", "5m", "-probe-every", "1m")
	if len(c.alertIssues()) != 0 || !strings.Contains(stderr, "recovered within 5m0s: no alert") {
		t.Fatalf("a short failure: %+v\n%s", c.alertIssues(), stderr)
	}
}

// TestVerifyAlertWithoutIssuesWrite: a token without issues: write is
// refused with a message that says which permission to give.
func TestVerifyAlertWithoutIssuesWrite(t *testing.T) {
	c := newGitOps(t)
	c.must(0, "apply", "-auto-approve")
	c.env["GITHUB_TOKEN"] = mintRestricted(t, c, map[string]string{"metadata": "read", "contents": "read"})
	c.secrets[c.env["GITHUB_TOKEN"]] = true
	stdout, stderr := c.must(1, "verify", "-alert")
	if !strings.Contains(stderr, "403") || !strings.Contains(stderr, "permissions: issues: write") ||
		!strings.Contains(stderr, "the alert issues could not be written") {
		t.Fatalf("refused: %s", stderr)
	}
	// Verify itself ran and said what it found.
	if !strings.Contains(stdout, iapSlug+": verified") {
		t.Errorf("verify's findings are missing when the alert fails:\n%s", stdout)
	}
	delete(c.env, "GITHUB_TOKEN")
	_, stderr = c.must(1, "verify", "-alert")
	if !strings.Contains(stderr, "GITHUB_TOKEN is not set") {
		t.Fatalf("no token: %s", stderr)
	}
}

// mintRestricted mints an installation token of the dev App narrowed to
// perms on the dev repository, as a workflow token without issues: write.
func mintRestricted(t *testing.T, c *gitops, perms map[string]string) string {
	t.Helper()
	key, err := jwt.ParseRSAPrivateKeyFromPEM(c.s.GitHub.AppPrivateKeyPEM())
	if err != nil {
		t.Fatal(err)
	}
	now := c.s.Kit.Clock.Now().Unix()
	signed, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"iat": now - 60, "exp": now + 540, "iss": c.s.GitHub.AppID()}).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"repositories": []string{"TradeMasterAPI"}, "permissions": perms})
	req, _ := http.NewRequest("POST", c.s.GitHubURL+"/app/installations/"+strconv.FormatInt(githubsrv.DefaultInstallationID, 10)+"/access_tokens", strings.NewReader(string(body)))
	req.Header.Set("Authorization", "Bearer "+signed)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var tok struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&tok); err != nil || tok.Token == "" {
		t.Fatalf("mint: %d %v", res.StatusCode, err)
	}
	return tok.Token
}
