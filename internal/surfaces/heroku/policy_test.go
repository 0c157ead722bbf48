package heroku_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/raxx-app/handoff/internal/policy"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/surfaces/heroku"
)

// TestCanonicalUnchanged: the block's part of the digest is the JSON it
// was while package pending parsed it (app, scope, ttl; the ttl defaults
// to the handoff's), so that no existing handoff's digest changes.
func TestCanonicalUnchanged(t *testing.T) {
	tests := []struct {
		name, ttl, block, want string
	}{
		{"ttl defaults to the handoff's", "24h", `    app   = "moosequest-staging"
    scope = ["read"]`, `{"app":"moosequest-staging","scope":["read"],"ttl":"24h0m0s"}`},
		{"own ttl, written as minutes", "8h", `    app   = "moosequest-staging"
    scope = ["read-protected", "read"]
    ttl   = "90m"`, `{"app":"moosequest-staging","scope":["read-protected","read"],"ttl":"1h30m0s"}`},
		{"repeated scope kept as written", "8h", `    app   = "x-app"
    scope = ["read", "read"]`, `{"app":"x-app","scope":["read","read"],"ttl":"8h0m0s"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := heroku.Of(parse(t, tt.ttl, tt.block))
			got, err := json.Marshal(b.Canonical())
			if err != nil || string(got) != tt.want {
				t.Errorf("Canonical = %s (%v), want %s", got, err, tt.want)
			}
		})
	}
	b := heroku.Of(parse(t, "8h", "    app   = \"x-app\"\n    scope = [\"read\", \"write-protected\", \"read\"]"))
	if got := strings.Join(b.Scopes(), ","); got != "read,write-protected" {
		t.Errorf("Scopes = %s", got)
	}
	if b.TTL.Range != b.DefRange {
		t.Error("a defaulted ttl should point at the block header")
	}
}

// TestPolicy: every rule of the block and of heroku_apps, with its
// location and what to write instead.
func TestPolicy(t *testing.T) {
	const allow = `  heroku_apps = ["moosequest-staging", "trademaster-api"]`
	tests := []struct {
		name   string
		policy string
		block  string
		// want are "line:col summary | detail substring", in order, in
		// specs/<slug>.hcl unless the location names handoff.hcl.
		want []string
	}{
		{"allowed", allow, `    app   = "moosequest-staging"
    scope = ["read-protected"]
    ttl   = "2h"`, nil},
		{"every grantable scope", allow, `    app   = "trademaster-api"
    scope = ["identity", "read", "write", "read-protected", "write-protected"]`, nil},
		{"default policy allows no app", "", `    app   = "moosequest-staging"
    scope = ["read"]`, []string{`7:13 Heroku app "moosequest-staging" is not allowed by the policy | the default policy (heroku_apps at schema/default-policy.hcl:`}},
		{"app not listed", allow, `    app   = "moosequest-production"
    scope = ["read"]`, []string{`7:13 Heroku app "moosequest-production" is not allowed by the policy | such as heroku_apps = ["moosequest-staging", "trademaster-api", "moosequest-production"]`}},
		{"empty allowlist", `  heroku_apps = []`, `    app   = "moosequest-staging"
    scope = ["read"]`, []string{`7:13 Heroku app "moosequest-staging" is not allowed by the policy | handoff.hcl:10:17 is empty`}},
		{"invalid app name", allow, `    app   = "Moose_Quest"
    scope = ["read"]`, []string{`7:13 Invalid Heroku app name | such as app = "moosequest-staging"`}},
		{"app ending with a hyphen", allow, `    app   = "moosequest-"
    scope = ["read"]`, []string{`7:13 Invalid Heroku app name | 3 to 30 lower-case`}},
		{"global scope", allow, `    app   = "moosequest-staging"
    scope = ["read", "global"]`, []string{`8:22 Forbidden Heroku scope "global" | Use "read" or "write"`}},
		{"unknown scope", allow, `    app   = "moosequest-staging"
    scope = ["admin"]`, []string{`8:14 Unknown Heroku scope "admin" | such as scope = ["read"]`}},
		{"misspelt scope", allow, `    app   = "moosequest-staging"
    scope = ["write_protected"]`, []string{`8:14 Unknown Heroku scope "write_protected" | Did you mean "write-protected"?`}},
		{"empty scope", allow, `    app   = "moosequest-staging"
    scope = []`, []string{`8:13 Empty heroku scope | such as scope = ["read"]`}},
		{"blank scope", allow, `    app   = "moosequest-staging"
    scope = [""]`, []string{`8:14 Blank entry in heroku scope | such as scope = ["read"]`}},
		{"ttl over the handoff's", allow, `    app   = "moosequest-staging"
    scope = ["read"]
    ttl   = "9h"`, []string{`9:13 heroku ttl longer than the handoff's ttl | Shorten ttl to 8h or less`}},
		{"ttl not positive", allow, `    app   = "moosequest-staging"
    scope = ["read"]
    ttl   = "0s"`, []string{`9:13 Invalid heroku ttl | such as ttl = "1h"`}},
		{"invalid allowlist entry dropped", `  heroku_apps = ["moosequest-*", "moosequest-staging"]`, `    app   = "moosequest-staging"
    scope = ["read"]`, []string{`handoff.hcl:10:18 Invalid Heroku app in heroku_apps | such as "moosequest-staging"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := fmt.Sprintf("handoff %q {\n  card        = 7\n  ttl         = \"8h\"\n  approved_by = \"ops\"\n\n  heroku {\n%s\n  }\n}\n", slug, tt.block)
			repo := writeRepo(t, map[string]string{"handoff.hcl": configSrc(tt.policy), "specs/" + slug + ".hcl": spec})
			diags := policy.Check(repo)
			var got []string
			for _, d := range diags {
				file := ""
				if !strings.HasSuffix(d.Subject.Filename, slug+".hcl") {
					file = "handoff.hcl:"
				}
				got = append(got, fmt.Sprintf("%s%d:%d %s", file, d.Subject.Start.Line, d.Subject.Start.Column, d.Summary))
				if d.Severity != hcl.DiagError {
					t.Errorf("%s is not an error", d.Summary)
				}
				for _, snip := range snippets(d.Detail) {
					if err := parseSnippet(snip); err != nil {
						t.Errorf("%s suggests %q, which does not parse: %v", d.Summary, snip, err)
					}
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("diagnostics:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			for i, w := range tt.want {
				loc, do, _ := strings.Cut(w, " | ")
				if got[i] != loc {
					t.Errorf("diagnostic %d: %s, want %s", i, got[i], loc)
				}
				if !strings.Contains(strings.ReplaceAll(diags[i].Detail, repo.Dir+"/", ""), do) {
					t.Errorf("diagnostic %d detail %q does not contain %q", i, diags[i].Detail, do)
				}
			}
		})
	}
}

// snippets returns what follows each "such as" of detail when it is an
// argument (name = value) or a quoted value.
func snippets(detail string) []string {
	var out []string
	for rest := detail; ; {
		i := strings.Index(rest, "such as ")
		if i < 0 {
			return out
		}
		rest = rest[i+len("such as "):]
		if n := literalLen(rest); n > 0 {
			out = append(out, rest[:n])
			continue
		}
		name, after, ok := strings.Cut(rest, " = ")
		if ok && hclsyntax.ValidIdentifier(name) {
			if n := literalLen(after); n > 0 {
				out = append(out, name+" = "+after[:n])
			}
		}
	}
}

// literalLen is the length of the quoted string or bracketed list at the
// start of s (0 if none).
func literalLen(s string) int {
	depth, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
			if !quoted && depth == 0 {
				return i + 1
			}
		case quoted:
		case c == '[':
			depth++
		case c == ']':
			depth--
			if depth == 0 {
				return i + 1
			}
		case i == 0:
			return 0
		}
	}
	return 0
}

func parseSnippet(s string) error {
	if strings.Contains(s, " = ") {
		_, diags := hclsyntax.ParseConfig([]byte(s+"\n"), "snippet.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			return diags
		}
		return nil
	}
	_, diags := hclsyntax.ParseExpression([]byte(s), "snippet.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		return diags
	}
	return nil
}

// TestPolicyMerge: handoff.hcl's heroku_apps replaces the default's.
func TestPolicyMerge(t *testing.T) {
	s := heroku.New(nil)
	def := &heroku.PolicyBlock{Apps: spec.StringList{Range: hcl.Range{Filename: policy.DefaultPolicyFile}}}
	over := &heroku.PolicyBlock{Apps: spec.StringList{Range: hcl.Range{Filename: "handoff.hcl"}, Values: []spec.String{{Value: "a-app"}}}}
	for _, tt := range []struct {
		name      string
		def, over *heroku.PolicyBlock
		want      string
	}{
		{"default only", def, nil, ""},
		{"override", def, over, "a-app"},
		{"override unset", def, &heroku.PolicyBlock{}, ""},
	} {
		var o any
		if tt.over != nil {
			o = tt.over
		}
		ob, _ := o.(*heroku.PolicyBlock)
		p, diags := s.Policy(tt.def, blockOrNil(ob), nil)
		hp := p.(*heroku.Policy)
		if diags.HasErrors() || strings.Join(hp.Apps.Strings(), ",") != tt.want {
			t.Errorf("%s: %v %v", tt.name, hp.Apps.Strings(), diags)
		}
	}
}

func blockOrNil(b *heroku.PolicyBlock) spec.Block {
	if b == nil {
		return nil
	}
	return b
}
