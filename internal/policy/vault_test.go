package policy_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/raxx-app/handoff/internal/policy"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/surface"
	infsurface "github.com/raxx-app/handoff/internal/surfaces/infisical"
)

// vaultRepo checks a one-spec repository: handoff.hcl with the given
// infisical environment and policy body, and specs/demo-task.hcl with an
// infisical block holding infBody.
func vaultRepo(t *testing.T, env, policyBody, infBody string) hcl.Diagnostics {
	t.Helper()
	_, diags := vaultRepoSpec(t, env, policyBody, infBody)
	return diags
}

// vaultRepoSpec is vaultRepo, returning the parsed spec too (nil when it
// did not parse).
func vaultRepoSpec(t *testing.T, env, policyBody, infBody string) (*spec.Handoff, hcl.Diagnostics) {
	t.Helper()
	dir := t.TempDir()
	cfg := fmt.Sprintf("infisical {\n  environment  = %q\n  handoff_root = \"/MooseQuest/handoffs\"\n}\n", env)
	if policyBody != "" {
		cfg += "policy {\n" + policyBody + "\n}\n"
	}
	writeRepo(t, dir, map[string]string{
		"handoff.hcl": cfg,
		"specs/demo-task.hcl": "handoff \"demo-task\" {\n  card        = 1\n  ttl         = \"1h\"\n  approved_by = \"ops\"\n\n" +
			"  infisical {\n" + infBody + "\n  }\n}\n",
	})
	repo, diags := load(t, dir)
	return repo.Handoff("demo-task"), diags
}

func summaries(diags hcl.Diagnostics) string {
	var s []string
	for _, d := range diags {
		s = append(s, d.Summary)
	}
	return strings.Join(s, "; ")
}

// TestVaultReadStrictlyBelow: a read path must lie strictly below an allowed
// root or inside the handoff's own folder. A path equal to a folder would be
// read by Infisical as a secret of that name in the parent folder, outside
// the root (ReadRules).
func TestVaultReadStrictlyBelow(t *testing.T) {
	const roots = `  vault_read_roots = ["/MooseQuest/queue/staging", "/Shared/public"]`
	tests := []struct {
		read string
		want string // summary; "" when valid
		do   string // substring of the detail
	}{
		{"/MooseQuest/queue/staging/X", "", ""},
		{"/MooseQuest/queue/staging/STRIPE_*", "", ""},
		{"/MooseQuest/queue/staging/*", "", ""},
		{"/MooseQuest/queue/staging/sub/X", "", ""},
		{"/Shared/public/README", "", ""},
		{"/MooseQuest/handoffs/demo-task/NOTES", "", ""},
		{"/MooseQuest/handoffs/demo-task/*", "", ""},

		{"/MooseQuest/queue/staging", "Vault path equals a read root",
			`write "/MooseQuest/queue/staging/*"; to read one secret write "/MooseQuest/queue/staging/NAME"`},
		{"/Shared/public", "Vault path equals a read root", `"/Shared/public/NAME"`},
		{"/MooseQuest/handoffs/demo-task", "Vault path equals the handoff's own folder",
			`write "/MooseQuest/handoffs/demo-task/NAME"`},

		{"/MooseQuest/handoffs/other-task/X", "Vault path in another handoff's folder", "Each handoff reads only its own folder"},
		{"/MooseQuest/handoffs/*", "Vault path in another handoff's folder", "Each handoff reads only its own folder"},
		{"/MooseQuest/handoffs", "Vault path in another handoff's folder", "Each handoff reads only its own folder"},
		{"/MooseQuest/handoffs/demo-task*", "Vault path in another handoff's folder", "Each handoff reads only its own folder"},
		{"/MooseQuest/queue/staging*", "Vault wildcard escapes its root", "Put the '*' inside"},
		{"/MooseQuest/queue", "Vault path outside the allowed roots", "add a root"},
	}
	for _, tt := range tests {
		t.Run(tt.read, func(t *testing.T) {
			diags := vaultRepo(t, "staging", roots, fmt.Sprintf("    read = [%q]", tt.read))
			if tt.want == "" {
				if len(diags) > 0 {
					t.Fatalf("want valid, got %s", diags.Error())
				}
				return
			}
			if len(diags) != 1 || diags[0].Summary != tt.want {
				t.Fatalf("got [%s], want [%s]", summaries(diags), tt.want)
			}
			d := diags[0]
			if !strings.Contains(d.Detail, tt.do) {
				t.Errorf("detail %q lacks %q", d.Detail, tt.do)
			}
			if d.Subject == nil || d.Subject.Filename == "" || !strings.HasSuffix(d.Subject.Filename, "demo-task.hcl") || d.Subject.Start.Line != 7 || d.Subject.Start.Column != 13 {
				t.Errorf("subject %v, want specs/demo-task.hcl:7:13", d.Subject)
			}
		})
	}
}

// TestVaultReadOtherHandoffWhateverTheRoots: reading under handoff_root
// outside the handoff's own folder is refused even when the policy given to
// the check lists handoff_root among its roots (policy.Effective drops such a root
// with an error, but the read check must not depend on it). The check is
// the infisical surface's, given such a policy directly.
func TestVaultReadOtherHandoffWhateverTheRoots(t *testing.T) {
	rng := hcl.Range{Filename: "specs/demo-task.hcl", Start: hcl.Pos{Line: 7, Column: 13, Byte: 1}, End: hcl.Pos{Line: 7, Column: 20, Byte: 8}}
	str := func(s string) spec.String { return spec.String{Value: s, Range: rng} }
	s := infsurface.New(nil)
	for _, roots := range [][]string{{"/MooseQuest/handoffs"}, {"/MooseQuest"}, {"/MooseQuest/handoffs/other-task"}} {
		p := &infsurface.Policy{Roots: spec.StringList{Range: rng}}
		for _, r := range roots {
			p.Roots.Values = append(p.Roots.Values, str(r))
		}
		h := &spec.Handoff{Slug: str("demo-task"), Filename: "specs/demo-task.hcl"}
		for _, read := range []string{"/MooseQuest/handoffs/other-task/X", "/MooseQuest/handoffs/*", "/MooseQuest/handoffs/X", "/MooseQuest/handoffs/demo-task"} {
			b := &infsurface.Block{DefRange: rng, Read: spec.StringList{Values: []spec.String{str(read)}, Range: rng}}
			h.SetBlock(infsurface.Name, b)
			c := &surface.Check{Policy: p, HandoffRoot: "/MooseQuest/handoffs"}
			s.Check(c, h, b)
			if d := c.Diagnostics(); len(d) != 1 || d[0].Severity != hcl.DiagError {
				t.Errorf("roots %v, read %q: got [%s], want one error", roots, read, summaries(d))
			}
		}
	}
}

// TestAcceptedReadPathsStayInTheirRoot: for every read path the policy
// accepts, each rule the infisical surface grants for it (infsurface.Rules,
// the privilege apply creates) reads only in the root (or own folder) the
// path was accepted under. This ties the validator to how the privilege is
// actually built.
func TestAcceptedReadPathsStayInTheirRoot(t *testing.T) {
	roots := []string{"/MooseQuest/queue/staging", "/Shared/public"}
	own := "/MooseQuest/handoffs/demo-task"
	var candidates []string
	for _, base := range append(append([]string{}, roots...), own, "/MooseQuest/handoffs", "/MooseQuest/queue", "/Shared") {
		for _, suffix := range []string{"", "*", "/*", "/X", "/X*", "/sub/X", "/sub", "/sub/*"} {
			candidates = append(candidates, base+suffix)
		}
	}
	policyBody := `  vault_read_roots = ["/MooseQuest/queue/staging", "/Shared/public"]`
	accepted := 0
	for _, read := range candidates {
		h, diags := vaultRepoSpec(t, "staging", policyBody, fmt.Sprintf("    read = [%q]", read))
		if diags.HasErrors() {
			continue
		}
		accepted++
		rules := infsurface.Rules(&surface.Request{Slug: "demo-task", Spec: h, Folder: own, Environment: "staging"})
		// The own folder's rule, then the read path's.
		if len(rules) != 2 || rules[0].SecretPath.Value != own+"/**" {
			t.Fatalf("Rules(read %q) = %v", read, rules)
		}
		r := rules[1]
		folder := r.SecretPath.Value
		inside := false
		for _, root := range append(append([]string{}, roots...), own) {
			if folder == root || strings.HasPrefix(folder, root+"/") {
				inside = true
			}
		}
		if !inside || r.SecretPath.Op != "$eq" || r.Environment != "staging" {
			t.Errorf("accepted %q reads %s, outside every allowed folder", read, r)
		}
	}
	if accepted == 0 {
		t.Fatal("no candidate accepted: the test proves nothing")
	}
}

// TestVaultReadEnvironments: a spec reads only in an environment of
// vault_read_environments; unset, that is the environment of handoff.hcl's
// infisical block.
func TestVaultReadEnvironments(t *testing.T) {
	const roots = `  vault_read_roots = ["/MooseQuest/queue/staging"]`
	tests := []struct {
		name      string
		configEnv string
		policy    string
		specEnv   string // "" = omitted
		want      string
		at        string // line:col of the diagnostic
		do        string
	}{
		{"default, same environment", "staging", roots, `"staging"`, "", "", ""},
		{"default, omitted", "staging", roots, "", "", "", ""},
		{"default, other environment", "staging", roots, `"prod"`, "Vault environment not allowed", "7:19",
			`add "prod" to vault_read_environments in the policy block of handoff.hcl`},
		{"listed", "prod", roots + "\n  vault_read_environments = [\"staging\"]", `"staging"`, "", "", ""},
		{"listed, several", "prod", roots + "\n  vault_read_environments = [\"staging\", \"dev\"]", `"dev"`, "", "", ""},
		{"not listed", "prod", roots + "\n  vault_read_environments = [\"staging\"]", `"prod"`, "Vault environment not allowed", "7:19",
			`add "prod" to vault_read_environments`},
		{"omitted, folder environment not listed", "prod", roots + "\n  vault_read_environments = [\"staging\"]", "", "Vault environment not allowed", "6:3",
			`environment = "staging"`},
		{"empty list", "staging", roots + "\n  vault_read_environments = []", `"staging"`, "Vault environment not allowed", "7:19",
			`add "staging" to vault_read_environments`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := "    read = [\"/MooseQuest/queue/staging/X\"]"
			if tt.specEnv != "" {
				body = "    environment = " + tt.specEnv + "\n" + body
			}
			diags := vaultRepo(t, tt.configEnv, tt.policy, body)
			if tt.want == "" {
				if len(diags) > 0 {
					t.Fatalf("want valid, got %s", diags.Error())
				}
				return
			}
			if len(diags) != 1 || diags[0].Summary != tt.want {
				t.Fatalf("got [%s], want [%s]", summaries(diags), tt.want)
			}
			d := diags[0]
			if got := fmt.Sprintf("%d:%d", d.Subject.Start.Line, d.Subject.Start.Column); !strings.HasSuffix(d.Subject.Filename, "demo-task.hcl") || got != tt.at {
				t.Errorf("at %s:%s, want specs/demo-task.hcl:%s", d.Subject.Filename, got, tt.at)
			}
			if !strings.Contains(d.Detail, tt.do) {
				t.Errorf("detail %q lacks %q", d.Detail, tt.do)
			}
		})
	}
}

func TestEffectiveReadEnvironments(t *testing.T) {
	tests := []struct {
		name      string
		env       string // environment of the infisical block; "" = no block
		policy    string
		want      string
		wantDiags []string
	}{
		{"default is the infisical environment", "staging", "", "staging", nil},
		{"no infisical block, no default", "", "", "", nil},
		{"invalid infisical environment, no default", "st ag", "", "", nil},
		{"explicit", "prod", `vault_read_environments = ["staging", "dev"]`, "staging dev", nil},
		{"explicit empty", "prod", `vault_read_environments = []`, "", nil},
		{"invalid entries dropped", "prod", `vault_read_environments = ["staging", "st ag", ""]`, "staging",
			[]string{"Invalid Infisical environment", "Invalid Infisical environment"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var src string
			if tt.env != "" {
				src = fmt.Sprintf("infisical {\n  environment = %q\n  handoff_root = \"/MooseQuest/handoffs\"\n}\n", tt.env)
			}
			if tt.policy != "" {
				src += "policy {\n  " + tt.policy + "\n}\n"
			}
			cfg, diags := spec.ParseConfig("handoff.hcl", []byte(src))
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			p, diags := policy.Effective(cfg)
			if got := strings.Join(vaultPolicy(t, p).Environments.Strings(), " "); got != tt.want {
				t.Errorf("environments = %q, want %q", got, tt.want)
			}
			var got []string
			for _, d := range diags {
				got = append(got, d.Summary)
				if !strings.Contains(d.Detail, "vault_read_environments") {
					t.Errorf("detail %q does not name vault_read_environments", d.Detail)
				}
			}
			if strings.Join(got, "; ") != strings.Join(tt.wantDiags, "; ") {
				t.Errorf("diagnostics [%s], want [%s]", strings.Join(got, "; "), strings.Join(tt.wantDiags, "; "))
			}
		})
	}
}
