package policy_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/raxx-app/handoff/internal/policy"
	"github.com/raxx-app/handoff/internal/spec"
	_ "github.com/raxx-app/handoff/internal/surfaces" // the spec language and the surfaces' rules
	ghsurface "github.com/raxx-app/handoff/internal/surfaces/github"
	infsurface "github.com/raxx-app/handoff/internal/surfaces/infisical"
)

// load parses and checks a repository as handoff validate does.
func load(t testing.TB, dir string) (*spec.Repo, hcl.Diagnostics) {
	t.Helper()
	repo, diags := spec.LoadDir(dir)
	return repo, append(diags, policy.Check(repo)...)
}

// githubPolicy is the github surface's part of p.
func githubPolicy(t testing.TB, p *policy.Policy) *ghsurface.Policy {
	t.Helper()
	g, ok := p.Surface(ghsurface.Name).(*ghsurface.Policy)
	if !ok {
		t.Fatalf("policy of github = %T", p.Surface(ghsurface.Name))
	}
	return g
}

// vaultPolicy is the infisical surface's part of p.
func vaultPolicy(t testing.TB, p *policy.Policy) *infsurface.Policy {
	t.Helper()
	v, ok := p.Surface(infsurface.Name).(*infsurface.Policy)
	if !ok {
		t.Fatalf("policy of infisical = %T", p.Surface(infsurface.Name))
	}
	return v
}

func TestShippedSpecsAreValid(t *testing.T) {
	repo, diags := load(t, "../..")
	if len(diags) > 0 {
		t.Fatalf("the repository's own specs are invalid: %v", diags)
	}
	if len(repo.Handoffs) != 2 {
		t.Errorf("found %d handoffs in specs/, want 2", len(repo.Handoffs))
	}
}

func TestValidRepository(t *testing.T) {
	repo, diags := load(t, "testdata/valid")
	if len(diags) > 0 {
		t.Fatalf("diagnostics on a valid repository: %v", diags)
	}
	if len(repo.Handoffs) != 2 {
		t.Errorf("found %d handoffs, want 2", len(repo.Handoffs))
	}
}

// TestDefaultPolicy: the default policy is the effective policy of a
// repository without handoff.hcl.
func TestDefaultPolicy(t *testing.T) {
	p, diags := policy.Effective(nil)
	if len(diags) > 0 {
		t.Fatalf("default policy: %v", diags)
	}
	if p.MaxTTL.Value != 24*time.Hour {
		t.Errorf("default max_ttl = %v", p.MaxTTL.Value)
	}
	want := map[string]string{"contents": "write", "pull_requests": "write", "issues": "write", "metadata": "read"}
	gp := githubPolicy(t, p)
	if got := gp.Permissions.Map(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("default ceiling = %v, want %v", got, want)
	}
	if gp.Permissions.Range.Filename != policy.DefaultPolicyFile {
		t.Errorf("default ceiling's range names %q, want %q", gp.Permissions.Range.Filename, policy.DefaultPolicyFile)
	}
	vp := vaultPolicy(t, p)
	if !vp.Roots.Valid() || len(vp.Roots.Values) != 0 {
		t.Errorf("default vault_read_roots = %+v, want an empty list", vp.Roots)
	}
	if vp.Environments.Valid() || vp.EnvironmentsDefault {
		t.Errorf("default vault_read_environments = %+v, want unset (policy.Effective applies the infisical environment)", vp.Environments)
	}
	if p.MaxTTL.Range.Filename != policy.DefaultPolicyFile {
		t.Errorf("default ranges name %q, want %q", p.MaxTTL.Range.Filename, policy.DefaultPolicyFile)
	}
}

func TestEffectiveOverridesFieldByField(t *testing.T) {
	tests := []struct {
		name      string
		policy    string
		maxTTL    time.Duration
		ttlFrom   string
		ceiling   string
		roots     string
		wantDiags int
	}{
		{"no policy block", "", 24 * time.Hour, policy.DefaultPolicyFile, "contents issues metadata pull_requests", "", 0},
		{"max_ttl only", `max_ttl = "2h"`, 2 * time.Hour, "handoff.hcl", "contents issues metadata pull_requests", "", 0},
		{"ceiling only", `github_permissions = { checks = "read" }`, 24 * time.Hour, policy.DefaultPolicyFile, "checks", "", 0},
		{"roots only", `vault_read_roots = ["/a", "/b/c"]`, 24 * time.Hour, policy.DefaultPolicyFile, "contents issues metadata pull_requests", "/a /b/c", 0},
		{"forbidden entries dropped", `github_permissions = { checks = "read", workflows = "write", organization_secrets = "read", contents = "admin", bogus = "read" }`,
			24 * time.Hour, policy.DefaultPolicyFile, "checks", "", 4},
		{"bad roots dropped", `vault_read_roots = ["/ok", "rel", "/x/*", "/MooseQuest/handoffs/a"]`, 24 * time.Hour, policy.DefaultPolicyFile, "contents issues metadata pull_requests", "/ok", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "infisical {\n  environment = \"e\"\n  handoff_root = \"/MooseQuest/handoffs\"\n}\n"
			if tt.policy != "" {
				src += "policy {\n  " + tt.policy + "\n}\n"
			}
			cfg, diags := spec.ParseConfig("handoff.hcl", []byte(src))
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			p, diags := policy.Effective(cfg)
			if len(diags) != tt.wantDiags {
				t.Errorf("%d diagnostics, want %d: %v", len(diags), tt.wantDiags, diags)
			}
			if p.MaxTTL.Value != tt.maxTTL || p.MaxTTL.Range.Filename != tt.ttlFrom {
				t.Errorf("max_ttl = %v from %s, want %v from %s", p.MaxTTL.Value, p.MaxTTL.Range.Filename, tt.maxTTL, tt.ttlFrom)
			}
			var names []string
			for _, e := range githubPolicy(t, p).Permissions.Entries {
				names = append(names, e.Key.Value)
			}
			if got := strings.Join(sorted(names), " "); got != tt.ceiling {
				t.Errorf("ceiling = %q, want %q", got, tt.ceiling)
			}
			if got := strings.Join(vaultPolicy(t, p).Roots.Strings(), " "); got != tt.roots {
				t.Errorf("roots = %q, want %q", got, tt.roots)
			}
		})
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestTTLCeiling(t *testing.T) {
	for _, tt := range []struct {
		max  spec.Duration
		want time.Duration
	}{
		{spec.Duration{}, policy.HardMaxTTL},
		{spec.Duration{Value: 8 * time.Hour, Range: hcl.Range{Filename: "x"}}, 8 * time.Hour},
		{spec.Duration{Value: 48 * time.Hour, Range: hcl.Range{Filename: "x"}}, policy.HardMaxTTL},
		{spec.Duration{Value: -time.Hour, Range: hcl.Range{Filename: "x"}}, policy.HardMaxTTL},
	} {
		p := &policy.Policy{MaxTTL: tt.max}
		if got := p.TTLCeiling(); got != tt.want {
			t.Errorf("TTLCeiling(%v) = %v, want %v", tt.max.Value, got, tt.want)
		}
	}
}

func TestValidateSlug(t *testing.T) {
	tests := map[string]bool{
		"iap-notif-handler-20260621": true,
		"abc":                        true,
		"a1-2b":                      true,
		strings.Repeat("a", 63):      true,
		"ab":                         false,
		strings.Repeat("a", 64):      false,
		"-abc":                       false,
		"abc-":                       false,
		"Abc":                        false,
		"a_bc":                       false,
		"a.bc":                       false,
		"a bc":                       false,
		"ábc":                        false,
		"":                           false,
	}
	for slug, ok := range tests {
		if err := policy.ValidateSlug(slug); (err == nil) != ok {
			t.Errorf("ValidateSlug(%q) = %v, want ok=%v", slug, err, ok)
		}
	}
}

func TestVaultPathProblem(t *testing.T) {
	tests := []struct {
		path     string
		wildcard bool
		want     string // summary, "" when fine
	}{
		{"/MooseQuest/queue/staging/APPLE_IAP_*", true, ""},
		{"/MooseQuest/queue/staging/*", true, ""},
		{"/MooseQuest/queue/staging", false, ""},
		{"/a/b.c-d_e", false, ""},
		{"", true, "Empty vault path"},
		{"a/b", true, "Relative vault path"},
		{"./a", true, "Relative vault path"},
		{"/a b", true, "Invalid character in vault path"},
		{"/a/%2e%2e/b", true, "Invalid character in vault path"},
		{`/a\b`, true, "Invalid character in vault path"},
		{"/", true, "Vault path is the root"},
		{"/*", true, "Vault path is the root"},
		{"/**", true, "Recursive wildcard in vault path"},
		{"/a//b", true, "Empty segment in vault path"},
		{"/a/b/", true, "Trailing slash in vault path"},
		{"/a/../b", true, "Path traversal in vault path"},
		{"/a/./b", true, "Path traversal in vault path"},
		{"/a/..", true, "Path traversal in vault path"},
		{"/a/*/b", true, "Wildcard before the last segment"},
		{"/a/b*c", true, "Wildcard not at the end"},
		{"/a/*b*", true, "Wildcard not at the end"},
		{"/a/b/**", true, "Recursive wildcard in vault path"},
		{"/a/b*", false, "Wildcard in vault root"},
	}
	for _, tt := range tests {
		sum, det := policy.VaultPathProblem(tt.path, tt.wildcard)
		if sum != tt.want {
			t.Errorf("VaultPathProblem(%q, %v) = %q, want %q", tt.path, tt.wildcard, sum, tt.want)
		}
		if sum != "" && det == "" {
			t.Errorf("VaultPathProblem(%q): no detail", tt.path)
		}
	}
}

// TestForbiddenGitHubPermission: the permissions no handoff may ever hold
// (H1), whatever the ceiling, as the github surface reports them (for
// verify and handoff pats) and as policy.Check refuses them in a spec, and
// in the policy ceiling itself.
func TestForbiddenGitHubPermission(t *testing.T) {
	for name, forbidden := range map[string]bool{
		"administration":                      true,
		"secrets":                             true,
		"dependabot_secrets":                  true,
		"workflows":                           true,
		"members":                             true,
		"organization_administration":         true,
		"organization_secrets":                true,
		"organization_self_hosted_runners":    true,
		"custom_properties_for_organizations": true,
		"enterprise_custom_properties_for_organizations": true,
		"email_addresses": true,
		"gpg_keys":        true,
		"contents":        false,
		"pull_requests":   false,
		"issues":          false,
		"metadata":        false,
		"checks":          false,
		"actions":         false,
	} {
		why, got := ghsurface.ForbiddenPermission(name)
		if got != forbidden || (got && why == "") {
			t.Errorf("ForbiddenPermission(%q) = %q, %v; want forbidden=%v with a reason", name, why, got, forbidden)
		}

		// Through policy.Check: asked for by a spec, with a ceiling that
		// lists every permission that is not forbidden.
		dir := t.TempDir()
		ceiling := `{ contents = "write", pull_requests = "write", issues = "write", metadata = "read", checks = "read", actions = "read" }`
		writeRepo(t, dir, map[string]string{
			"handoff.hcl": "infisical {\n  environment  = \"staging\"\n  handoff_root = \"/MooseQuest/handoffs\"\n}\n" +
				"github {\n  app_id = 1\n}\npolicy {\n  github_permissions = " + ceiling + "\n  github_owners = [\"raxx-app\"]\n}\n",
			"specs/demo-task.hcl": "handoff \"demo-task\" {\n  card        = 1\n  ttl         = \"1h\"\n  approved_by = \"ops\"\n" +
				"  github {\n    repository  = \"raxx-app/TradeMasterAPI\"\n    permissions = { " + name + " = \"read\" }\n  }\n}\n",
		})
		_, diags := load(t, dir)
		switch {
		case forbidden && (len(diags) != 1 || diags[0].Summary != fmt.Sprintf("Forbidden GitHub permission %q", name) ||
			!strings.Contains(diags[0].Detail, "(H1)") || diags[0].Subject.Start.Line != 7):
			t.Errorf("spec asking for %s: got [%s], want one \"Forbidden GitHub permission\" at line 7", name, summaries(diags))
		case !forbidden && len(diags) != 0:
			t.Errorf("spec asking for %s = read under a ceiling that allows it: %s", name, diags.Error())
		}

		// In the policy ceiling, it is refused and dropped.
		cfg, d := spec.ParseConfig("handoff.hcl", []byte("policy {\n  github_permissions = { "+name+" = \"read\" }\n}\n"))
		if d.HasErrors() {
			t.Fatal(d)
		}
		p, d := policy.Effective(cfg)
		kept := len(githubPolicy(t, p).Permissions.Entries) == 1
		if forbidden && (kept || len(d) != 1 || d[0].Summary != fmt.Sprintf("Forbidden GitHub permission %q in the policy ceiling", name)) {
			t.Errorf("ceiling holding %s: kept %v, diagnostics [%s]", name, kept, summaries(d))
		}
		if !forbidden && (!kept || len(d) != 0) {
			t.Errorf("ceiling holding %s: kept %v, diagnostics [%s]", name, kept, summaries(d))
		}
	}
}

// TestSessionPolicyProblem: an aws block's session_policy must be a JSON
// IAM policy without blanket grants (H1).
func TestSessionPolicyProblem(t *testing.T) {
	tests := []struct {
		doc, want string
	}{
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`, ""},
		{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["s3:GetObject"],"Resource":"*"}}`, ""},
		{`{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`, ""},
		{`not json`, "Invalid AWS session policy"},
		{`{"Version":"2012-10-17"}`, "Invalid AWS session policy"},
		{`{"Statement":"x"}`, "Invalid AWS session policy"},
		{`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, "Blanket AWS session policy"},
		{`{"Statement":[{"Effect":"Allow","Action":["s3:GetObject","iam:*"],"Resource":"*"}]}`, "Blanket AWS session policy"},
		{`{"Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}`, "Blanket AWS session policy"},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		writeRepo(t, dir, map[string]string{
			"handoff.hcl": "infisical {\n  environment  = \"staging\"\n  handoff_root = \"/MooseQuest/handoffs\"\n}\n" +
				"policy {\n  aws_role_arns = [\"arn:aws:iam::123456789012:role/x\"]\n}\n",
			"specs/demo-task.hcl": "handoff \"demo-task\" {\n  card        = 1\n  ttl         = \"1h\"\n  approved_by = \"ops\"\n" +
				"  aws {\n    role_arn       = \"arn:aws:iam::123456789012:role/x\"\n    session_policy = " + fmt.Sprintf("%q", tt.doc) + "\n  }\n}\n",
		})
		_, diags := load(t, dir)
		got := summaries(diags)
		if got != tt.want {
			t.Errorf("session_policy %s: got [%s], want [%s]", tt.doc, got, tt.want)
		}
		if len(diags) == 1 && (diags[0].Detail == "" || diags[0].Subject.Start.Line != 7) {
			t.Errorf("session_policy %s: %s at %v, want a detail at line 7", tt.doc, diags[0].Detail, diags[0].Subject)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		24 * time.Hour:                       "24h",
		time.Hour:                            "1h",
		90 * time.Minute:                     "1h30m",
		15 * time.Minute:                     "15m",
		10 * time.Second:                     "10s",
		time.Hour + 10*time.Second:           "1h0m10s",
		2*time.Minute + 500*time.Millisecond: "2m0.5s",
	} {
		if got := policy.FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestEveryDiagnosticHasLocationAndAdvice(t *testing.T) {
	// A repository that breaks many rules at once: every diagnostic must
	// name a place and say what to do.
	dir := t.TempDir()
	writeRepo(t, dir, map[string]string{
		"handoff.hcl": `infisical {
  site_url     = "ftp://x"
  environment  = "st ag"
  handoff_root = "/MooseQuest/handoffs"
}
github {
  api_url = "https://user:pw@example.com"
  app_id  = -1
}
policy {
  max_ttl            = "0s"
  github_permissions = { contents = "write", secrets = "read", metadata = "full" }
  vault_read_roots   = ["/MooseQuest/queue/staging", "/MooseQuest/handoffs/x"]
}
`,
		"specs/many-problems.hcl": `handoff "many-problems" {
  card        = 1
  ttl         = "2h"
  approved_by = "ops"
  github {
    repository  = "a/b/c"
    permissions = { contents = "write", administration = "read", pull_requests = "write" }
  }
  infisical {
    environment = ""
    read        = ["/MooseQuest/queue/staging/X", "/etc/passwd"]
  }
  mcp {
    allow   = ["a b", "tool_x"]
    exclude = ["tool_x", "b c"]
  }
  stripe {
    permissions = { "Charges" = "read", refunds = "delete" }
  }
  cloudflare {
    zones             = ["*.example.com", ""]
    permission_groups = ["*"]
    ttl               = "-5m"
  }
  aws {
    role_arn       = "arn:aws:iam::1:role/x"
    session_policy = "{}"
    duration       = "5m"
  }
  heroku {
    app   = "X"
    scope = ["admin"]
    ttl   = "3h"
  }
  apple_iap {
    environment = "prod"
    bundle_id   = "app"
  }
  alpaca {
    mode = "real"
  }
  live_approval {
    by     = ""
    reason = "x"
  }
}
`,
	})
	_, diags := load(t, dir)
	if len(diags) < 30 {
		t.Errorf("only %d diagnostics; expected every rule to fire", len(diags))
	}
	for _, d := range diags {
		if d.Subject == nil || d.Subject.Start.Line < 1 {
			t.Errorf("%q has no location", d.Summary)
		}
		if strings.TrimSpace(d.Detail) == "" {
			t.Errorf("%q has no detail", d.Summary)
		}
	}
}
