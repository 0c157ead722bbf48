package plan_test

// H6: no replayable secret in plans or stdout. A plan holds no secret by
// construction; this test makes sure no renderer or the plan file invents
// one, by walking every output of every scenario for anything shaped like a
// credential.

import (
	"bytes"
	"html"
	"regexp"
	"strings"
	"testing"

	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/planfile"
)

// tokenPrefixes start credentials of the surfaces handoff mints; they are
// searched case-insensitively.
var tokenPrefixes = []string{
	"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", // GitHub tokens (ghs_: installation tokens)
	"sk_live", "sk_test", "rk_live", "rk_test", // Stripe secret and restricted keys
	"-----begin", // PEM keys (the App's private key)
}

// tokenPatterns are case-sensitive shapes. Each starts with a literal, which
// keeps the regexp fast on megabytes of output under the race detector.
var tokenPatterns = []*regexp.Regexp{
	regexp.MustCompile(`eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}`), // JWTs (App JWTs, Infisical access tokens)
	regexp.MustCompile(`AKIA[0-9A-Z]{16}`),                          // AWS access key ids
}

// looksLikeSecret returns what in s looks like a credential: a known token
// prefix or shape, or a run of 24 or more letters and digits mixing upper
// case, lower case and digits, which is what base64 or base62 secrets look
// like. Digests (lower-case hex), slugs and secret names do not mix all
// three.
func looksLikeSecret(s string) []string {
	// Undo the escaping of the renderers (Markdown backslashes, HTML
	// entities), which could split a token.
	s = html.UnescapeString(strings.ReplaceAll(s, `\`, ""))
	var found []string
	folded := strings.ToLower(s)
	for _, p := range tokenPrefixes {
		if i := strings.Index(folded, p); i >= 0 {
			found = append(found, s[i:min(len(s), i+len(p)+8)])
		}
	}
	for _, re := range tokenPatterns {
		found = append(found, re.FindAllString(s, -1)...)
	}
	start := -1
	var upper, lower, digit bool
	for i := 0; i <= len(s); i++ {
		var c byte
		if i < len(s) {
			c = s[i]
		}
		switch {
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= 'a' && c <= 'z':
			lower = true
		case c >= '0' && c <= '9':
			digit = true
		case c == '+' || c == '=' || c == '-' || c == '_':
			// base64 and base64url punctuation continues a run
		default:
			if start >= 0 && i-start >= 24 && upper && lower && digit {
				found = append(found, s[start:i])
			}
			start, upper, lower, digit = -1, false, false, false
			continue
		}
		if start < 0 && c != '-' && c != '_' {
			start = i
		}
	}
	return found
}

// TestDetectorCatchesTokens: the detector is not vacuous.
func TestDetectorCatchesTokens(t *testing.T) {
	for _, s := range []string{
		"token ghs_16C7e42F292c6912E7710c838347Ae178B4a",
		"ghs_" + strings.Repeat("a", 36),
		"github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
		"sk_test_51Hc0mPLeTestKeyValue0000",
		"rk_live_51Hc0mPLeRestrictedKey",
		"sk_live",
		"-----BEGIN RSA PRIVATE KEY-----",
		"eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxMjM0NTYifQ.sig",
		"client secret dGhpcyBpcyBhIHNlY3JldCBjbGllbnQgdmFsdWUgMTIz",
		"AKIAIOSFODNN7EXAMPLE",
	} {
		if len(looksLikeSecret(s)) == 0 {
			t.Errorf("detector misses %q", s)
		}
	}
	for _, s := range []string{
		"sha256:aa881b50b5b8401d8decf02d1948f1288fd1e8814891147fdd1e6e832898832e",
		"/MooseQuest/handoffs/iap-notif-handler-20260621/GH_HANDOFF_TOKEN",
		"identity infisical-handoff-iap-notif-handler-20260621-20260621",
		"8c3f1e2d4b5a69788796a5b4c3d2e1f0a9b8c7d6",
		"github_pr_create, github_pr_comment, infisical_get_secret",
	} {
		if got := looksLikeSecret(s); len(got) != 0 {
			t.Errorf("detector flags %q: %q", s, got)
		}
	}

	// A token smuggled into a plan is found in every output, whatever the
	// escaping of the format.
	canary := "ghs_16C7e42F292c6912E7710c838347Ae178B4a"
	for _, sc := range plan.Scenarios()[1:2] {
		sc.Plan.Handoffs[0].Reason = "reason " + canary
		sc.Plan.Handoffs[0].Changes[0].Reason = "reason " + canary
		for format, out := range renderAll(t, sc.Plan) {
			if len(looksLikeSecret(out)) == 0 {
				t.Errorf("%s: the detector misses a token in the output", format)
			}
		}
	}
}

// renderAll renders p in every format handoff prints or writes.
func renderAll(t *testing.T, p *plan.Plan) map[string]string {
	t.Helper()
	outputs := map[string]string{}
	var buf bytes.Buffer
	for _, color := range []bool{false, true} {
		buf.Reset()
		if err := plan.RenderText(&buf, p, plan.TextOptions{Color: color}); err != nil {
			t.Fatal(err)
		}
		outputs[map[bool]string{false: "text", true: "text-color"}[color]] = buf.String()
	}
	buf.Reset()
	if err := plan.RenderJSON(&buf, p); err != nil {
		t.Fatal(err)
	}
	outputs["json"] = buf.String()
	for _, limit := range []int{0, 4000} {
		md, err := plan.RenderMarkdown(p, plan.MarkdownOptions{MaxBytes: limit, RunURL: "https://github.com/raxx-app/handoffs/actions/runs/1"})
		if err != nil {
			t.Fatal(err)
		}
		outputs["md"+map[bool]string{true: "", false: "-small"}[limit == 0]] = md
	}
	buf.Reset()
	if err := planfile.Write(&buf, p); err != nil {
		t.Fatal(err)
	}
	outputs["planfile"] = buf.String()
	return outputs
}

func TestNoOutputHoldsASecret(t *testing.T) {
	for _, sc := range plan.Scenarios() {
		for format, out := range renderAll(t, sc.Plan) {
			if out == "" {
				t.Errorf("%s/%s: empty output", sc.Name, format)
			}
			if found := looksLikeSecret(out); len(found) > 0 {
				t.Errorf("%s/%s: output holds what looks like a credential: %q", sc.Name, format, found)
			}
		}
	}
}
